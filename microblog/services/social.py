"""Following colleagues and #tags, and the lists that follow from it."""

from __future__ import annotations

from dataclasses import dataclass

from flask_babel import gettext as _
from sqlalchemy import ColumnElement, delete, exists, func, or_, select, update
from sqlalchemy.orm import aliased

from microblog.database import db, like_escaped, lowered
from microblog.text import normalize_tag
from models import CommunityAdmin, Follow, FollowRequest, Post, Tag, TagFollow, User, post_tags
from models.post import PUBLIC
from models.user import COMMUNITY, PERSON

from . import communities, notifications
from .accounts import access_user
from .errors import NotFound, ValidationError
from .follows import add_follow, follows_changed, insert_once, remove_follow
from .posts import tags_by_name
from .timelines import Cursor
from .visibility import account_is_listable, members_are_listable, post_is_visible

LIST_LIMIT = 40


def follow_user(actor: User, username: str) -> User:
    """Follow a colleague (their posts enter the actor's home timeline), or join a community.

    Following a community is joining it (DESIGN.md "Communities"): at once if it
    is public, by a join request if it is private.
    """
    target = access_user(username)
    if target.id == actor.id:
        raise ValidationError(_("You always see your own posts; no need to follow yourself."))
    if target.is_community:
        communities.join(actor, target)
        return target
    if actor.is_community:
        raise ValidationError(_("A community does not follow anyone."))
    if add_follow(actor, target):
        notifications.notify("follow", actor, [target.id])
    db.session.commit()
    return target


def unfollow_user(actor: User, username: str) -> User:
    """Stop following a colleague, or leave a community (or take back a request to join it)."""
    target = access_user(username)
    if target.is_community:
        communities.leave(actor, target)
        return target
    remove_follow(actor, target)
    db.session.commit()
    return target


def recount_accounts() -> None:
    """Set every user's post, follower and following counters from the rows (after bulk loads)."""
    public = Post.visibility == PUBLIC  # private posts are counted nowhere (services.posts._count_post)
    followee = aliased(User)  # nor is the membership of a private community (services.follows._counted)
    db.session.execute(
        update(User).values(
            posts_count=select(func.count())
            .where(public, (Post.author_id == User.id) | (Post.community_id == User.id))
            .scalar_subquery(),
            followers_count=select(func.count()).where(Follow.followee_id == User.id).scalar_subquery(),
            following_count=select(func.count())
            .select_from(Follow)
            .join(followee, followee.id == Follow.followee_id)
            .where(Follow.follower_id == User.id, ~(followee.kind == COMMUNITY) | ~followee.locked)
            .scalar_subquery(),
        )
    )
    db.session.commit()


def check_tag_name(name: str) -> str:
    """Return the stored form of a tag name, or raise ValidationError."""
    tag = normalize_tag(name or "")
    if tag is None:
        raise ValidationError(_("Tags are letters, digits, '_' or '-', and not only digits."))
    return tag


def access_tag(name: str, viewer: User | None = None) -> Tag:
    """Return the tag, or raise NotFound if the viewer (None: anyone) could not know of it.

    A tag is known when someone follows it or a post the viewer may see carries
    it: one used only in a private community's posts does not exist for others,
    the same answer as a tag never used.
    """
    viewer_id = viewer.id if viewer is not None else 0
    followed = exists().where(TagFollow.tag_id == Tag.id)
    used = exists().where(
        post_tags.c.tag_id == Tag.id, post_tags.c.post_id == Post.id, post_is_visible(viewer_id)
    )
    tag = db.session.scalar(select(Tag).where(Tag.name == check_tag_name(name), or_(followed, used)))
    if tag is None:
        raise NotFound(_("No post has used #%(name)s yet.", name=name))
    return tag


def follow_tag(actor: User, name: str) -> Tag:
    """Follow a #tag (creating it if new); its posts enter the actor's home timeline."""
    (tag,) = tags_by_name([check_tag_name(name)])
    if insert_once(TagFollow(user_id=actor.id, tag_id=tag.id)):
        follows_changed(actor.id)
    db.session.commit()
    return tag


