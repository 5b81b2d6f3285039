"""Following colleagues and #tags, and the lists that follow from it."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import delete, func, select
from sqlalchemy.exc import IntegrityError

from microblog.extensions import db
from microblog.text import normalize_tag
from models import Follow, Post, Tag, TagFollow, User

from . import notifications
from .accounts import access_user
from .errors import NotFound, ValidationError
from .posts import tags_by_name

LIST_LIMIT = 40


def _insert_once(row: Follow | TagFollow) -> bool:
    """Insert a follow row; return False if it was there already (following twice changes nothing)."""
    try:
        with db.session.begin_nested():
            db.session.add(row)
    except IntegrityError:
        return False
    return True


def follow_user(actor: User, username: str) -> User:
    """Follow a colleague; their posts enter the actor's home timeline."""
    target = access_user(username)
    if target.id == actor.id:
        raise ValidationError("You always see your own posts; no need to follow yourself.")
    if _insert_once(Follow(follower_id=actor.id, followee_id=target.id)):
        notifications.notify("follow", actor, [target.id])
    db.session.commit()
    return target


def unfollow_user(actor: User, username: str) -> User:
    """Stop following a colleague."""
    target = access_user(username)
    db.session.execute(delete(Follow).where(Follow.follower_id == actor.id, Follow.followee_id == target.id))
    db.session.commit()
    return target


def check_tag_name(name: str) -> str:
    """Return the stored form of a tag name, or raise ValidationError."""
    tag = normalize_tag(name or "")
    if tag is None:
        raise ValidationError("Tags are letters, digits, '_' or '-', and not only digits.")
    return tag


def access_tag(name: str) -> Tag:
    """Return the tag, or raise NotFound."""
    tag = db.session.scalar(select(Tag).where(Tag.name == check_tag_name(name)))
    if tag is None:
        raise NotFound(f"No post has used #{name} yet.")
    return tag


def follow_tag(actor: User, name: str) -> Tag:
    """Follow a #tag (creating it if new); its posts enter the actor's home timeline."""
    (tag,) = tags_by_name([check_tag_name(name)])
    _insert_once(TagFollow(user_id=actor.id, tag_id=tag.id))
    db.session.commit()
    return tag


def unfollow_tag(actor: User, name: str) -> Tag:
    """Stop following a #tag."""
    tag = access_tag(name)
    db.session.execute(delete(TagFollow).where(TagFollow.user_id == actor.id, TagFollow.tag_id == tag.id))
    db.session.commit()
    return tag


@dataclass(frozen=True)
class ProfileStats:
    """Counts shown on a profile."""

    posts: int
    followers: int
    following: int


def profile_stats(user: User) -> ProfileStats:
    """Return post, follower and following counts of a user in one query."""
    row = db.session.execute(
        select(
            select(func.count()).where(Post.author_id == user.id).scalar_subquery(),
            select(func.count()).where(Follow.followee_id == user.id).scalar_subquery(),
            select(func.count()).where(Follow.follower_id == user.id).scalar_subquery(),
        )
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


def followers(user: User, *, after: str | None = None, limit: int = LIST_LIMIT) -> list[User]:
    """Return people following user, by username, after the cursor `after`."""
    stmt = select(User).join(Follow, Follow.follower_id == User.id).where(Follow.followee_id == user.id)
    return _user_page(stmt, User.username, after, limit)


def following(user: User, *, after: str | None = None, limit: int = LIST_LIMIT) -> list[User]:
    """Return people user follows, by username, after the cursor `after`."""
    stmt = select(User).join(Follow, Follow.followee_id == User.id).where(Follow.follower_id == user.id)
    return _user_page(stmt, User.username, after, limit)


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


def directory(
    *, department: str | None = None, after: str | None = None, limit: int = LIST_LIMIT
) -> list[User]:
    """Return active colleagues by username, optionally from one department."""
    stmt = select(User).where(User.is_active.is_(True))
    if department:
        stmt = stmt.where(User.department == department)
    return _user_page(stmt, User.username, after, limit)


def departments() -> list[str]:
    """Return the departments people have entered, alphabetically."""
    return list(
        db.session.scalars(
            select(User.department).where(User.department != "").distinct().order_by(User.department)
        )
    )


def all_users(*, after: str | None = None, limit: int = LIST_LIMIT) -> list[User]:
    """Return every account, active or not, by username (for admins)."""
    return _user_page(select(User), User.username, after, limit)
