"""Search through its interface, the same tests for both backends (Whoosh and PostgreSQL)."""

from __future__ import annotations

import shutil
import sys
from contextlib import ExitStack
from datetime import UTC, datetime
from pathlib import Path

import pytest
from sqlalchemy import create_engine, func, select, text, update

import search
from config import TestingConfig
from microblog import create_app
from microblog.database import db
from microblog.services import posts
from microblog.services.errors import ValidationError
from models import Post, PostSearch, SearchOutbox
from search import PageRequest, parse_query
from search.postgres_backend import REBUILD_LOCK

from .conftest import _truncate_all, damage_whoosh_index
from .factories import anyone, make_post, make_user


@pytest.fixture(params=["whoosh", "postgres"])
def backend_name(request: pytest.FixtureRequest) -> str:
    """Each test runs on both backends: Whoosh on SQLite, PostgreSQL full-text search."""
    return request.param


@pytest.fixture
def language() -> str | None:
    """The search language setting; None leaves it unset (the default: both English and Norwegian)."""
    return None


@pytest.fixture
def database_url(request: pytest.FixtureRequest, backend_name: str, tmp_path: Path) -> str:
    """SQLite for the Whoosh backend, PostgreSQL for the postgres one."""
    if backend_name == "postgres":
        url = request.getfixturevalue("postgres_url")
        _truncate_all(url)
        return url
    path = tmp_path / "microblog.db"
    shutil.copyfile(request.getfixturevalue("sqlite_template"), path)
    return f"sqlite:///{path}"


@pytest.fixture
def config(database_url: str, tmp_path: Path, backend_name: str, language: str | None) -> TestingConfig:
    """The test configuration with the backend and language under test."""
    environ = {
        "MICROBLOG_DATABASE_URL": database_url,
        "MICROBLOG_DATA_DIR": str(tmp_path / "data"),
        "MICROBLOG_SEARCH_BACKEND": backend_name,
    }
    if language is not None:
        environ["MICROBLOG_SEARCH_LANGUAGE"] = language
    return TestingConfig(environ)


def post(author, text, day=1, **kwargs):
    """Post through the service, dated 2026-10-<day> (dates are what date filters see)."""
    made = make_post(author, text, **kwargs)
    db.session.execute(
        update(Post).where(Post.id == made.id).values(created_at=datetime(2026, 10, day, 12, tzinfo=UTC))
    )
    db.session.commit()
    return made.id


def ids(raw, cursor=None, limit=20, **kwargs):
    hits = search.search_posts(
        parse_query(raw, **kwargs), PageRequest.parse(cursor, limit=limit), reader=anyone()
    )
    return hits.ids


@pytest.fixture
def english(app):
    kari = make_user("kari", display_name="Kari Nordmann", department="Engineering", job_title="SRE")
    ola = make_user("ola", display_name="Ola Hansen", department="Sales")
    made = [
        post(kari, "Released Apollo 2.1 to staging #apollo", day=1),
        post(ola, "The release notes for Apollo are in the wiki, @kari", day=5),
        post(ola, "Lunch at the café on Friday", day=20),
        post(kari, "Draft release plan for Gemini #gemini", day=25),
    ]
    search.drain()
    return made


def test_word_forms_are_found_by_their_stem(english):
    assert sorted(ids("releasing")) == [english[0], english[1], english[3]]
    assert ids("RELEASES plan") == [english[3]]


def test_accents_fold_in_english(english):
    assert ids("cafe") == [english[2]]
    assert ids("CAFÉ") == [english[2]]


def test_phrases_tags_authors_mentions_dates_and_exclusions(english):
    first, notes, lunch, draft = english
    assert ids('"release notes"') == [notes]
    assert ids('"notes release"') == []
    assert ids("#apollo") == [first]
    assert ids("#APOLLO released") == [first]
    assert ids("from:ola") == [lunch, notes]  # nothing to rank by: newest first
    assert ids("@kari") == [notes]
    assert sorted(ids("release after:2026-10-02 before:2026-10-26")) == [notes, draft]
    assert ids("release before:2026-10-05") == [first]
    assert sorted(ids("release -draft")) == [first, notes]
    assert ids('apollo -"release notes"') == [first]
    assert ids("from:ola -wiki") == [lunch]
    assert ids("release from:ola -wiki") == []
    assert ids("from:nobody") == []