def unfollow_tag(actor: User, name: str) -> Tag:
    """Stop following a #tag."""
    tag = access_tag(name, actor)
    db.session.execute(delete(TagFollow).where(TagFollow.user_id == actor.id, TagFollow.tag_id == tag.id))
    follows_changed(actor.id)
    db.session.commit()
    return tag


@dataclass(frozen=True)
class ProfileStats:
    """Counts shown on a profile."""

    posts: int
    followers: int
    following: int


def profile_stats(user: User) -> ProfileStats:
    """Return post, follower and following counts of a user (its counters, read fresh)."""
    row = db.session.execute(
        select(User.posts_count, User.followers_count, User.following_count).where(User.id == user.id)
    ).one()
    return ProfileStats(*row)


def is_following(actor: User, target: User) -> bool:
    """Return whether actor follows target."""
    return db.session.get(Follow, (actor.id, target.id)) is not None


def is_following_tag(actor: User, tag: Tag) -> bool:
    """Return whether actor follows the tag."""
    return db.session.get(TagFollow, (actor.id, tag.id)) is not None


def tag_follower_count(tag: Tag) -> int:
    """Return how many people follow the tag."""
    return db.session.scalar(select(func.count()).where(TagFollow.tag_id == tag.id)) or 0


def _user_page(stmt, order_col, after: str | None, limit: int) -> list[User]:
    if after:
        stmt = stmt.where(order_col > after)
    return list(db.session.scalars(stmt.order_by(order_col).limit(limit)))


def followers(
    viewer: User | None, user: User, *, after: str | None = None, limit: int = LIST_LIMIT
) -> list[User]:
    """Return people following user (a community's members), by username, after the cursor `after`.

    A private community's members are listed to its members only.
    """
    if not members_are_listable(viewer, user):
        return []
    stmt = select(User).join(Follow, Follow.follower_id == User.id).where(Follow.followee_id == user.id)
    return _user_page(stmt, User.username, after, limit)


def following(
    viewer: User | None, user: User, *, after: str | None = None, limit: int = LIST_LIMIT
) -> list[User]:
    """Return the accounts user follows, by username, after `after` (private communities: to members only)."""
    stmt = (
        select(User)
        .join(Follow, Follow.followee_id == User.id)
        .where(Follow.follower_id == user.id, account_is_listable(_viewer_id(viewer)))
    )
    return _user_page(stmt, User.username, after, limit)


def _viewer_id(viewer: User | None) -> int:
    return viewer.id if viewer is not None else 0


def tag_followers(tag: Tag, *, after: str | None = None, limit: int = LIST_LIMIT) -> list[User]:
    """Return people following the tag, by username, after the cursor `after`."""
    stmt = select(User).join(TagFollow, TagFollow.user_id == User.id).where(TagFollow.tag_id == tag.id)
    return _user_page(stmt, User.username, after, limit)


def followed_tags(user: User) -> list[Tag]:
    """Return the tags user follows, by name."""
    return list(
        db.session.scalars(
            select(Tag)
            .join(TagFollow, TagFollow.tag_id == Tag.id)
            .where(TagFollow.user_id == user.id)
            .order_by(Tag.name)
        )
    )


def colleagues(
    *,
    department: str | None = None,
    query: str | None = None,
    after: str | None = None,
    limit: int = LIST_LIMIT,
) -> list[User]:
    """Return active colleagues by username, optionally from one department, whose name holds `query`."""
    stmt = select(User).where(User.is_active.is_(True), User.kind == PERSON)
    if department:
        stmt = stmt.where(User.department == department)
    if query:
        stmt = stmt.where(_name_holds(query))
    return _user_page(stmt, User.username, after, limit)


def _name_holds(query: str) -> ColumnElement[bool]:
    """Match a username or full name holding `query`, in any case (% and _ are matched as themselves)."""
    pattern = f"%{like_escaped(query.casefold())}%"
    return or_(
        lowered(User.username).like(pattern, escape="\\"),
        lowered(User.display_name).like(pattern, escape="\\"),
    )


