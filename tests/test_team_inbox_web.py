"""The team inbox in the web UI: who may open it, every action through its forms, filters, paging."""

from __future__ import annotations

import re

import pytest
from sqlalchemy import select

from microblog.database import db
from microblog.services import communities
from models import InboxItem, Post

from .factories import login, make_community, make_post, make_team, make_user


@pytest.fixture
def support(app, alice, bob):
    """@it-support, run by alice (lead) and bob (member); carol asks it things."""
    make_user("carol", display_name="Carol Castro")
    return make_team("it-support", members=(bob,), leads=(alice,), name="IT support")


def _carol():
    from models import User

    return db.session.scalar(select(User).where(User.username == "carol"))


def _item(post: Post) -> InboxItem:
    item = db.session.scalar(select(InboxItem).where(InboxItem.post_id == post.id))
    assert item is not None
    db.session.refresh(item)
    return item


def _items_shown(html: str) -> list[int]:
    return [int(i) for i in re.findall(r'data-item-id="(\d+)"', html)]


def test_members_open_the_inbox_others_get_404(client, support, admin):
    make_user("dave")
    login(client, "bob")
    assert client.get("/teams/it-support/inbox").status_code == 200
    for outsider in ("dave", "root"):  # a site administrator not on the team: not found either
        client.post("/logout")
        login(client, outsider)
        assert client.get("/teams/it-support/inbox").status_code == 404
    assert client.get("/teams/nobody/inbox").status_code == 404


def test_an_item_goes_open_assigned_answered_and_shows_on_the_asker_s_thread(client, support, alice, bob):
    post = make_post(_carol(), "@it-support the VPN drops every hour")
    item = _item(post)
    login(client, "bob")
    page = client.get("/teams/it-support/inbox").get_data(as_text=True)
    assert _items_shown(page) == [item.id]
    assert "the VPN drops every hour" in page and "Carol Castro" in page
    assert "Assign to me" in page and "Answer as @it-support" in page
    assert 'data-count="open">1<' in page

    response = client.post(
        f"/teams/it-support/inbox/{item.id}/assign", data={"next": "/teams/it-support/inbox"}
    )
    assert response.status_code == 302
    assert response.location.endswith(f"/teams/it-support/inbox#item-{item.id}")
    item = _item(post)
    assert (item.state, item.assignee_id) == ("assigned", bob.id)
    mine = client.get("/teams/it-support/inbox?filter=mine").get_data(as_text=True)
    assert _items_shown(mine) == [item.id] and "Assigned to" in mine

    # Reassign to alice through the member select.
    client.post(f"/teams/it-support/inbox/{item.id}/assign", data={"assignee": "alice"})
    assert _item(post).assignee_id == alice.id
    assert _items_shown(client.get("/teams/it-support/inbox?filter=mine").get_data(as_text=True)) == []

    response = client.post(
        f"/teams/it-support/inbox/{item.id}/answer", data={"text": "@carol restart the client, it is fixed"}
    )
    assert response.status_code == 302
    item = _item(post)
    assert item.state == "answered" and item.answer_post_id is not None
    reply = db.session.get(Post, item.answer_post_id)
    assert (reply.author_id, reply.posted_by_id, reply.in_reply_to_id) == (support.id, bob.id, post.id)
    answered = client.get("/teams/it-support/inbox?filter=answered").get_data(as_text=True)
    assert _items_shown(answered) == [item.id] and "answered in" in answered
    assert _items_shown(client.get("/teams/it-support/inbox").get_data(as_text=True)) == []

    client.post("/logout")
    login(client, "carol")
    thread = client.get(f"/posts/{post.id}").get_data(as_text=True)
    assert "restart the client, it is fixed" in thread and "@it-support" in thread


def test_close_needs_a_reason_then_reopen_and_unassign(client, support, bob):
    post = make_post(_carol(), "@it-support can I get a second screen?")
    item_id = _item(post).id
    login(client, "bob")
    response = client.post(f"/teams/it-support/inbox/{item_id}/close", data={"reason": "  "})
    assert response.status_code == 422  # the item, with why beside it
    assert _item(post).state == "open"
    refused = response.get_data(as_text=True)
    assert re.search(r"data-item-error>Say why the item is closed", refused) and _items_shown(refused) == [
        item_id
    ]
    assert '<details class="inbox-close" open>' in refused

    client.post(f"/teams/it-support/inbox/{item_id}/close", data={"reason": "Facilities handles screens"})
    item = _item(post)
    assert (item.state, item.closed_reason) == ("closed", "Facilities handles screens")
    closed = client.get("/teams/it-support/inbox?filter=closed").get_data(as_text=True)
    assert _items_shown(closed) == [item_id] and "Facilities handles screens" in closed and "Reopen" in closed
    assert "closed without an answer" in closed and "no answer yet" not in closed

    client.post(f"/teams/it-support/inbox/{item_id}/reopen")
    assert _item(post).state == "open"
    assert "The item is open again." in client.get("/teams/it-support/inbox").get_data(as_text=True)
    client.post(f"/teams/it-support/inbox/{item_id}/assign")
    assert _item(post).state == "assigned"
    client.post(f"/teams/it-support/inbox/{item_id}/unassign")
    item = _item(post)
    assert (item.state, item.assignee_id) == ("open", None)


