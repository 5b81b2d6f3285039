"""Forms of the web UI.  Rules come from the services; forms only carry and show them."""

from __future__ import annotations

from flask_wtf import FlaskForm
from wtforms import HiddenField, PasswordField, StringField, TextAreaField
from wtforms.validators import Length
from wtforms.validators import ValidationError as FieldError

from microblog.services.errors import ValidationError
from microblog.text import check_post_text


def _post_rule(form: FlaskForm, field: TextAreaField) -> None:
    try:
        check_post_text(field.data or "")
    except ValidationError as error:
        raise FieldError(error.message) from None


class PostForm(FlaskForm):
    """The composer: the same rule as the API and the live counter."""

    text = TextAreaField("What are you working on?", validators=[_post_rule])
    in_reply_to = HiddenField()
    next = HiddenField()


class ButtonForm(FlaskForm):
    """A form with only a CSRF token and where to go back to (follow, like, delete ...)."""

    next = HiddenField()


class ProfileForm(FlaskForm):
    """Profile fields; lengths are checked by services.accounts.check_profile."""

    display_name = StringField("Full name", validators=[Length(max=60)])
    job_title = StringField("Job title", validators=[Length(max=80)])
    department = StringField("Department", validators=[Length(max=80)])
    bio = TextAreaField("About you", validators=[Length(max=300)])


class PasswordForm(FlaskForm):
    """Change the password."""

    current_password = PasswordField("Current password")
    new_password = PasswordField("New password")
