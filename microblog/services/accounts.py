"""Accounts: sign-up, log-in checks, profiles, and what admins do to accounts."""

from __future__ import annotations

import secrets
from collections.abc import Sequence
from dataclasses import dataclass
from functools import cache

from flask_babel import gettext as _
from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError
from werkzeug.security import check_password_hash, generate_password_hash

from microblog import language
from microblog.database import db
from microblog.text import parse_id
from models import User
from models.user import PERSON

from . import ldap_login, sessions, tokens
from .errors import Conflict, NotFound, PermissionDenied, ValidationError
from .validation import check_email, check_password, check_profile, check_username, field_label


def create_user(
    username: str,
    email: str,
    password: str,
    *,
    display_name: str = "",
    is_admin: bool = False,
    allowed_domains: Sequence[str] = (),
) -> User:
    """Create an account; raise Conflict if the username or email is taken."""
    user = User(
        username=check_username(username),
        email=check_email(email, allowed_domains),
        is_admin=is_admin,
        **check_profile(display_name=display_name),
    )
    user.set_password(check_password(password))
    taken = db.session.scalar(
        select(User.username).where((User.username == user.username) | (User.email == user.email))
    )
    if taken is not None:
        field = "username" if taken == user.username else "email"
        message = (
            _("That username is already registered.")
            if field == "username"
            else _("That email is already registered.")
        )
        raise Conflict(message, field=field)
    db.session.add(user)
    try:
        db.session.commit()
    except IntegrityError:
        db.session.rollback()
        raise Conflict(_("That username or email is already registered.")) from None
    return user


def authenticate(login: str, password: str) -> User:
    """Return the active user with this username or email and password, or raise.

    A local account's own password counts while local passwords are on; an account
    from the company directory (directory_dn set) logs in through the directory only.
    With a directory configured, a login the local accounts do not settle is tried
    there, which creates, adopts or refreshes the account (ldap_login.log_in_with_directory).
    """
    login = (login or "").strip().lower()
    password = password or ""
    user = db.session.scalar(select(User).where((User.username == login.lstrip("@")) | (User.email == login)))
    local = user is not None and user.directory_dn is None and ldap_login.local_passwords_allowed()
    if local and user is not None and user.password_hash:
        matches = user.check_password(password)
    else:
        # The same scrypt work for a name that is unknown (or has no local password), so the
        # answer's timing does not tell which names exist.
        check_password_hash(_unmatchable_hash(), password)
        matches = False
    if matches and user is not None:
        return _active(user)
    settings = ldap_login.configured_directory()
    if settings is not None:
        # A directory account may log in with its email too: the directory knows it by its username.
        name = user.username if user is not None and user.directory_dn else login.lstrip("@")
        found = ldap_login.log_in_with_directory(settings, name, password)
        if found is not None:
            return _active(found)
    raise ValidationError(_("Wrong username or password."))


@cache
def _unmatchable_hash() -> str:
    """Return a scrypt hash made like every stored one, of a password no one can type."""
    return generate_password_hash(secrets.token_hex(32), method="scrypt")


def _active(user: User) -> User:
    if not user.is_active:
        raise PermissionDenied(_("This account has been deactivated. Ask an administrator."))
    return user


def update_profile(user: User, **fields: str) -> User:
    """Change the user's display name, job title, department or bio (a person's own; not a team's)."""
    if user.is_team:  # a team token's holder is any member: the profile is the leads' (its team page)
        raise PermissionDenied(
            _("A team account's name and description are changed by its leads, on its page.")
        )
    cleaned = check_profile(**fields)
    if user.directory_dn is not None and ldap_login.configured_directory() is not None:
        for key in ldap_login.PROFILE_FIELDS:
            if key in cleaned and cleaned[key] != getattr(user, key):
                raise ValidationError(
                    _(
                        "Your %(field)s comes from the company directory; it changes there.",
                        field=field_label(key).lower(),
                    ),
                    field=key,
                )
    for key, value in cleaned.items():
        setattr(user, key, value)
    db.session.commit()
    return user


