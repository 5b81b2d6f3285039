"""Posting, replying, liking and deleting statuses."""

from __future__ import annotations

from datetime import timedelta
from typing import cast

from blinker import Namespace
from flask import current_app
from sqlalchemy import CursorResult, delete, insert, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import joinedload

import realtime
import search
from microblog import entities
from microblog.database import batches, db, on_commit
from microblog.text import extract_mentions, extract_tags, parse_id, render_html
from models import IdempotencyKey, Like, Post, Tag, User, mentions, post_tags, utcnow

from . import notifications, timelines
from .errors import NotFound, PermissionDenied
from .validation import check_post_text

IDEMPOTENCY_KEY_MAX = 200
IDEMPOTENCY_WINDOW = timedelta(hours=1)

# Sent with the app as sender after a post's commit (operations count them).
post_created = Namespace().signal("post-created")


def check_post_id(post_id: int | str) -> int:
    """Return a post id given as text or number, or raise NotFound for what cannot be one."""
    pid = parse_id(post_id)
    if not pid:
        raise NotFound("No such post.")
    return pid


def access_post(post_id: int | str) -> Post:
    """Return the post with its author loaded, or raise NotFound."""
    pid = check_post_id(post_id)
    post = db.session.scalar(select(Post).where(Post.id == pid).options(joinedload(Post.author)))
    if post is None:
        raise NotFound("That post does not exist or was deleted.")
    return post


def tags_by_name(names: list[str]) -> list[Tag]:
    """Return Tag rows for the given stored names, creating the missing ones."""
    if not names:
        return []
    existing = {t.name: t for t in db.session.scalars(select(Tag).where(Tag.name.in_(names)))}
    for name in names:
        if name in existing:
            continue
        try:
            with db.session.begin_nested():  # another process may create it at the same time
                tag = Tag(name=name)
                db.session.add(tag)
            existing[name] = tag
        except IntegrityError:
            existing[name] = db.session.scalars(select(Tag).where(Tag.name == name)).one()
    return [existing[n] for n in names]


def post_status(
    author: User, text: str, *, in_reply_to: int | str | None = None, idempotency_key: str | None = None
) -> Post:
    """Publish a status; a reply joins its parent's thread and addresses its author.

    Invariants: text obeys the post rule (services.validation.check_post_text);
    posts.html is render_html(text) with the mentions that resolved to users;
    the parent's reply_count counts its direct replies.  A request retried with
    the same idempotency key within an hour returns the post the first one made.
    """
    key = (idempotency_key or "").strip()[:IDEMPOTENCY_KEY_MAX] or None
    if key is not None:
        earlier = _post_for_key(author, key)
        if earlier is not None:
            return earlier
    text = check_post_text(text)
    parent = access_post(in_reply_to) if in_reply_to not in (None, "") else None
    names = extract_mentions(text)
    mentioned = list(db.session.scalars(select(User).where(User.username.in_(names)))) if names else []
    post = Post(
        author_id=author.id,
        text=text,
        html=render_html(text, {u.username for u in mentioned}),
        in_reply_to_id=parent.id if parent else None,
        conversation_id=parent.thread_id if parent else None,
    )
    db.session.add(post)
    db.session.flush()
    db.session.execute(update(User).where(User.id == author.id).values(posts_count=User.posts_count + 1))
    tags = tags_by_name(extract_tags(text))
    if tags:
        db.session.execute(insert(post_tags), [{"post_id": post.id, "tag_id": t.id} for t in tags])
    addressed = {u.id for u in mentioned}
    if parent is not None:
        addressed.add(parent.author_id)
        db.session.execute(update(Post).where(Post.id == parent.id).values(reply_count=Post.reply_count + 1))
    addressed.discard(author.id)
    if addressed:
        db.session.execute(
            insert(mentions), [{"post_id": post.id, "user_id": uid} for uid in sorted(addressed)]
        )
    view = timelines.post_view(post.id)  # the post as it will be shown: announced and notified
    notifications.notify("mention", author, sorted(addressed), post.id, view=view)
    if key is not None:
        db.session.add(IdempotencyKey(user_id=author.id, key=key, post_id=post.id))
    search.index_post(post.id)
    _announce("update", post.id, view)
    on_commit(_signal_created(current_app._get_current_object(), post.id))  # type: ignore[attr-defined]
    if parent is not None:
        _announce("status.update", parent.id)
    try:
        db.session.commit()
    except IntegrityError:
        # The same key, at the same moment, from another process: that request's post stands.
        db.session.rollback()
        earlier = _post_for_key(author, key) if key is not None else None
        if earlier is None:
            raise
        return earlier
    return post


