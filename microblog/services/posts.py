"""Posting, replying, liking and deleting statuses."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import timedelta
from functools import cache
from typing import cast

from blinker import Namespace
from flask import current_app
from flask_babel import gettext as _
from sqlalchemy import CursorResult, Integer, Update, bindparam, delete, insert, inspect, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import aliased, joinedload

import realtime
import search
from microblog import entities
from microblog.database import batches, db, on_commit
from microblog.text import extract_mentions, extract_tags, parse_id, render_html
from models import IdempotencyKey, Like, Post, Tag, User, mentions, post_tags, utcnow
from models.post import PRIVATE, PUBLIC

from . import communities, inbox, media, notifications, rollups, signals, teams, timelines
from .errors import NotFound, PermissionDenied, ValidationError
from .validation import check_post_text
from .visibility import Audience, audience, audience_of, post_is_visible

# The convention stock Mastodon clients use to ask a question: one of these tags in the text.
QUESTION_TAGS = frozenset({"question", "spørsmål"})

IDEMPOTENCY_KEY_MAX = 200
IDEMPOTENCY_WINDOW = timedelta(hours=1)

# Sent with the app as sender after a post's commit (operations count them).
post_created = Namespace().signal("post-created")


def check_post_id(post_id: int | str) -> int:
    """Return a post id given as text or number, or raise NotFound for what cannot be one."""
    pid = parse_id(post_id)
    if not pid:
        raise NotFound(_("No such post."))
    return pid


def access_post(viewer: User | None, post_id: int | str) -> Post:
    """Return a post the viewer may see, with its author loaded, or raise NotFound.

    A post the viewer may not see does not exist for them: the same answer as a deleted one.
    """
    pid = check_post_id(post_id)
    visible = post_is_visible(viewer.id if viewer is not None else 0)
    post = db.session.scalar(select(Post).where(Post.id == pid, visible).options(joinedload(Post.author)))
    if post is None:
        raise NotFound(_("That post does not exist or was deleted."))
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
    author: User,
    text: str,
    *,
    in_reply_to: int | str | None = None,
    idempotency_key: str | None = None,
    visibility: str | None = None,
    posted_by: User | None = None,
    question: bool = False,
    media_ids: Sequence[object] = (),
    descriptions: dict[str, str] | None = None,
) -> Post:
    """Publish a status; a reply joins its parent's thread and addresses its author.

    Invariants: text obeys the post rule (services.validation.check_post_text);
    posts.html is render_html(text) with the mentions that resolved to accounts;
    the parent's reply_count counts its direct replies.  A post that addresses a
    community's @handle is in that community, and a reply is in its parent's
    (at most one per post); in a private community it is private, whatever
    `visibility` asks for, and `visibility` "private" is refused for a post that
    is not in one (check_visibility).  Only people who may see a post are
    addressed by it.  A request retried with the same
    idempotency key within an hour returns the post the first one made.

    A team account posts through one of its members (`posted_by`, recorded as
    the real author).  A post is a question when asked (`question`) or when it
    carries #question (or #spørsmål).  A post that mentions a team account, or
    replies to one of its posts, enters that team's inbox (if the team may see
    it); the team's reply answers it there (services.inbox).  `media_ids` attach
    up to four images its writer uploaded (services.media), `descriptions` their alt text by id.
    """
    key = (idempotency_key or "").strip()[:IDEMPOTENCY_KEY_MAX] or None
    if key is not None:
        earlier = _post_for_key(author, key)
        if earlier is not None:
            return earlier
    text = check_post_text(text)
    if author.is_community:
        raise PermissionDenied(_("A community does not post: its members do."))
    if author.is_team:
        teams.check_can_act_as(posted_by, author)
    elif posted_by is not None and posted_by.id != author.id:
        raise PermissionDenied(_("Only a team account is posted as by someone else."))
    parent = access_post(author, in_reply_to) if in_reply_to not in (None, "") else None
    names = extract_mentions(text)
    mentioned = list(db.session.scalars(select(User).where(User.username.in_(names)))) if names else []
    community = _community_of_new_post(author, [u for u in mentioned if u.is_community], parent)
    visibility = check_visibility(visibility, community)
    tag_names = extract_tags(text)
    images = media.check_attachments([author, *([posted_by] if posted_by else [])], media_ids, descriptions)
    post = Post(
        author_id=author.id,
        text=text,
        html=render_html(text, {u.username for u in mentioned}),
        in_reply_to_id=parent.id if parent else None,
        conversation_id=parent.thread_id if parent else None,
        community_id=community.id if community else None,
        visibility=visibility,
        posted_by_id=posted_by.id if author.is_team and posted_by is not None else None,
        is_question=bool(question) or not QUESTION_TAGS.isdisjoint(tag_names),
        created_at=utcnow(),
    )
    db.session.add(post)
    db.session.flush()
    media.attach(post, images)
    seen_by = audience_of(visibility, post.community_id)  # as just written: no need to read it back
    _count_post(post, +1)
    tags = tags_by_name(tag_names)
    if tags:
        db.session.execute(insert(post_tags), [{"post_id": post.id, "tag_id": t.id} for t in tags])
    addressed = {u.id for u in mentioned if not u.is_community}
    if parent is not None:
        addressed.add(parent.author_id)
        db.session.execute(update(Post).where(Post.id == parent.id).values(reply_count=Post.reply_count + 1))
    addressed = set(seen_by.only(addressed - {author.id}))  # a private post addresses members only
    if addressed:
        db.session.execute(
            insert(mentions), [{"post_id": post.id, "user_id": uid} for uid in sorted(addressed)]
        )
    _route_to_inboxes(post, author, mentioned, parent, seen_by)
    view = timelines.announced_view(post.id)  # the post as it will be shown: announced and notified
    notifications.notify("mention", author, sorted(addressed), post.id, view=view, seen_by=seen_by)
    if key is not None:
        db.session.add(IdempotencyKey(user_id=author.id, key=key, post_id=post.id))
    search.index_post(post.id, new_post=True)
    _announce("update", post.id, view, seen_by)
    on_commit(_signal_created(current_app._get_current_object(), post.id))  # type: ignore[attr-defined]
    if parent is not None:
        _announce("status.update", parent.id)
    _count_on_dashboard(
        post, posted_by or author, parent, tags, [*mentioned, *([parent.author] if parent else [])], addressed
    )
    try:
        db.session.commit()
    except IntegrityError:
        # The same key, at the same moment, from another process: that request's post stands.
        db.session.rollback()
        earlier = _post_for_key(author, key) if key is not None else None
        if earlier is None:
            raise
        return earlier
    if view is not None:
        inspect(post).info[_ANNOUNCED] = view
    return post


_ANNOUNCED = "announced"


def announced(post: Post) -> entities.FeedPost | None:
    """Return, once, a post that post_status() just published as it announced it, or None (an earlier post).

    That is the post as its writer sees it too, without reading it again after the
    commit: nobody has liked or bookmarked it yet, and everything else a status
    shows was read inside the transaction that wrote it.
    """
    return cast("entities.FeedPost | None", inspect(post).info.pop(_ANNOUNCED, None))  # once: later, read it


def _count_on_dashboard(
    post: Post, writer: User, parent: Post | None, tags: list[Tag], known: list[User], addressed: set[int]
) -> None:
    """Count a new post in the dashboard's rollups, last before the commit (their rows are held briefly)."""
    replied_to = None
    if parent is not None:
        replied_to = db.session.get_one(User, parent.posted_by_id) if parent.posted_by_id else parent.author
        rollups.count_reply(post, writer.id, parent, replied_to)
    people = {u.id: u for u in known if u.id in addressed}
    rollups.count_post(
        rollups.written(
            post,
            writer,
            replied_to=replied_to,
            tag_ids=[t.id for t in tags],
            addressed=[people[i] for i in sorted(addressed)],
        )
    )


