"""Sessions: each browser log-in is a row whose secret its cookies carry.

Logging out deletes that row, so a copied session or remember-me cookie of that
log-in stops working while the person's other browsers stay logged in.  Every place
that ends all of a person's sessions (password change, deactivation, directory adoption
or removal) calls end_sessions(), which also closes every live stream the person opened.
"""

from __future__ import annotations

import secrets
from datetime import timedelta

from flask import current_app
from sqlalchemy import delete, select

import realtime
from microblog.database import db, on_commit
from models import AccessToken, Login, User, utcnow

from .tokens import digest

# Flask-Login's default lifetime of a remember-me cookie, unless REMEMBER_COOKIE_DURATION says otherwise.
REMEMBER_DEFAULT = timedelta(days=365)


def login_lifetime() -> timedelta:
    """Return how long a log-in lasts: as long as its remember-me cookie, and not a copy of it longer."""
    duration = current_app.config.get("REMEMBER_COOKIE_DURATION", REMEMBER_DEFAULT)
    return duration if isinstance(duration, timedelta) else timedelta(seconds=int(duration))


def start_login(user: User) -> User:
    """Record a new log-in of user; return the user carrying its secret (for Flask-Login)."""
    secret = secrets.token_urlsafe(32)
    login = Login(user_id=user.id, secret_hash=digest(secret))
    db.session.add(login)
    # Forget this person's log-ins whose cookies have expired: the table stays as small as its use.
    db.session.execute(
        delete(Login).where(Login.user_id == user.id, Login.created_at < utcnow() - login_lifetime())
    )
    db.session.commit()
    user.login_secret, user.login_id = secret, login.id
    return user


def user_of_login(secret: str | None) -> User | None:
    """Return the active user of the log-in with this secret, or None when it has ended."""
    if not secret or len(secret) > 200:
        return None
    row = db.session.execute(
        select(User, Login.id)
        .join(Login, Login.user_id == User.id)
        .where(
            Login.secret_hash == digest(secret),
            Login.created_at >= utcnow() - login_lifetime(),  # a copied cookie does not outlive its log-in
            User.is_active.is_(True),
        )
    ).first()
    if row is None:
        return None
    user, login_id = row
    user.login_secret, user.login_id = secret, login_id
    return user


def login_is_live(login_id: int) -> bool:
    """Return whether the browser log-in with this id still stands (its person active)."""
    return (
        db.session.scalar(
            select(Login.id)
            .join(User, User.id == Login.user_id)
            .where(Login.id == login_id, User.is_active.is_(True))
        )
        is not None
    )


def end_login(user: User) -> None:
    """End the log-in this request runs under: its cookies stop working, its live connections close."""
    login_id = user.login_id
    if login_id is None:
        return
    db.session.execute(delete(Login).where(Login.id == login_id))
    on_commit(lambda: realtime.end_login(login_id))
    db.session.commit()
    user.login_secret = user.login_id = None


def end_sessions(user: User) -> None:
    """End every log-in of user now and, after the commit, close every connection and stream they opened.

    That includes the streams of team tokens issued on their behalf (which the
    token check then refuses while they are deactivated).

    Call inside the action's transaction: a rolled-back change ends nothing.
    """
    db.session.execute(delete(Login).where(Login.user_id == user.id))
    user_id = user.id
    # Streams opened with a team token issued on their behalf listen on the team's rooms, not theirs.
    team_tokens = list(
        db.session.scalars(select(AccessToken.id).where(AccessToken.on_behalf_of_id == user_id))
    )

    def end() -> None:
        realtime.end_sessions(user_id)
        realtime.end_tokens(team_tokens)

    on_commit(end)
