"""API access: OAuth apps, authorization codes and access tokens (OAuth-issued or personal).

Secrets (client secrets, codes, tokens) are random and stored only as SHA-256
digests, so a copy of the database grants no access.  A token's scopes are
Mastodon's: `read`, `write`, `follow`, `push`, or granular ones such as
`read:statuses`; `grants()` decides whether a token may call an endpoint.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from collections.abc import Iterable, Sequence
from datetime import datetime, timedelta
from typing import cast

from flask_babel import gettext as _
from sqlalchemy import CursorResult, delete, or_, select, update
from sqlalchemy.orm import joinedload

import realtime
from microblog.database import db, on_commit
from microblog.text import is_web_url, parse_id
from models import AccessToken, AuthorizationCode, OAuthApp, TeamMember, User, utcnow
from models.team import LEAD

from . import teams
from .errors import NotFound, PermissionDenied, ValidationError
from .validation import check_plain

OOB_REDIRECT = "urn:ietf:wg:oauth:2.0:oob"
CODE_LIFETIME = timedelta(minutes=10)
# Writing last_used_at on every request would make every API read a write.
LAST_USED_RESOLUTION = timedelta(hours=1)
TOKEN_NAME_MAX = 100
REDIRECT_URIS_MAX = 10
SCOPE_FAMILIES = ("read", "write")
SCOPE_CATEGORIES = (
    "accounts",
    "blocks",
    "bookmarks",
    "conversations",
    "favourites",
    "filters",
    "follows",
    "lists",
    "media",
    "mutes",
    "notifications",
    "reports",
    "search",
    "statuses",
)
KNOWN_SCOPES = frozenset(
    ["read", "write", "follow", "push", "profile"]
    + [f"{family}:{category}" for family in SCOPE_FAMILIES for category in SCOPE_CATEGORIES]
)
# Mastodon's legacy `follow` scope covers these granular ones.
_FOLLOW_COVERS = frozenset({"read:follows", "write:follows", "read:blocks", "write:blocks", "read:mutes"})


def digest(secret: str) -> str:
    """Return the stored form of a secret: its SHA-256 hex digest."""
    return hashlib.sha256(secret.encode()).hexdigest()


def check_scopes(requested: str | Iterable[str] | None, *, default: str = "read") -> str:
    """Return requested scopes as a normalized space-separated string, or raise ValidationError."""
    words = requested.replace(",", " ").split() if isinstance(requested, str) else list(requested or [])
    scopes = list(dict.fromkeys(words)) or default.split()
    unknown = [scope for scope in scopes if scope not in KNOWN_SCOPES]
    if unknown:
        raise ValidationError(_("Unknown scope: %(scopes)s.", scopes=" ".join(unknown)), field="scopes")
    return " ".join(scopes)


def grants(scopes: Iterable[str], needed: str) -> bool:
    """Return whether a token with `scopes` may do what needs `needed` (e.g. `write:statuses`)."""
    held = set(scopes)
    family = needed.split(":", 1)[0]
    return needed in held or family in held or ("follow" in held and needed in _FOLLOW_COVERS)


def register_app(
    name: str, redirect_uris: str, scopes: str | None, website: str = ""
) -> tuple[OAuthApp, str]:
    """Register an OAuth client; return it with its client secret (shown this once)."""
    name = check_plain(" ".join((name or "").split()), "client_name")
    if not name or len(name) > 200:
        raise ValidationError(_("client_name is required (at most 200 characters)."), field="client_name")
    uris = (redirect_uris or "").split()
    if len(uris) > REDIRECT_URIS_MAX:
        raise ValidationError(
            _("At most %(max)s redirect_uris.", max=REDIRECT_URIS_MAX), field="redirect_uris"
        )
    # Only http(s) and the out-of-band URN: a javascript: or data: URI would run script where it is followed.
    # ASCII only (an IDN host in its xn-- form): OAuth carries it in query strings and headers.
    if not uris or any(uri != OOB_REDIRECT and not (uri.isascii() and is_web_url(uri)) for uri in uris):
        raise ValidationError(
            _("redirect_uris must be http(s) URLs in ASCII, or %(oob)s.", oob=OOB_REDIRECT),
            field="redirect_uris",
        )
    website = check_plain((website or "").strip(), "website")
    if len(website) > 500 or (website and not is_web_url(website)):
        raise ValidationError(_("website must be an http(s) URL of at most 500 characters."), field="website")
    secret = secrets.token_urlsafe(32)
    app = OAuthApp(
        client_id=secrets.token_urlsafe(24),
        client_secret_hash=digest(secret),
        name=name,
        website=website,
        redirect_uris="\n".join(uris),
        scopes=check_scopes(scopes),
    )
    db.session.add(app)
    db.session.commit()
    return app, secret


def find_app(client_id: str | None) -> OAuthApp | None:
    """Return the app with this client id, if any."""
    if not client_id or len(client_id) > 64:
        return None
    return db.session.scalar(select(OAuthApp).where(OAuthApp.client_id == client_id))


def app_secret_matches(app: OAuthApp, secret: str | None) -> bool:
    """Return whether `secret` is the app's client secret (compared in constant time)."""
    return bool(secret) and hmac.compare_digest(app.client_secret_hash, digest(secret or ""))


