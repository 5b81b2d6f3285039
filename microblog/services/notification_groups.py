"""Grouped notifications, as Mastodon 4.3 serves them (/api/v2/notifications): likes of one post, and
follows, each made within a span of hours, are one group; every other notification is a group of one.

A notification's group is fixed when it is recorded (services.notifications.group_keys). A page
holds the first `limit` groups met going down (or, with min_id, up) from its cursor, each through
the first of its notifications met; the counts, sample accounts and page bounds of the groups on it
then come from a fixed number of queries, whatever the page's size.  What a reader may no longer
see (services.notifications.readable: a post of a community they left) is in no group, no count
and no sample.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime

from flask_babel import gettext as _
from sqlalchemy import ColumnElement, String, and_, case, cast, delete, func, select

from microblog.database import db
from microblog.entities import Author, NotificationGroupView
from microblog.text import parse_id
from models import Notification, User
from models.notification import GROUP_KEY_LENGTH, GROUPABLE_KINDS, NOTIFICATION_KINDS

from . import markers, timelines
from .errors import NotFound, ValidationError
from .notifications import readable
from .timelines import Cursor

# Every type Mastodon names (4.3, and those added since), and microblog's own: a client may name
# any of them in types[], exclude_types[] or grouped_types[]; those microblog never records match
# nothing.  Any other name is refused, so that a typo does not silently filter nothing.
MASTODON_TYPES = (
    "mention",
    "status",
    "reblog",
    "follow",
    "follow_request",
    "favourite",
    "poll",
    "update",
    "admin.sign_up",
    "admin.report",
    "severed_relationships",
    "moderation_warning",
    "annual_report",
    "quote",
    "quoted_update",
)
KNOWN_TYPES = frozenset(MASTODON_TYPES) | frozenset(NOTIFICATION_KINDS)
SAMPLE_ACCOUNTS = 8  # Mastodon's NotificationGroup::SAMPLE_ACCOUNTS_SIZE
# Page sizes, as Mastodon's: (default, most).
GROUPS_LIMITS = (40, 80)
ACCOUNTS_LIMITS = (40, 80)
UNREAD_LIMITS = (100, 1000)
_SCAN_BATCH = 1000  # the most rows one round of a page's scan reads


def _names(values: Iterable[str], parameter: str) -> frozenset[str]:
    names = frozenset(values)
    for name in sorted(names):
        if name not in KNOWN_TYPES:
            raise ValidationError(
                _("%(parameter)s: %(name)s is not a notification type.", parameter=parameter, name=name[:40]),
                field=parameter,
            )
    return names


@dataclass(frozen=True)
class GroupFilter:
    """Which notifications a page or count takes in, and which of their kinds are grouped.

    `kinds` None: every kind.  `account_id`: only those this account caused.
    """

    kinds: frozenset[str] | None = None
    account_id: int | None = None
    grouped: frozenset[str] = frozenset(GROUPABLE_KINDS)

    @classmethod
    def parse(
        cls,
        *,
        types: Sequence[str] = (),
        exclude_types: Sequence[str] = (),
        grouped_types: Sequence[str] = (),
        account_id: str | None = None,
    ) -> GroupFilter:
        """Build a filter from Mastodon's parameters; refuse unknown type names, and ids that are none."""
        wanted = _names(types, "types[]") or KNOWN_TYPES
        kinds = wanted - _names(exclude_types, "exclude_types[]")
        grouped = _names(grouped_types, "grouped_types[]") & frozenset(GROUPABLE_KINDS)
        actor = None
        if account_id not in (None, ""):
            actor = parse_id(account_id)
            if actor is None:
                raise ValidationError(_("account_id must be an account id."), field="account_id")
        return cls(
            kinds=None if kinds == KNOWN_TYPES else kinds,
            account_id=actor,
            grouped=grouped if grouped_types else frozenset(GROUPABLE_KINDS),
        )

    def conditions(self) -> list[ColumnElement[bool]]:
        """Return the SQL conditions of this filter on notifications."""
        found: list[ColumnElement[bool]] = []
        if self.kinds is not None:
            found.append(Notification.kind.in_(sorted(self.kinds)))
        if self.account_id is not None:
            found.append(Notification.actor_id == self.account_id)
        return found

    def groups(self, note: Notification) -> bool:
        """Return whether this notification counts as part of its group here (else: a group of one)."""
        return note.group_key is not None and note.kind in self.grouped