def update_preferences(user: User, *, locale: str, timezone: str) -> User:
    """Set the interface language and time zone the person chose ("" for the defaults)."""
    try:
        chosen_locale = language.check_locale(locale)
    except ValueError:
        raise ValidationError(
            _(
                "Choose a language the interface speaks: one of %(choices)s.",
                choices=", ".join(language.LOCALES),
            ),
            field="locale",
        ) from None
    try:
        chosen_zone = language.check_time_zone(timezone)
    except ValueError:
        raise ValidationError(
            _("Choose a time zone from the list, like Europe/Oslo."), field="timezone"
        ) from None
    user.locale = chosen_locale or None
    user.timezone = chosen_zone or None
    db.session.commit()
    return user


def change_password(user: User, current: str, new: str, *, revoke_tokens: bool = False) -> None:
    """Replace the user's password after checking the current one; end all sessions.

    Access tokens stay unless revoke_tokens says otherwise: a routine change should not stop
    the person's bots, while someone who suspects a breach wants every door closed.
    """
    if user.directory_dn is not None:
        raise PermissionDenied(
            _("You log in with your company account: change its password there, not here.")
        )
    if not user.check_password(current or ""):
        raise ValidationError(_("The current password is wrong."), field="current_password")
    user.set_password(check_password(new))
    sessions.end_sessions(user)  # a stolen session or cookie dies with the old password
    if revoke_tokens:
        tokens.revoke_all_tokens(user)
    db.session.commit()


def access_user(username: str) -> User:
    """Return the user with this username, or raise NotFound."""
    user = db.session.scalar(select(User).where(User.username == (username or "").lower()))
    if user is None:
        raise NotFound(_("There is no one called @%(username)s here.", username=username))
    return user


def access_user_id(user_id: int | str) -> User:
    """Return the user with this id (as API clients name accounts), or raise NotFound."""
    uid = parse_id(user_id)
    user = db.session.get(User, uid) if uid and uid < 2**31 else None
    if user is None:
        raise NotFound(_("No such account."))
    return user


def _check_admin(actor: User, target: User) -> None:
    if not actor.is_admin:
        raise PermissionDenied(_("Only administrators can do that."))
    if target.is_community:
        raise ValidationError(
            _("@%(name)s is a community: its admins run it (see its page).", name=target.username)
        )
    if target.is_team:
        raise ValidationError(
            _(
                "@%(name)s is a team account: manage it under Administration → Team accounts.",
                name=target.username,
            )
        )
    if actor.id == target.id:
        raise PermissionDenied(_("Administrators cannot change their own account this way."))


def set_active(actor: User, username: str, active: bool) -> User:
    """Deactivate (ending their sessions) or reactivate a user; admins only."""
    target = access_user(username)
    _check_admin(actor, target)
    target.is_active = active
    if not active:
        sessions.end_sessions(target)
    db.session.commit()
    return target


def set_admin(actor: User, username: str, admin: bool) -> User:
    """Grant or revoke administrator rights; admins only."""
    target = access_user(username)
    _check_admin(actor, target)
    target.is_admin = admin
    db.session.commit()
    return target


@dataclass(frozen=True)
class SiteCounts:
    """How many people and posts the site has."""

    users: int
    posts: int


def site_counts() -> SiteCounts:
    """Return the number of people and of (public) posts, from the per-person counters (one cheap query)."""
    users, posts = db.session.execute(
        select(func.count(), func.coalesce(func.sum(User.posts_count), 0)).where(User.kind == PERSON)
    ).one()
    return SiteCounts(users, posts)


def count_users() -> int:
    """Return how many people have accounts (communities are not counted)."""
    return db.session.scalar(select(func.count()).select_from(User).where(User.kind == PERSON)) or 0
