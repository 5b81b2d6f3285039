"""Feeds and posts: home, company, mentions, tags, profiles, threads."""

from __future__ import annotations

from flask import flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required

from microblog.services import accounts, boards, markers, pins, posts, questions, social, timelines
from microblog.services import notifications as notification_service
from microblog.services.errors import NotFound, ServiceError
from microblog.services.timelines import Cursor, Page
from models import Post

from . import bp
from .communities import community_page
from .forms import PostForm
from .helpers import redirect_back, safe_next, show_error
from .teams import team_page


def _wants_fragment() -> bool:
    return bool(request.args.get("fragment"))


def _fragment(page: Page):
    """Render only the posts of a page: what live.js fetches to catch up after a disconnect."""
    return render_template("partials/feed_items.html", page=page)


def _feed(template: str, page: Page, status: int = 200, **context):
    """Render a feed page with the composer, or (?fragment=1) only its posts."""
    if _wants_fragment():
        return _fragment(page), status
    form = context.pop("form", None) or PostForm(formdata=None)
    return render_template(template, page=page, form=form, **context), status


@bp.route("/")
@login_required
def home():
    """The home timeline: own posts, followed people and tags, mentions; "you were here" above the read ones.

    Where the reader stopped is their home marker (any client of theirs sets
    it; this page sets it, on opening, to the newest post it shows).
    """
    cursor = Cursor.parse(request.args)
    page = timelines.home_timeline(current_user, cursor)
    read_from = None
    if cursor.max_id is None and not _wants_fragment():
        marker = markers.markers(current_user, ["home"]).get("home")
        if marker is not None and page.posts and page.posts[0].id > marker.last_read_id:  # something new
            read_from = next((post.id for post in page.posts if post.id <= marker.last_read_id), None)
    return _feed("feeds/home.html", page, title=_("Home"), feed="home", read_from=read_from)


@bp.route("/home/read", methods=["POST"])
@login_required
def mark_home_read():
    """Move the home marker forward to the newest post the page showed (site.js posts it on opening)."""
    saved = markers.read_home(current_user, request.form.get("up_to", ""))
    if request.accept_mimetypes.best == "application/json":
        return {"last_read_id": str(saved.last_read_id)}
    return redirect(url_for("web.home"))


@bp.route("/public")
@login_required
def public():
    """Everything said in the company."""
    page = timelines.public_timeline(current_user, Cursor.parse(request.args))
    return _feed("feeds/home.html", page, title=_("Company"), feed="public")


@bp.route("/mentions")
@login_required
def mentions():
    """Posts that mention or reply to me."""
    page = timelines.mentions_timeline(current_user, Cursor.parse(request.args))
    return _feed("feeds/home.html", page, title=_("Mentions"), feed="mentions")


@bp.route("/tags/<name>")
@login_required
def tag(name: str):
    """A tag's board (on the first page), its posts, its followers and a follow button."""
    cursor = Cursor.parse(request.args)
    if _wants_fragment():
        tag = social.access_tag(name, current_user)
        return _fragment(timelines.tag_timeline(current_user, tag, cursor))
    board = None
    if cursor.max_id is None:  # older pages are for reading back, not for the figures
        tag, board = boards.tag_board(current_user, name)
    else:
        tag = social.access_tag(name, current_user)
    page = timelines.tag_timeline(current_user, tag, cursor)
    form = PostForm(formdata=None, text=f"#{tag.name} ")
    return _feed(
        "feeds/tag.html",
        page,
        form=form,
        tag=tag,
        board=board,
        title=f"#{tag.name}",
        follower_count=social.tag_follower_count(tag),
        followers=social.tag_followers(tag, limit=12),
        following=social.is_following_tag(current_user, tag),
    )


@bp.route("/@<username>")
@login_required
def profile(username: str):
    """A person's profile and posts, or a community's or a team account's page."""
    user = accounts.access_user(username)
    if user.is_community:
        return community_page(user)
    if user.is_team:
        return team_page(user)
    page = timelines.user_timeline(current_user, user, Cursor.parse(request.args))
    if _wants_fragment():
        return _fragment(page)
    return _feed(
        "feeds/profile.html",
        page,
        pinned=pins.pinned_posts(current_user, user) if page.cursor.max_id is None else [],
        user=user,
        title=user.name,
        stats=social.profile_stats(user),
        following=social.is_following(current_user, user),
    )