def test_an_excluded_word_leaves_out_a_match_even_after_an_earlier_post_with_the_word(app):
    kari = make_user("kari")
    post(kari, "The wiki page is new")
    post(kari, "Apollo notes are in the wiki")  # Whoosh 2.7's AndNot let this first match through
    go = post(kari, "Apollo is go")
    search.drain()
    assert ids("apollo -wiki") == [go]
    assert ids("apollo -wiki", newest_first=True) == [go]


def test_newest_first_and_cursor_paging(english):
    first, notes, _, draft = english
    assert ids("release", newest_first=True) == [draft, notes, first]
    page = search.search_posts(
        parse_query("release", newest_first=True), PageRequest(limit=2), reader=anyone()
    )
    assert page.ids == [draft, notes]
    assert ids("release", cursor=page.next_cursor, newest_first=True) == [first]
    # By relevance the pages together hold every hit once.
    one = search.search_posts(parse_query("release"), PageRequest(limit=2), reader=anyone())
    two = search.search_posts(
        parse_query("release"), PageRequest.parse(one.next_cursor, limit=2), reader=anyone()
    )
    assert one.next_cursor and two.next_cursor is None
    assert sorted(one.ids + two.ids) == sorted([first, notes, draft])


def test_relevance_puts_the_closer_match_first(app):
    kari = make_user("kari")
    loose = post(kari, "Apollo lunch and then, much later, a release")
    close = post(kari, "Apollo release, the Apollo release")
    search.drain()
    assert ids("apollo release") == [close, loose]
    assert ids("apollo release", newest_first=True) == [close, loose]


def test_queries_with_nothing_to_match_find_nothing(english):
    assert ids("-draft") == []
    assert ids("") == []
    assert ids("the of and") == []  # stop words only
    assert ids('"" - -- from: before:soon #') == []


@pytest.mark.parametrize("language", ["norwegian"])
def test_norwegian_word_forms_keep_their_letters(app):
    kari = make_user("kari")
    made = [
        post(kari, "Blåbærsyltetøyet er tomt igjen"),
        post(kari, "Økonomien går bra, sier økonomisjefen"),
        post(kari, "Kafé åpner klokka åtte"),
        post(kari, "Baer og oy er ikke det samme"),
    ]
    search.drain()
    assert ids("blåbærsyltetøy") == [made[0]]
    assert ids("BLÅBÆRSYLTETØYET") == [made[0]]
    assert ids("økonomien") == [made[1]]
    assert ids("kafe") == [made[2]]  # é folds
    assert ids("åpne") == [made[2]]
    assert ids("bær") == []  # æ is not "ae"
    assert ids("oy") == [made[3]]


@pytest.fixture
def bilingual(app):
    """Posts in English, in Norwegian and in both at once, on an installation with no language set."""
    kari = make_user("kari")
    texts = {
        "sommerfest": "Sommerfest på fredag, husk påmelding",
        "sommerfesten": "Sommerfesten er flyttet inn på grunn av regn",
        "release": "Release train leaves Monday",
        "released": "Apollo released to staging",
        "releases": "Two releases every week from now on",
        "mixed": "Released bildene fra sommerfesten",
        "relevant": "Relevant numbers for the board",
        "relay": "Relay race after lunch",
        "sommerfugl": "Sommerfugler i hagen",
        "festival": "Festival i Bergen neste uke",
        "økonomirapporten": "Økonomirapporten for kvartalet er klar",
        "prosjektlederen": "Prosjektlederen for Apollo starter mandag",
        "regningen": "Regningen fra kantina er betalt",
        "planes": "The planes landed early",
        "plan": "Ny plan for kvartalet",
    }
    made = {key: post(kari, body) for key, body in texts.items()}
    search.drain()
    return made