def _signal_created(app: object, post_id: int):
    def send() -> None:
        post_created.send(app, post_id=post_id)

    return send


def _post_for_key(author: User, key: str) -> Post | None:
    """Return the post made with this idempotency key within the last hour, if it still exists."""
    since = utcnow() - IDEMPOTENCY_WINDOW
    post_id = db.session.scalar(
        select(IdempotencyKey.post_id).where(
            IdempotencyKey.user_id == author.id, IdempotencyKey.key == key, IdempotencyKey.created_at > since
        )
    )
    if post_id is None:
        # An old row under this key would block the new one: keys are reusable after the window.
        db.session.execute(
            delete(IdempotencyKey).where(IdempotencyKey.user_id == author.id, IdempotencyKey.key == key)
        )
        return None
    return db.session.scalar(select(Post).where(Post.id == post_id).options(joinedload(Post.author)))


def _announce(event: str, post_id: int, view: entities.FeedPost | None = None) -> None:
    """Send an event about a post, after the commit, to every stream that may show it.

    Those are the home (`user`) streams holding the post, the company stream and
    its tags' streams.  Recipients and payload are read now, inside the
    transaction: after the commit (or the delete) they are gone or changed.
    """
    view = view or timelines.post_view(post_id)
    if view is None:
        return
    payload = {"id": str(post_id)} if event == "delete" else entities.status(view)
    streams = [
        realtime.user_stream(timelines.home_audience(post_id)),
        realtime.PUBLIC,
        *(realtime.hashtag_stream(tag) for tag in view.tags),
    ]

    def send() -> None:
        for stream in streams:
            realtime.publish(stream, event, payload)

    on_commit(send)


def delete_post(actor: User, post_id: int | str) -> int:
    """Delete a post (its author or an admin); replies stay, detached. Return its id."""
    post = access_post(post_id)
    if post.author_id != actor.id and not actor.is_admin:
        raise PermissionDenied("You can only delete your own posts.")
    if post.in_reply_to_id is not None:
        db.session.execute(
            update(Post)
            .where(Post.id == post.in_reply_to_id, Post.reply_count > 0)
            .values(reply_count=Post.reply_count - 1)
        )
    deleted_id = post.id
    db.session.execute(update(User).where(User.id == post.author_id).values(posts_count=User.posts_count - 1))
    search.remove_post(post.id)
    _announce("delete", post.id)
    if post.in_reply_to_id is not None:
        _announce("status.update", post.in_reply_to_id)  # its reply count changed
    db.session.delete(post)
    db.session.commit()
    return deleted_id


def like_post(actor: User, post_id: int | str) -> Post:
    """Like a post; liking it again changes nothing."""
    post = access_post(post_id)
    try:
        with db.session.begin_nested():
            db.session.add(Like(user_id=actor.id, post_id=post.id))
    except IntegrityError:
        pass  # already liked
    else:
        db.session.execute(update(Post).where(Post.id == post.id).values(like_count=Post.like_count + 1))
        notifications.notify("favourite", actor, [post.author_id], post.id)
        _announce("status.update", post.id)
    db.session.commit()
    db.session.refresh(post)
    return post


def unlike_post(actor: User, post_id: int | str) -> Post:
    """Take back a like; unliking a post not liked changes nothing."""
    post = access_post(post_id)
    result = db.session.execute(delete(Like).where(Like.user_id == actor.id, Like.post_id == post.id))
    removed = cast(CursorResult, result).rowcount
    if removed:
        db.session.execute(
            update(Post).where(Post.id == post.id).values(like_count=Post.like_count - removed)
        )
        _announce("status.update", post.id)
    db.session.commit()
    db.session.refresh(post)
    return post


def rerender_all(batch_size: int = 1000) -> int:
    """Rebuild posts.html from posts.text for every post; return how many were written."""
    count = 0
    for rows in batches(select(Post.id, Post.text), Post.id, batch_size):
        known = _mentioned_usernames([r.id for r in rows])
        db.session.execute(
            update(Post),
            [{"id": r.id, "html": render_html(r.text, known.get(r.id, ()))} for r in rows],
        )
        db.session.commit()
        count += len(rows)
    return count


def _mentioned_usernames(post_ids: list[int]) -> dict[int, set[str]]:
    result: dict[int, set[str]] = {}
    rows = db.session.execute(
        select(mentions.c.post_id, User.username)
        .join(User, User.id == mentions.c.user_id)
        .where(mentions.c.post_id.in_(post_ids))
    )
    for post_id, username in rows:
        result.setdefault(post_id, set()).add(username)
    return result
