"""Editing a post: its author changes its text; every earlier version stays readable (Mastodon's edits)."""

from __future__ import annotations

from collections.abc import Sequence

from flask_babel import gettext as _
from sqlalchemy import delete, insert, select

import search
from microblog.database import db
from microblog.text import extract_mentions, extract_tags, render_html
from models import InboxItem, Notification, Post, PostEdit, Tag, TagFollow, User, mentions, post_tags, utcnow

from . import communities, inbox, kept_homes, media, notifications, posts, rollups, teams, timelines
from .errors import NotFound, PermissionDenied, ValidationError
from .validation import check_post_text
from .visibility import audience


def may_edit(actor: User | None, post: Post | None) -> bool:
    """Return whether the actor may edit the post: its author, or for a team's post a member of the team."""
    if actor is None or post is None:
        return False
    if post.author_id == actor.id:
        return True
    author = db.session.get(User, post.author_id)
    return (
        author is not None
        and author.is_team
        and teams.may_act(actor, author)
        and teams.is_member(actor, author)
    )


def edit_post(actor: User, post_id: int | str, text: str, *, media_ids: Sequence[object] = ()) -> Post:
    """Change a post's text, keeping the version it replaces; the same text again changes nothing.

    The post rule applies as to a new post.  A post stays where it was posted:
    text that addresses another community is refused, as is any edit in an
    archived community.  What follows the text: its cached HTML, #tags and
    mentions (only people newly addressed are notified, and only a team newly
    asked gets it in its inbox), the search index, the dashboard's counts, and
    `status.update` to every stream that carried it (its former tags' too).
    """
    post = posts.access_post(actor, post_id)
    if not may_edit(actor, post):
        raise PermissionDenied(_("You can only edit your own posts."))
    if media_ids:  # clients send the images the post has; changing them is not editing its text
        has = [str(m.id) for m in media.media_of([post.id]).get(post.id, ())]
        if [str(i) for i in media_ids] != has:
            raise ValidationError(
                _("An edit changes the text only: its images stay as they are."), field="media_ids"
            )
    text = check_post_text(text)
    if text == post.text:
        return post
    names = extract_mentions(text)
    mentioned = list(db.session.scalars(select(User).where(User.username.in_(names)))) if names else []
    elsewhere = [u for u in mentioned if u.is_community and u.id != post.community_id]
    if elsewhere:
        raise ValidationError(
            _(
                "A post stays where it was posted: it cannot be edited into @%(name)s.",
                name=elsewhere[0].username,
            ),
            field="text",
        )
    if post.community_id is not None:
        communities.check_open(db.session.get_one(User, post.community_id))
    before = rollups.as_written(post)
    former_tags = list(
        db.session.scalars(
            select(Tag.name)
            .join(post_tags, post_tags.c.tag_id == Tag.id)
            .where(post_tags.c.post_id == post.id)
        )
    )
    now = utcnow()
    if post.edited_at is None:  # the first edit keeps the original as the first version
        writer = post.posted_by_id or post.author_id
        original = PostEdit(post_id=post.id, text=post.text, html=post.html, created_at=post.created_at)
        original.editor_id = writer
        db.session.add(original)
    post.text = text
    post.html = render_html(text, {u.username for u in mentioned})
    post.edited_at = now
    db.session.add(PostEdit(post_id=post.id, text=text, html=post.html, created_at=now, editor_id=actor.id))
    tag_names = extract_tags(text)
    if not posts.QUESTION_TAGS.isdisjoint(tag_names):
        post.is_question = True
    _replace_tags(post, tag_names)
    newly, readdressed = _readdress(post, mentioned)
    # Who now finds it in home, or no longer does: those it addresses or stopped addressing,
    # the followers of the tags it gained or lost.
    retagged = set(former_tags) ^ set(tag_names)
    kept_homes.moved(readdressed)
    if retagged:
        kept_homes.moved(
            select(TagFollow.user_id).join(Tag, Tag.id == TagFollow.tag_id).where(Tag.name.in_(retagged))
        )
    db.session.flush()
    rollups.recount(before, rollups.as_written(post))
    view = timelines.announced_view(post.id)
    author = db.session.get_one(User, post.author_id)
    notifications.notify("mention", author, sorted(newly), post.id, view=view)
    search.index_post(post.id)
    posts.announce_update(post.id, former_tags=former_tags)
    db.session.commit()
    return post


def _replace_tags(post: Post, tag_names: list[str]) -> None:
    """Make the post's #tags those of its new text."""
    db.session.execute(delete(post_tags).where(post_tags.c.post_id == post.id))
    tags = posts.tags_by_name(tag_names)
    if tags:
        db.session.execute(insert(post_tags), [{"post_id": post.id, "tag_id": t.id} for t in tags])


def _readdress(post: Post, mentioned: list[User]) -> tuple[set[int], set[int]]:
    """Make the people the post addresses those its new text names (and its parent's author, for a reply).

    Return those to notify (addressed now and never notified of this post
    before), and those it addresses now or addressed before, but not both.
    A team newly asked receives it in its inbox, once.
    """
    seen_by = audience(post.id)
    addressed = {u.id for u in mentioned if not u.is_community}
    if post.in_reply_to_id is not None:
        parent_author = db.session.scalar(select(Post.author_id).where(Post.id == post.in_reply_to_id))
        if parent_author is not None:
            addressed.add(parent_author)
    addressed = set(seen_by.only(addressed - {post.author_id}))
    before = set(db.session.scalars(select(mentions.c.user_id).where(mentions.c.post_id == post.id)))
    if before - addressed:
        db.session.execute(
            delete(mentions).where(mentions.c.post_id == post.id, mentions.c.user_id.in_(before - addressed))
        )
    if addressed - before:
        rows = [{"post_id": post.id, "user_id": uid} for uid in sorted(addressed - before)]
        db.session.execute(insert(mentions), rows)
    asked = {u.id for u in mentioned if u.is_team and u.id in addressed}
    if asked:
        has_it = set(db.session.scalars(select(InboxItem.team_id).where(InboxItem.post_id == post.id)))
        inbox.receive(post, asked - has_it, seen_by)
    told = set(
        db.session.scalars(
            select(Notification.user_id).where(
                Notification.post_id == post.id, Notification.kind == "mention"
            )
        )
    )
    return addressed - before - told, addressed ^ before


def history(viewer: User | None, post_id: int | str) -> tuple[Post, list[PostEdit]]:
    """Return a post the viewer may see and its versions, oldest first (none: it was never edited)."""
    post = posts.access_post(viewer, post_id)
    versions = db.session.scalars(select(PostEdit).where(PostEdit.post_id == post.id).order_by(PostEdit.id))
    return post, list(versions)


def editors(viewer: User | None, post: Post, versions: list[PostEdit]) -> dict[int, str]:
    """Return who wrote each version of a team's post (version id -> username), for the team and admins.

    Empty for anyone else, and for a person's own post: its author wrote every version.
    """
    author = db.session.get_one(User, post.author_id)
    if not author.is_team or not teams.sees_real_authors(viewer, {author.id}):
        return {}
    ids = {v.editor_id for v in versions if v.editor_id is not None}
    names = dict(db.session.execute(select(User.id, User.username).where(User.id.in_(ids))).tuples().all())
    return {v.id: names[v.editor_id] for v in versions if v.editor_id in names}


def source(actor: User, post_id: int | str) -> Post:
    """Return a post to edit, with its text as written: for whoever may edit it."""
    post = posts.access_post(actor, post_id)
    if not may_edit(actor, post):
        raise NotFound(_("That post does not exist or was deleted."))
    return post
