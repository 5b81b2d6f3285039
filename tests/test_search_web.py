"""The search page and the header's search box, through the Flask test client."""

from datetime import UTC, datetime

import pytest
from sqlalchemy import update

import search
from microblog.database import db
from microblog.services import accounts, posts
from models import Post

from .conftest import damage_whoosh_index
from .factories import make_post, make_user


def page(client, **params):
    response = client.get("/search", query_string=params)
    assert response.status_code == 200, response.data
    return response.get_data(as_text=True)


def test_the_header_has_the_search_box_on_every_page(alice_client):
    for path in ("/", "/public", "/people", "/settings"):
        html = alice_client.get(path).get_data(as_text=True)
        assert 'role="search"' in html and 'action="/search"' in html and 'name="q"' in html, path


def test_anonymous_searchers_are_sent_to_log_in(client):
    response = client.get("/search?q=apollo")
    assert response.status_code == 302 and "/login" in response.location


def test_results_highlight_matches_and_show_people_and_tags(alice_client, alice, bob):
    make_user("kari", display_name="Kari Nordmann", department="Apollo team")
    make_post(bob, "Released the Apollo build to staging #apollo")
    make_post(bob, "Lunch is served")
    search.drain()
    html = page(alice_client, q="apollo releases")
    assert "<mark>Released</mark> the <mark>Apollo</mark> build" in html
    assert "Lunch is served" not in html
    assert "@kari" in html  # people whose department says Apollo
    assert 'href="/tags/apollo"' in html
    assert 'value="apollo releases"' in html  # the box keeps the query


def test_norwegian_forms_and_compounds_are_highlighted(alice_client, alice, bob):
    make_post(bob, "Økonomirapporten er klar, rapporten fra mars også")
    make_post(bob, "Økonomien er god")
    search.drain()
    html = page(alice_client, q="rapport")
    assert "<mark>Økonomirapporten</mark> er klar, <mark>rapporten</mark> fra mars" in html
    assert "Økonomien er god" not in html
    html = page(alice_client, q="økonomirapport")  # a searched compound is not split: rapporten is not marked
    assert "<mark>Økonomirapporten</mark> er klar, rapporten fra mars" in html


def test_highlighting_leaves_links_and_escaping_intact(alice_client, alice, bob):
    make_post(bob, "Apollo <b>bold</b> & https://wiki.example.com/apollo for @alice")
    search.drain()
    html = page(alice_client, q="apollo")
    assert "&lt;b&gt;bold&lt;/b&gt; &amp;" in html
    assert '<a href="https://wiki.example.com/apollo"' in html  # the tag is untouched
    assert "<b>bold</b>" not in html


def test_newest_first_and_more_results(alice_client, alice, bob):
    ids = [make_post(bob, f"Status {n} of the apollo rollout").id for n in range(25)]
    search.drain()
    html = page(alice_client, q="apollo", order="newest")
    assert html.index(f'data-post-id="{ids[-1]}"') < html.index(f'data-post-id="{ids[-2]}"')
    assert f'data-post-id="{ids[4]}"' not in html
    assert f"cursor={ids[5]}" in html and "More results" in html
    older = page(alice_client, q="apollo", order="newest", cursor=str(ids[5]))
    assert f'data-post-id="{ids[4]}"' in older and f'data-post-id="{ids[5]}"' not in older
    assert "More results" not in older
    best = page(alice_client, q="apollo")
    assert "cursor=%2B20" in best  # relevance pages continue by position
    assert page(alice_client, q="apollo", cursor="+20").count("data-post-id=") == 5


def test_a_deleted_post_is_gone_from_results_at_once(alice_client, alice):
    pid = make_post(alice, "Apollo retrospective notes").id
    search.drain()
    assert f'data-post-id="{pid}"' in page(alice_client, q="retrospective")
    posts.delete_post(alice, pid)  # the index still has it until the next drain
    assert f'data-post-id="{pid}"' not in page(alice_client, q="retrospective")


def test_a_deactivated_colleagues_posts_stay_findable_like_in_feeds(alice_client, alice, bob, admin):
    pid = make_post(bob, "Handover notes for the gemini launch").id
    search.drain()
    accounts.set_active(admin, "bob", False)
    html = page(alice_client, q="handover")
    assert f'data-post-id="{pid}"' in html and "deactivated" in html
    assert "@bob" not in page(alice_client, q="bob").split('aria-label="People and tags"')[-1]


def test_dates_and_authors_filter(alice_client, alice, bob):
    old = make_post(bob, "Apollo kickoff").id
    new = make_post(alice, "Apollo launch").id
    db.session.execute(update(Post).where(Post.id == old).values(created_at=datetime(2020, 1, 1, tzinfo=UTC)))
    db.session.commit()
    search.drain()
    assert f'data-post-id="{new}"' not in page(alice_client, q="apollo from:bob")
    assert f'data-post-id="{old}"' in page(alice_client, q="apollo from:bob")
    before = page(alice_client, q="apollo before:2021-01-01")
    assert f'data-post-id="{old}"' in before and f'data-post-id="{new}"' not in before
    after = page(alice_client, q="apollo after:2021-01-01")
    assert f'data-post-id="{new}"' in after and f'data-post-id="{old}"' not in after


def test_an_empty_search_explains_the_syntax(alice_client, alice):
    html = page(alice_client, q="")
    assert "from:kari.nordmann" in html and "after:2026-11-01" in html
    assert "<code>is:question</code>, <code>is:unanswered</code>" in html
    assert "No posts match" not in html
    norwegian = alice_client.get("/search", headers={"Accept-Language": "nb"}).get_data(as_text=True)
    assert "spørsmål uten godtatt svar" in norwegian


def test_unanswered_questions_are_listed_and_an_unknown_flag_is_explained(alice_client, alice, bob):
    question = make_post(bob, "Who has the projector remote?", question=True).id
    other = make_post(bob, "The projector remote is back").id
    search.drain()
    html = page(alice_client, q="is:unanswered")
    assert f'data-post-id="{question}"' in html and f'data-post-id="{other}"' not in html
    html = page(alice_client, q="projector is:urgent")
    assert "“is:urgent” was left out: search knows is:question and is:unanswered." in html
    assert f'data-post-id="{question}"' in html and f'data-post-id="{other}"' in html


@pytest.mark.parametrize(
    "raw",
    ['"unbalanced', "-", "from:", "before:not-a-date", "x" * 20000, "\x07\x1b[31m", "%00", "#", "@"],
)
def test_malformed_searches_get_a_page_never_an_error(alice_client, alice, raw):
    response = alice_client.get("/search", query_string={"q": raw, "cursor": raw, "order": raw})
    assert response.status_code == 200


def test_bad_operators_get_a_friendly_note(alice_client, alice):
    html = page(alice_client, q="apollo before:someday")
    assert "needs a date, like before:2026-11-01" in html


def test_an_unreadable_index_says_so_instead_of_failing(alice_client, alice, app):
    make_post(alice, "Apollo")
    search.drain()
    damage_whoosh_index(app.config["DATA_DIR"] / "search")
    search.backend()._index = None  # as a freshly started process would open it
    html = page(alice_client, q="apollo")
    assert "Search cannot answer right now" in html
    assert search.status() is not None
    search.rebuild()
    assert search.status() is None
    assert "data-post-id=" in page(alice_client, q="apollo")
