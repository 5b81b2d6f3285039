"""A team's shared inbox: what enters it, what it may never hold, and every state change."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import select

from microblog.database import db
from microblog.services import answering, communities, inbox
from microblog.services.errors import NotFound, ValidationError
from models import InboxItem, utcnow

from .factories import make_community, make_post, make_user


@pytest.fixture
def carol(app):
    """An employee who asks things."""
    return make_user("carol")


def items() -> list[InboxItem]:
    return list(db.session.scalars(select(InboxItem).order_by(InboxItem.id)))


def test_a_mention_and_a_reply_to_the_team_enter_its_inbox_once(support, bob, carol):
    asked = make_post(carol, "@it-support the VPN drops every hour?")
    answer = make_post(support, "Try the new client", in_reply_to=asked.id, posted_by=bob)
    follow_up = make_post(carol, "@it-support still drops", in_reply_to=answer.id)  # mention and reply: once
    make_post(carol, "nothing for the team here")
    assert [(i.post_id, i.asker_id) for i in items()] == [(asked.id, carol.id), (follow_up.id, carol.id)]


def test_the_team_s_own_posts_do_not_enter_its_inbox(support, bob):
    make_post(support, "@it-support note to self", posted_by=bob)
    assert items() == []


def test_a_post_the_team_may_not_see_never_enters_the_inbox(support, alice, bob, carol):
    board = make_community(alice, "board", private=True, members=(carol,))
    make_post(carol, "@board @it-support the printer in the boardroom?")
    assert items() == []
    communities.add_member(None, board, support)
    seen = make_post(carol, "@board @it-support and now?")
    assert [i.post_id for i in items()] == [seen.id]


def test_a_reply_as_the_team_answers_the_item_and_records_the_first_answer(support, alice, bob, carol):
    asked = make_post(carol, "@it-support where is the wiki?")
    item = items()[0]
    assert item.state == "open" and item.answered_at is None
    reply = answering.answer(bob, item.id, "@carol at wiki.example")
    db.session.refresh(item)
    assert (item.state, item.answer_post_id, item.changed_by_id) == ("answered", reply.id, bob.id)
    assert reply.author_id == support.id and reply.posted_by_id == bob.id and reply.in_reply_to_id == asked.id
    first = (item.answered_at, item.first_answer_seconds)
    inbox.reopen(alice, item.id)
    make_post(support, "and the search box", in_reply_to=asked.id, posted_by=alice)
    db.session.refresh(item)
    assert item.state == "answered" and (item.answered_at, item.first_answer_seconds) == first


def test_assign_reassign_unassign_close_and_reopen(support, alice, bob, carol):
    make_post(carol, "@it-support new laptop please")
    item = items()[0]
    assert inbox.assign(bob, item.id).state == "assigned" and item.assignee_id == bob.id
    assert inbox.assign(bob, item.id, alice).assignee_id == alice.id  # reassigned
    with pytest.raises(ValidationError) as refused:
        inbox.assign(bob, item.id, carol)  # not on the team
    assert (refused.value.message, refused.value.field) == ("@carol is not on @it-support.", "assignee")
    assert inbox.unassign(alice, item.id).state == "open" and item.assignee_id is None
    inbox.assign(alice, item.id)
    with pytest.raises(ValidationError):
        inbox.close(bob, item.id, "   ")
    closed = inbox.close(bob, item.id, "Ordered through the portal instead")
    assert (closed.state, closed.closed_reason) == ("closed", "Ordered through the portal instead")
    with pytest.raises(ValidationError):
        inbox.assign(bob, item.id)  # reopen first
    reopened = inbox.reopen(bob, item.id)
    assert (reopened.state, reopened.assignee_id, reopened.closed_reason) == ("assigned", alice.id, "")


def test_only_the_team_s_members_reach_its_items(support, admin, carol):
    make_post(carol, "@it-support hello")
    item = items()[0]
    for outsider in (carol, admin, None):
        with pytest.raises(NotFound):
            inbox.access_item(outsider, item.id)
        with pytest.raises(NotFound):  # its inbox is not found, as its items are
            inbox.list_items(outsider, support)  # type: ignore[arg-type]
    with pytest.raises(NotFound):
        inbox.access_item(admin, "not-a-number")


def test_filters_and_order(support, alice, bob, carol):
    first = make_post(carol, "@it-support one")
    second = make_post(carol, "@it-support two")
    third = make_post(carol, "@it-support three")
    one, two, three = items()
    inbox.assign(bob, two.id)
    answering.answer(alice, three.id, "done")

    def listed(filter: str, **kw) -> list[int]:
        return [v.post.id for v in inbox.list_items(bob, support, filter=filter, **kw)]

    assert listed("open") == [first.id, second.id]  # oldest first
    assert listed("open", newest_first=True) == [second.id, first.id]
    assert listed("unassigned") == [first.id]
    assert listed("mine") == [second.id]
    assert [v.post.id for v in inbox.list_items(alice, support, filter="mine")] == []
    assert listed("answered") == [third.id]
    assert listed("all", after=one.id) == [second.id, third.id]
    assert inbox.counts(support) == {"open": 2, "unassigned": 1, "assigned": 1, "answered": 1, "closed": 0}
    with pytest.raises(ValidationError):
        listed("everything")
    with pytest.raises(ValidationError):
        listed("open", after="x")


def test_a_page_is_one_statement_whatever_its_size_with_askers_and_assignees(
    support, alice, bob, carol, count_queries
):
    for n in range(6):
        make_post(carol if n % 2 else alice, f"@it-support #vpn drops {n}")
    listed = items()
    for item in listed[1::3]:
        inbox.assign(bob, item.id)
    assert bob.is_active and support.is_active  # loaded, as a request has its reader and the team loaded
    with count_queries() as one:
        small = inbox.list_items(bob, support, filter="open", limit=2)
    with count_queries() as many:
        page = inbox.list_items(bob, support, filter="open")
    assert one.count == many.count == 1
    # the two waiting states' pages merged, oldest first, cut at the limit
    assert [v.id for v in page] == [i.id for i in listed]
    assert [v.id for v in small] == [i.id for i in listed[:2]]
    assert [v.state for v in page] == ["open", "assigned", "open", "open", "assigned", "open"]
    assert [v.asker.username for v in page] == ["alice", "carol"] * 3
    assignees = [v.assignee.username if v.assignee else None for v in page]
    assert assignees == [None, "bob", None, None, "bob", None]
    assert page[0].post.tags == ("vpn",) and page[0].post.author.username == "alice"
    assert [v.id for v in inbox.list_items(bob, support, filter="open", newest_first=True, limit=3)] == [
        i.id for i in listed[:2:-1]
    ]
    assert [v.id for v in inbox.list_items(bob, support, filter="open", after=listed[3].id)] == [
        listed[4].id,
        listed[5].id,
    ]


def test_figures_over_7_and_30_days_from_fixed_times(support, carol):
    now = utcnow()
    waits = [60, 120, 180, 240, 300, 360, 420, 480, 540, 3600]  # seconds to the first answer
    for n in range(len(waits)):
        make_post(carol, f"@it-support question {n}")
    for item, wait in zip(items(), waits, strict=True):
        item.received_at = now - timedelta(days=2)
        item.answered_at = item.received_at + timedelta(seconds=wait)
        item.first_answer_seconds = wait
        item.state = "answered"
    for n in range(5):  # older than a week, two of them answered
        make_post(carol, f"@it-support old question {n}")
    for k, item in enumerate(items()[10:]):
        item.received_at = now - timedelta(days=20)
        if k < 2:
            item.first_answer_seconds, item.state = 7200, "answered"
    db.session.commit()
    week = inbox.figures(support, 7, now=now)
    assert (week.received, week.answered, week.median_seconds, week.p90_seconds) == (10, 10, 300, 540)
    month = inbox.figures(support, 30, now=now)
    assert (month.received, month.answered) == (15, 12)
    assert month.answered_share == pytest.approx(12 / 15)
    assert (month.median_seconds, month.p90_seconds) == (360, 7200)
    empty = inbox.figures(support, 7, now=now - timedelta(days=100))
    assert (empty.received, empty.answered_share, empty.median_seconds) == (0, None, None)


def test_a_deleted_post_leaves_the_inbox(support, carol, bob):
    from microblog.services import posts

    asked = make_post(carol, "@it-support oops, wrong team")
    posts.delete_post(carol, asked.id)
    assert items() == []
    assert inbox.list_items(bob, support, filter="all") == []


def test_removing_a_member_gives_their_items_back_to_the_team(support, alice, bob, carol, monkeypatch):
    import realtime
    from microblog.services import team_desk

    waiting = make_post(carol, "@it-support the VPN drops")
    done = make_post(carol, "@it-support new mouse please")
    waiting_id, done_id = (i.id for i in items())
    inbox.assign(alice, waiting_id, bob)
    inbox.assign(alice, done_id, bob)
    inbox.close(bob, done_id, "Facilities")
    make_post(carol, "@it-support and the printer")
    alices = inbox.assign(alice, items()[2].id)
    sent = []
    monkeypatch.setattr(realtime, "publish", lambda stream, event, payload: sent.append((event, payload)))

    team_desk.remove_member(alice, support, bob)

    found = {i.post_id: i for i in items()}
    for item in found.values():
        db.session.refresh(item)
    assert (found[waiting.id].state, found[waiting.id].assignee_id) == ("open", None)
    assert found[waiting.id].changed_by_id == alice.id
    assert (found[done.id].state, found[done.id].assignee_id) == ("closed", None)  # a reopen: to the team
    assert found[alices.post_id].assignee_id == alice.id  # others' items are left alone
    assert [v.id for v in inbox.list_items(alice, support, filter="unassigned")] == [waiting_id]
    announced = [p["id"] for event, p in sent if event == "inbox.update"]
    assert announced == [str(waiting_id), str(done_id)]
    inbox.reopen(alice, done_id)
    assert db.session.get(InboxItem, done_id).state == "open"
