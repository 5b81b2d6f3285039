"""The company directory (LDAP / Active Directory): log in through it, keep accounts in step with it.

An account with `directory_dn` set comes from the directory: it has no local
password, and its display name, email, title and department are the entry's,
refreshed at every log-in and by `flask users sync-directory`.  The configured
search filter decides who may log in, so a person removed from the directory or
filtered out (disabled) cannot.  Neither the service account's password nor a
person's password is ever logged or put in an error message.
"""

from __future__ import annotations

import logging
import math
import ssl
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

import ldap3
from flask import current_app
from flask_babel import gettext as _
from ldap3.core.exceptions import (
    LDAPCommunicationError,
    LDAPException,
    LDAPResponseTimeoutError,
    LDAPStartTLSError,
)
from ldap3.utils.conv import escape_filter_chars
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from microblog.database import db
from models import User

from .errors import Conflict, PermissionDenied, ServiceError, Unavailable, ValidationError
from .sessions import end_sessions
from .validation import check_email, check_username, fit_profile

log = logging.getLogger(__name__)

PROFILE_FIELDS = ("display_name", "job_title", "department")
DN_MAX = 512  # users.directory_dn
_UNREACHABLE = (LDAPCommunicationError, LDAPStartTLSError, LDAPResponseTimeoutError)
_RESULT_SUCCESS, _RESULT_SIZE_LIMIT_EXCEEDED, _RESULT_NO_SUCH_OBJECT = 0, 4, 32
_MISCONFIGURED = "microblog's directory settings do not work; tell an administrator."
_UNREACHABLE_MESSAGE = "The company directory cannot be reached. Try again in a minute."


class DirectoryUnavailable(Unavailable):
    """The company directory cannot be reached or refuses microblog's own account (HTTP 503)."""

    def __init__(self, message: str = _UNREACHABLE_MESSAGE) -> None:
        super().__init__(message)


@dataclass(frozen=True)
class DirectorySettings:
    """Where the directory is and how to find people in it (config.py's LDAP_* settings)."""

    url: str
    user_base: str
    user_filter: str
    attributes: Mapping[str, str]
    bind_dn: str | None = None
    bind_password: str | None = field(default=None, repr=False)  # never in a repr, so never in a log
    start_tls: bool = False
    ca_file: str | None = None
    timeout: float = 5.0

    @classmethod
    def from_config(cls, config: Mapping[str, Any]) -> DirectorySettings | None:
        """Return the settings of a configuration, or None if it names no directory."""
        if not config.get("LDAP_URL"):
            return None
        return cls(
            # ldap3 reads "ldap://host:389/" as a port of "389/".
            url=config["LDAP_URL"].strip().rstrip("/"),
            user_base=config.get("LDAP_USER_BASE") or "",
            user_filter=config.get("LDAP_USER_FILTER") or "(uid={username})",
            attributes=dict(config["LDAP_ATTRIBUTES"]),
            bind_dn=config.get("LDAP_BIND_DN") or None,
            bind_password=config.get("LDAP_BIND_PASSWORD") or None,
            start_tls=bool(config.get("LDAP_START_TLS")),
            ca_file=config.get("LDAP_CA_FILE") or None,
            timeout=float(config.get("LDAP_TIMEOUT") or 5),
        )


def configured_directory() -> DirectorySettings | None:
    """Return the app's directory settings, or None if log-in through a directory is off."""
    return DirectorySettings.from_config(current_app.config)


def local_passwords_allowed() -> bool:
    """Return whether local accounts may log in with a microblog password (MICROBLOG_LOCAL_PASSWORDS)."""
    return bool(current_app.config.get("LOCAL_PASSWORDS", True))


@dataclass(frozen=True)
class DirectoryPerson:
    """A person's directory entry, read through the attribute mapping (values as the directory has them)."""

    dn: str
    username: str
    email: str
    profile: dict[str, str]


