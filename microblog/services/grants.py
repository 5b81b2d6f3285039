"""What each valid access token grants, kept in this process's memory: API requests need no query for it.

A request's bearer token is looked up in the database once; what it grants (its
id, person, scopes, application) is then remembered by its digest, for at most
`KEEP` seconds.  Revocation stays immediate in every process: each place that
revokes a token, ends a person's sessions (deactivation, a changed password,
the directory) or takes a member off a team announces it through
realtime.end_token / end_sessions, and every process forgets what it names
before the revoking request answers (realtime.queue confirms it).  A process
that cannot be sure to hear that (its Redis connection is down, its listener
not yet subscribed) trusts nothing it remembers and asks the database.  Should
an announcement be lost all the same (Redis failing at that moment, a process
whose connection hangs unnoticed, a data directory the command line cannot
write), a remembered grant still goes back to the database within `KEEP` seconds.

The last use of a token is still written, once an hour (tokens.authenticate_token):
a remembered grant goes back to the database at least every `KEEP` seconds.
"""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass

from flask import Flask, current_app

import realtime
from models import AccessToken

from . import tokens

# Seconds a grant is remembered: the bound on trust should an announcement be lost.  A busy client
# costs one token query per process in that time.
KEEP = 10.0
# Grants one process remembers; past this many it starts again (a flood of tokens costs no memory).
MOST = 50_000

_EXTENSION = "microblog.grants"


@dataclass(frozen=True)
class Grant:
    """A valid access token as a request uses it: who it acts for, what it may do, through which app."""

    id: int
    token_hash: str
    user_id: int
    app_id: int | None
    # A team token's member: who acts through the team account.
    on_behalf_of_id: int | None
    scopes: tuple[str, ...]
    is_team: bool
    is_community: bool

    @property
    def scope_list(self) -> list[str]:
        """Return the granted scopes."""
        return list(self.scopes)

    @classmethod
    def of(cls, token: AccessToken) -> Grant:
        """Return what a valid token (its user loaded) grants."""
        return cls(
            token.id,
            token.token_hash,
            token.user_id,
            token.app_id,
            token.on_behalf_of_id,
            tuple(token.scope_list),
            token.user.is_team,
            token.user.is_community,
        )


class Grants:
    """This process's remembered grants, by token digest."""

    def __init__(self) -> None:
        self._by_hash: dict[str, tuple[Grant, float]] = {}
        self._lock = threading.Lock()
        # Counts what was forgotten: a grant read from the database before an end was announced
        # (and forgotten) must not be kept after it.
        self.ends = 0

    def get(self, token_hash: str) -> Grant | None:
        """Return the remembered grant of a token, if it is fresh and this process would hear its end."""
        if not realtime.hears_every_end():  # first: looking may forget what was ended elsewhere
            return None
        found = self._by_hash.get(token_hash)
        if found is None or found[1] < time.monotonic():
            return None
        return found[0]

    def keep(self, grant: Grant, ends_before: int) -> None:
        """Remember a grant read from the database, unless anything ended since `ends_before` (self.ends)."""
        if not realtime.hears_every_end():
            return
        with self._lock:
            if self.ends != ends_before:
                return  # perhaps this very token: the read may predate its end
            if len(self._by_hash) >= MOST:
                self._by_hash.clear()
            self._by_hash[grant.token_hash] = (grant, time.monotonic() + KEEP)

    def forget(self, room: str | None) -> None:
        """Forget the grants an ended room names: a token, a person's (theirs and team tokens for them)."""
        named = realtime.ended_room(room) if room is not None else None
        with self._lock:
            self.ends += 1
            if room is None:
                self._by_hash.clear()
                return
            if named is None or named[0] == "login":
                return  # a browser log-in: no token
            kind, number = named
            self._by_hash = {
                token_hash: (grant, until)
                for token_hash, (grant, until) in self._by_hash.items()
                if not _named(grant, kind, number)
            }


def _named(grant: Grant, kind: str, number: int) -> bool:
    if kind == "token":
        return grant.id == number
    return number in (grant.user_id, grant.on_behalf_of_id)


def init_app(app: Flask) -> Grants:
    """Give this process (the app) its memory of grants; realtime tells it what any process ends."""
    remembered = Grants()
    app.extensions[_EXTENSION] = remembered
    return remembered


def grant_for(value: str | None) -> Grant | None:
    """Return what the token with this value grants, or None when it is unknown, revoked or unusable."""
    if not tokens.well_formed(value):
        return None
    assert value is not None
    remembered: Grants = current_app.extensions[_EXTENSION]
    token_hash = tokens.digest(value)
    if (grant := remembered.get(token_hash)) is not None:
        return grant
    ends_before = remembered.ends
    token = tokens.authenticate_token(value)
    if token is None:
        return None
    grant = Grant.of(token)
    remembered.keep(grant, ends_before)
    return grant