def compose(
    writer: User,
    text: str,
    *,
    post_as: str | None = None,
    in_reply_to: int | str | None = None,
    question: bool = False,
    media_ids: Sequence[object] = (),
    descriptions: dict[str, str] | None = None,
) -> Post:
    """Publish what a person wrote in the composer: as themselves, or as the team account `post_as` names.

    Raises NotFound for a handle that names no team account; post_status refuses
    one the writer is not on.
    """
    team = teams.access_team(post_as) if post_as else None
    return post_status(
        team or writer,
        text,
        in_reply_to=in_reply_to,
        posted_by=writer if team is not None else None,
        question=question,
        media_ids=media_ids,
        descriptions=descriptions,
    )


def _route_to_inboxes(
    post: Post, author: User, mentioned: list[User], parent: Post | None, seen_by: Audience
) -> None:
    """Put a post into the inboxes of the teams it asks (mentions or replies to); a team's reply answers."""
    asked = {u.id for u in mentioned if u.is_team}
    if parent is not None and parent.author.is_team:
        asked.add(parent.author_id)
    inbox.receive(post, asked, seen_by)
    if parent is not None and author.is_team:
        inbox.answer_by_reply(author, post, parent.id)


def check_visibility(requested: str | None, community: User | None) -> str:
    """Return the visibility of a new post in this community (or None), refusing what cannot be honoured.

    A post in a private community is private, one anywhere else public: a
    request for "public" (every client's default) never makes a private post
    public, and a request for "private" outside a private community is refused
    rather than silently published to the whole company.
    """
    actual = PRIVATE if community is not None and community.locked else PUBLIC
    if requested in (None, "", PUBLIC) or requested == actual:
        return actual
    if requested == PRIVATE:
        raise ValidationError(
            _(
                "Only a post in a private community is private (address its @handle, or reply in it); "
                "everything else is visible to the whole company: use visibility public."
            ),
            field="visibility",
        )
    raise ValidationError(_("visibility must be public or private."), field="visibility")


