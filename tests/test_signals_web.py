"""Following a search in the browser: the search page's button, the Signals pages, settings, read marks."""

from __future__ import annotations

import re

from sqlalchemy import select

import realtime
import search
from microblog.database import db
from microblog.services import communities
from models import TimelineList
from models.timeline_list import SEARCH

from .factories import login, make_community, make_post


def _follow(client, query: str, **settings: str):
    return client.post("/signals", data={"q": query, **settings})


def _saved(user) -> list[TimelineList]:
    return list(db.session.scalars(select(TimelineList).where(TimelineList.user_id == user.id)))


def _badge(html: str) -> str | None:
    found = re.search(r'data-signals-badge data-count="(\d+)"', html)
    return found.group(1) if found else None


def test_a_search_is_followed_from_the_search_page_and_its_matches_arrive(alice_client, alice, bob):
    page = alice_client.get("/search?q=apollo+release").get_data(as_text=True)
    assert "Follow this search" in page and 'name="q" value="apollo release"' in page
    response = _follow(alice_client, "apollo release")
    (saved,) = _saved(alice)
    assert response.status_code == 302 and response.location.endswith(f"/signals/{saved.id}")
    assert (saved.kind, saved.query, saved.in_home, saved.notify) == (SEARCH, "apollo release", False, False)
    page = alice_client.get("/search?q=apollo+release").get_data(as_text=True)
    assert "You follow this search." in page and "Follow this search</button>" not in page
    assert _follow(alice_client, "apollo release").status_code == 302 and len(_saved(alice)) == 1  # once

    matching = make_post(bob, "The Apollo release is out").id
    make_post(bob, "Apollo lunch")  # one word only: no match
    search.drain()
    for path in ("/signals", f"/signals/{saved.id}"):
        html = alice_client.get(path).get_data(as_text=True)
        assert f'data-post-id="{matching}"' in html and "Apollo lunch" not in html, path
        assert _badge(html) == "1", path
    fragment = alice_client.get(f"/signals/{saved.id}?fragment=1&min_id=0").get_data(as_text=True)
    assert f'data-post-id="{matching}"' in fragment and "<html" not in fragment
    html = alice_client.get(f"/signals/{saved.id}").get_data(as_text=True)
    assert 'data-mark-seen="signals"' in html and f'data-live-stream="list:{saved.id}"' in html
    answer = alice_client.post(
        f"/signals/{saved.id}/read", data={"up_to": matching}, headers={"Accept": "application/json"}
    )
    assert answer.json == {"unread": 0, "badge": "signals", "searches": {str(saved.id): 0}}
    assert _badge(alice_client.get("/").get_data(as_text=True)) == "0"


def test_settings_unfollowing_and_someone_elses_search(alice_client, alice, bob, client):
    _follow(alice_client, "#apollo", in_home="1")
    (saved,) = _saved(alice)
    assert saved.in_home and not saved.notify
    response = alice_client.post(f"/signals/{saved.id}/settings", data={"notify": "1"})
    assert response.status_code == 302
    db.session.refresh(saved)
    assert (saved.in_home, saved.notify) == (False, True)
    alice_client.post("/logout")
    login(client, "bob")
    for method, path in (
        ("get", f"/signals/{saved.id}"),
        ("post", f"/signals/{saved.id}/settings"),
        ("post", f"/signals/{saved.id}/unfollow"),
        ("post", f"/signals/{saved.id}/read"),
    ):
        assert getattr(client, method)(path, data={"up_to": "1"}).status_code == 404, path
    assert _saved(alice)[0].notify
    client.post("/logout")
    login(client, "alice")
    response = client.post(f"/signals/{saved.id}/unfollow")
    assert response.status_code == 302 and _saved(alice) == []


def test_bad_input_is_refused_and_changes_nothing(alice_client, alice):
    for query in ("", "   ", "-draft", "x" * 600, "\x00"):
        response = _follow(alice_client, query)
        assert response.status_code in (400, 422), (query, response.status_code)
    assert _saved(alice) == []
    _follow(alice_client, "apollo")
    (saved,) = _saved(alice)
    for path in ("/signals/abc", "/signals/-1", "/signals/99999999999999999999999", "/signals/٣"):
        assert alice_client.get(path).status_code == 404, path
    for up_to in ("abc", "", "-5"):
        response = alice_client.post(f"/signals/{saved.id}/read", data={"up_to": up_to})
        assert response.status_code in (400, 422), up_to
    assert alice_client.get("/signals?max_id=abc").status_code in (400, 422)


