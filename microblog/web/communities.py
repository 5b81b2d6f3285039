"""Communities: the directory, creating one, its page at /@handle, and what its admins do there."""

from __future__ import annotations

from flask import abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required

from microblog.services import (
    accounts,
    boards,
    communities,
    join_requests,
    pins,
    social,
    timelines,
    visibility,
)
from microblog.services.errors import ServiceError
from microblog.services.timelines import Cursor
from models import User

from . import bp
from .forms import CommunityEditForm, CommunityForm, MemberForm, PostForm
from .helpers import redirect_back, show_error

# The services name fields as the account does; the forms say handle, name and description.
_FIELDS = {"username": "handle", "display_name": "name", "bio": "description"}


def _show_error(form, error: ServiceError) -> None:
    if error.field in _FIELDS and not hasattr(form, error.field):
        error.field = _FIELDS[error.field]
    show_error(form, error)


def _more(rows: list, key) -> str | None:
    """Return the `after` cursor of the next page, or None when this one is the last."""
    return key(rows[-1]) if len(rows) >= communities.LIST_LIMIT else None


@bp.route("/communities")
@login_required
def communities_directory():
    """Every community, searchable by handle, name and description; and the viewer's own."""
    query = request.args.get("q", "")[:200]
    listings = communities.directory(query, after=request.args.get("after") or None)
    return render_template(
        "communities/directory.html",
        listings=listings,
        query=query,
        mine=communities.communities_of(current_user),
        may_create=communities.may_create(current_user),
        next_after=_more(listings, lambda listing: listing.account.username),
        title=_("Communities"),
    )


@bp.route("/communities/new", methods=["GET", "POST"])
@login_required
def new_community():
    """The form to create a community; its creator becomes its first admin."""
    form = CommunityForm()
    status = 422 if form.is_submitted() else 200
    if form.validate_on_submit():
        try:
            community = communities.create_community(
                current_user,
                form.handle.data or "",
                name=form.name.data or "",
                description=form.description.data or "",
                private=form.visibility.data == "private",
            )
        except ServiceError as error:
            _show_error(form, error)
            status = error.status_code
        else:
            flash(
                _(
                    "%(name)s is ready. Invite colleagues: share @%(handle)s.",
                    name=community.name,
                    handle=community.username,
                )
            )
            return redirect(url_for("web.profile", username=community.username))
    return render_template("communities/new.html", form=form, title=_("Create a community")), status


def community_page(community: User):
    """Render a community's page at /@handle (called by web.profile for a community account)."""
    member = communities.is_member(current_user, community)
    readable = visibility.members_are_listable(current_user, community)  # else: "this community is private"
    cursor = Cursor.parse(request.args)
    page = timelines.community_timeline(current_user, community, cursor)
    if request.args.get("fragment"):  # live.js catching up: the posts only
        return render_template("partials/feed_items.html", page=page, here=community.id)
    # Its board: for those who may read it (a private one's members), on the first page.
    board = None
    if readable and cursor.max_id is None:
        board = boards.community_board(current_user, community.username)[1]
    admin = communities.is_admin(current_user, community)
    return render_template(
        "communities/show.html",
        community=community,
        info=communities.details(community),
        page=page,
        board=board,
        pinned=pins.pinned_posts(current_user, community) if readable and cursor.max_id is None else [],
        readable=readable,
        member=member,
        admin=admin,
        requested=join_requests.has_requested(current_user, community),
        admins=communities.admins(community),
        members=social.followers(current_user, community, limit=12),
        request_count=len(join_requests.pending_requests(current_user, community)) if admin else 0,
        form=PostForm(formdata=None, text=f"@{community.username} "),
        title=community.name,
    )


@bp.route("/@<handle>/join", methods=["POST"])
@login_required
def join_community(handle: str):
    """Join a public community, or ask to join a private one."""
    community = communities.access_community(handle)
    if communities.join(current_user, community):
        flash(_("You are a member of %(name)s: its posts reach your home feed.", name=community.name))
    else:
        flash(_("You asked to join %(name)s. Its admins will answer.", name=community.name))
    return redirect_back()


@bp.route("/@<handle>/leave", methods=["POST"])
@login_required
def leave_community(handle: str):
    """Leave a community, or take back a request to join it."""
    community = communities.access_community(handle)
    was_member = communities.is_member(current_user, community)
    communities.leave(current_user, community)
    flash(
        _("You left %(name)s.", name=community.name)
        if was_member
        else _("You no longer ask to join %(name)s.", name=community.name)
    )
    return redirect_back()