@dataclass
class GroupedPage:
    """Notification groups, in order, with the accounts their sample ids name; and the page's cursors."""

    groups: list[NotificationGroupView]
    accounts: dict[int, Author]
    next_max_id: int | None = None
    prev_min_id: int | None = None


@dataclass
class AccountsPage:
    """The accounts behind a group's notifications, newest first, with the page's cursors."""

    accounts: list[Author] = field(default_factory=list)
    next_max_id: int | None = None
    prev_min_id: int | None = None


def page_limit(raw: str | None, limits: tuple[int, int]) -> int:
    """Return a page size from its parameter: the default when absent, else a whole number from 1 to most."""
    default, most = limits
    if raw in (None, ""):
        return default
    value = parse_id(raw)
    if value is None or not 1 <= value <= most:
        raise ValidationError(_("limit must be a whole number from 1 to %(most)s.", most=most), field="limit")
    return value


def grouped_notifications(user: User, cursor: Cursor, filters: GroupFilter) -> GroupedPage:
    """Return a page of the user's notification groups, newest first (min_id: the page just above it).

    Each group shows what it holds up to the page's newest notification: its count, its newest
    notification and its latest accounts; `page_min_id` is its oldest notification on the page.
    Reading changes nothing.
    """
    ascending = cursor.min_id is not None
    lower = max(cursor.since_id or 0, cursor.min_id or 0)
    upper = cursor.max_id or None
    firsts = _first_of_groups(user, filters, lower=lower, upper=upper, ascending=ascending, want=cursor.limit)
    notes = _notifications(firsts)
    if not notes:
        return GroupedPage([], {})
    begin: int | None = notes[-1].id
    end: int | None = notes[0].id
    if len(notes) < cursor.limit:  # the last page this way: the page reaches to the end
        if ascending:
            end = upper - 1 if upper else None
        else:
            begin = lower + 1 if lower else None
    groups, accounts = _groups(user, notes, filters, begin=begin, end=end, paged=True)
    full = len(notes) >= cursor.limit
    return GroupedPage(groups, accounts, notes[-1].id if full else None, notes[0].id)


def notification_group(user: User, group_key: str) -> GroupedPage:
    """Return one of the user's notification groups, whole; NotFound if it holds none they may read."""
    in_group = _in_group(group_key)
    note = db.session.scalars(
        select(Notification)
        .where(Notification.user_id == user.id, in_group, readable(user))
        .order_by(Notification.id.desc())
        .limit(1)
    ).first()
    if note is None:
        raise NotFound(_("No such notification group."))
    # "ungrouped-<id>" names that one notification, whatever group it was recorded in.
    filters = GroupFilter(
        grouped=frozenset() if group_key.startswith("ungrouped-") else frozenset(GROUPABLE_KINDS)
    )
    groups, accounts = _groups(user, [note], filters, begin=None, end=None, paged=False)
    if not groups:
        raise NotFound(_("No such notification group."))
    return GroupedPage(groups, accounts)


def group_accounts(user: User, group_key: str, cursor: Cursor) -> AccountsPage:
    """Return the accounts that caused a group's notifications, newest first, one per notification.

    NotFound when the group holds none the user may read.
    """
    bounds = [Notification.user_id == user.id, _in_group(group_key), readable(user)]
    if cursor.max_id:
        bounds.append(Notification.id < cursor.max_id)
    if cursor.since_id or cursor.min_id:
        bounds.append(Notification.id > max(cursor.since_id or 0, cursor.min_id or 0))
    order = Notification.id.asc() if cursor.min_id is not None else Notification.id.desc()
    rows = db.session.execute(
        select(Notification.id, User)
        .join(User, User.id == Notification.actor_id)
        .where(*bounds)
        .order_by(order)
        .limit(cursor.limit)
    ).all()
    rows = sorted(rows, key=lambda row: row[0], reverse=True)
    if not rows and cursor.shape == (False, False, False):
        raise NotFound(_("No such notification group."))
    if not rows:
        return AccountsPage()
    return AccountsPage(
        [Author.of(actor) for _id, actor in rows],
        rows[-1][0] if len(rows) >= cursor.limit else None,
        rows[0][0],
    )