def _community_of_new_post(author: User, addressed: list[User], parent: Post | None) -> User | None:
    """Return the community a new post is in, or raise ValidationError if it may not be posted there."""
    if len(addressed) > 1:
        names = ", ".join(f"@{c.username}" for c in addressed)
        raise ValidationError(
            _("A post can be in one community only; this one addresses %(names)s.", names=names), field="text"
        )
    community = addressed[0] if addressed else None
    if parent is not None:
        if community is not None and community.id != parent.community_id:
            raise ValidationError(
                _(
                    "A reply stays where its post is: it cannot be posted into @%(name)s.",
                    name=community.username,
                ),
                field="text",
            )
        if parent.community_id is None:
            return None
        community = db.session.get_one(User, parent.community_id)
        communities.check_open(community)
        if community.locked:  # whoever sees a public community's post may answer it; a private one: members
            communities.check_can_post(author, community)
        return community
    if community is not None:
        communities.check_can_post(author, community)
    return community


def _count_post(post: Post, change: int) -> None:
    """Keep posts_count of the author (and community) equal to their public posts.

    Private posts are not counted anywhere an Account shows: a count would tell
    non-members that the community's members are talking.
    """
    if post.visibility != PUBLIC:
        return
    ids = [post.author_id] + ([post.community_id] if post.community_id else [])
    # On the session's connection, past the ORM: accounts a request holds are read afresh after the commit.
    db.session.connection().execute(_counting_posts(), {"ids": ids, "change": change})


@cache
def _counting_posts() -> Update:
    """Return the statement that adds `change` to the posts_count of the accounts `ids` (built once)."""
    return (
        update(User)
        .where(User.id.in_(bindparam("ids", expanding=True)))
        .values(posts_count=User.posts_count + bindparam("change", type_=Integer))
    )


def _signal_created(app: object, post_id: int):
    def send() -> None:
        post_created.send(app, post_id=post_id)

    return send


def _post_for_key(author: User, key: str) -> Post | None:
    """Return the post made with this idempotency key within the last hour, if the author may still see it."""
    since = utcnow() - IDEMPOTENCY_WINDOW
    post_id = db.session.scalar(
        select(IdempotencyKey.post_id).where(
            IdempotencyKey.user_id == author.id, IdempotencyKey.key == key, IdempotencyKey.created_at > since
        )
    )
    visible = post_is_visible(author.id)  # a former member's retry finds nothing, as a fresh look-up would
    post = None
    if post_id is not None:
        post = db.session.scalar(
            select(Post).where(Post.id == post_id, visible).options(joinedload(Post.author))
        )
    if post is not None:
        inspect(post).info.pop(_ANNOUNCED, None)  # an earlier post, as it is now: read afresh
    else:
        # An old or unusable row under this key would block the new one: the key is free again.
        db.session.execute(
            delete(IdempotencyKey).where(IdempotencyKey.user_id == author.id, IdempotencyKey.key == key)
        )
    return post


def _announce(
    event: str,
    post_id: int,
    view: entities.FeedPost | None = None,
    seen_by: Audience | None = None,
    *,
    former_tags: Iterable[str] = (),
) -> None:
    """Send an event about a post, after the commit, to every stream that may show it, for who may see it.

    Those are the home (`user`) streams holding the post, the company stream,
    its tags' streams and the streams of the accounts lists its author is on;
    for a private post, only its community's members' share of each (a new
    team post's writer: see teams.announce_writer).  An edited post's
    `former_tags` streams carried it too: they hear of the change.  Recipients
    and payload are read now, inside the transaction: after the commit (or the
    delete) they are gone or changed.
    """
    view = view or timelines.announced_view(post_id)
    if view is None:
        return
    seen_by = seen_by or audience(post_id)
    members = seen_by.members
    payload = {"id": str(post_id)} if event == "delete" else entities.status(view)
    if event == "update":
        teams.announce_writer(view, seen_by)  # to the team and administrators, before the post itself
    streams = [
        # A new post has matched no saved search yet: the percolator matches it after the commit.
        realtime.home_stream(_home_facts(view, seen_by, matched=event != "update")),
        realtime.public_stream(members),
        *(realtime.hashtag_stream(tag, members) for tag in dict.fromkeys([*view.tags, *former_tags])),
        *signals.account_list_streams(view.author.id, seen_by),
    ]

    on_commit(lambda: realtime.publish_all(streams, event, payload))