def issue_token(user: User, app: OAuthApp | None, scopes: str, *, name: str = "") -> tuple[AccessToken, str]:
    """Create an access token for user (through app, or personal); return it with its value."""
    value = secrets.token_urlsafe(32)
    return store_token(value, user, app, scopes, name=name), value


def store_token(
    value: str,
    user: User,
    app: OAuthApp | None,
    scopes: str,
    *,
    name: str = "",
    on_behalf_of: User | None = None,
) -> AccessToken:
    """Keep a newly issued token (by its digest) for user, through app or personal.

    A team account's token is issued on behalf of one of its members (issue_team_token).
    """
    if user.is_community:
        raise ValidationError(_("A community has no tokens: its members post with their own."))
    if user.is_team and on_behalf_of is None:
        raise ValidationError(_("A team account's token is issued on behalf of one of its members."))
    token = AccessToken(
        token_hash=digest(value),
        user_id=user.id,
        app_id=app.id if app else None,
        name=name,
        scopes=scopes,
        on_behalf_of_id=on_behalf_of.id if on_behalf_of is not None else None,
    )
    db.session.add(token)
    db.session.commit()
    return token


def create_personal_token(
    user: User, name: str, scopes: Iterable[str] = ("read", "write")
) -> tuple[AccessToken, str]:
    """Create a personal access token (for a bot or script); return it with its value."""
    name = check_plain(" ".join((name or "").split()), "name")
    if not name or len(name) > TOKEN_NAME_MAX:
        raise ValidationError(
            _("Give the token a name (at most %(max)s characters) to recognise it by.", max=TOKEN_NAME_MAX),
            field="name",
        )
    chosen = [scope for scope in scopes if scope]
    if not chosen:
        raise ValidationError(_("Choose at least one scope: read or write."), field="scopes")
    return issue_token(user, None, check_scopes(chosen), name=name)


def issue_team_token(
    actor: User | None, team: User, member: User, scopes: str | Iterable[str], *, name: str = ""
) -> tuple[AccessToken, str]:
    """Issue a token to a team account on behalf of one member: a lead for themselves, IT (None) for anyone.

    Whatever is done with it is done by the team, written by that member; it stops
    working the moment they leave the team (team_desk.remove_member revokes it).
    A lead cannot issue one acting for someone else: the by-line "by @bob for
    @it-support" would then name someone who wrote nothing.
    """
    teams.check_lead(actor, team)
    if actor is not None and actor.id != member.id:
        raise PermissionDenied(
            _("A team token acts for the lead who issues it; IT issues one for another member.")
        )
    if not (member.is_active and teams.is_member(member, team)):
        raise ValidationError(
            _("@%(name)s is not on @%(team)s.", name=member.username, team=team.username), field="member"
        )
    name = check_plain(" ".join((name or "").split()), "name") or _(
        "Team token for @%(name)s", name=member.username
    )
    if len(name) > TOKEN_NAME_MAX:
        raise ValidationError(
            _("Give the token a name (at most %(max)s characters) to recognise it by.", max=TOKEN_NAME_MAX),
            field="name",
        )
    value = secrets.token_urlsafe(32)
    return store_token(value, team, None, check_scopes(scopes), name=name, on_behalf_of=member), value