def test_a_default_installation_finds_norwegian_and_english_word_forms(bilingual, app):
    assert app.config["SEARCH_LANGUAGE"] == "both"
    found = {post_id: key for key, post_id in bilingual.items()}

    def keys(raw):
        return sorted(found[post_id] for post_id in ids(raw))

    festen = ["mixed", "sommerfest", "sommerfesten"]
    assert keys("sommerfest") == festen  # Norwegian, both directions
    assert keys("sommerfesten") == festen
    assert keys("SOMMERFESTER") == festen
    releases = ["mixed", "release", "released", "releases"]
    assert keys("release") == releases  # English, both directions
    assert keys("released") == releases
    assert keys("releases") == releases
    assert keys("releasing") == releases
    assert keys("released sommerfesten") == ["mixed"]  # one post, both languages
    assert keys('"release bildene"') == ["mixed"]  # phrases too
    assert keys('"bildene released"') == []
    assert keys("release -sommerfest") == ["release", "released", "releases"]
    # Words that look alike but are not forms of one another stay apart, in either language.
    assert keys("relevant") == ["relevant"]
    assert keys("relay") == ["relay"]
    assert keys("sommerfugl") == ["sommerfugl"]
    assert keys("festival") == ["festival"]
    # Compounds are found by their parts (and the parts of compounds are found as words).
    assert keys("rapport") == ["økonomirapporten"]
    assert keys("økonomi") == ["økonomirapporten"]
    assert keys("prosjektleder") == ["prosjektlederen"]
    assert keys("leder") == ["prosjektlederen"]
    assert keys("fest") == festen
    assert keys('"festival bergen"') == ["festival"]
    # Each word is stemmed in the languages it may be: a Norwegian word does not take an English
    # stem that makes it another word, nor an English word a Norwegian one.
    assert keys("regn") == ["sommerfesten"]  # rain, not the bill ("regning": English stem "regn")
    assert keys("regning") == ["regningen"]
    assert keys("plan") == ["plan"]  # not planes (Norwegian stem "plan")
    assert keys("plane") == ["planes"]
    # A stop word of either language is searched for in neither: "the" and "er" alone find nothing.
    assert keys("the") == [] and keys("er") == []
    assert keys("the release") == releases


@pytest.mark.parametrize(
    ("language", "sommerfest", "release"),
    [
        ("english", ["sommerfest"], ["mixed", "release", "released", "releases"]),
        ("norwegian", ["mixed", "sommerfest", "sommerfesten"], ["release", "releases"]),
    ],
)
def test_one_language_can_still_be_chosen(bilingual, sommerfest, release):
    found = {post_id: key for key, post_id in bilingual.items()}
    assert sorted(found[i] for i in ids("sommerfest")) == sommerfest
    assert sorted(found[i] for i in ids("release")) == release


def test_a_post_is_indexed_after_its_commit_and_a_delete_removes_it(app):
    kari = make_user("kari")
    pid = make_post(kari, "Apollo go/no-go at noon").id
    assert db.session.scalar(select(func.count()).select_from(SearchOutbox)) == 1
    assert ids("noon") == []  # not drained yet
    assert search.drain() == 1
    assert ids("noon") == [pid]
    assert db.session.scalar(select(func.count()).select_from(SearchOutbox)) == 0
    posts.delete_post(kari, pid)
    search.drain()
    assert ids("noon") == []


def test_a_refused_post_queues_nothing(app):
    kari = make_user("kari")
    with pytest.raises(ValidationError):
        make_post(kari, "x" * 141)
    db.session.rollback()
    assert db.session.scalar(select(func.count()).select_from(SearchOutbox)) == 0