def _seconds(settings: DirectorySettings) -> int:
    return max(1, math.ceil(settings.timeout))  # ldap3 packs its receive timeout as whole seconds


def _server(settings: DirectorySettings) -> ldap3.Server:
    tls = None
    if settings.start_tls or settings.ca_file or settings.url.lower().startswith("ldaps:"):
        # ldap3's own default is not to check the certificate at all.
        tls = ldap3.Tls(validate=ssl.CERT_REQUIRED, ca_certs_file=settings.ca_file)
    return ldap3.Server(settings.url, connect_timeout=settings.timeout, tls=tls, get_info=ldap3.NONE)


def _unavailable(settings: DirectorySettings, error: LDAPException) -> DirectoryUnavailable:
    log.warning("directory %s unreachable: %s: %s", settings.url, type(error).__name__, error)
    return DirectoryUnavailable()


@contextmanager
def _connection(
    settings: DirectorySettings, dn: str | None, password: str | None
) -> Iterator[ldap3.Connection]:
    """Open a connection (StartTLS first when configured), not yet bound; close it afterwards."""
    conn = ldap3.Connection(
        _server(settings),
        user=dn,
        password=password,
        read_only=True,
        receive_timeout=_seconds(settings),
        raise_exceptions=False,
        auto_referrals=False,
    )
    try:
        conn.open()
        if settings.start_tls and not settings.url.lower().startswith("ldaps:") and not conn.start_tls():
            raise LDAPStartTLSError(f"StartTLS refused: {conn.result.get('description')}")
    except LDAPException as error:
        raise _unavailable(settings, error) from None
    try:
        yield conn
    finally:
        try:
            conn.unbind()
        except LDAPException:
            pass  # closing a connection the server already dropped


def _bind(settings: DirectorySettings, conn: ldap3.Connection) -> bool:
    """Bind with the connection's credentials; return whether the directory accepted them."""
    try:
        return bool(conn.bind())
    except _UNREACHABLE as error:
        raise _unavailable(settings, error) from None
    except LDAPException:  # e.g. a DN the server cannot parse: not a valid login either
        return False


@contextmanager
def _service_connection(settings: DirectorySettings) -> Iterator[ldap3.Connection]:
    """Yield a connection bound as microblog's service account (anonymous without a bind DN)."""
    with _connection(settings, settings.bind_dn, settings.bind_password) as conn:
        if settings.bind_dn and not settings.bind_password:
            log.error("MICROBLOG_LDAP_BIND_DN is set but MICROBLOG_LDAP_BIND_PASSWORD is not")
            raise DirectoryUnavailable(_MISCONFIGURED)
        if not _bind(settings, conn):
            log.error(
                "directory %s refused the bind as %s: %s",
                settings.url,
                settings.bind_dn or "anonymous",
                conn.result.get("description") if conn.result else "no answer",
            )
            raise DirectoryUnavailable(
                "The company directory refused microblog's account; tell an administrator."
            )
        yield conn


def _search(settings: DirectorySettings, conn: ldap3.Connection, search_filter: str, *, paged: bool) -> list:
    """Return the entries the filter finds under the user base (a missing base finds none)."""
    attributes = sorted({name for name in settings.attributes.values() if name})
    base, scope = settings.user_base, ldap3.SUBTREE
    try:
        if paged:
            pages = conn.extend.standard.paged_search(base, search_filter, scope, attributes=attributes)
            response = list(pages)
        else:  # two are enough to know that a login name is ambiguous
            conn.search(
                base, search_filter, scope, attributes=attributes, size_limit=2, time_limit=_seconds(settings)
            )
            response = conn.response or []
    except _UNREACHABLE as error:
        raise _unavailable(settings, error) from None
    except LDAPException as error:  # a filter that does not parse: the configuration's fault
        log.error(
            "directory search with MICROBLOG_LDAP_USER_FILTER %r failed: %s", settings.user_filter, error
        )
        raise DirectoryUnavailable(_MISCONFIGURED) from None
    result = conn.result or {}
    if result.get("result") == _RESULT_NO_SUCH_OBJECT:
        log.warning("directory search base %r does not exist or is hidden", base)
        return []
    if result.get("result") not in (_RESULT_SUCCESS, _RESULT_SIZE_LIMIT_EXCEEDED):
        log.error("directory search failed: %s %s", result.get("description"), result.get("message"))
        raise DirectoryUnavailable(_MISCONFIGURED)
    return [entry for entry in response if entry.get("type") == "searchResEntry"]


