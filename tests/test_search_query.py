"""The search query parser: every operator, and no input that makes it fail."""

from datetime import date

import pytest

from search.query import MAX_QUERY_LENGTH, MAX_TERMS, parse_query


def test_every_operator_combined():
    query = parse_query(
        'apollo "release  notes" #Apollo from:Kari.Nordmann @ola '
        'before:2026-11-01 after:2026-10-01 -draft -"old plan"'
    )
    assert query.words == ("apollo",)
    assert query.phrases == ("release notes",)
    assert query.tags == ("apollo",)
    assert query.authors == ("kari.nordmann",)
    assert query.mentions == ("ola",)
    assert (query.after, query.before) == (date(2026, 10, 1), date(2026, 11, 1))
    assert query.excluded == ("draft", "old plan")
    assert not query.is_empty and query.notes == ()


def test_norwegian_words_are_kept_as_typed_in_nfc():
    query = parse_query("blåbærsyltetøy Økonomi Cafe\u0301")
    assert query.words == ("blåbærsyltetøy", "Økonomi", "Caf\u00e9")


@pytest.mark.parametrize(
    "raw",
    [
        "",
        None,
        '"',
        '"unbalanced quote',
        "-",
        "from:",
        "before:yesterday",
        "after:2026-13-45",
        "#",
        "@",
        "((( ))) ***",
        "\x00\x07\x1b[31m",
        "a" * 10_000,
        " ".join(["w"] * 500),
        "AND OR NOT",
        "from:x y z:",
    ],
)
def test_malformed_input_never_raises(raw):
    query = parse_query(raw)
    assert len(" ".join(query.words + query.phrases)) <= MAX_QUERY_LENGTH
    assert len(query.words) <= MAX_TERMS


def test_unbalanced_quote_closes_at_the_end():
    assert parse_query('say "hello world').phrases == ("hello world",)


def test_operators_without_values_are_explained():
    query = parse_query("from: before:soon apollo")
    assert query.words == ("apollo",)
    assert any("username" in note for note in query.notes)
    assert any("date" in note for note in query.notes)


def test_only_exclusions_is_empty():
    assert parse_query("-draft").is_empty
    assert parse_query("   ").is_empty
    assert not parse_query("#apollo").is_empty


def test_long_input_is_cut_with_a_note():
    query = parse_query("word " * 200)
    assert query.notes and "first" in query.notes[0]


def test_is_question_and_is_unanswered_filter_and_exclude():
    query = parse_query("vpn IS:Question is:unanswered, -is:question #it")
    assert query.flags == ("question", "unanswered")
    assert query.excluded_flags == ("question",)
    assert query.words == ("vpn",) and query.tags == ("it",) and query.notes == ()
    assert not parse_query("is:unanswered").is_empty  # lists the open questions
    assert parse_query("-is:question").is_empty  # only an exclusion


def test_an_unknown_is_flag_is_left_out_with_a_note():
    query = parse_query("is:urgent vpn")
    assert query.flags == () and query.words == ("vpn",)
    assert query.notes == ("“is:urgent” was left out: search knows is:question and is:unanswered.",)
    assert parse_query("the cause is: dns").notes == ()  # a colon in prose is no operator
    assert parse_query("is:question:").flags == ("question",)