def dismiss_group(user: User, group_key: str) -> None:
    """Delete the user's own notifications of a group; a group they have none of changes nothing."""
    db.session.execute(delete(Notification).where(Notification.user_id == user.id, _in_group(group_key)))
    db.session.commit()


def unread_group_count(user: User, filters: GroupFilter, *, limit: int) -> int:
    """Return how many groups hold notifications newer than the user's notifications marker, at most `limit`.

    The marker is the one every client of theirs sets (services.markers); the web's badge moves
    it too.  Without one, the web's mark (notifications_seen_id) is where reading stopped.
    """
    marker = markers.markers(user, ["notifications"]).get("notifications")
    since = marker.last_read_id if marker is not None else user.notifications_seen_id
    return len(_first_of_groups(user, filters, lower=since, upper=None, ascending=True, want=limit))


# ------------------------------------------------------------------ group keys

_UNGROUPED = re.compile(r"ungrouped-([0-9]{1,19})")
_GROUPED = re.compile(r"(?:(?:favourite|reblog)-[0-9]{1,19}|follow)-[0-9]{1,12}")


def _in_group(group_key: str) -> ColumnElement[bool]:
    """Return the condition that a notification is in the group a key names; NotFound if it can name none.

    "ungrouped-<id>" names one notification; "favourite-<post id>-<hour>" and "follow-<hour>"
    name a group as recorded.
    """
    ungrouped = _UNGROUPED.fullmatch(group_key)
    if ungrouped is not None:
        note_id = parse_id(ungrouped.group(1))
        if note_id is not None:
            return Notification.id == note_id
    elif len(group_key) <= GROUP_KEY_LENGTH and _GROUPED.fullmatch(group_key):
        return Notification.group_key == group_key
    raise NotFound(_("No such notification group."))


def _group_column(grouped: frozenset[str]) -> ColumnElement[str]:
    """Return the SQL expression of the group a notification is in on a page: its key, or its own id."""
    own = cast(Notification.id, String)
    if not grouped:
        return own
    in_a_group = and_(Notification.kind.in_(sorted(grouped)), Notification.group_key.is_not(None))
    return case((in_a_group, Notification.group_key), else_=own)


# ------------------------------------------------------------------ pages


def _first_of_groups(
    user: User, filters: GroupFilter, *, lower: int, upper: int | None, ascending: bool, want: int
) -> list[int]:
    """Return the id of the first notification met of each of the first `want` groups met.

    Going down from `upper` (or, ascending, up from `lower`), between both, what the filter takes
    in and the user may read.  Reads in rounds of growing size, each going on where the last
    stopped: a round or two for most pages, however many notifications lie beyond them.
    """
    key = _group_column(filters.grouped).label("group_of")
    conditions = [Notification.user_id == user.id, readable(user), *filters.conditions()]
    order = Notification.id.asc() if ascending else Notification.id.desc()
    seen: set[str] = set()
    firsts: list[int] = []
    batch = min(max(2 * want, 20), _SCAN_BATCH)
    while True:
        bounds = [Notification.id > lower] if lower else []
        if upper is not None:
            bounds.append(Notification.id < upper)
        rows = db.session.execute(
            select(Notification.id, key).where(*conditions, *bounds).order_by(order).limit(batch)
        ).all()
        for note_id, group in rows:
            if group not in seen:
                seen.add(group)
                firsts.append(note_id)
                if len(firsts) == want:
                    return firsts
        if len(rows) < batch:
            return firsts
        if ascending:
            lower = rows[-1][0]
        else:
            upper = rows[-1][0]
        batch = min(batch * 2, _SCAN_BATCH)


