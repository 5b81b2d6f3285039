"""A team's shared inbox: what was asked of a team account, and where each answer stands.

Every post that mentions a team account or replies to one of its posts enters
the team's inbox (`receive`, called by posts.post_status in the post's
transaction), unless the team account may not see it (a private community it is
not in).  An item is open, assigned to a member, answered, or closed without an
answer.  Replying as the team answers it (`answer_by_reply`, also from
post_status), and so does the team accepting a reply to its own question as the
answer (`answer_by_acceptance`, from questions.accept_answer); members assign,
close with a reason, and reopen.  Each state
change is announced live, after the commit, on the team members' streams
(`inbox.update` with the InboxItem entity) and, without the team's internals,
on the asker's (`inbox.state`).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta
from functools import cache

from flask_babel import gettext as _
from sqlalchemy import (
    BigInteger,
    ColumnElement,
    Integer,
    Select,
    String,
    bindparam,
    delete,
    exists,
    func,
    select,
    union_all,
    update,
)
from sqlalchemy.orm import aliased

import realtime
from microblog import entities
from microblog.database import db, is_postgresql, on_commit, read_rows
from microblog.entities import ItemView
from microblog.text import parse_id
from models import InboxItem, Post, TeamMember, User, utcnow
from models.inbox_item import ANSWERED, ASSIGNED, CLOSED, OPEN
from models.post import PRIVATE

from . import teams, timelines
from .errors import NotFound, ValidationError
from .visibility import Audience, post_is_visible

PAGE_LIMIT = 40
CLOSE_REASON_MAX = 200
# The inbox's filters: waiting for an answer (open or assigned), taken by no one, taken by me, answered,
# closed, or everything.
FILTERS = ("open", "unassigned", "mine", "answered", "closed", "all")
WAITING = (OPEN, ASSIGNED)


@dataclass(frozen=True)
class Figures:
    """A team's inbox over one period: received, answered, and how long the first answer took."""

    days: int
    received: int
    answered: int
    median_seconds: int | None
    p90_seconds: int | None

    @property
    def answered_share(self) -> float | None:
        """Return the share of received items answered (None when nothing was received)."""
        return self.answered / self.received if self.received else None


# -- intake, from posting ----------------------------------------------------


def receive(post: Post, team_ids: Iterable[int], seen_by: Audience) -> None:
    """Put a new post into the inbox of each of these teams that may see it (in the post's transaction)."""
    teams_in = sorted({tid for tid in team_ids if tid != post.author_id and seen_by.admits(tid)})
    if not teams_in:
        return
    now = post.created_at or utcnow()
    items = [
        InboxItem(team_id=tid, post_id=post.id, asker_id=post.author_id, received_at=now, changed_at=now)
        for tid in teams_in
    ]
    db.session.add_all(items)
    db.session.flush()
    for item in items:
        _announce(item)


def answer_by_reply(team: User, reply: Post, parent_id: int) -> None:
    """Mark the team's item for the post replied to as answered by this reply (the team's reply)."""
    item = db.session.scalar(
        select(InboxItem).where(InboxItem.team_id == team.id, InboxItem.post_id == parent_id)
    )
    if item is None:
        return
    _answered(item, reply.created_at or utcnow(), reply.posted_by_id, answer_post_id=reply.id)


def answer_by_acceptance(actor: User, question: Post, answer: Post, accepted_at: datetime) -> None:
    """Mark the team's waiting item for a reply answered, as the team accepts it for its own question.

    Called by questions.accept_answer in its transaction.  Only a team
    account's own question counts: a reply accepted to a person's question
    leaves every inbox alone, whoever it mentions.  The answer is the item's
    post itself, so the item names no team reply (answer_post_id stays None);
    the question's accepted_answer_id says which reply was accepted.  An item
    already answered or closed keeps its state, and taking the acceptance back
    (questions.unaccept_answer) does not reopen the item: members reopen it.
    """
    if not question.author.is_team:
        return
    item = db.session.scalar(
        select(InboxItem).where(
            InboxItem.team_id == question.author_id,
            InboxItem.post_id == answer.id,
            InboxItem.state.in_(WAITING),
        )
    )
    if item is None:
        return
    # A community's admin may accept for the team too: not a member, so the change is the system's.
    on_team = teams.is_member(actor, question.author)
    _answered(item, accepted_at, actor.id if on_team else None, answer_post_id=None)