def _first(attributes: Mapping[str, Any], name: str) -> str:
    value = attributes.get(name) if name else None
    if isinstance(value, list):
        value = value[0] if value else None
    if isinstance(value, bytes):
        value = value.decode("utf-8", "replace")
    return "" if value is None else str(value)


def _person(settings: DirectorySettings, entry: dict) -> DirectoryPerson:
    attributes = entry.get("attributes") or {}
    names = settings.attributes
    return DirectoryPerson(
        dn=entry["dn"],
        username=_first(attributes, names.get("username", "")),
        email=_first(attributes, names.get("email", "")),
        profile={key: _first(attributes, names.get(key, "")) for key in PROFILE_FIELDS},
    )


def find_person(settings: DirectorySettings, login: str) -> DirectoryPerson | None:
    """Return the one person the user filter finds for this login name, or None."""
    if not login:
        return None
    search_filter = settings.user_filter.replace("{username}", escape_filter_chars(login))
    with _service_connection(settings) as conn:
        entries = _search(settings, conn, search_filter, paged=False)
    if len(entries) > 1:
        log.warning("several directory entries match one login name; check MICROBLOG_LDAP_USER_FILTER")
    return _person(settings, entries[0]) if len(entries) == 1 else None


def check_directory_password(settings: DirectorySettings, dn: str, password: str) -> bool:
    """Return whether the directory accepts this password for the entry (a bind as it)."""
    if not password:  # an empty password would be an unauthenticated bind, which succeeds
        return False
    with _connection(settings, dn, password) as conn:
        return _bind(settings, conn)


def _username(person: DirectoryPerson) -> str:
    if not person.username:
        raise ValidationError(_("Your directory entry has no user name microblog can use; ask IT."))
    try:
        return check_username(person.username)
    except ValidationError as error:
        raise ValidationError(
            _(
                "Your company user name %(name)s cannot be a microblog username. %(reason)s",
                name=repr(person.username),
                reason=error.message,
            )
        ) from None


def _email(person: DirectoryPerson, user_id: int | None) -> str:
    if not person.email:
        raise ValidationError(_("Your directory entry has no email address, which microblog needs; ask IT."))
    email = check_email(person.email)
    taken = db.session.scalar(select(User.username).where(User.email == email, User.id != user_id))
    if taken is not None:
        raise Conflict(
            _(
                "The email address of your directory entry, %(email)s, belongs to another microblog account "
                "(@%(name)s); ask an administrator.",
                email=email,
                name=taken,
            )
        )
    return email


def _entry_values(person: DirectoryPerson, user_id: int | None) -> dict[str, str]:
    """Return the account fields the entry dictates (DN, email, profile), checked and fitted."""
    if len(person.dn) > DN_MAX:
        raise ValidationError(_("Your directory entry's name is too long for microblog; ask IT."))
    return {
        "directory_dn": person.dn,
        "email": _email(person, user_id),
        **fit_profile(**person.profile),
    }


def _refresh(user: User, person: DirectoryPerson) -> bool:
    """Copy the entry's fields onto the account; return whether anything changed."""
    changed = False
    for key, value in _entry_values(person, user.id).items():
        if getattr(user, key) != value:
            setattr(user, key, value)
            changed = True
    return changed


