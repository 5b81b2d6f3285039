"""People and tags matching a search: beside the posts, from the tables they live in.

The people and tags tables are small next to the posts, so a
scan with LIKE answers in milliseconds and is never stale; both backends share it.
"""

from __future__ import annotations

from sqlalchemy import ColumnElement, case, exists, func, literal, or_, select

from microblog.database import db, like_escaped, lowered
from microblog.text import normalize_tag
from models import Post, Tag, User, post_tags

from .backend import Reader
from .query import SearchQuery

PEOPLE_LIMIT = 5
TAG_LIMIT = 8


def _like_pattern(term: str) -> str:
    return f"%{like_escaped(term)}%"


def person_terms(query: SearchQuery) -> list[str]:
    """Return what a person's name, username, title or department must contain."""
    return [t.casefold() for t in (*query.words, *query.phrases, *query.authors, *query.mentions)][:8]


def search_people(query: SearchQuery, limit: int = PEOPLE_LIMIT) -> list[User]:
    """Return active colleagues whose name, username, title or department hold the most terms."""
    terms = person_terms(query)
    if not terms:
        return []
    haystack = lowered(
        User.username
        + literal(" ")
        + User.display_name
        + literal(" ")
        + User.job_title
        + literal(" ")
        + User.department
    )
    matches = [haystack.like(_like_pattern(t), escape="\\") for t in terms]
    matched = sum((case((m, 1), else_=0) for m in matches), literal(0))
    name_first = case(
        (User.username.in_(terms), 0),
        (or_(*(lowered(User.display_name).startswith(t, autoescape=True) for t in terms)), 1),
        else_=2,
    )
    statement = (
        select(User)
        .where(User.is_active.is_(True), or_(*matches))
        .order_by(matched.desc(), name_first, User.username)
        .limit(limit)
    )
    return list(db.session.scalars(statement))


def complete_people(prefix: str, listable: ColumnElement[bool], limit: int = PEOPLE_LIMIT) -> list[User]:
    """Return active accounts whose username, or a word of whose name, starts with prefix (an @-completion).

    `listable` is the condition on the accounts the viewer may be shown
    (services.visibility.account_is_listable).  Usernames that start with the
    prefix come first, the one that is the prefix before all.
    """
    term = prefix.casefold()
    if not term:
        return []
    starts = f"{like_escaped(term)}%"
    username, name = lowered(User.username), lowered(User.display_name)
    matches = or_(
        username.like(starts, escape="\\"),
        name.like(starts, escape="\\"),
        name.like(f"% {starts}", escape="\\"),
    )
    rank = case((username == term, 0), (username.like(starts, escape="\\"), 1), else_=2)
    statement = (
        select(User).where(User.is_active.is_(True), matches, listable).order_by(rank, username).limit(limit)
    )
    return list(db.session.scalars(statement))


def search_tags(query: SearchQuery, reader: Reader, limit: int = TAG_LIMIT) -> list[str]:
    """Return tags of posts the reader may see that start with a searched tag or word (or after a hyphen).

    A tag used only in a private community's posts is its members' business: others are not offered it.
    """
    terms = list(dict.fromkeys(n for n in (*query.tags, *map(normalize_tag, query.words)) if n))[:8]
    if not terms:
        return []
    matches = []
    for term in terms:
        matches += [
            Tag.name.startswith(term, autoescape=True),
            Tag.name.contains(f"-{term}", autoescape=True),
        ]
    exact = case((Tag.name.in_(terms), 0), else_=1)
    used = exists().where(post_tags.c.tag_id == Tag.id, post_tags.c.post_id == Post.id, reader.visible)
    statement = (
        select(Tag.name)
        .where(or_(*matches), used)
        .order_by(exact, func.length(Tag.name), Tag.name)
        .limit(limit)
    )
    return list(db.session.scalars(statement))