def test_rebuild_finds_posts_the_outbox_never_saw(app):
    kari = make_user("kari")
    pid = make_post(kari, "Kickoff for Mercury").id
    db.session.execute(SearchOutbox.__table__.delete())  # as bulk loads and lost indexes leave it
    db.session.commit()
    assert ids("mercury") == []
    progress: list[int] = []
    assert search.rebuild(progress.append) == 1
    assert progress == [1]
    assert ids("mercury") == [pid]


def test_people_and_tags_are_found_beside_posts(english):
    people = search.search_people(parse_query("kari"))
    assert [u.username for u in people] == ["kari"]
    assert [u.username for u in search.search_people(parse_query("sales"))] == ["ola"]
    assert [u.username for u in search.search_people(parse_query("engineering sre"))] == ["kari"]
    assert search.search_people(parse_query("100%")) == []
    assert search.search_tags(parse_query("apol"), anyone()) == ["apollo"]
    assert search.search_tags(parse_query("#gemini release"), anyone()) == ["gemini"]
    assert search.search_tags(parse_query("_"), anyone()) == []


def test_people_search_folds_case_beyond_ascii(app):
    make_user("orjan", display_name="Ørjan Ås")
    assert [u.username for u in search.search_people(parse_query("ørjan ÅS"))] == ["orjan"]


@pytest.mark.parametrize(
    ("raw", "alone", "with_apollo", "note"),
    [
        ('"unbalanced', [], [], None),  # the quote runs to the end: the phrase "unbalanced apollo"
        ("-", [], [0, 1], None),
        ("from:", [], [0, 1], "“from:” needs a username, like from:kari.nordmann."),
        ("before:2026-13-45", [], [0, 1], "“before:2026-13-45” needs a date, like before:2026-11-01."),
        ("a" * 5000, [], [], "Only the first 500 characters were searched."),  # apollo is cut off
        ("\x00\x07ctl\u202e", [], [], None),  # the word "ctl" is searched, and found nowhere
        ("#" * 300, [], [0, 1], None),
        ("@@@ ### ---", [], [0, 1], None),
        ("' OR 1=1; --", [], [0, 1], None),
        ("release & | ! <-> :*", [0, 1, 3], [0, 1], None),  # operators of tsquery are not syntax here
        ('"a" "b" "c" ' * 40, [], [], "Only the first 32 terms were searched."),
    ],
)
def test_malformed_queries_search_what_they_can_and_say_what_they_left_out(
    english, raw, alone, with_apollo, note
):
    result = search.search_posts(parse_query(raw), reader=anyone())
    assert sorted(english.index(post_id) for post_id in result.ids) == alone
    assert list(result.notes) == ([note] if note else [])
    result = search.search_posts(parse_query(f"{raw} apollo"), reader=anyone())
    assert sorted(english.index(post_id) for post_id in result.ids) == with_apollo


def test_a_new_language_or_an_empty_index_is_noticed_and_rebuilt(app, config, backend_name):
    kari = make_user("kari")
    pid = post(kari, "Økonomien går bra")
    search.drain()
    assert search.backend().prepare() is False
    environ = {
        "MICROBLOG_DATABASE_URL": config.SQLALCHEMY_DATABASE_URI,
        "MICROBLOG_DATA_DIR": str(config.DATA_DIR),
        "MICROBLOG_SEARCH_BACKEND": backend_name,
        "MICROBLOG_SEARCH_LANGUAGE": "norwegian",
    }
    norwegian = create_app(TestingConfig(environ))
    with norwegian.app_context():
        if backend_name == "whoosh":  # the index stores its analyzer: a new language needs a new index
            assert search.backend().prepare() is True
        else:  # documents are stemmed when written: an empty table is what needs filling
            db.session.execute(PostSearch.__table__.delete())
            db.session.commit()
            assert search.backend().prepare() is True
        assert search.rebuild() == 1
        assert search.backend().prepare() is False
        assert ids("økonomi") == [pid]
        db.session.remove()