def test_a_private_match_leaves_the_page_when_its_reader_leaves_the_community(alice_client, alice, bob):
    secret = make_community(bob, "secret", private=True, members=(alice,))
    _follow(alice_client, "budget")
    (saved,) = _saved(alice)
    private = make_post(bob, "@secret the budget is cut").id
    search.drain()
    assert f'data-post-id="{private}"' in alice_client.get(f"/signals/{saved.id}").get_data(as_text=True)
    communities.remove_member(None, secret, alice)
    for path in ("/signals", f"/signals/{saved.id}", f"/signals/{saved.id}?fragment=1&min_id=0"):
        html = alice_client.get(path).get_data(as_text=True)
        assert f'data-post-id="{private}"' not in html and "budget is cut" not in html, path
    assert _badge(alice_client.get("/").get_data(as_text=True)) == "0"


def test_signals_speaks_norwegian(alice_client):
    norwegian = {"Accept-Language": "nb-NO,nb;q=0.9"}
    html = alice_client.get("/signals", headers=norwegian).get_data(as_text=True)
    assert "Søk du følger" in html and "Searches you follow" not in html
    html = alice_client.get("/search?q=budsjett", headers=norwegian).get_data(as_text=True)
    assert "Følg dette søket" in html


def test_the_menu_counts_each_unread_post_once_and_all_signals_marks_them_read(alice_client, alice, bob):
    for query in ("apollo", "#launch", "from:bob"):
        _follow(alice_client, query)
    first = make_post(bob, "Apollo goes up #launch").id  # matches all three
    second = make_post(bob, "Lunch is ready").id  # from:bob only
    search.drain()
    html = alice_client.get("/signals").get_data(as_text=True)
    assert _badge(html) == "2"
    assert 'action="/signals/read"' in html and f'name="up_to" value="{second}"' in html
    json = {"Accept": "application/json"}
    answer = alice_client.post("/signals/read", data={"up_to": second}, headers=json)
    searches = {str(saved.id): 0 for saved in _saved(alice)}
    assert answer.json == {"unread": 0, "badge": "signals", "searches": searches} and first < second
    assert _badge(alice_client.get("/").get_data(as_text=True)) == "0"
    assert alice_client.post("/signals/read", data={"up_to": "x"}).status_code in (400, 422)


def test_a_matching_post_notifies_in_words(alice_client, alice, bob):
    _follow(alice_client, "apollo", notify="1")
    make_post(bob, "Apollo is go")
    search.drain()
    html = alice_client.get("/notifications").get_data(as_text=True)
    assert "posted, matching a search you follow" in html and "> status" not in html


def _signals(sio) -> list[dict]:
    return [event["args"][0]["payload"] for event in sio.get_received() if event["name"] == "signals"]


def test_the_menu_badge_hears_each_match_live_and_only_its_owner_does(app, alice_client, alice, bob):
    secret = make_community(bob, "secret", private=True)
    _follow(alice_client, "apollo")
    _follow(alice_client, "#launch")
    (first, second) = _saved(alice)
    owner = realtime.socketio.test_client(app, flask_test_client=alice_client)
    other_client = app.test_client()
    login(other_client, "bob")
    other = realtime.socketio.test_client(app, flask_test_client=other_client)
    owner.get_received(), other.get_received()
    both = make_post(bob, "Apollo goes up #launch").id  # matches both searches
    make_post(bob, "@secret apollo is late")  # a private post alice may not see: no match for her
    make_post(bob, "Lunch is ready")
    search.drain()
    heard = _signals(owner)
    assert {(h["post_id"], h["list_id"]) for h in heard} == {
        (str(both), str(first.id)),
        (str(both), str(second.id)),
    }
    assert _signals(other) == [] and secret.locked