def _account_for(person: DirectoryPerson) -> User | None:
    """Return the account linked to the entry, else the one with its username (to adopt), else None."""
    user = db.session.scalar(select(User).where(User.directory_dn == person.dn))
    user = user or db.session.scalar(select(User).where(User.username == _username(person)))
    if user is not None and user.is_community:
        # A community's handle is not a person: no one logs in as it, whatever the directory says.
        raise PermissionDenied(
            _("@%(name)s is a community here; ask IT to rename the directory entry.", name=user.username)
        )
    if user is not None and user.is_team:
        # Nor a team account's: its members post as it, no one logs in as it.
        raise PermissionDenied(
            _("@%(name)s is a team account here; ask IT to rename the directory entry.", name=user.username)
        )
    return user


def log_in_with_directory(settings: DirectorySettings, login: str, password: str) -> User | None:
    """Return the account of the directory person with this login name and password, or None.

    The first log-in creates the account from the entry; later ones refresh it.  A
    local account with the entry's username is adopted, since the directory is the
    company's authority on who a name belongs to: it keeps its posts and followers,
    loses its local password, and its other sessions end.  An account an administrator
    deactivated is returned unchanged (and stays deactivated).  None means the filter
    finds no one for the name, or finds one person whose password this is not.
    """
    person = find_person(settings, login)
    if person is None or not check_directory_password(settings, person.dn, password):
        return None
    user = _account_for(person)
    if user is not None and not user.is_active:
        return user
    values = _entry_values(person, user.id if user else None)  # checks everything before any change
    if user is None:
        user = User(username=_username(person), password_hash=None, **values)
        db.session.add(user)
        log.info("creating @%s from directory entry %s", user.username, person.dn)
    else:
        if user.directory_dn is None:
            log.info("adopting local account @%s for directory entry %s", user.username, person.dn)
            user.password_hash = None
            end_sessions(user)
        for key, value in values.items():
            setattr(user, key, value)
    try:
        db.session.commit()
    except IntegrityError:  # the same person logging in twice at once, or an email taken meanwhile
        db.session.rollback()
        raise Conflict(_("Your account could not be set up just now. Try again.")) from None
    return user


@dataclass
class SyncReport:
    """What a directory sync did, by username."""

    refreshed: list[str] = field(default_factory=list)
    unchanged: int = 0
    deactivated: list[str] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)


def sync_directory(settings: DirectorySettings, *, dry_run: bool = False) -> SyncReport:
    """Refresh every directory account from its entry; deactivate those the filter no longer finds.

    Accounts already deactivated are left alone (a returning person is reactivated by an
    administrator).  A search that finds no one at all is taken for a configuration
    error, not for everyone having left: it raises instead of deactivating every account.
    """
    report = SyncReport()
    users = db.session.scalars(select(User).where(User.directory_dn.is_not(None)).order_by(User.id)).all()
    with _service_connection(settings) as conn:
        everyone = settings.user_filter.replace("{username}", "*")
        people = [_person(settings, entry) for entry in _search(settings, conn, everyone, paged=True)]
    if users and not people:
        raise DirectoryUnavailable(
            "The directory search found no one; no account was deactivated. "
            "Check MICROBLOG_LDAP_USER_BASE and MICROBLOG_LDAP_USER_FILTER."
        )
    by_dn = {person.dn.lower(): person for person in people}
    by_username = {person.username.lower(): person for person in people if person.username}
    for user in users:
        if not user.is_active:
            continue
        person = by_dn.get((user.directory_dn or "").lower()) or by_username.get(user.username)
        if person is None:
            user.is_active = False
            end_sessions(user)
            report.deactivated.append(user.username)
            continue
        try:
            changed = _refresh(user, person)  # checks everything before it changes anything
        except ServiceError as error:
            report.problems.append(f"@{user.username}: {error.message}")
            continue
        if changed:
            report.refreshed.append(user.username)
        else:
            report.unchanged += 1
    if dry_run:
        db.session.rollback()
    else:
        db.session.commit()
    return report
