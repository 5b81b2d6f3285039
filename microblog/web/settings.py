"""Settings: profile and password."""

from __future__ import annotations

import flask_babel
from flask import current_app, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required
from wtforms.fields.choices import SelectChoice

from microblog import language
from microblog.extensions import limiter
from microblog.services import accounts, team_desk, tokens
from microblog.services.errors import ServiceError

from . import bp
from .forms import PasswordForm, PreferencesForm, ProfileForm, TeamTokenForm, TokenForm
from .helpers import log_in, show_error


@bp.route("/settings", methods=["GET", "POST"])
@login_required
def settings():
    """Edit the profile; the password form posts to its own route."""
    form = ProfileForm(obj=current_user)
    status = 200
    if form.validate_on_submit():
        try:
            accounts.update_profile(
                current_user,
                display_name=form.display_name.data,
                job_title=form.job_title.data,
                department=form.department.data,
                bio=form.bio.data,
            )
        except ServiceError as error:
            show_error(form, error)
            status = error.status_code
        else:
            flash(_("Profile saved."))
            return redirect(url_for("web.settings"))
    elif form.is_submitted():
        status = 422
    return render_template(
        "settings/profile.html",
        form=form,
        password_form=PasswordForm(formdata=None),
        preferences_form=_preferences_form(formdata=None),
        title=_("Settings"),
    ), status


def _preferences_form(**kwargs) -> PreferencesForm:
    form = PreferencesForm(locale=current_user.locale or "", timezone=current_user.timezone or "", **kwargs)
    form.locale.choices = [
        SelectChoice("", _("The browser's language")),
        SelectChoice("en", "English"),
        SelectChoice("nb", "Norsk bokmål"),
    ]
    default_zone = current_app.config["TIMEZONE"]
    form.timezone.choices = [SelectChoice("", _("The company's (%(zone)s)", zone=default_zone))] + [
        SelectChoice(zone, zone.replace("_", " ")) for zone in language.time_zones()
    ]
    return form


@bp.route("/settings/preferences", methods=["POST"])
@login_required
def preferences():
    """Choose the interface's language and time zone."""
    form = _preferences_form()
    if form.validate_on_submit():
        try:
            accounts.update_preferences(current_user, locale=form.locale.data, timezone=form.timezone.data)
        except ServiceError as error:
            flash(error.message)
        else:
            flask_babel.refresh()  # the message in the language just chosen
            flash(_("Language and time zone saved."))
    return redirect(url_for("web.settings"))


def _password_attempts_key() -> str:
    # Per person: a stolen session cannot guess the current password from many addresses.
    return f"password:{current_user.id}" if current_user.is_authenticated else f"ip:{request.remote_addr}"


@bp.route("/settings/password", methods=["POST"])
@login_required
# Attempts count as log-ins do (MICROBLOG_LOGIN_RATE_LIMIT), each when it arrives: counting
# only the wrong ones, after the answer, let parallel guesses through.
@limiter.limit(lambda: current_app.config["LOGIN_RATE_LIMIT"], key_func=_password_attempts_key)
def change_password():
    """Change the password."""
    form = PasswordForm()
    try:
        accounts.change_password(
            current_user,
            form.current_password.data,
            form.new_password.data,
            revoke_tokens=bool(form.revoke_tokens.data),
        )
    except ServiceError as error:
        show_error(form, error)
        return render_template(
            "settings/profile.html",
            form=ProfileForm(formdata=None, obj=current_user),
            password_form=form,
            preferences_form=_preferences_form(formdata=None),
            title=_("Settings"),
        ), error.status_code
    # The change ended every log-in, this one included: sign this browser in again.
    log_in(current_user._get_current_object(), remember=bool(request.cookies.get("remember_token")))
    if form.revoke_tokens.data:
        flash(
            _(
                "Password changed. Other browsers and devices are logged out, "
                "and every app and token is revoked."
            )
        )
    else:
        flash(_("Password changed. Other browsers and devices are logged out."))
    return redirect(url_for("web.settings"))


def _tokens_page(
    form: TokenForm,
    *,
    new_token: str | None = None,
    status: int = 200,
    team_form: tuple[str, TeamTokenForm] | None = None,
    new_team_token: tuple[str, str] | None = None,
):
    """Render the tokens page; team_form and new_team_token are (team handle, form or token value)."""
    led = team_desk.led_teams_tokens(current_user)
    team_forms = {}
    for entry in led:
        handle = entry.team.username
        team_forms[handle] = (
            team_form[1] if team_form and team_form[0] == handle else TeamTokenForm(formdata=None)
        )
    return render_template(
        "settings/tokens.html",
        form=form,
        new_token=new_token,
        personal=tokens.personal_tokens(current_user),
        apps=tokens.authorized_apps(current_user),
        led_teams=led,
        team_forms=team_forms,
        new_team_token=new_team_token,
        title=_("Apps and tokens"),
    ), status


@bp.route("/settings/tokens", methods=["GET", "POST"])
@login_required
def tokens_settings():
    """List personal access tokens and authorized apps; create a token (shown once)."""
    form = TokenForm()
    if not form.validate_on_submit():
        return _tokens_page(form, status=422 if form.is_submitted() else 200)
    scopes = [scope for scope in ("read", "write") if getattr(form, scope).data]
    try:
        _, value = tokens.create_personal_token(current_user, form.name.data, scopes)
    except ServiceError as error:
        show_error(form, error)
        return _tokens_page(form, status=error.status_code)
    # Shown on this response only: the server keeps a digest, never the token.
    return _tokens_page(TokenForm(formdata=None), new_token=value)


@bp.route("/settings/tokens/<int:token_id>/revoke", methods=["POST"])
@login_required
def revoke_token(token_id: int):
    """Revoke a personal access token or an app's access."""
    tokens.revoke_token(current_user, token_id)
    flash(_("Access revoked."))
    return redirect(url_for("web.tokens_settings"))


@bp.route("/settings/tokens/teams/<handle>", methods=["POST"])
@login_required
def issue_team_token(handle: str):
    """Issue a token to a team, acting for the lead who asks; shown once."""
    form = TeamTokenForm()
    if not form.validate_on_submit():
        return _tokens_page(TokenForm(formdata=None), team_form=(handle, form), status=422)
    scopes = [scope for scope in ("read", "write") if getattr(form, scope).data]
    try:
        _, value = team_desk.issue_team_token(current_user, handle, scopes, form.name.data)
    except ServiceError as error:
        if error.status_code in (403, 404):
            raise
        show_error(form, error)
        return _tokens_page(TokenForm(formdata=None), team_form=(handle, form), status=error.status_code)
    # Shown on this response only, as a personal token is.
    return _tokens_page(TokenForm(formdata=None), new_team_token=(handle, value))


@bp.route("/settings/tokens/teams/<handle>/<int:token_id>/revoke", methods=["POST"])
@login_required
def revoke_team_token(handle: str, token_id: int):
    """Revoke one of a team's tokens (the team's leads)."""
    team = team_desk.revoke_team_token(current_user, handle, token_id)
    flash(_("The token of @%(team)s is revoked.", team=team.username))
    return redirect(url_for("web.tokens_settings", _anchor=f"team-{team.username}"))