def _home_facts(view: entities.FeedPost, seen_by: Audience, *, matched: bool) -> realtime.HomeFacts:
    """Return what decides whose home timeline holds a post (the sources of timelines.home_audience).

    `matched`: whether saved searches may have matched it already (not a new
    post), whose owners show their hits in home.  Each process picks the
    recipients among its own clients: the cost of a post
    does not grow with its author's followers.
    """
    return realtime.HomeFacts(
        author=view.author.id,
        community=view.community.id if view.community else None,
        tags=view.tags,
        mentions=tuple(user_id for user_id, _username in view.mentions),
        owners=tuple(signals.home_owners(view.id)) if matched else (),
        members=seen_by.members,
    )


def announce_update(post_id: int, *, former_tags: Iterable[str] = ()) -> None:
    """Send a post's new state (`status.update`), after the commit, to every stream that may show it."""
    _announce("status.update", post_id, former_tags=former_tags)


def delete_post(actor: User, post_id: int | str) -> int:
    """Delete a post (its author, a site admin, or an admin of its community); replies stay, detached.

    Return its id.  A post the actor may not see is not found, for site admins too.
    """
    post = access_post(actor, post_id)
    moderator = actor.is_admin or (
        post.community_id is not None
        and communities.is_admin(actor, db.session.get_one(User, post.community_id))
    )
    if post.author_id != actor.id and not moderator:
        raise PermissionDenied(_("You can only delete your own posts."))
    if post.in_reply_to_id is not None:
        db.session.execute(
            update(Post)
            .where(Post.id == post.in_reply_to_id, Post.reply_count > 0)
            .values(reply_count=Post.reply_count - 1)
        )
    deleted_id = post.id
    _count_post(post, -1)
    search.remove_post(post.id)
    _announce("delete", post.id)
    if post.in_reply_to_id is not None:
        _announce("status.update", post.in_reply_to_id)  # its reply count changed
    rollups.uncount_post(post)
    media.forget(post.id)
    db.session.delete(post)
    db.session.commit()
    return deleted_id


def like_post(actor: User, post_id: int | str) -> Post:
    """Like a post; liking it again changes nothing."""
    post = access_post(actor, post_id)
    try:
        with db.session.begin_nested():
            db.session.add(Like(user_id=actor.id, post_id=post.id))
    except IntegrityError:
        pass  # already liked
    else:
        db.session.execute(update(Post).where(Post.id == post.id).values(like_count=Post.like_count + 1))
        notifications.notify("favourite", actor, [post.author_id], post.id)
        _announce("status.update", post.id)
        rollups.count_like(actor.id, post)
    db.session.commit()
    db.session.refresh(post)
    return post


def unlike_post(actor: User, post_id: int | str) -> Post:
    """Take back a like; unliking a post not liked changes nothing."""
    post = access_post(actor, post_id)
    result = db.session.execute(delete(Like).where(Like.user_id == actor.id, Like.post_id == post.id))
    removed = cast(CursorResult, result).rowcount
    if removed:
        db.session.execute(
            update(Post).where(Post.id == post.id).values(like_count=Post.like_count - removed)
        )
        notifications.withdraw("favourite", actor, post.id)
        _announce("status.update", post.id)
    db.session.commit()
    db.session.refresh(post)
    return post


def rerender_all(batch_size: int = 1000) -> int:
    """Rebuild posts.html from posts.text for every post; return how many were written."""
    count = 0
    community = aliased(User, name="community")
    statement = select(Post.id, Post.text, community.username).outerjoin(
        community, community.id == Post.community_id
    )
    for rows in batches(statement, Post.id, batch_size):
        known = _mentioned_usernames([r.id for r in rows])
        for row in rows:  # the community a post addresses is linked too (it is not one of its mentions)
            if row.username:
                known.setdefault(row.id, set()).add(row.username)
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
