"""The Whoosh backend on its own: analysis per language, every query operator, paging."""

from datetime import UTC, datetime

import pytest

from search.query import parse_query
from search.whoosh_backend import PostDocument, WhooshIndex

DAY = 24 * 3600


def doc(pid, text, author="kari", tags=(), mentions=(), day=1):
    return PostDocument(
        pid, text, author, tuple(tags), tuple(mentions), datetime(2026, 10, day, 12, tzinfo=UTC)
    )


@pytest.fixture
def english(tmp_path):
    ix = WhooshIndex(tmp_path / "en", "english")
    ix.write(
        add=[
            doc(1, "Released Apollo 2.1 to staging", tags=["apollo"], day=1),
            doc(2, "The release notes for Apollo are in the wiki", author="ola", mentions=["kari"], day=5),
            doc(3, "Lunch at the café on Friday", author="ola", day=20),
            doc(4, "Draft release plan for Gemini", tags=["gemini"], day=25),
        ]
    )
    return ix


def ids(ix, raw, **kwargs):
    return ix.search(parse_query(raw, **kwargs.pop("parse", {})), **kwargs).ids


def test_word_forms_are_found_by_their_stem(english):
    assert sorted(ids(english, "releasing")) == [1, 2, 4]


def test_accents_fold_in_english(english):
    assert ids(english, "cafe") == [3]
    assert ids(english, "CAFÉ") == [3]


def test_phrases_tags_authors_mentions_dates_and_exclusions(english):
    assert ids(english, '"release notes"') == [2]
    assert ids(english, "#apollo") == [1]
    assert sorted(ids(english, "from:ola")) == [2, 3]
    assert ids(english, "@kari") == [2]
    assert sorted(ids(english, "release after:2026-10-02 before:2026-10-26")) == [2, 4]
    assert sorted(ids(english, "release -draft")) == [1, 2]
    assert ids(english, "release from:ola -wiki") == []


def test_newest_first_and_paging(english):
    assert ids(english, "release", parse={"newest_first": True}) == [4, 2, 1]
    assert ids(english, "release", parse={"newest_first": True}, limit=2) == [4, 2]
    assert ids(english, "release", limit=2, before_id=2) == [1]


def test_queries_with_nothing_to_match_find_nothing(english):
    assert ids(english, "-draft") == []
    assert ids(english, "") == []
    assert ids(english, "the of and") == []  # stop words only


def test_norwegian_word_forms_keep_their_letters(tmp_path):
    ix = WhooshIndex(tmp_path / "no", "norwegian")
    ix.write(
        add=[
            doc(1, "Blåbærsyltetøyet er tomt igjen"),
            doc(2, "Økonomien går bra, sier økonomisjefen"),
            doc(3, "Kafé åpner klokka åtte"),
            doc(4, "Baer og oy er ikke det samme"),
        ]
    )
    assert ids(ix, "blåbærsyltetøy") == [1]
    assert ids(ix, "økonomi") == [2]
    assert ids(ix, "kafe") == [3]  # é folds
    assert ids(ix, "åpne") == [3]
    assert ids(ix, "bær") == []  # æ is not "ae"


def test_updates_and_removals(english):
    english.write(add=[doc(1, "Renamed: Apollo launch")], remove=[2])
    assert ids(english, "released") == [4]
    assert ids(english, "launch") == [1]
    assert ids(english, "wiki") == []
