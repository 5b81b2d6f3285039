"""Accounts that people run together and nobody logs in to: communities and teams.

Both are rows of users (kind "community" or "team") with a handle from the one
namespace people's usernames use, a name and a description.  Creating one
checks those the same way for both; communities.create_community and
teams.create_team add what is their own (owner, members, leads) and commit.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from flask_babel import LazyString
from flask_babel import gettext as _
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from microblog.database import db
from models import User

from .errors import Conflict, ValidationError
from .validation import check_profile, check_username


def _taken() -> str:
    return _("That handle is taken: people, communities and teams share one namespace.")


def check_name(
    labels: Mapping[str, LazyString], unnamed: LazyString, *, name: str, description: str
) -> tuple[str, str]:
    """Return the account's name and description as stored, or raise ValidationError (`unnamed`: no name)."""
    fields = check_profile(labels, display_name=name, bio=description)
    if not fields.get("display_name", "").strip():
        raise ValidationError(str(unnamed), field="name")
    return fields["display_name"].strip(), fields.get("bio", "")


def add_shared_account(
    kind: str,
    handle: str,
    *,
    name: str,
    description: str,
    labels: Mapping[str, LazyString],
    unnamed: LazyString,
    **columns: Any,
) -> User:
    """Add an account of this kind in the caller's transaction and flush it, or raise.

    `labels` name the profile fields in errors ("Name", "Description"); `unnamed`
    is the error for an empty name (lazy: translated only when raised).  A handle
    taken by a concurrent request shows at the flush: the transaction is rolled
    back and Conflict raised.
    """
    display_name, bio = check_name(labels, unnamed, name=name, description=description)
    account = User(
        username=check_username(handle),
        email=None,
        password_hash=None,
        kind=kind,
        display_name=display_name,
        bio=bio,
        **columns,
    )
    if db.session.scalar(select(User.id).where(User.username == account.username)) is not None:
        raise Conflict(_taken(), field="handle")
    db.session.add(account)
    try:
        db.session.flush()
    except IntegrityError:
        db.session.rollback()
        raise Conflict(_taken(), field="handle") from None
    return account
