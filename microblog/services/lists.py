"""A person's lists: Mastodon's lists of accounts, and saved searches, which clients see as lists too.

Both kinds are rows of `lists` (models.timeline_list).  A list of accounts
holds the accounts its owner follows and put on it; a saved search holds a
query, and the posts that matched it as they were written are its hits
(written by the percolator, search/).  A client that creates a list titled
`search: <query>` saves a search (DESIGN.md "Saved searches").  Lists are
their owner's alone: to anyone else a list does not exist (404).  Their feeds
are in services.list_timelines, their read marks in services.saved_searches.
"""

from __future__ import annotations

import unicodedata
from collections.abc import Iterable

from flask_babel import gettext as _
from sqlalchemy import delete, func, select

import search
from microblog.database import db, on_commit
from microblog.text import parse_id
from models import Follow, ListAccount, ListHit, Post, TimelineList, User, utcnow
from models.timeline_list import ACCOUNTS, REPLIES_POLICIES, SEARCH
from search.query import MAX_QUERY_LENGTH

from . import kept_homes
from .errors import NotFound, ValidationError
from .follows import follows_changed, insert_once
from .timelines import Cursor
from .validation import check_plain
from .visibility import account_is_listable

# How many lists (of both kinds) one person may have, and the longest title (the column's).
LISTS_MAX = 100
TITLE_MAX = 200
# A saved search's title is its query, so it is no longer than a title (search reads up to 500).
QUERY_MAX = min(TITLE_MAX, MAX_QUERY_LENGTH)
# The prefix that makes a list created by a Mastodon client a saved search.
SEARCH_PREFIX = "search:"
# How many accounts one request may add or remove.
ACCOUNTS_PER_REQUEST = 100


# -- reading -----------------------------------------------------------------


def access_list(viewer: User, list_id: int | str) -> TimelineList:
    """Return the viewer's list with this id, or raise NotFound (to anyone else, a list does not exist)."""
    lid = parse_id(list_id)
    found = db.session.get(TimelineList, lid) if lid else None
    if found is None or found.user_id != viewer.id:
        raise NotFound(_("No such list."))
    return found


def lists_of(owner: User) -> list[TimelineList]:
    """Return the owner's lists and saved searches, oldest first (as Mastodon lists them)."""
    return list(
        db.session.scalars(
            select(TimelineList).where(TimelineList.user_id == owner.id).order_by(TimelineList.id)
        )
    )


def lists_with_account(owner: User, account_id: int) -> list[TimelineList]:
    """Return the owner's lists that hold this account, oldest first."""
    holding = select(ListAccount.list_id).where(ListAccount.account_id == account_id)
    return list(
        db.session.scalars(
            select(TimelineList)
            .where(TimelineList.user_id == owner.id, TimelineList.id.in_(holding))
            .order_by(TimelineList.id)
        )
    )


def list_members(owner: User, list_id: int | str, cursor: Cursor | None = None) -> list[User]:
    """Return a page of the accounts on a list by account id, newest first (cursor None: all of them).

    A private community on it is shown to its members only, as in anyone's
    list of follows (visibility.account_is_listable): to an owner who left it.
    """
    lst = access_list(owner, list_id)
    on_list = select(ListAccount.account_id).where(ListAccount.list_id == lst.id)
    stmt = select(User).where(User.id.in_(on_list), account_is_listable(owner.id))
    if cursor is None:
        return list(db.session.scalars(stmt.order_by(User.id.desc())))
    if cursor.max_id is not None:
        stmt = stmt.where(User.id < cursor.max_id)
    if cursor.since_id is not None or cursor.min_id is not None:
        stmt = stmt.where(User.id > max(cursor.since_id or 0, cursor.min_id or 0))
    order = User.id.asc() if cursor.min_id is not None else User.id.desc()  # min_id: the page just above
    users = list(db.session.scalars(stmt.order_by(order).limit(cursor.limit)))
    return sorted(users, key=lambda u: u.id, reverse=True)


# -- checking ----------------------------------------------------------------


def _one_line(text: str | None, limit: int, too_long: str) -> str:
    """Return text on one line in NFC (tabs and line breaks are spaces), within `limit` characters."""
    line = unicodedata.normalize("NFC", " ".join((text or "").split()))
    check_plain(line, "title")
    if len(line) > limit:
        raise ValidationError(too_long, field="title")
    return line


def check_title(title: str | None) -> str:
    """Return a list's title on one line, or raise ValidationError."""
    text = _one_line(title, TITLE_MAX, _("A title is at most %(max)s characters.", max=TITLE_MAX))
    if not text:
        raise ValidationError(_("Give the list a title."), field="title")
    return text