def _manage(community: User, *, form=None, member_form=None, status: int = 200):
    """Render the admin page of a community (its admins; site administrators see their part)."""
    admin = communities.is_admin(current_user, community)
    if not admin and not current_user.is_admin:
        abort(403)
    after = request.args.get("after") or None
    # A site administrator who is not one of its admins gets their controls only, not its members.
    members = communities.members(community, after=after) if admin else []
    admins = communities.admins(community)
    return render_template(
        "communities/manage.html",
        community=community,
        info=communities.details(community),
        admin=admin,
        form=form or CommunityEditForm(formdata=None, name=community.display_name, description=community.bio),
        member_form=member_form or MemberForm(formdata=None),
        requests=join_requests.pending_requests(current_user, community) if admin else [],
        members=members,
        admin_ids={user.id for user in admins},
        runnable=not any(user.is_active for user in admins),
        next_after=_more(members, lambda user: user.username),
        title=_("%(name)s: manage", name=community.name),
    ), status


@bp.route("/@<handle>/manage", methods=["GET", "POST"])
@login_required
def manage_community(handle: str):
    """A community's settings, join requests and members (its admins); POST saves name and description."""
    community = communities.access_community(handle)
    if request.method == "GET":
        return _manage(community)
    form = CommunityEditForm()
    status = 422
    if form.validate_on_submit():
        try:
            communities.update_community(
                current_user, community, name=form.name.data or "", description=form.description.data or ""
            )
        except ServiceError as error:
            _show_error(form, error)
            status = error.status_code
        else:
            flash(_("Saved."))
            return redirect(url_for("web.manage_community", handle=community.username))
    return _manage(community, form=form, status=status)


@bp.route("/@<handle>/members", methods=["POST"])
@login_required
def add_community_member(handle: str):
    """Add a colleague to a community by username (its admins)."""
    community = communities.access_community(handle)
    form = MemberForm()
    status = 422
    if form.validate_on_submit():
        try:
            person = accounts.access_user(form.username.data or "")
            communities.add_member(current_user, community, person)
        except ServiceError as error:
            _show_error(form, error)
            status = error.status_code
        else:
            flash(_("%(person)s is now a member of %(name)s.", person=person.name, name=community.name))
            return redirect_back()
    return _manage(community, member_form=form, status=status)


_MEMBER_ACTIONS = "<any(remove, 'make-admin', 'unmake-admin'):action>"


@bp.route(f"/@<handle>/members/<username>/{_MEMBER_ACTIONS}", methods=["POST"])
@login_required
def community_member_action(handle: str, username: str, action: str):
    """Remove a member, or make or unmake them an admin (the community's admins)."""
    community = communities.access_community(handle)
    person = accounts.access_user(username)
    if action == "remove":
        communities.remove_member(current_user, community, person)
        flash(_("%(person)s is no longer a member of %(name)s.", person=person.name, name=community.name))
    else:
        appoint = action == "make-admin"
        communities.set_community_admin(current_user, community, person, appoint)
        flash(
            _("%(person)s is now an admin of %(name)s.", person=person.name, name=community.name)
            if appoint
            else _("%(person)s is no longer an admin of %(name)s.", person=person.name, name=community.name)
        )
    return redirect_back()


@bp.route("/@<handle>/requests/<username>/<any(accept, refuse):action>", methods=["POST"])
@login_required
def community_request_action(handle: str, username: str, action: str):
    """Accept or refuse a request to join (the community's admins)."""
    community = communities.access_community(handle)
    if action == "accept":
        person = join_requests.accept_request(current_user, community, username)
        flash(_("%(person)s is now a member of %(name)s.", person=person.name, name=community.name))
    else:
        person = join_requests.refuse_request(current_user, community, username)
        flash(_("You refused %(person)s's request to join.", person=person.name))
    return redirect_back()


_COMMUNITY_ACTIONS = "<any(archive, reopen, official, unofficial, 'take-over'):action>"


@bp.route(f"/@<handle>/{_COMMUNITY_ACTIONS}", methods=["POST"])
@login_required
def community_action(handle: str, action: str):
    """Archive or reopen (its admins); mark official or not, take over (site administrators)."""
    community = communities.access_community(handle)
    if action in ("archive", "reopen"):
        archived = action == "archive"
        communities.set_archived(current_user, community, archived)
        flash(
            _("%(name)s is archived: it is read-only.", name=community.name)
            if archived
            else _("%(name)s is open again.", name=community.name)
        )
    elif action in ("official", "unofficial"):
        communities.set_official(current_user, community, action == "official")
        flash(
            _("%(name)s is now marked official.", name=community.name)
            if action == "official"
            else _("%(name)s is no longer marked official.", name=community.name)
        )
    else:
        username = (request.form.get("username") or "").strip()
        successor = accounts.access_user(username) if username else None
        admin = communities.take_over(current_user, community, successor)
        flash(
            _("You are now an admin of %(name)s.", name=community.name)
            if admin.id == current_user.id
            else _("%(person)s is now an admin of %(name)s.", person=admin.name, name=community.name)
        )
    return redirect_back()