def _answered(item: InboxItem, now: datetime, by_id: int | None, *, answer_post_id: int | None) -> None:
    """Mark an item answered at `now`, recording the first answer, and announce it after the commit."""
    # The figures count the first answer: a conditional update, so that of two answers at the same
    # moment (two processes) only one is recorded as first.
    db.session.execute(
        update(InboxItem)
        .where(InboxItem.id == item.id, InboxItem.answered_at.is_(None))
        .values(
            answered_at=now,
            first_answer_seconds=max(0, int((now - item.received_at).total_seconds())),
            answer_post_id=answer_post_id,
        )
    )
    db.session.refresh(item)
    item.state = ANSWERED
    item.closed_reason = ""
    item.changed_by_id = by_id
    item.changed_at = now
    db.session.flush()
    _announce(item)


def forget_community(team: User, community: User) -> None:
    """Drop the team's items about a private community's posts, as the team leaves it (in that transaction).

    The team no longer sees them: kept, they would still be counted, listed
    and worked, and every read of the inbox would have to check each post.
    """
    private = select(Post.id).where(Post.community_id == community.id, Post.visibility == PRIVATE)
    db.session.execute(delete(InboxItem).where(InboxItem.team_id == team.id, InboxItem.post_id.in_(private)))


# -- reading -----------------------------------------------------------------


def access_item(actor: User | None, item_id: int | str) -> InboxItem:
    """Return an inbox item of a team the actor is on (site administrators: none), or raise NotFound."""
    iid = parse_id(item_id)
    item = db.session.get(InboxItem, iid) if iid else None
    if item is None or not teams.is_member(actor, db.session.get_one(User, item.team_id)):
        raise NotFound(_("No such inbox item."))
    if not _team_sees(item.team_id, [InboxItem.id == item.id]):  # never kept: see forget_community
        raise NotFound(_("No such inbox item."))
    return item


def _team_sees(team_id: int, where: list[ColumnElement[bool]]) -> bool:
    """Return whether the team account may see the post of the item selected by `where`."""
    seen = (
        select(InboxItem.id).join(Post, Post.id == InboxItem.post_id).where(*where, post_is_visible(team_id))
    )
    return db.session.scalar(seen) is not None


# Bound parameters of the inbox page statement.
_TEAM = bindparam("team", type_=Integer)
_ACTOR = bindparam("actor", type_=Integer)
_AFTER = bindparam("after", type_=BigInteger)
_LIMIT = bindparam("limit", type_=Integer, literal_execute=True)


def _state(name: str) -> ColumnElement[bool]:
    # Written into the statement, not bound: PostgreSQL then plans it once (a generic plan) and reuses it.
    return InboxItem.state == bindparam(None, name, String, literal_execute=True)


def _branches(name: str) -> tuple[tuple[ColumnElement[bool], ...], ...]:
    """Return a filter as one condition list per state it takes items from (each an index range)."""
    if name == "open":  # one page per waiting state, merged: `state IN (...)` would sort the whole backlog
        return ((_state(OPEN),), (_state(ASSIGNED),))
    if name == "unassigned":
        return ((_state(OPEN),),)
    if name == "mine":
        return ((_state(ASSIGNED), InboxItem.assignee_id == _ACTOR),)
    if name == "answered":
        return ((_state(ANSWERED),),)
    if name == "closed":
        return ((_state(CLOSED),),)
    return ((),)