@pytest.mark.parametrize("backend_name", ["whoosh"])  # the index stores its schema
def test_an_index_from_before_communities_is_rebuilt_and_then_keeps_private_posts_in(app, config, alice):
    from whoosh import index

    from microblog.services import visibility
    from search.whoosh_schema import schema
    from tests.factories import make_community

    make_community(alice, "leaders", private=True)
    pid = post(alice, "@leaders quarterly numbers")
    old = schema("english")
    old.remove("audience")  # what the index of the version before communities held
    folder = config.DATA_DIR / "search"
    shutil.rmtree(folder, ignore_errors=True)
    folder.mkdir(parents=True)
    index.create_in(str(folder), old)
    assert search.backend().prepare() is True  # serving processes rebuild on start-up
    assert search.rebuild() == 1
    assert search.backend().prepare() is False
    assert ids("quarterly") == []  # a public reader does not find it
    member_hits = search.search_posts(parse_query("quarterly"), reader=visibility.search_reader(alice))
    assert member_hits.ids == [pid]


@pytest.mark.parametrize("backend_name", ["whoosh"])  # segments and worker processes are Whoosh's
def test_a_rebuild_in_several_processes_builds_one_segment_per_chunk(app):
    kari = make_user("kari")
    made = [make_post(kari, f"Standup note {n} for apollo").id for n in range(8)]
    posts.delete_post(kari, made[3])
    search.drain()
    backend = search.backend()
    backend.chunk_size = 3
    progress: list[int] = []
    assert search.rebuild(progress.append, procs=2) == 7
    assert progress == [3, 3, 1]
    with backend._open().searcher() as searcher:
        assert len(searcher.reader().leaf_readers()) == 3
    assert sorted(ids("apollo", limit=40)) == sorted(set(made) - {made[3]})
    assert ids("apollo", newest_first=True, limit=2) == [made[7], made[6]]


def test_a_failed_search_rebuilds_only_an_index_that_needs_it(app, backend_name, monkeypatch):
    kari = make_user("kari")
    post(kari, "Apollo status")
    search.drain()
    state = app.extensions["search"]
    monkeypatch.setattr(state, "background", True)  # as in a serving process
    started: list[str] = []
    monkeypatch.setattr(state.indexer, "start_rebuild", lambda: started.append("rebuild"))
    if backend_name == "whoosh":
        damage_whoosh_index(app.config["DATA_DIR"] / "search")
        search.backend()._index = None  # as a freshly started process would open it
    else:  # the query fails as it would with the database away for a moment
        db.session.execute(text("ALTER TABLE post_search RENAME TO post_search_away"))
        db.session.commit()
    try:
        hits = search.search_posts(parse_query("apollo"), reader=anyone())
        assert hits.ids == [] and str(search.UNAVAILABLE) in hits.notes
        assert started == []  # a request never rebuilds: the search worker looks every few seconds
        state.indexer.check_index()  # what the search worker's next look does
    finally:
        if backend_name == "postgres":
            db.session.execute(text("ALTER TABLE post_search_away RENAME TO post_search"))
            db.session.commit()
    # A damaged Whoosh index is rebuilt; a PostgreSQL outage is not a reason to rewrite every document.
    assert started == (["rebuild"] if backend_name == "whoosh" else [])


def test_a_second_rebuild_at_the_same_time_is_refused(app, backend_name):
    kari = make_user("kari")
    pid = post(kari, "Apollo status")
    search.drain()
    backend = search.backend()
    with ExitStack() as held:  # another process's rebuild, holding the rebuild lock
        if backend_name == "whoosh":
            lock = backend._storage().lock("REBUILD")
            assert lock.acquire(blocking=False)
            held.callback(lock.release)
        else:
            engine = create_engine(app.config["SQLALCHEMY_DATABASE_URI"])
            held.callback(engine.dispose)
            other = held.enter_context(engine.connect())
            assert other.scalar(select(func.pg_try_advisory_lock(REBUILD_LOCK)))
        with pytest.raises(search.IndexBusy):
            search.rebuild()
    assert search.rebuild() == 1  # the lock was released: the next rebuild runs
    assert ids("apollo") == [pid]