@bp.route("/notifications")
@login_required
def notifications():
    """Mentions, replies, likes and new followers (reading them changes nothing: see mark_seen)."""
    cursor = Cursor.parse({"max_id": request.args.get("max_id")}, limit=notification_service.PAGE_LIMIT)
    items = notification_service.list_notifications(current_user, cursor)
    return render_template("feeds/notifications.html", items=items, title=_("Notifications"))


@bp.route("/notifications/seen", methods=["POST"])
@login_required
def mark_notifications_seen():
    """Clear the badge up to the newest notification the page showed (site.js posts it on opening)."""
    seen_id = markers.read_notifications(current_user, request.form.get("up_to"))
    if request.accept_mimetypes.best == "application/json":
        return {"seen_id": str(seen_id), "unread": notification_service.unread_count(current_user)}
    return redirect_back("web.notifications")


@bp.route("/notifications/unread")
@login_required
def unread_notifications():
    """The unread count behind the badge (live.js refreshes it after a reconnect)."""
    return {"count": notification_service.unread_count(current_user)}


@bp.route("/posts", methods=["POST"])
@login_required
def create_post():
    """Publish a post from the composer (works without JavaScript)."""
    form = PostForm()
    status = 422
    if form.validate_on_submit():
        try:
            media_ids = request.form.getlist("media_ids")
            post = posts.compose(
                current_user,
                form.text.data,
                post_as=form.post_as.data or None,
                in_reply_to=form.in_reply_to.data,
                question=bool(form.question.data),
                media_ids=media_ids,
                descriptions={i: request.form.get(f"description_{i}", "") for i in media_ids[:8]},
            )
        # Too long (422), the post replied to gone (404), no such team (404), not on the team (403).
        except ServiceError as error:
            show_error(form, error)
            status = error.status_code
        else:
            if post.in_reply_to_id:
                return redirect(url_for("web.post", post_id=post.id, _anchor=f"post-{post.id}"))
            if post.posted_by_id is not None:  # not in the writer's home: say where it went
                flash(
                    _(
                        "Posted as @%(team)s: it is on the team's page.",
                        team=form.post_as.data.strip().lstrip("@").lower(),
                    )
                )
            return redirect(safe_next(form.next.data))
    # Show the form again with the text kept and the reason beside it.
    if form.in_reply_to.data:
        try:
            return show_post(form.in_reply_to.data, form=form, status=status)
        except NotFound:  # deleted meanwhile: the text stays, in the home composer, as a post of its own
            form.in_reply_to.data = None
    page = timelines.home_timeline(current_user)
    return _feed("feeds/home.html", page, status=status, form=form, title=_("Home"), feed="home")


@bp.route("/posts/<post_id>", endpoint="post")
@login_required
def show_post(post_id: str, form: PostForm | None = None, status: int = 200):
    """A post's whole conversation, with a reply box."""
    focus = posts.access_post(current_user, post_id)
    thread = timelines.conversation(current_user, focus)
    if form is None:
        mention = "" if focus.author_id == current_user.id else f"@{focus.author.username} "
        form = PostForm(formdata=None, text=mention, in_reply_to=focus.id)
    return render_template(
        "posts/thread.html",
        page=thread,
        focus=focus,
        form=form,
        acceptable=questions.acceptable_questions(current_user, thread.posts),
        title=_("Conversation"),
    ), status


@bp.route("/posts/<post_id>/delete", methods=["POST"])
@login_required
def delete_post(post_id: str):
    """Delete a post (author or admin)."""
    posts.delete_post(current_user, post_id)
    flash(_("Post deleted."))
    target = safe_next(request.form.get("next"))
    if target.split("?")[0] == url_for("web.post", post_id=post_id):  # that page is gone now
        target = url_for("web.home")
    return redirect(target)


@bp.route("/posts/<post_id>/like", methods=["POST"])
@login_required
def like(post_id: str):
    """Like a post."""
    post = posts.like_post(current_user, post_id)
    return _liked(post, True)


@bp.route("/posts/<post_id>/unlike", methods=["POST"])
@login_required
def unlike(post_id: str):
    """Take back a like."""
    post = posts.unlike_post(current_user, post_id)
    return _liked(post, False)


def _liked(post: Post, liked: bool):
    """Back to the page; site.js asks for JSON instead, to update the button in place."""
    if request.accept_mimetypes.best == "application/json":
        action = url_for("web.unlike" if liked else "web.like", post_id=post.id)
        return {"id": str(post.id), "liked": liked, "likes": post.like_count, "action": action}
    return redirect_back()
