"""Forms of the web UI.  The rules live in the services; forms carry input and show their errors."""

from __future__ import annotations

from typing import Any

from flask import request
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import (
    BooleanField,
    HiddenField,
    PasswordField,
    RadioField,
    SelectField,
    StringField,
    TextAreaField,
)
from wtforms.fields.choices import SelectChoice

from microblog.services.errors import ServiceError


class NotAForm(ServiceError):
    """A web form was sent something other than form fields (HTTP 415)."""

    status_code = 415


class Form(FlaskForm):
    """A web form: its fields come from the form body only, and so are always text.

    FlaskForm would also read a JSON body, where a field may be an object or a list.
    """

    class Meta(FlaskForm.Meta):
        def wrap_formdata(self, form: Any, formdata: Any) -> Any:
            """Read no fields from a JSON body (forms are also built to render error pages)."""
            return None if request.is_json else super().wrap_formdata(form, formdata)

    def validate(self, extra_validators: Any = None) -> bool:
        """Refuse a submitted JSON body: the JSON API is the place for JSON."""
        if request.is_json:
            raise NotAForm(_("This page takes form fields; JSON goes to the API at /api/v1."))
        return super().validate(extra_validators)


class PostForm(Form):
    """The composer; services.posts.post_status applies the post rule."""

    text = TextAreaField(_l("What are you working on?"))
    in_reply_to = HiddenField()
    next = HiddenField()
    # Yourself (empty) or the handle of a team you are on; the choices come from services.teams.teams_of.
    post_as = SelectField(_l("Post as"), choices=[], validate_choice=False)
    question = BooleanField(_l("This is a question"))


class EditForm(Form):
    """A post's new text; services.editing.edit_post applies the post rule."""

    text = TextAreaField(_l("Text"))
    next = HiddenField()


class ButtonForm(Form):
    """A form with only a CSRF token and where to go back to (follow, like, delete ...)."""

    next = HiddenField()


class ProfileForm(Form):
    """Profile fields; lengths are checked by services.validation.check_profile."""

    display_name = StringField(_l("Full name"))
    job_title = StringField(_l("Job title"))
    department = StringField(_l("Department"))
    bio = TextAreaField(_l("About you"))


class PreferencesForm(Form):
    """The interface's language and time zone; the choices are filled in by the view."""

    locale = SelectField(_l("Language"), choices=[], validate_choice=False)
    timezone = SelectField(_l("Time zone"), choices=[], validate_choice=False)


class PasswordForm(Form):
    """Change the password."""

    current_password = PasswordField(_l("Current password"), render_kw={"autocomplete": "current-password"})
    new_password = PasswordField(_l("New password"), render_kw={"autocomplete": "new-password"})
    # Off by default: a CI bot's token should survive a routine change; on after a suspected breach.
    revoke_tokens = BooleanField(
        _l("Also revoke every app and access token (bots stop until given a new one)")
    )


class TokenForm(Form):
    """Create a personal access token; services.tokens checks the name and scopes."""

    name = StringField(_l("What is it for?"))
    read = BooleanField(_l("read: timelines, notifications, search"), default=True)
    write = BooleanField(_l("write: post, like, follow"), default=True)


class CommunityForm(Form):
    """Create a community; services.communities.create_community checks the handle and the name."""

    handle = StringField(_l("Handle"), render_kw={"autocomplete": "off", "spellcheck": "false"})
    name = StringField(_l("Name"))
    description = TextAreaField(_l("Description"))
    # Chosen once: what members wrote for members only stays so (see update_community).
    visibility = RadioField(
        _l("Who can read it"),
        choices=[
            SelectChoice("public", _l("Public: everyone in the company can read and join it")),
            SelectChoice("private", _l("Private: people ask to join; its posts are for its members only")),
        ],
        default="public",
    )


class CommunityEditForm(Form):
    """A community's name and description (its admins)."""

    name = StringField(_l("Name"))
    description = TextAreaField(_l("Description"))


class MemberForm(Form):
    """Add a person to a community by username (its admins)."""

    username = StringField(_l("Username"))
    next = HiddenField()


class TeamForm(Form):
    """Create a team account (site administrators); services.teams checks handle, name and people."""

    handle = StringField(_l("Handle"), render_kw={"autocomplete": "off", "spellcheck": "false"})
    name = StringField(_l("Name"))
    description = TextAreaField(_l("Description"))
    members = StringField(_l("Members (usernames)"), render_kw={"autocomplete": "off", "spellcheck": "false"})
    leads = StringField(_l("Leads (usernames)"), render_kw={"autocomplete": "off", "spellcheck": "false"})


class TeamEditForm(Form):
    """A team account's name and description (its leads and site administrators)."""

    name = StringField(_l("Name"))
    description = TextAreaField(_l("Description"))


class TeamTokenForm(Form):
    """Issue a team token acting for the lead who fills it in."""

    name = StringField(_l("What is it for?"))
    read = BooleanField(_l("read: timelines, notifications, search"), default=True)
    write = BooleanField(_l("write: post, like, follow"), default=True)
