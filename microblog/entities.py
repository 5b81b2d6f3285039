"""One function per Mastodon entity, used by the API, Socket.IO events and server-sent events.

Entities are plain dicts of JSON types; ids are strings, as Mastodon clients expect.
They are built from what a feed query returns (Author, FeedPost, defined here so
that services, the API and the streams share them); what only a query knows, such
as whether the viewer liked a post, the caller passes in.  This module sits below
the services: it imports models and microblog.text, never services or the API.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, Protocol

from flask import has_request_context, request

from microblog.avatars import initials
from microblog.kept import Kept, kept_in_app
from microblog.links import link
from microblog.text import render_html
from models import TimelineList, User
from models.post import PUBLIC
from models.timeline_list import SEARCH
from models.user import COMMUNITY, PERSON, TEAM

EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


@dataclass(slots=True)  # not frozen: a frozen dataclass is built 8x slower, and feeds build hundreds
class Author:
    """The author of a feed post, as feeds show it."""

    id: int
    username: str
    display_name: str
    is_active: bool
    bio: str = ""
    created_at: datetime | None = None
    posts_count: int = 0
    followers_count: int = 0
    following_count: int = 0
    kind: str = PERSON  # or COMMUNITY: a group account
    locked: bool = False  # follows need approval (a private community)

    @classmethod
    def of(cls, user: User) -> Author:
        """Return a user as feeds show authors."""
        return cls(
            user.id,
            user.username,
            user.display_name,
            user.is_active,
            user.bio,
            user.created_at,
            user.posts_count,
            user.followers_count,
            user.following_count,
            user.kind,
            user.locked,
        )

    @property
    def is_community(self) -> bool:
        """Return whether this account is a community."""
        return self.kind == COMMUNITY

    @property
    def is_team(self) -> bool:
        """Return whether this account is a team (official) account."""
        return self.kind == TEAM

    @property
    def name(self) -> str:
        """Return the name to show: display name, else username."""
        return self.display_name or self.username


@dataclass(frozen=True, slots=True)
class AcceptedAnswer:
    """The reply a question's asker accepted, as feeds show it under the question."""

    id: int
    html: str
    author_id: int
    username: str
    display_name: str

    @property
    def name(self) -> str:
        """Return the answerer's name to show: display name, else username."""
        return self.display_name or self.username


@dataclass(frozen=True, slots=True)
class CommunityRef:
    """The community a post is in, as feeds name it."""

    id: int
    username: str
    display_name: str
    locked: bool

    @property
    def name(self) -> str:
        """Return the name to show: display name, else handle."""
        return self.display_name or self.username


@dataclass(frozen=True)
class MediaView:
    """An image attached to a post, as a Status shows it (files: services.media)."""

    id: int
    key: str
    ext: str
    width: int
    height: int
    small_width: int
    small_height: int
    description: str
    focus_x: float
    focus_y: float
    blurhash: str


@dataclass(slots=True)  # not frozen: a frozen dataclass is built 8x slower, and feeds build hundreds
class FeedPost:
    """A post as feeds show it, with its author, tag names and the viewer's like."""

    id: int
    text: str
    html: str
    created_at: datetime
    in_reply_to_id: int | None
    conversation_id: int | None
    like_count: int
    reply_count: int
    author: Author
    tags: tuple[str, ...]
    liked: bool
    # (user id, username) of the people the post mentions or replies to.
    mentions: tuple[tuple[int, str], ...] = ()
    visibility: str = PUBLIC  # or PRIVATE: for the members of its community only
    community: CommunityRef | None = None
    reply_to: tuple[int, str] | None = None  # (user id, username) of the author of the post it answers
    is_question: bool = False
    accepted_answer: AcceptedAnswer | None = None
    # (user id, username) of the member who wrote a team account's post: shown to the team and admins only.
    posted_by: tuple[int, str] | None = None
    bookmarked: bool = False  # by the viewer
    pinned: bool = False  # on its author's profile
    pinned_in_community: bool = False  # at the top of its community
    edited_at: datetime | None = None  # when its text last changed (None: never)
    media: tuple[MediaView, ...] = ()  # its images, in order

    @property
    def author_id(self) -> int:
        """Return the author's user id."""
        return self.author.id

    @property
    def thread_id(self) -> int:
        """Return the id of the first post of this post's thread."""
        return self.conversation_id or self.id