def test_best_match_ranks_the_newest_matches_of_a_common_word(app, monkeypatch):
    for module in ("search.backend", "search.whoosh_backend", "search.postgres_backend"):
        monkeypatch.setattr(sys.modules[module], "MAX_RELEVANCE_DEPTH", 3)
    kari = make_user("kari")
    best = post(kari, "apollo apollo apollo", day=1)  # the closest match, and the oldest
    others = [post(kari, f"Apollo release plan number {n} for the whole team", day=n + 2) for n in range(4)]
    search.drain()
    assert ids("apollo") and set(ids("apollo")) <= set(others[1:])  # the newest 3, however they rank
    assert (
        search.search_posts(parse_query("apollo"), reader=anyone()).next_cursor is None
    )  # pages end with them
    assert ids("apollo", newest_first=True) == [*reversed(others), best]  # newest first reaches all
    monkeypatch.setattr(sys.modules["search.whoosh_backend"], "MAX_RELEVANCE_DEPTH", 1000)
    monkeypatch.setattr(sys.modules["search.postgres_backend"], "MAX_RELEVANCE_DEPTH", 1000)
    assert ids("apollo")[0] == best  # with room for every match, the best comes first


def test_dates_hold_across_posts_made_at_midnight_out_of_id_order(app):
    kari = make_user("kari")
    early = post(kari, "Apollo kickoff", day=1)
    before_midnight, after_midnight = post(kari, "Apollo cutover"), post(kari, "Apollo cutover done")
    late = post(kari, "Apollo retro", day=20)
    # The later id has the earlier time: two processes posting in the same second around midnight.
    for post_id, moment in (
        (before_midnight, datetime(2026, 10, 10, 0, 0, 2)),
        (after_midnight, datetime(2026, 10, 9, 23, 59, 58)),
    ):
        db.session.execute(
            update(Post).where(Post.id == post_id).values(created_at=moment.replace(tzinfo=UTC))
        )
    db.session.commit()
    search.rebuild()  # the index reads dates when it indexes a post
    assert ids("apollo after:2026-10-10", newest_first=True) == [late, before_midnight]
    assert ids("apollo before:2026-10-10", newest_first=True) == [after_midnight, early]
    assert ids("apollo after:2026-10-09 before:2026-10-10") == [after_midnight]
    assert ids("apollo after:2026-10-10 before:2026-10-11") == [before_midnight]
    assert ids("apollo after:2026-10-11 before:2026-10-10") == []


@pytest.mark.parametrize("backend_name", ["postgres"])
def test_a_postgres_reindex_rewrites_only_documents_that_change(app):
    kari = make_user("kari")
    post(kari, "Apollo status")
    search.drain()
    versions = "SELECT xmin::text FROM post_search"  # the transaction that last wrote each row
    before = db.session.execute(text(versions)).scalars().all()
    db.session.commit()
    assert search.rebuild() == 1
    assert db.session.execute(text(versions)).scalars().all() == before  # nothing rewritten, no dead rows
    assert ids("apollo")


def test_private_posts_are_found_by_their_communities_members_only(app):
    """On both backends: a member finds the private posts of their communities, nobody else does."""
    from microblog.services import visibility

    from .factories import make_community

    kari, ola, per = make_user("kari"), make_user("ola"), make_user("per")
    make_community(kari, "secret", private=True, members=(ola,))
    make_community(per, "other", private=True)
    make_community(per, "open")
    public = post(kari, "Quarterly budget review is public")
    secret = post(ola, "@secret quarterly budget numbers")
    search.drain()
    other = post(per, "@other quarterly budget draft")  # a later segment (Whoosh): the rule holds in each
    opened = post(per, "@open quarterly budget questions")
    search.drain()

    def found(viewer, raw, **kwargs):
        hits = search.search_posts(parse_query(raw, **kwargs), reader=visibility.search_reader(viewer))
        return sorted(hits.ids)

    for newest_first in (False, True):
        assert found(kari, "budget", newest_first=newest_first) == [public, secret, opened]
        assert found(ola, "budget -numbers", newest_first=newest_first) == [public, opened]
        assert found(per, "budget", newest_first=newest_first) == [public, other, opened]
        assert found(None, "quarterly budget", newest_first=newest_first) == [public, opened]
    assert found(per, "from:ola") == [] and found(kari, "from:ola") == [secret]