def team_tokens(actor: User | None, team: User) -> list[AccessToken]:
    """Return the tokens issued to a team account, newest first (its leads and admins see them)."""
    teams.check_lead(actor, team)
    return list(
        db.session.scalars(
            select(AccessToken).where(AccessToken.user_id == team.id).order_by(AccessToken.id.desc())
        )
    )


def tokens_of_led_teams(actor: User, team_ids: Sequence[int]) -> dict[int, list[AccessToken]]:
    """Return, of these teams, those the actor leads with their tokens newest first (two queries)."""
    led = set(
        db.session.scalars(
            select(TeamMember.team_id).where(
                TeamMember.user_id == actor.id, TeamMember.role == LEAD, TeamMember.team_id.in_(team_ids)
            )
        )
    )
    found: dict[int, list[AccessToken]] = {tid: [] for tid in team_ids if tid in led}
    if found:
        rows = db.session.scalars(
            select(AccessToken).where(AccessToken.user_id.in_(found)).order_by(AccessToken.id.desc())
        )
        for token in rows:
            found[token.user_id].append(token)
    return found


def revoke_team_token(actor: User | None, team: User, token_id: int | str) -> None:
    """Revoke one of a team account's tokens (its leads and admins)."""
    teams.check_lead(actor, team)
    revoke_token(team, token_id)


def personal_tokens(user: User) -> list[AccessToken]:
    """Return user's personal access tokens, newest first."""
    return list(
        db.session.scalars(
            select(AccessToken)
            .where(AccessToken.user_id == user.id, AccessToken.app_id.is_(None))
            .order_by(AccessToken.id.desc())
        )
    )


def authorized_apps(user: User) -> list[tuple[AccessToken, OAuthApp]]:
    """Return the OAuth tokens user has granted, with their apps, newest first."""
    rows = db.session.execute(
        select(AccessToken, OAuthApp)
        .join(OAuthApp, OAuthApp.id == AccessToken.app_id)
        .where(AccessToken.user_id == user.id)
        .order_by(AccessToken.id.desc())
    )
    return [(token, app) for token, app in rows]


def revoke_token(user: User, token_id: int | str) -> None:
    """Revoke one of user's tokens (personal or granted to an app); requests with it fail at once."""
    tid = parse_id(token_id)  # at most the largest id: a larger number is no token, not a database error
    if tid is None:
        raise NotFound(_("No such token."))
    result = db.session.execute(
        delete(AccessToken).where(AccessToken.id == tid, AccessToken.user_id == user.id)
    )
    removed = cast(CursorResult, result).rowcount
    if not removed:
        raise NotFound(_("No such token."))
    on_commit(lambda: realtime.end_token(tid))  # streams opened with it close too
    db.session.commit()


def revoke_all_tokens(user: User) -> None:
    """Revoke every token of user (personal, apps', team tokens on their behalf), in the caller's transaction.

    Requests with them fail at once; after the commit, the streams opened with them close.
    """
    revoked = list(
        db.session.scalars(
            delete(AccessToken)
            .where(or_(AccessToken.user_id == user.id, AccessToken.on_behalf_of_id == user.id))
            .returning(AccessToken.id)
        )
    )
    on_commit(lambda: realtime.end_tokens(revoked))


def revoke_token_value(app: OAuthApp, value: str) -> None:
    """Revoke a token the app holds (POST /oauth/revoke); unknown tokens are ignored, per RFC 7009."""
    token_id = db.session.scalar(
        select(AccessToken.id).where(AccessToken.token_hash == digest(value), AccessToken.app_id == app.id)
    )
    if token_id is None:
        return
    db.session.execute(delete(AccessToken).where(AccessToken.id == token_id))
    on_commit(lambda: realtime.end_token(token_id))
    db.session.commit()


