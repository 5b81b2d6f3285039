"""Accounts: sign-up, log-in checks, profiles, and what admins do to accounts."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from email_validator import EmailNotValidError, validate_email
from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError

import realtime
from microblog.extensions import db
from microblog.text import UNPRINTABLE, USERNAME_RE, parse_id
from models import User
from models.user import USERNAME_MAX

from . import directory
from .errors import Conflict, NotFound, PermissionDenied, ValidationError
from .transaction import on_commit

PASSWORD_MIN = 8
PROFILE_LIMITS = {"display_name": 60, "job_title": 80, "department": 80, "bio": 300}


def check_username(username: str) -> str:
    """Return the username in stored form, or raise ValidationError."""
    name = (username or "").strip().lstrip("@").lower()
    if len(name) < 2 or len(name) > USERNAME_MAX or not USERNAME_RE.fullmatch(name):
        raise ValidationError(
            "Usernames are 2-30 characters: letters a-z, digits, '.', '_' or '-', "
            "starting and ending with a letter, digit or '_'.",
            field="username",
        )
    return name


def check_email(email: str, allowed_domains: Sequence[str] = ()) -> str:
    """Return the normalized email address, or raise ValidationError."""
    try:
        address = validate_email((email or "").strip(), check_deliverability=False).normalized
    except EmailNotValidError as exc:
        raise ValidationError(f"That email address is not valid: {exc}", field="email") from None
    domain = address.rsplit("@", 1)[1].lower()
    if allowed_domains and domain not in allowed_domains:
        raise ValidationError(
            "Sign-up is open to company addresses only (" + ", ".join(allowed_domains) + ").",
            field="email",
        )
    return address.lower()


def check_password(password: str) -> str:
    """Return the password if it is acceptable, or raise ValidationError."""
    if len(password or "") < PASSWORD_MIN:
        raise ValidationError(f"Passwords need at least {PASSWORD_MIN} characters.", field="password")
    return password


def check_profile(**fields: str) -> dict[str, str]:
    """Return profile fields stripped and within their limits, or raise ValidationError."""
    cleaned = {}
    for key, value in fields.items():
        if key not in PROFILE_LIMITS:
            raise ValidationError(f"Unknown profile field {key!r}.", field=key)
        value = value or ""
        if UNPRINTABLE.search(value.replace("\r\n", "\n").replace("\n", "") if key == "bio" else value):
            raise ValidationError("Use plain text: control characters are not allowed here.", field=key)
        value = " ".join(value.split()) if key != "bio" else value.replace("\r\n", "\n").strip()
        if len(value) > PROFILE_LIMITS[key]:
            raise ValidationError(
                f"{key.replace('_', ' ').capitalize()} is at most {PROFILE_LIMITS[key]} characters.",
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
        raise Conflict(f"That {field} is already registered.", field=field)
    db.session.add(user)
    try:
        db.session.commit()
    except IntegrityError:
        db.session.rollback()
        raise Conflict("That username or email is already registered.") from None
    return user


def authenticate(login: str, password: str) -> User:
    """Return the active user with this username or email and password, or raise.

    A local account's own password counts while local passwords are on; an account
    from the company directory (directory_dn set) logs in through the directory only.
    With a directory configured, a login the local accounts do not settle is tried
    there, which creates, adopts or refreshes the account (directory.log_in_with_directory).
    """
    login = (login or "").strip().lower()
    password = password or ""
    user = db.session.scalar(select(User).where((User.username == login.lstrip("@")) | (User.email == login)))
    local = user is not None and user.directory_dn is None and directory.local_passwords_allowed()
    if local and user is not None and user.check_password(password):
        return _active(user)
    settings = directory.configured_directory()
    if settings is not None:
        # A directory account may log in with its email too: the directory knows it by its username.
        name = user.username if user is not None and user.directory_dn else login.lstrip("@")
        found = directory.log_in_with_directory(settings, name, password)
        if found is not None:
            return _active(found)
    raise ValidationError("Wrong username or password.")


def _active(user: User) -> User:
    if not user.is_active:
        raise PermissionDenied("This account has been deactivated. Ask an administrator.")
    return user


def update_profile(user: User, **fields: str) -> User:
    """Change the user's display name, job title, department or bio."""
    cleaned = check_profile(**fields)
    if user.directory_dn is not None and directory.configured_directory() is not None:
        for key in directory.PROFILE_FIELDS:
            if key in cleaned and cleaned[key] != getattr(user, key):
                raise ValidationError(
                    f"Your {key.replace('_', ' ')} comes from the company directory; it changes there.",
                    field=key,
                )
    for key, value in cleaned.items():
        setattr(user, key, value)
    db.session.commit()
    return user


def change_password(user: User, current: str, new: str) -> None:
    """Replace the user's password after checking the current one; end all other sessions."""
    if user.directory_dn is not None:
        raise PermissionDenied("You log in with your company account: change its password there, not here.")
    if not user.check_password(current or ""):
        raise ValidationError("The current password is wrong.", field="current_password")
    user.set_password(check_password(new))
    user.end_sessions()  # a stolen session or cookie dies with the old password
    user_id = user.id
    on_commit(lambda: realtime.end_sessions(user_id))
    db.session.commit()


def access_user(username: str) -> User:
    """Return the user with this username, or raise NotFound."""
    user = db.session.scalar(select(User).where(User.username == (username or "").lower()))
    if user is None:
        raise NotFound(f"There is no one called @{username} here.")
    return user


def access_user_id(user_id: int | str) -> User:
    """Return the user with this id (as API clients name accounts), or raise NotFound."""
    uid = parse_id(user_id)
    user = db.session.get(User, uid) if uid and uid < 2**31 else None
    if user is None:
        raise NotFound("No such account.")
    return user


def _check_admin(actor: User, target: User) -> None:
    if not actor.is_admin:
        raise PermissionDenied("Only administrators can do that.")
    if actor.id == target.id:
        raise PermissionDenied("Administrators cannot change their own account this way.")


def set_active(actor: User, username: str, active: bool) -> User:
    """Deactivate (ending their sessions) or reactivate a user; admins only."""
    target = access_user(username)
    _check_admin(actor, target)
    target.is_active = active
    if not active:
        target.end_sessions()
        target_id = target.id
        on_commit(lambda: realtime.end_sessions(target_id))
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
    """Return the number of accounts and of posts, from the per-user counters (one cheap query)."""
    users, posts = db.session.execute(
        select(func.count(), func.coalesce(func.sum(User.posts_count), 0))
    ).one()
    return SiteCounts(users, posts)


def count_users() -> int:
    """Return how many accounts exist."""
    return db.session.scalar(select(func.count()).select_from(User)) or 0


def end_browser_login(login: str | None) -> None:
    """Disconnect the live connections of one browser's login (it logged out)."""
    if login:
        realtime.end_login(login)
