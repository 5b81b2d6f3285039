"""The rules a post's text and an account's fields follow, shared by the web, the API, the CLI and
directory log-in.

A leaf of the service layer: it imports no other service, so that every
service that takes such data (posts, accounts, ldap_login) checks it the same way.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from email_validator import EmailNotValidError, validate_email
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l

from microblog.text import (
    MAX_POST_LENGTH,
    UNPRINTABLE,
    USERNAME_RE,
    normalize_text,
    post_length,
    post_problem,
)
from models.user import USERNAME_MAX

from .errors import ValidationError

PASSWORD_MIN = 8
PROFILE_LIMITS = {"display_name": 60, "job_title": 80, "department": 80, "bio": 300}
_FIELD_LABELS = {
    "display_name": _l("Full name"),
    "job_title": _l("Job title"),
    "department": _l("Department"),
    "bio": _l("About you"),
}


def field_label(key: str, labels: Mapping[str, object] | None = None) -> str:
    """Return the name people read for a profile field, in their language ("Full name").

    `labels` names fields the caller's own way (a community's "Name" and "Description").
    """
    label = (labels or {}).get(key) or _FIELD_LABELS.get(key)
    return str(label) if label is not None else key.replace("_", " ").capitalize()


def check_post_text(text: str) -> str:
    """Validate a status text and return its normalized form, or raise ValidationError."""
    problem = post_problem(text)
    if problem == "empty":
        raise ValidationError(_("Write something first: a post cannot be empty."), field="text")
    if problem == "control":
        raise ValidationError(_("The post contains control characters."), field="text")
    if problem == "length":
        raise ValidationError(
            _(
                "Posts are at most %(max)s characters; this one has %(length)s.",
                max=MAX_POST_LENGTH,
                length=post_length(text),
            ),
            field="text",
        )
    return normalize_text(text)


def check_plain(value: str, field: str) -> str:
    """Return value if it holds no control or bidi override character, or raise ValidationError."""
    if UNPRINTABLE.search(value):
        raise ValidationError(_("Use plain text: control characters are not allowed here."), field=field)
    return value


def check_username(username: str) -> str:
    """Return the username in stored form, or raise ValidationError."""
    name = (username or "").strip().lstrip("@").lower()
    if len(name) < 2 or len(name) > USERNAME_MAX or not USERNAME_RE.fullmatch(name):
        raise ValidationError(
            _(
                "Usernames are 2-30 characters: letters a-z, digits, '.', '_' or '-', "
                "starting and ending with a letter, digit or '_'."
            ),
            field="username",
        )
    return name


def check_email(email: str, allowed_domains: Sequence[str] = ()) -> str:
    """Return the normalized email address, or raise ValidationError."""
    try:
        address = validate_email((email or "").strip(), check_deliverability=False).normalized
    except EmailNotValidError:
        raise ValidationError(_("That email address is not valid."), field="email") from None
    domain = address.rsplit("@", 1)[1].lower()
    if allowed_domains and domain not in allowed_domains:
        raise ValidationError(
            _("Sign-up is open to company addresses only (%(domains)s).", domains=", ".join(allowed_domains)),
            field="email",
        )
    return address.lower()


def check_password(password: str) -> str:
    """Return the password if it is acceptable, or raise ValidationError."""
    if len(password or "") < PASSWORD_MIN:
        raise ValidationError(
            _("Passwords need at least %(min)s characters.", min=PASSWORD_MIN), field="password"
        )
    return password


def check_profile(labels: Mapping[str, object] | None = None, /, **fields: str) -> dict[str, str]:
    """Return profile fields stripped and within their limits, or raise ValidationError naming `labels`."""
    cleaned = {}
    for key, value in fields.items():
        if key not in PROFILE_LIMITS:
            raise ValidationError(_("Unknown profile field %(field)s.", field=repr(key)), field=key)
        value = value or ""
        # A bio may hold line breaks; nothing else may hold any control character.
        check_plain(value.replace("\r\n", "").replace("\n", "") if key == "bio" else value, key)
        value = " ".join(value.split()) if key != "bio" else value.replace("\r\n", "\n").strip()
        if len(value) > PROFILE_LIMITS[key]:
            raise ValidationError(
                _(
                    "%(field)s is at most %(max)s characters.",
                    field=field_label(key, labels),
                    max=PROFILE_LIMITS[key],
                ),
                field=key,
            )
        cleaned[key] = value
    return cleaned


def fit_profile(**fields: str) -> dict[str, str]:
    """Return one-line profile fields from elsewhere (the directory) as plain text cut to the limits."""
    fitted = {}
    for key, value in fields.items():
        value = UNPRINTABLE.sub("", " ".join((value or "").split()))  # tabs and newlines become spaces
        fitted[key] = value[: PROFILE_LIMITS.get(key, len(value))].rstrip()
    return check_profile(**fitted)