def bearer_value(authorization: str) -> str | None:
    """Return the token an Authorization header carries (`Bearer <token>`), or None."""
    scheme, _space, value = authorization.partition(" ")
    return (value.strip() or None) if scheme.lower() == "bearer" else None


def well_formed(value: str | None) -> bool:
    """Return whether a value could be a token at all: every token is short ASCII (token_urlsafe)."""
    return bool(value) and len(value or "") <= 200 and (value or "").isascii()


def authenticate_token(value: str | None) -> AccessToken | None:
    """Return the token with this value, its active user loaded; None if unknown or revoked."""
    if not well_formed(value):
        return None
    assert value is not None
    token = _token_with_user(digest(value))
    if token is None or not _usable(token):
        return None
    now = utcnow()
    if token.last_used_at is None or now - token.last_used_at > LAST_USED_RESOLUTION:
        db.session.execute(update(AccessToken).where(AccessToken.id == token.id).values(last_used_at=now))
        db.session.commit()
        # The commit expired what was loaded; the row may even be gone (revoked meanwhile).
        token = _token_with_user(digest(value))
        if token is None or not _usable(token):
            return None
    return token


def _usable(token: AccessToken) -> bool:
    """Return whether the token's user is active, and a team token's member still on the team."""
    if not token.user.is_active:
        return False
    if token.user.is_team:
        member = db.session.get(User, token.on_behalf_of_id) if token.on_behalf_of_id else None
        return member is not None and member.is_active and teams.is_member(member, token.user)
    return True


def token_is_live(token_id: int) -> bool:
    """Return whether the token still exists and may be used (checked again once a stream listens)."""
    token = db.session.scalar(
        select(AccessToken).where(AccessToken.id == token_id).options(joinedload(AccessToken.user))
    )
    return token is not None and _usable(token)


def _token_with_user(token_hash: str) -> AccessToken | None:
    return db.session.scalar(
        select(AccessToken).where(AccessToken.token_hash == token_hash).options(joinedload(AccessToken.user))
    )


def store_authorization_code(
    value: str,
    app: OAuthApp,
    user: User,
    *,
    redirect_uri: str,
    scopes: str,
    code_challenge: str | None,
    code_challenge_method: str | None,
) -> None:
    """Record the user's consent as a single-use code with this value."""
    db.session.add(
        AuthorizationCode(
            code_hash=digest(value),
            app_id=app.id,
            user_id=user.id,
            redirect_uri=redirect_uri,
            scopes=scopes,
            code_challenge=code_challenge or None,
            code_challenge_method=code_challenge_method if code_challenge else None,
        )
    )
    db.session.commit()


def find_authorization_code(app: OAuthApp, value: str | None) -> AuthorizationCode | None:
    """Return the app's unexpired code with this value, if any."""
    if not value or len(value) > 200:
        return None
    code = db.session.scalar(
        select(AuthorizationCode).where(
            AuthorizationCode.code_hash == digest(value), AuthorizationCode.app_id == app.id
        )
    )
    if code is None or code_expired(code.created_at):
        return None
    return code


def code_expired(created_at: datetime) -> bool:
    """Return whether a code made at created_at is too old to use."""
    return utcnow() - created_at > CODE_LIFETIME


def consume_authorization_code(code: AuthorizationCode) -> bool:
    """Delete a code being used (and every expired one); return whether this call was the one that did.

    Two exchanges of one code at once both find it, but only one deletes it.
    """
    code_id = code.id
    result = db.session.execute(delete(AuthorizationCode).where(AuthorizationCode.id == code_id))
    db.session.execute(
        delete(AuthorizationCode).where(AuthorizationCode.created_at < utcnow() - CODE_LIFETIME)
    )
    db.session.commit()
    return cast(CursorResult, result).rowcount == 1