_ITEM_COLUMNS = (
    InboxItem.id,
    InboxItem.state,
    InboxItem.received_at,
    InboxItem.answered_at,
    InboxItem.changed_at,
    InboxItem.closed_reason,
    InboxItem.answer_post_id,
    InboxItem.assignee_id,
)


@cache
def _page_statement(name: str, newest_first: bool, has_after: bool) -> Select:
    """Select one page of a team's inbox with each item's post and assignee, in one statement.

    The items are taken by id (the order they arrived in) from
    inbox_items(team_id, state, id), only while the actor is on the team, and
    only those whose post the team account may see; the posts are selected as
    feeds select them (timelines.page_posts), the team being the viewer, and
    the asker is the post's author.  Few relations, so that PostgreSQL plans
    it in well under a millisecond.  Built once per shape, like the feeds'.
    """
    on_team = exists().where(TeamMember.team_id == _TEAM, TeamMember.user_id == _ACTOR)
    pages = []
    for where in _branches(name):
        ids = select(*_ITEM_COLUMNS, InboxItem.post_id.label("post_id")).where(
            InboxItem.team_id == _TEAM, on_team, *where
        )
        if has_after:
            ids = ids.where(InboxItem.id < _AFTER if newest_first else InboxItem.id > _AFTER)
        pages.append(ids.order_by(InboxItem.id.desc() if newest_first else InboxItem.id.asc()).limit(_LIMIT))
    if len(pages) == 1:
        page = pages[0].subquery("page")
    else:  # each branch's page in a subquery of its own: SQLite allows no LIMIT in a compound's branch
        branches = [select(*p.subquery(f"branch{n}").c) for n, p in enumerate(pages)]
        page = union_all(*branches).subquery("page")
    assignee = aliased(User, name="assignee")
    item = [page.c[column.key] for column in _ITEM_COLUMNS[:-1]]
    return (
        timelines.page_posts(page, post_id=page.c.post_id)
        .add_columns(*item, *timelines.author_columns(assignee))
        .outerjoin(assignee, assignee.id == page.c.assignee_id)
        .order_by(None)
        .order_by(page.c.id.desc() if newest_first else page.c.id.asc())
        .limit(_LIMIT)
    )


_ITEM_END = timelines.FEED_COLUMNS + len(_ITEM_COLUMNS) - 1


def list_items(
    actor: User,
    team: User,
    *,
    filter: str = "open",
    newest_first: bool = False,
    after: int | str | None = None,
    limit: int = PAGE_LIMIT,
) -> list[ItemView]:
    """Return a page of the team's inbox (oldest first by default), for one of its members.

    One statement; it returns nothing unless the actor is on the team, so an
    empty page is the one that checks who is asking: to anyone not on the
    team (site administrators included) its inbox is not found.
    """
    if filter not in FILTERS:
        raise ValidationError(
            _("filter must be one of: %(names)s.", names=", ".join(FILTERS)), field="filter"
        )
    cursor = parse_id(after) if after not in (None, "") else None
    if after not in (None, "") and cursor is None:
        raise ValidationError(_("The page cursor must be a whole number."), field="after")
    if not teams.may_act(actor, team):  # no query; whether they are on the team, the statement asks
        _check_reader(actor, team)
    stmt = _page_statement(filter, newest_first, cursor is not None)
    params = {
        "team": team.id,
        "viewer": team.id,  # the posts as the team account sees them
        "actor": actor.id,
        "after": cursor or 0,
        "limit": max(1, min(int(limit), PAGE_LIMIT)),
    }
    rows = read_rows(stmt, params)
    if not rows:
        _check_reader(actor, team)
    views = []
    for row, post in zip(rows, timelines.rows_to_posts(rows), strict=True):
        item_id, state, received_at, answered_at, changed_at, reason, answer_id = row[
            timelines.FEED_COLUMNS : _ITEM_END
        ]
        assignee = row[_ITEM_END:]
        views.append(
            ItemView(
                item_id,
                team.id,
                state,
                received_at,
                answered_at,
                changed_at,
                reason,
                post,
                post.author,  # the asker
                entities.Author(*assignee) if assignee[0] is not None else None,
                answer_id,
            )
        )
    return views