def following_among(actor: User, users: list[User]) -> set[int]:
    """Return the ids of those of `users` whom actor follows (one query, for a page of people)."""
    if not users:
        return set()
    ids = [u.id for u in users]
    stmt = select(Follow.followee_id).where(Follow.follower_id == actor.id, Follow.followee_id.in_(ids))
    return set(db.session.scalars(stmt))


def departments() -> list[str]:
    """Return the departments people have entered, alphabetically."""
    return list(
        db.session.scalars(
            select(User.department).where(User.department != "").distinct().order_by(User.department)
        )
    )


def all_users(*, query: str | None = None, after: str | None = None, limit: int = LIST_LIMIT) -> list[User]:
    """Return every account, active or not, by username (for admins), optionally whose name holds `query`."""
    stmt = select(User).where(User.kind == PERSON)
    if query:
        email = func.lower(User.email).contains(query.lower(), autoescape=True)
        stmt = stmt.where(or_(_name_holds(query), email))
    return _user_page(stmt, User.username, after, limit)


def _account_page(stmt, cursor: Cursor) -> list[User]:
    """Return a keyset page of users by id, newest account first (min_id: the page just above)."""
    if cursor.max_id is not None:
        stmt = stmt.where(User.id < cursor.max_id)
    if cursor.since_id is not None or cursor.min_id is not None:
        stmt = stmt.where(User.id > max(cursor.since_id or 0, cursor.min_id or 0))
    order = User.id.asc() if cursor.min_id is not None else User.id.desc()
    users = list(db.session.scalars(stmt.order_by(order).limit(cursor.limit)))
    return sorted(users, key=lambda u: u.id, reverse=True)


def follower_accounts(viewer: User | None, user: User, cursor: Cursor) -> list[User]:
    """Return a page of the people following user, by account id (private communities: to members only)."""
    if not members_are_listable(viewer, user):
        return []
    stmt = select(User).join(Follow, Follow.follower_id == User.id).where(Follow.followee_id == user.id)
    return _account_page(stmt, cursor)


def following_accounts(viewer: User | None, user: User, cursor: Cursor) -> list[User]:
    """Return a page of the accounts user follows, by account id (private communities: to members only)."""
    stmt = (
        select(User)
        .join(Follow, Follow.followee_id == User.id)
        .where(Follow.follower_id == user.id, account_is_listable(_viewer_id(viewer)))
    )
    return _account_page(stmt, cursor)


def follow_request_accounts(actor: User, cursor: Cursor) -> list[User]:
    """Return a page of the people asking to join communities the actor administers, by account id."""
    asking = (
        select(FollowRequest.follower_id)
        .join(CommunityAdmin, CommunityAdmin.community_id == FollowRequest.followee_id)
        .where(CommunityAdmin.user_id == actor.id)
    )
    return _account_page(select(User).where(User.id.in_(asking)), cursor)


@dataclass(frozen=True)
class Relationship:
    """How the viewer and one account are connected."""

    user_id: int
    following: bool
    followed_by: bool
    requested: bool = False  # asked to join (a private community) and waits


def relationships(viewer: User, user_ids: list[int]) -> list[Relationship]:
    """Return the viewer's relationship with each of these accounts (unknown ids are left out)."""
    ids = sorted(set(user_ids))
    if not ids:
        return []
    known = set(db.session.scalars(select(User.id).where(User.id.in_(ids))))
    follows = db.session.execute(
        select(Follow.follower_id, Follow.followee_id).where(
            ((Follow.follower_id == viewer.id) & Follow.followee_id.in_(ids))
            | ((Follow.followee_id == viewer.id) & Follow.follower_id.in_(ids))
        )
    ).all()
    following = {b for a, b in follows if a == viewer.id}
    followed_by = {a for a, b in follows if b == viewer.id}
    requested = set(
        db.session.scalars(
            select(FollowRequest.followee_id).where(
                FollowRequest.follower_id == viewer.id, FollowRequest.followee_id.in_(ids)
            )
        )
    )
    return [
        Relationship(uid, uid in following, uid in followed_by, uid in requested)
        for uid in dict.fromkeys(user_ids)
        if uid in known
    ]