def check_query(query: str | None) -> str:
    """Return a search to save as it is stored and shown (its title), or raise ValidationError.

    It must look for something, and mean all that it says: a part the search
    would leave out (an operator without a value, too many terms) is refused
    with search's own note, rather than saved as a different search.
    """
    text = _one_line(query, QUERY_MAX, _("A saved search is at most %(max)s characters.", max=QUERY_MAX))
    if not text:
        raise ValidationError(_("Say what to search for."), field="title")
    parsed = search.parse_query(text)
    if parsed.notes:
        raise ValidationError(parsed.notes[0], field="title")
    if parsed.is_empty:
        raise ValidationError(
            _('A saved search needs a word, a "phrase", a #tag, from:someone or @someone to look for.'),
            field="title",
        )
    return text


def check_replies_policy(policy: str | None) -> str:
    """Return a replies policy (followed, list or none), or raise ValidationError."""
    if policy not in REPLIES_POLICIES:
        raise ValidationError(
            _("replies_policy is one of: %(names)s.", names=", ".join(REPLIES_POLICIES)),
            field="replies_policy",
        )
    return policy


def _search_text(title: str) -> str | None:
    """Return what follows `search:` in a title, or None for a title that names no search."""
    stripped = title.strip()
    if stripped[: len(SEARCH_PREFIX)].casefold() != SEARCH_PREFIX:
        return None
    return stripped[len(SEARCH_PREFIX) :]


def _check_room(owner: User) -> None:
    count = db.session.scalar(select(func.count()).where(TimelineList.user_id == owner.id)) or 0
    if count >= LISTS_MAX:
        raise ValidationError(
            _(
                "You have %(max)s lists and saved searches, the most one may have: delete one first.",
                max=LISTS_MAX,
            )
        )


def _saved(owner: User, query: str, *, besides: int = 0) -> TimelineList | None:
    """Return the owner's saved search of this query (in any case), other than list `besides`."""
    key = query.casefold()
    for found in lists_of(owner):  # by owner only (a person's few lists), kind and query here
        if found.kind == SEARCH and found.query.casefold() == key and found.id != besides:
            return found
    return None


def followed_search(owner: User, query: str | None) -> TimelineList | None:
    """Return the owner's saved search of this query (as save_search would store it), if they follow it."""
    try:
        text = check_query(query)
    except ValidationError:
        return None
    return _saved(owner, text)


def _newest_post_id() -> int:
    return db.session.scalar(select(func.max(Post.id))) or 0


# -- writing -----------------------------------------------------------------


def create_list(
    owner: User, title: str | None, *, replies_policy: str | None = "list", exclusive: bool = False
) -> TimelineList:
    """Create a list of accounts, or save a search when the title is `search: <query>`."""
    replies_policy = replies_policy or "list"
    query = _search_text(title or "")
    if query is not None:
        check_replies_policy(replies_policy)
        return save_search(owner, query)
    lst = TimelineList(
        user_id=owner.id,
        kind=ACCOUNTS,
        title=check_title(title),
        query="",
        replies_policy=check_replies_policy(replies_policy),
        exclusive=bool(exclusive),
        last_read_id=0,
    )
    _check_room(owner)
    db.session.add(lst)
    db.session.commit()
    return lst


def save_search(
    owner: User, query: str | None, *, in_home: bool = False, notify: bool = False
) -> TimelineList:
    """Follow a search: the posts that match it from now on are its hits; saving it again returns it.

    Nothing is unread at first: its read mark starts at the newest post.
    """
    text = check_query(query)
    existing = _saved(owner, text)
    if existing is not None:
        return existing
    _check_room(owner)
    lst = TimelineList(
        user_id=owner.id,
        kind=SEARCH,
        title=text,
        query=text,
        replies_policy="list",
        exclusive=False,
        in_home=bool(in_home),
        notify=bool(notify),
        last_read_id=_newest_post_id(),
    )
    on_commit(search.saved_searches_changed)  # this process matches it from the next post on
    db.session.add(lst)
    db.session.commit()
    return lst


def update_list(
    owner: User,
    list_id: int | str,
    *,
    title: str | None = None,
    replies_policy: str | None = None,
    exclusive: bool | None = None,
    in_home: bool | None = None,
    notify: bool | None = None,
) -> TimelineList:
    """Change a list's title or settings; a saved search's new title is its new query (None: unchanged)."""
    lst = access_list(owner, list_id)
    if replies_policy is not None:
        check_replies_policy(replies_policy)
    if lst.kind != SEARCH and (in_home or notify):
        raise ValidationError(_("Only a saved search can show in home or notify."), field="in_home")
    if title is not None:  # checked before it changes anything
        _retitle(owner, lst, title)
    if replies_policy is not None:
        lst.replies_policy = replies_policy
    if exclusive is not None and exclusive != lst.exclusive:
        lst.exclusive = exclusive
        follows_changed(owner.id)  # its accounts leave home, or come back
    if in_home is not None and in_home != lst.in_home:
        lst.in_home = in_home
        kept_homes.moved([owner.id])  # its hits join home, or leave it
    if notify is not None:
        lst.notify = notify
    db.session.commit()
    return lst