def _notifications(ids: list[int]) -> list[Notification]:
    """Return these notifications, newest first, in one query."""
    if not ids:
        return []
    found = db.session.scalars(select(Notification).where(Notification.id.in_(ids))).all()
    return sorted(found, key=lambda note: note.id, reverse=True)


@dataclass(frozen=True)
class _Stats:
    count: int
    newest_id: int
    oldest_id: int
    latest_at: datetime


def _groups(
    user: User,
    notes: list[Notification],
    filters: GroupFilter,
    *,
    begin: int | None,
    end: int | None,
    paged: bool,
) -> tuple[list[NotificationGroupView], dict[int, Author]]:
    """Turn the first notification of each group into the group, with its accounts; a fixed number of queries.

    A group holds its notifications up to `end` (None: all); its page begins at `begin`.
    """
    keys = sorted({note.group_key for note in notes if note.group_key and filters.groups(note)})
    stats = _group_stats(user, keys, begin=begin, end=end)
    samples = _group_samples(user, keys, end=end)
    account_ids = {note.actor_id for note in notes} | {i for ids in samples.values() for i in ids}
    users = db.session.scalars(select(User).where(User.id.in_(sorted(account_ids)))).all()
    accounts = {u.id: Author.of(u) for u in users}
    samples = {key: [i for i in ids if i in accounts] for key, ids in samples.items()}
    posts = timelines.post_views((note.post_id for note in notes if note.post_id), user)
    groups = []
    for note in notes:
        post = posts.get(note.post_id) if note.post_id else None
        if note.post_id and post is None:
            continue  # a post they may not see: checked by the queries too
        if note.group_key and filters.groups(note):
            found = stats.get(note.group_key)
            if found is None:
                continue
            view = NotificationGroupView(
                note.group_key, note.kind, found.count, found.newest_id, samples.get(note.group_key, []), post
            )
            if paged:
                view.page_min_id, view.latest_page_notification_at = found.oldest_id, found.latest_at
        else:
            view = NotificationGroupView(f"ungrouped-{note.id}", note.kind, 1, note.id, [note.actor_id], post)
            if paged:
                view.page_min_id, view.latest_page_notification_at = note.id, note.created_at
        groups.append(view)
    return groups, accounts


def _group_stats(user: User, keys: list[str], *, begin: int | None, end: int | None) -> dict[str, _Stats]:
    """Return, per group, its count and newest notification up to `end`, and its oldest from `begin`."""
    if not keys:
        return {}
    from_begin = Notification.id if begin is None else case((Notification.id >= begin, Notification.id))
    stmt = (
        select(
            Notification.group_key,
            func.count(),
            func.max(Notification.id),
            func.min(from_begin),
            func.max(Notification.created_at),
        )
        .where(Notification.user_id == user.id, Notification.group_key.in_(keys), readable(user))
        .group_by(Notification.group_key)
    )
    if end is not None:
        stmt = stmt.where(Notification.id <= end)
    return {
        key: _Stats(count, newest, oldest if oldest is not None else newest, latest)
        for key, count, newest, oldest, latest in db.session.execute(stmt).all()
    }


def _group_samples(user: User, keys: list[str], *, end: int | None) -> dict[str, list[int]]:
    """Return, per group, who caused its latest notifications up to `end`: once each, newest first."""
    if not keys:
        return {}
    newest = func.max(Notification.id)
    per_actor = (
        select(
            Notification.group_key,
            Notification.actor_id,
            func.row_number().over(partition_by=Notification.group_key, order_by=newest.desc()).label("rank"),
        )
        .where(Notification.user_id == user.id, Notification.group_key.in_(keys), readable(user))
        .group_by(Notification.group_key, Notification.actor_id)
    )
    if end is not None:
        per_actor = per_actor.where(Notification.id <= end)
    ranked = per_actor.subquery()
    rows = db.session.execute(
        select(ranked.c.group_key, ranked.c.actor_id)
        .where(ranked.c.rank <= SAMPLE_ACCOUNTS)
        .order_by(ranked.c.group_key, ranked.c.rank)
    ).all()
    samples: dict[str, list[int]] = {}
    for key, actor_id in rows:
        samples.setdefault(key, []).append(actor_id)
    return samples