def _check_reader(actor: User | None, team: User) -> None:
    """Refuse anyone who may not read the team's inbox: to those not on the team, it is not found."""
    if not teams.is_member(actor, team):
        raise NotFound(_("There is no team account called @%(handle)s here.", handle=team.username))
    teams.check_can_act_as(actor, team)


def item_view(team: User, item: InboxItem) -> ItemView | None:
    """Return one item as the inbox shows it (None if its post is gone, or the team may not see it)."""
    post = timelines.post_view(item.post_id, team)
    if post is None:
        return None
    assignee = db.session.get(User, item.assignee_id) if item.assignee_id else None
    return ItemView(
        item.id,
        item.team_id,
        item.state,
        item.received_at,
        item.answered_at,
        item.changed_at,
        item.closed_reason,
        post,
        post.author,  # the asker, as on a page of the inbox
        entities.Author.of(assignee) if assignee is not None else None,
        item.answer_post_id,
    )


def counts(team: User) -> dict[str, int]:
    """Return how many of the team's items are open, unassigned, assigned, answered and closed."""
    rows = db.session.execute(
        select(InboxItem.state, func.count()).where(InboxItem.team_id == team.id).group_by(InboxItem.state)
    )
    by_state = {state: n for state, n in rows}
    return {
        "open": by_state.get(OPEN, 0) + by_state.get(ASSIGNED, 0),
        "unassigned": by_state.get(OPEN, 0),
        "assigned": by_state.get(ASSIGNED, 0),
        "answered": by_state.get(ANSWERED, 0),
        "closed": by_state.get(CLOSED, 0),
    }


def figures(team: User, days: int, *, now: datetime | None = None) -> Figures:
    """Return the team's figures over the last `days` days (received, answered, time to first answer).

    The times are the median and the 90th percentile (nearest rank) of the
    items received in the period and answered, computed by the database: a
    busy team's month is tens of thousands of items.  The index on
    (team_id, received_at, first_answer_seconds) holds all they read.
    """
    until = now or utcnow()
    since = until - timedelta(days=days)
    window = [InboxItem.team_id == team.id, InboxItem.received_at >= since, InboxItem.received_at < until]
    seconds = InboxItem.first_answer_seconds
    if is_postgresql(db.engine):
        received, answered, median, p90 = db.session.execute(
            select(
                func.count(),
                func.count(seconds),
                func.percentile_disc(0.5).within_group(seconds),
                func.percentile_disc(0.9).within_group(seconds),
            ).where(*window)
        ).one()
        return Figures(days, received, answered, median, p90)
    received, answered = db.session.execute(
        select(func.count(), func.count(seconds)).select_from(InboxItem).where(*window)
    ).one()
    if not answered:
        return Figures(days, received, 0, None, None)
    # SQLite has no percentiles: the value at the nearest rank, sorted by the database
    ranked = select(seconds).where(*window, seconds.is_not(None)).order_by(seconds).limit(1)
    median = db.session.scalar(ranked.offset(_rank(answered, 50) - 1))
    p90 = db.session.scalar(ranked.offset(_rank(answered, 90) - 1))
    return Figures(days, received, answered, median, p90)