def _retitle(owner: User, lst: TimelineList, title: str) -> None:
    """Give a list a new title; a saved search a new query, whose hits start afresh."""
    if lst.kind == SEARCH and " ".join(title.split()).casefold() == lst.query.casefold():
        return  # its own query sent back (a client saving another setting): even one that reads search:
    query = _search_text(title)
    if lst.kind != SEARCH:
        if query is not None:
            raise ValidationError(
                _("A list of accounts cannot become a saved search: create a list titled search: ..."),
                field="title",
            )
        lst.title = check_title(title)
        return
    text = check_query(title if query is None else query)
    if text.casefold() == lst.query.casefold():
        lst.title = lst.query = text
        return
    if _saved(owner, text, besides=lst.id) is not None:
        raise ValidationError(_("You already follow this search."), field="title")
    # The old query's hits are not this search's: it starts afresh, with nothing unread.
    db.session.execute(delete(ListHit).where(ListHit.list_id == lst.id))
    if lst.in_home:
        kept_homes.moved([owner.id])
    lst.title = lst.query = text
    lst.last_read_id = _newest_post_id()
    lst.changed_at = utcnow()  # every process's percolator compiles the new query
    on_commit(search.saved_searches_changed)


def delete_list(owner: User, list_id: int | str) -> None:
    """Delete a list or saved search, with its accounts and hits."""
    lst = access_list(owner, list_id)
    if lst.kind == SEARCH:
        on_commit(search.saved_searches_changed)
    if lst.exclusive:
        follows_changed(owner.id)  # its accounts come back to home
    if lst.in_home:
        kept_homes.moved([owner.id])  # its hits leave home
    db.session.delete(lst)  # list_accounts and list_hits go with it (ON DELETE CASCADE)
    db.session.commit()


def unsave_search(owner: User, list_id: int | str) -> None:
    """Stop following a saved search (a list of accounts is deleted with delete_list)."""
    lst = access_list(owner, list_id)
    if lst.kind != SEARCH:
        raise ValidationError(_("This is a list of accounts, not a saved search."))
    on_commit(search.saved_searches_changed)
    if lst.in_home:
        kept_homes.moved([owner.id])  # its hits leave home
    db.session.delete(lst)
    db.session.commit()


def _accounts(ids: Iterable[int | str]) -> list[User]:
    """Return the accounts with these ids, or raise NotFound if one of them does not exist."""
    wanted = list(dict.fromkeys(parse_id(raw) for raw in ids))
    if len(wanted) > ACCOUNTS_PER_REQUEST:
        raise ValidationError(
            _("At most %(max)s accounts at a time.", max=ACCOUNTS_PER_REQUEST), field="account_ids"
        )
    if not wanted:
        raise ValidationError(_("Name the accounts: account_ids[]."), field="account_ids")
    known = [w for w in wanted if w and w < 2**31]  # users.id is a 32-bit integer
    found = {u.id: u for u in db.session.scalars(select(User).where(User.id.in_(known)))}
    if any(w is None or w not in found for w in wanted):
        raise NotFound(_("No such account."))
    return [found[w] for w in wanted if w is not None]


def _accounts_list(owner: User, list_id: int | str) -> TimelineList:
    lst = access_list(owner, list_id)
    if lst.kind == SEARCH:
        raise ValidationError(
            _("A saved search holds no accounts: it holds the posts that match it."), field="account_ids"
        )
    return lst


def add_accounts(owner: User, list_id: int | str, account_ids: Iterable[int | str]) -> TimelineList:
    """Put accounts the owner follows (or the owner) on a list of accounts; one already on it stays once."""
    lst = _accounts_list(owner, list_id)
    accounts = _accounts(account_ids)
    others = [a.id for a in accounts if a.id != owner.id]
    followed = set(
        db.session.scalars(
            select(Follow.followee_id).where(Follow.follower_id == owner.id, Follow.followee_id.in_(others))
        )
    )
    for account in accounts:
        if account.id != owner.id and account.id not in followed:
            raise ValidationError(
                _("Follow @%(name)s to put them on a list.", name=account.username), field="account_ids"
            )
    for account in accounts:
        insert_once(ListAccount(list_id=lst.id, account_id=account.id))
    if lst.exclusive:
        follows_changed(owner.id)  # they leave home
    db.session.commit()
    return lst


def remove_accounts(owner: User, list_id: int | str, account_ids: Iterable[int | str]) -> TimelineList:
    """Take accounts off a list of accounts (one not on it: nothing to do)."""
    lst = _accounts_list(owner, list_id)
    ids = [a.id for a in _accounts(account_ids)]
    db.session.execute(
        delete(ListAccount).where(ListAccount.list_id == lst.id, ListAccount.account_id.in_(ids))
    )
    if lst.exclusive:
        follows_changed(owner.id)  # they come back to home
    db.session.commit()
    return lst