@pytest.mark.parametrize("backend_name", ["whoosh"])
def test_a_new_index_is_built_without_a_warning_a_damaged_one_with_one(app, monkeypatch, caplog):
    state = app.extensions["search"]
    started: list[str] = []
    monkeypatch.setattr(state.indexer, "start_rebuild", lambda: started.append("rebuild"))
    caplog.set_level("INFO")
    # A fresh install: no index yet is not damage (it used to log "missing or damaged" twice).
    state.indexer.check_index()
    assert search.rebuild() == 0
    assert started == ["rebuild"]
    assert [r.getMessage() for r in caplog.records if r.levelname == "WARNING"] == []
    assert any("no search index" in r.getMessage() for r in caplog.records)
    # A damaged index is worth a warning, from the server and from the rebuild.
    damage_whoosh_index(app.config["DATA_DIR"] / "search")
    search.backend()._index = None
    state.indexer.check_index()
    search.rebuild()
    warnings = [r.getMessage() for r in caplog.records if r.levelname == "WARNING"]
    assert len(warnings) == 2 and all("damaged" in w for w in warnings), warnings


def test_private_posts_do_not_shape_the_order_of_what_others_find(app):
    """On both backends: relevance scores a post alone, so hidden posts' words cannot be read off the order.

    With index-wide statistics (Whoosh's BM25F), private posts holding "quokka"
    made it rarer-looking than "zebu" or not, and the order of two public posts
    told an outsider which words a private community writes.
    """
    from .factories import make_community

    kari, frank = make_user("kari"), make_user("frank")
    make_community(kari, "secret", private=True)
    older = post(frank, "quokka zebu zebu", day=1)
    newer = post(frank, "quokka quokka zebu", day=2)
    search.drain()
    before = ids("quokka zebu")
    for n in range(6):
        post(kari, f"@secret quokka sighting number {n}", day=3)
    search.drain()
    assert ids("quokka zebu") == before
    assert sorted(before) == sorted([older, newer])


@pytest.mark.parametrize("backend_name", ["postgres"])
def test_words_and_tags_of_private_posts_cost_an_outsider_what_unknown_ones_do(app, count_queries):
    """PostgreSQL: the probe and the tag look-up answer as for nothing (same statements, same [])."""
    from .factories import make_community

    kari = make_user("kari")
    make_community(kari, "secret", private=True)
    post(kari, "@secret wombatkiwi plans #hushtag")
    search.drain()
    shapes = {}
    for raw in ("wombatkiwi", "wombatkiwx", "#hushtag", "#hushtaq", "#hushtag wombatkiwi"):
        with count_queries() as counter:
            assert ids(raw) == [] and ids(raw, newest_first=True) == []
        shapes[raw] = [" ".join(s.split()[:3]) for s in counter.statements]
    assert shapes["wombatkiwi"] == shapes["wombatkiwx"]
    assert shapes["#hushtag"] == shapes["#hushtaq"]


def test_an_outbox_row_s_id_is_never_used_again(app):
    """The indexer deletes drained rows by id: a reused id would delete a newer, undrained row."""
    from models import SearchOutbox

    kari = make_user("kari")
    post(kari, "first")
    first = db.session.scalar(select(func.max(SearchOutbox.id)))
    search.drain()
    post(kari, "second")
    assert db.session.scalar(select(func.min(SearchOutbox.id))) > first