def test_an_outsider_cannot_act_on_an_item(client, support):
    make_user("dave")
    post = make_post(_carol(), "@it-support printer on fire")
    item_id = _item(post).id
    login(client, "dave")
    for action in ("assign", "unassign", "reopen"):
        assert client.post(f"/teams/it-support/inbox/{item_id}/{action}").status_code == 404
    for assignee in ("bob", "nobody", "   "):  # any name: the item is not found before names are read
        response = client.post(f"/teams/it-support/inbox/{item_id}/assign", data={"assignee": assignee})
        assert response.status_code == 404 and "No such inbox item." in response.get_data(as_text=True)
    assert client.post(f"/teams/it-support/inbox/{item_id}/answer", data={"text": "hi"}).status_code == 404
    assert client.get(f"/teams/it-support/inbox/items/{item_id}").status_code == 404
    assert _item(post).state == "open"


def test_filters_counts_order_and_paging(client, support, bob, alice):
    carol = _carol()
    posts = [make_post(carol, f"@it-support question {n}") for n in range(34)]
    ids = [_item(p).id for p in posts]
    login(client, "bob")
    client.post(f"/teams/it-support/inbox/{ids[0]}/assign")  # bob's
    client.post(f"/teams/it-support/inbox/{ids[1]}/assign", data={"assignee": "alice"})
    client.post(f"/teams/it-support/inbox/{ids[2]}/close", data={"reason": "duplicate"})
    client.post(f"/teams/it-support/inbox/{ids[3]}/answer", data={"text": "@carol done"})

    first = client.get("/teams/it-support/inbox").get_data(as_text=True)
    waiting = [i for i in ids if i not in (ids[2], ids[3])]
    assert _items_shown(first) == waiting[:30]  # oldest first, 30 a page
    for name, count in {"open": 32, "unassigned": 30, "answered": 1, "closed": 1, "all": 34}.items():
        assert f'data-count="{name}">{count}<' in first
    more = re.search(r'href="([^"]*after=\d+[^"]*)"', first).group(1).replace("&amp;", "&")
    assert _items_shown(client.get(more).get_data(as_text=True)) == waiting[30:]

    newest = client.get("/teams/it-support/inbox?order=newest").get_data(as_text=True)
    assert _items_shown(newest) == list(reversed(waiting))[:30]
    unassigned = client.get("/teams/it-support/inbox?filter=unassigned").get_data(as_text=True)
    assert ids[0] not in _items_shown(unassigned) and ids[1] not in _items_shown(unassigned)
    assert _items_shown(client.get("/teams/it-support/inbox?filter=mine").get_data(as_text=True)) == [ids[0]]
    everything = client.get("/teams/it-support/inbox?filter=all&order=newest").get_data(as_text=True)
    assert _items_shown(everything) == list(reversed(ids))[:30]
    assert client.get("/teams/it-support/inbox?filter=bogus").status_code == 422


def test_the_item_fragment_is_the_item_as_the_page_shows_it(client, support):
    post = make_post(_carol(), "@it-support keyboard sticks")
    item_id = _item(post).id
    login(client, "bob")
    fragment = client.get(f"/teams/it-support/inbox/items/{item_id}?filter=all&fragment=1").get_data(
        as_text=True
    )
    assert _items_shown(fragment) == [item_id]
    assert "data-counts='{" in fragment and "keyboard sticks" in fragment and "<html" not in fragment
    assert 'name="next" value="/teams/it-support/inbox?filter=all"' in fragment
    page = client.get(f"/teams/it-support/inbox/items/{item_id}").get_data(as_text=True)  # its own link
    assert "<html" in page and _items_shown(page) == [item_id] and 'href="/teams/it-support/inbox"' in page