@dataclass(slots=True)  # not frozen: a frozen dataclass is built 8x slower, and feeds build hundreds
class ItemView:
    """A team inbox item as the inbox shows it: its state, the post as the team sees it, who has it."""

    id: int
    team_id: int
    state: str
    received_at: datetime
    answered_at: datetime | None
    changed_at: datetime
    closed_reason: str
    post: FeedPost
    asker: Author
    assignee: Author | None
    answer_post_id: int | None


class NotificationFields(Protocol):
    """What a Notification entity reads of a notification: the stored row or the page's view of it."""

    @property
    def id(self) -> int: ...

    @property
    def kind(self) -> str: ...

    @property
    def created_at(self) -> datetime: ...

    @property
    def group_key(self) -> str | None: ...


@dataclass(slots=True)
class NotificationGroupView:
    """A group of notifications, as Mastodon's grouped notifications show it (or one notification, alone).

    `page_min_id` and `latest_page_notification_at` are set on a page of groups only: the oldest
    notification of the group on that page, and when its newest there was made.
    """

    group_key: str
    kind: str
    notifications_count: int
    most_recent_notification_id: int
    sample_account_ids: list[int]
    post: FeedPost | None
    page_min_id: int | None = None
    latest_page_notification_at: datetime | None = None


def time(moment: datetime | None) -> str:
    """Return a time as Mastodon writes it: ISO 8601 in UTC with milliseconds."""
    return (moment or EPOCH).astimezone(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def account(author: Author, *, official_since: datetime | None = None) -> dict[str, Any]:
    """Return a Mastodon Account; an official community (official_since set) or team has a verified field."""
    if author.is_team:
        official_since = author.created_at or EPOCH
    avatar = link("web.avatar", username=author.username, v=initials(author.name))
    url = link("web.profile", username=author.username)
    return {
        "id": str(author.id),
        "username": author.username,
        "acct": author.username,
        "display_name": author.name,
        "note": f"<p>{_absolute_links(render_html(author.bio))}</p>" if author.bio else "",
        "url": url,
        "uri": url,
        "avatar": avatar,
        "avatar_static": avatar,
        "header": "",
        "header_static": "",
        "locked": author.locked,
        "bot": False,
        "group": author.is_community,
        "discoverable": True,
        "indexable": True,
        "suspended": not author.is_active,
        "created_at": time(author.created_at),
        "last_status_at": None,
        "statuses_count": author.posts_count,
        "followers_count": author.followers_count,
        "following_count": author.following_count,
        "fields": [_official_field(official_since)] if official_since is not None else [],
        "emojis": [],
    }


def _official_field(since: datetime) -> dict[str, Any]:
    """Return the profile field that marks an account the company stands behind, verified by the site."""
    return {"name": "Official", "value": "Run for the company", "verified_at": time(since)}


def partial_account(author: Author) -> dict[str, Any]:
    """Return Mastodon's PartialAccountWithAvatar: what a row of avatars needs of an Account."""
    full = account(author)
    return {key: full[key] for key in ("id", "acct", "locked", "bot", "url", "avatar", "avatar_static")}


def credential_account(author: Author) -> dict[str, Any]:
    """Return the CredentialAccount of verify_credentials: an Account with its source text."""
    entity = account(author)
    entity["source"] = {
        "note": author.bio,
        "fields": [],
        "privacy": "public",
        "sensitive": False,
        "language": "",
    }
    return entity


def tag(name: str, *, following: bool | None = None) -> dict[str, Any]:
    """Return a Mastodon Tag; `following` only where the viewer is known."""
    entity: dict[str, Any] = {
        "name": name,
        "url": link("web.tag", name=name),
        "history": [],
    }
    if following is not None:
        entity["following"] = following
    return entity


def mention(user_id: int, username: str) -> dict[str, Any]:
    """Return a Mastodon Mention."""
    url = link("web.profile", username=username)
    return {"id": str(user_id), "username": username, "acct": username, "url": url}


def _absolute_links(html: str) -> str:
    """Make the renderer's site-relative links absolute: API clients show content elsewhere.

    Only the renderer writes `href="/`; user text reaches the HTML escaped, so it cannot.
    """
    root = link("web.home").rstrip("/")
    return html.replace('href="/', f'href="{root}/')


def status(post: FeedPost) -> dict[str, Any]:
    """Return a Mastodon Status; `content` is the output of the one renderer (microblog.text).

    A page of twenty statuses built from scratch costs more than its query
    (a hundred links, times, the content's links made absolute), and most of
    a home timeline was built for someone else a moment ago.  So the parts
    that are the same for every reader are kept per site address, keyed by
    every value they are built from: a changed count, text, image or author
    is a new key, so what is served is never older than what the query read.
    The reader's own marks (favourited, bookmarked) are put on a copy.  The
    entities returned share their nested parts: callers never change them.
    """
    rendered = _rendered()
    site = request.host_url if has_request_context() else ""
    key = (
        site,
        post.id,
        post.text,
        post.html,
        post.created_at,
        post.in_reply_to_id,
        post.conversation_id,
        post.like_count,
        post.reply_count,
        post.tags,
        post.mentions,
        post.visibility,
        post.community,
        post.reply_to,
        post.is_question,
        post.accepted_answer,
        post.pinned,
        post.edited_at,
        post.media,
    )
    body = rendered.get(key)
    if body is None:
        body = rendered.keep(key, _status_body(post))
    entity = body.copy()
    entity["account"] = _account_of(post.author, site, rendered)
    entity["favourited"] = post.liked
    entity["bookmarked"] = post.bookmarked
    return entity


def _account_of(author: Author, site: str, rendered: Kept[tuple[Any, ...], dict[str, Any]]) -> dict[str, Any]:
    """Return account(author), kept like a status's parts: keyed by every value it is built from."""
    key = (
        site,
        author.id,
        author.username,
        author.display_name,
        author.is_active,
        author.bio,
        author.created_at,
        author.posts_count,
        author.followers_count,
        author.following_count,
        author.kind,
        author.locked,
    )
    found = rendered.get(key)
    return found if found is not None else rendered.keep(key, account(author))


def _status_body(post: FeedPost) -> dict[str, Any]:
    """Build a Status but for the reader's marks (favourited, bookmarked), which status() adds."""
    url = link("web.post", post_id=post.id)
    return {
        "id": str(post.id),
        "created_at": time(post.created_at),
        "in_reply_to_id": str(post.in_reply_to_id) if post.in_reply_to_id else None,
        "in_reply_to_account_id": str(post.reply_to[0]) if post.reply_to else None,
        "conversation_id": str(post.thread_id),
        "visibility": post.visibility,
        "sensitive": False,
        "spoiler_text": "",
        "language": None,
        "uri": url,
        "url": url,
        "content": f"<p>{_absolute_links(post.html)}</p>",
        "text": post.text,
        "account": None,
        "replies_count": post.reply_count,
        "reblogs_count": 0,
        "favourites_count": post.like_count,
        "favourited": False,
        "reblogged": False,
        "bookmarked": False,
        "muted": False,
        "pinned": post.pinned,
        "tags": [tag(name) for name in post.tags],
        "mentions": _mentions(post),
        "media_attachments": [media_attachment(m) for m in post.media],
        "emojis": [],
        "card": None,
        "poll": None,
        "reblog": None,
        "application": None,
        "edited_at": time(post.edited_at) if post.edited_at else None,
        "question": question(post),
    }


RENDERED_LIMIT = 20_000  # statuses and accounts a process keeps: a few hundred bytes to a few KiB each


def _rendered() -> Kept[tuple[Any, ...], dict[str, Any]]:
    """Return this site's kept entities (per application: links depend on its configuration)."""
    return kept_in_app("microblog.entities", RENDERED_LIMIT)


def media_attachment(media: MediaView) -> dict[str, Any]:
    """Return a Mastodon MediaAttachment: an image, its preview, sizes, focal point, alt text and blurhash."""

    def size(width: int, height: int) -> dict[str, Any]:
        return {"width": width, "height": height, "size": f"{width}x{height}", "aspect": width / height}

    def url(variant: str) -> str:
        return link("web.media_file", key=media.key, name=f"{variant}.{media.ext}")

    return {
        "id": str(media.id),
        "type": "image",
        "url": url("original"),
        "preview_url": url("small"),
        "remote_url": None,
        "preview_remote_url": None,
        "text_url": None,
        "meta": {
            "original": size(media.width, media.height),
            "small": size(media.small_width, media.small_height),
            "focus": {"x": media.focus_x, "y": media.focus_y},
        },
        "description": media.description or None,
        "blurhash": media.blurhash or None,
    }


def status_edit(html: str, created_at: datetime, author: Author) -> dict[str, Any]:
    """Return a Mastodon StatusEdit: one version of a post, as it read from `created_at`."""
    return {
        "content": f"<p>{_absolute_links(html)}</p>",
        "spoiler_text": "",
        "sensitive": False,
        "created_at": time(created_at),
        "account": account(author),
        "poll": None,
        "media_attachments": [],
        "emojis": [],
    }


def status_source(post_id: int, text: str) -> dict[str, Any]:
    """Return a Mastodon StatusSource: a post's text as written, to edit it."""
    return {"id": str(post_id), "text": text, "spoiler_text": ""}


def question(post: FeedPost) -> dict[str, Any] | None:
    """Return what a Status carries of a question (None for a post that is none): its accepted answer."""
    if not post.is_question:
        return None
    answer = post.accepted_answer
    return {
        "answered": answer is not None,
        "accepted_answer_id": str(answer.id) if answer is not None else None,
    }


def inbox_item(item: ItemView) -> dict[str, Any]:
    """Return an InboxItem: a post asked of a team, its state, who has it, and since when it waits."""
    return {
        "id": str(item.id),
        "team_id": str(item.team_id),
        "state": item.state,
        "received_at": time(item.received_at),
        "answered_at": time(item.answered_at) if item.answered_at else None,
        "changed_at": time(item.changed_at),
        "closed_reason": item.closed_reason or None,
        "assignee": account(item.assignee) if item.assignee is not None else None,
        "answer_status_id": str(item.answer_post_id) if item.answer_post_id else None,
        "status": status(item.post),
    }


def inbox_state(item: ItemView) -> dict[str, Any]:
    """Return what the asker hears of their item: which post, which team, and its state."""
    return {
        "id": str(item.id),
        "team_id": str(item.team_id),
        "status_id": str(item.post.id),
        "state": item.state,
        "answered_at": time(item.answered_at) if item.answered_at else None,
    }


def posted_by(post: FeedPost) -> dict[str, Any]:
    """Return who wrote a team account's post: for its team and administrators only, never in a Status."""
    if post.posted_by is None:
        raise ValueError("posted_by() of a post nobody wrote for a team")
    writer_id, writer = post.posted_by
    return {
        "id": str(post.id),
        "account": mention(post.author.id, post.author.username),
        "posted_by": mention(writer_id, writer),
    }


def _mentions(post: FeedPost) -> list[dict[str, Any]]:
    """Return the Mentions of a post: the people it addresses, and its community (so replies stay in it)."""
    found = [mention(uid, username) for uid, username in post.mentions]
    if post.community is not None and all(uid != post.community.id for uid, _ in post.mentions):
        found.append(mention(post.community.id, post.community.username))
    return found


def notification(note: NotificationFields, actor: Author, post: FeedPost | None) -> dict[str, Any]:
    """Return a Mastodon Notification."""
    return {
        "id": str(note.id),
        "type": note.kind,
        "created_at": time(note.created_at),
        "account": account(actor),
        "status": status(post) if post is not None else None,
        "group_key": note.group_key or f"ungrouped-{note.id}",
    }


def notification_group(group: NotificationGroupView) -> dict[str, Any]:
    """Return a Mastodon NotificationGroup; its accounts and status are given apart, by id.

    `most_recent_notification_id` is a number, as Mastodon sends it (apps decode it as one).
    """
    entity: dict[str, Any] = {
        "group_key": group.group_key,
        "notifications_count": group.notifications_count,
        "type": group.kind,
        "most_recent_notification_id": group.most_recent_notification_id,
    }
    if group.page_min_id is not None:
        entity["page_min_id"] = str(group.page_min_id)
        entity["page_max_id"] = str(group.most_recent_notification_id)
        entity["latest_page_notification_at"] = time(group.latest_page_notification_at)
    entity["sample_account_ids"] = [str(i) for i in group.sample_account_ids]
    if group.post is not None:
        entity["status_id"] = str(group.post.id)
    return entity


def relationship(
    user_id: int, *, following: bool, followed_by: bool, requested: bool = False
) -> dict[str, Any]:
    """Return a Mastodon Relationship between the viewer and one account."""
    return {
        "id": str(user_id),
        "following": following,
        "followed_by": followed_by,
        "showing_reblogs": following,
        "notifying": False,
        "languages": None,
        "blocking": False,
        "blocked_by": False,
        "muting": False,
        "muting_notifications": False,
        "requested": requested,
        "requested_by": False,
        "domain_blocking": False,
        "endorsed": False,
        "note": "",
    }


def list_entity(lst: TimelineList, *, unread: int = 0) -> dict[str, Any]:
    """Return a Mastodon List; `saved_search` (not in Mastodon): null, or a saved search's query, unread."""
    saved = None
    if lst.kind == SEARCH:
        saved = {
            "query": lst.query,
            "unread_count": unread,
            "last_read_id": str(lst.last_read_id),
            "in_home": lst.in_home,
            "notify": lst.notify,
        }
    return {
        "id": str(lst.id),
        "title": lst.title,
        "replies_policy": lst.replies_policy,
        "exclusive": lst.exclusive,
        "saved_search": saved,
    }


def grouped_notifications(
    groups: list[NotificationGroupView], accounts: dict[int, Author], *, partial_avatars: bool = False
) -> dict[str, Any]:
    """Return Mastodon's GroupedNotificationsResults: the groups, and each account and status they name once.

    With partial_avatars the latest account of each group comes in full, under `accounts`, and the
    others as PartialAccountWithAvatar, under `partial_accounts`.
    """
    sampled = list(dict.fromkeys(i for group in groups for i in group.sample_account_ids))
    full = sampled
    if partial_avatars:
        full = list(
            dict.fromkeys(group.sample_account_ids[0] for group in groups if group.sample_account_ids)
        )
    posts = {group.post.id: group.post for group in groups if group.post is not None}
    results: dict[str, Any] = {"accounts": [account(accounts[i]) for i in full]}
    if partial_avatars:
        shown = set(full)
        results["partial_accounts"] = [partial_account(accounts[i]) for i in sampled if i not in shown]
    results["statuses"] = [status(post) for post in posts.values()]
    results["notification_groups"] = [notification_group(group) for group in groups]
    return results
