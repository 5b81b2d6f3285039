"""Forms of the web UI.  The rules live in the services; forms carry input and show their errors."""

from __future__ import annotations

from flask_wtf import FlaskForm
from wtforms import BooleanField, HiddenField, PasswordField, StringField, TextAreaField


class PostForm(FlaskForm):
    """The composer; services.posts.post_status applies the post rule."""

    text = TextAreaField("What are you working on?")
    in_reply_to = HiddenField()
    next = HiddenField()


class ButtonForm(FlaskForm):
    """A form with only a CSRF token and where to go back to (follow, like, delete ...)."""

    next = HiddenField()


class ProfileForm(FlaskForm):
    """Profile fields; lengths are checked by services.validation.check_profile."""

    display_name = StringField("Full name")
    job_title = StringField("Job title")
    department = StringField("Department")
    bio = TextAreaField("About you")


class PasswordForm(FlaskForm):
    """Change the password."""

    current_password = PasswordField("Current password")
    new_password = PasswordField("New password")


class TokenForm(FlaskForm):
    """Create a personal access token; services.tokens checks the name and scopes."""

    name = StringField("What is it for?")
    read = BooleanField("read: timelines, notifications, search", default=True)
    write = BooleanField("write: post, like, follow", default=True)