def test_a_refused_answer_shows_beside_its_item_with_the_text_kept(client, support):
    post = make_post(_carol(), "@it-support printer jams")
    item_id = _item(post).id
    login(client, "bob")
    long_answer = "@carol " + "x" * 200
    response = client.post(
        f"/teams/it-support/inbox/{item_id}/answer",
        data={"text": long_answer, "next": "/teams/it-support/inbox"},
    )
    assert response.status_code == 422
    html = response.get_data(as_text=True)
    assert "data-item-error>" in html and f">{long_answer}</textarea>" in html
    assert _item(post).state == "open" and _item(post).answer_post_id is None


def test_a_private_community_post_enters_the_inbox_only_if_the_team_is_a_member(client, support, alice):
    carol = _carol()
    board = make_community(alice, "board", private=True, members=(carol,))
    hidden = make_post(carol, "@board @it-support laptops for the board?")
    assert db.session.scalar(select(InboxItem).where(InboxItem.post_id == hidden.id)) is None
    communities.add_member(None, board, support)
    seen = make_post(carol, "@board @it-support and the projector?")
    item = _item(seen)
    login(client, "bob")  # bob is not in the private community: the inbox shows what the team sees
    page = client.get("/teams/it-support/inbox").get_data(as_text=True)
    assert _items_shown(page) == [item.id] and "and the projector?" in page
    assert "laptops for the board" not in page


def test_every_item_route_answers_for_the_team_in_the_url_only(client, support, bob):
    make_team("hr", members=(bob,), name="HR")  # bob is on both teams
    post = make_post(_carol(), "@it-support my badge does not open the door")
    item_id = _item(post).id
    login(client, "bob")
    for action, data in (
        ("assign", {}),
        ("unassign", {}),
        ("close", {"reason": "not for HR"}),
        ("reopen", {}),
        ("answer", {"text": "@carol HR here"}),
    ):
        response = client.post(f"/teams/hr/inbox/{item_id}/{action}", data=data)
        assert response.status_code == 404, action
        assert "No such inbox item." in response.get_data(as_text=True)
    fragment = client.get(f"/teams/hr/inbox/items/{item_id}")
    assert fragment.status_code == 404 and "No such inbox item." in fragment.get_data(as_text=True)
    item = _item(post)
    assert (item.state, item.assignee_id, item.answer_post_id) == ("open", None, None)

    # Under its own team's handle (spelled in capitals here) the item answers, as that team.
    response = client.post(
        f"/teams/IT-Support/inbox/{item_id}/answer", data={"text": "@carol fixed"}, follow_redirects=True
    )
    assert "Answered as @it-support." in response.get_data(as_text=True)
    assert _item(post).state == "answered"


def test_assign_offers_active_members_only_and_names_who_is_not_on_the_team(client, support, alice, admin):
    from microblog.services import accounts

    make_team("hr", members=(make_user("erin"),))
    make_team("ops", members=(make_user("frank"),))
    from microblog.services import team_desk

    team_desk.add_member(alice, "it-support", "frank", "member")
    accounts.set_active(admin, "frank", False)
    post = make_post(_carol(), "@it-support who takes this?")
    item_id = _item(post).id
    login(client, "bob")
    page = client.get("/teams/it-support/inbox").get_data(as_text=True)
    assert '<option value="alice"' in page and '<option value="bob"' in page
    assert '<option value="frank"' not in page  # on the team, but deactivated
    assert '<option value="" disabled selected>Choose a member</option>' in page  # no one by default
    response = client.post(
        f"/teams/it-support/inbox/{item_id}/assign", data={"assignee": "erin"}, follow_redirects=True
    )
    assert "@erin is not on @it-support." in response.get_data(as_text=True)
    assert _item(post).assignee_id is None
    response = client.post(
        f"/teams/it-support/inbox/{item_id}/assign", data={"assignee": "@nobody"}, follow_redirects=True
    )
    assert "There is no one called @nobody here." in response.get_data(as_text=True)
    assert _item(post).assignee_id is None


def test_a_reopened_item_no_longer_says_answered_in(client, support, bob):
    post = make_post(_carol(), "@it-support the wifi")
    item_id = _item(post).id
    login(client, "bob")
    client.post(f"/teams/it-support/inbox/{item_id}/answer", data={"text": "@carol fixed"})
    assert "answered in" in client.get(f"/teams/it-support/inbox/items/{item_id}").get_data(as_text=True)
    client.post(f"/teams/it-support/inbox/{item_id}/reopen")
    reopened = client.get(f"/teams/it-support/inbox/items/{item_id}").get_data(as_text=True)
    assert 'data-state="open"' in reopened and "answered in" not in reopened