def _rank(count: int, percent: int) -> int:
    """Return the nearest rank of a percentile among `count` sorted values: ceil(p/100 * n), at least 1."""
    return max(1, -(-percent * count // 100))


# -- actions -----------------------------------------------------------------


def assign(actor: User, item_id: int | str, assignee: User | str | None = None) -> InboxItem:
    """Give an item to a member of the team (the actor, unless named); reassigning moves it.

    `assignee` may be given by username, as the web form sends it: it is looked
    up once the actor may see the item, so that to anyone else the item stays
    "not found" whatever name they send.
    """
    item = access_item(actor, item_id)
    team = db.session.get_one(User, item.team_id)
    if isinstance(assignee, str):
        assignee = teams.access_person(assignee, "assignee")
    if assignee is not None and assignee.id != actor.id and not _may_take_items(assignee, team):
        raise ValidationError(
            _("@%(name)s is not on @%(team)s.", name=assignee.username, team=team.username), field="assignee"
        )
    assignee = assignee or actor
    teams.check_can_act_as(assignee, team)
    if item.state == CLOSED:
        raise ValidationError(_("Reopen the item before assigning it."), field="state")
    item.assignee_id = assignee.id
    if item.state == OPEN:
        item.state = ASSIGNED
    return _changed(item, actor)


def _may_take_items(person: User, team: User) -> bool:
    """Return whether an item may be given to this person: an active member of the team."""
    return person.is_active and teams.is_member(person, team)


def unassign(actor: User, item_id: int | str) -> InboxItem:
    """Give an item back to the whole team."""
    item = access_item(actor, item_id)
    item.assignee_id = None
    if item.state == ASSIGNED:
        item.state = OPEN
    return _changed(item, actor)


def close(actor: User, item_id: int | str, reason: str) -> InboxItem:
    """Close an item without an answer, saying why (a duplicate, not for us, answered elsewhere)."""
    item = access_item(actor, item_id)
    reason = " ".join((reason or "").split())
    if not reason or len(reason) > CLOSE_REASON_MAX:
        raise ValidationError(
            _("Say why the item is closed (at most %(max)s characters).", max=CLOSE_REASON_MAX),
            field="reason",
        )
    item.state = CLOSED
    item.closed_reason = reason
    return _changed(item, actor)


def reopen(actor: User, item_id: int | str) -> InboxItem:
    """Open a closed or answered item again (to its assignee, if it had one)."""
    item = access_item(actor, item_id)
    item.state = ASSIGNED if item.assignee_id else OPEN
    item.closed_reason = ""
    return _changed(item, actor)


def release_member(actor: User | None, team: User, person: User, *, announce: bool = True) -> list[InboxItem]:
    """Give the items assigned to someone leaving the team back to it, in the caller's transaction.

    Waiting items become open; answered and closed ones keep their state but
    lose the assignee, so a reopen does not hand them to a non-member.  Each is
    announced after the commit (unless announce is False: the command line
    without a site address to build the live payloads' links with).
    """
    items = list(
        db.session.scalars(
            select(InboxItem)
            .where(InboxItem.team_id == team.id, InboxItem.assignee_id == person.id)
            .order_by(InboxItem.id)
        )
    )
    now = utcnow()
    for item in items:
        item.assignee_id = None
        if item.state == ASSIGNED:
            item.state = OPEN
        item.changed_by_id = actor.id if actor is not None else None
        item.changed_at = now
    db.session.flush()
    for item in items if announce else ():
        _announce(item)
    return items


def _changed(item: InboxItem, actor: User) -> InboxItem:
    item.changed_by_id = actor.id
    item.changed_at = utcnow()
    db.session.flush()
    _announce(item)
    db.session.commit()
    return item


def _announce(item: InboxItem) -> None:
    """Send the item's new state, after the commit, to the team's members and to the asker."""
    team = db.session.get_one(User, item.team_id)
    view = item_view(team, item)
    if view is None:
        return
    members = teams.member_ids(team.id)
    full = entities.inbox_item(view)
    brief = entities.inbox_state(view)

    def send() -> None:  # the team account's own stream too: its tokens' clients listen there
        realtime.publish(realtime.user_stream([*members, team.id]), "inbox.update", full)
        if view.asker.id not in members:
            realtime.publish(realtime.user_stream([view.asker.id]), "inbox.state", brief)

    on_commit(send)
