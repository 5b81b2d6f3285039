"""What one process knows of the people it has live clients for: whom and which tags they follow.

A post's home event is published once, with the facts that decide whose home
timeline holds it (`HomeFacts`: its author, community, tags, mentions, the
owners of saved searches it matched that show in home, and for a private
post its community's members).  Each process picks, among the people
connected to it (Socket.IO, event streams, WebSockets), those whose home it
belongs in, from what it knows of them: the same sources as the home
timeline's query.  So a post costs its writer the same whoever follows its
author, and each process only the work of its own clients.

What a process knows of a person is read when their first client connects
here and read again whenever their follows change (`relations_changed`, sent
after the commit by the services that change them), and forgotten when
their last client leaves.  Who may see a private post is not taken from this
knowledge: the facts carry its community's members, read inside the post's
transaction, as every other stream's audience is.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any

log = logging.getLogger(__name__)

# Return (the accounts a person follows, people and communities; the names of the tags they follow).
Load = Callable[[int], tuple[Iterable[int], Iterable[str]]]


def user_room(user_id: int) -> str:
    """Return the room of every connection of one user (their `user` stream: home and notifications)."""
    return f"user:{user_id}"


def user_ids_of(rooms: Iterable[str]) -> list[int]:
    """Return the people whose user rooms are among these rooms."""
    found = []
    for room in rooms:
        kind, _colon, number = room.partition(":")
        if kind == "user" and number.isdigit():
            found.append(int(number))
    return found


@dataclass(frozen=True)
class HomeFacts:
    """What decides whose home timeline a post is in (see timelines.home_timeline's sources)."""

    author: int
    community: int | None = None
    tags: tuple[str, ...] = ()
    mentions: tuple[int, ...] = ()
    owners: tuple[int, ...] = ()  # of saved searches it matched that show their hits in home
    members: frozenset[int] | None = None  # a private post's audience; None: everyone may see it

    def to_message(self) -> dict[str, Any]:
        """Return the facts as they travel with the event (JSON)."""
        return {
            "author": self.author,
            "community": self.community,
            "tags": list(self.tags),
            "mentions": list(self.mentions),
            "owners": list(self.owners),
            "members": None if self.members is None else sorted(self.members),
        }

    @classmethod
    def from_message(cls, data: Any) -> HomeFacts | None:
        """Return the facts an event carries, or None if it carries none that make sense (reaching no one)."""
        if not isinstance(data, dict) or "members" not in data:
            return None  # who may see it unsaid: it reaches no one (never "everyone")
        try:
            members = data.get("members")
            community = data.get("community")
            return cls(
                author=int(data["author"]),
                community=None if community is None else int(community),
                tags=tuple(str(tag) for tag in data.get("tags") or ()),
                mentions=tuple(int(uid) for uid in data.get("mentions") or ()),
                owners=tuple(int(uid) for uid in data.get("owners") or ()),
                members=None if members is None else frozenset(int(uid) for uid in members),
            )
        except (KeyError, TypeError, ValueError):
            return None


class Relations:
    """The follows of the people with clients in this process, indexed by whom and what they follow."""

    def __init__(self, load: Load | None = None, load_here: Load | None = None) -> None:
        """`load` reads a person's follows anywhere; `load_here`, in a handler's application context."""
        self._load = load
        self._load_here = load_here or load
        self._lock = threading.Lock()
        self._clients: dict[int, int] = {}  # person: how many of their clients are here
        self._follows: dict[int, frozenset[int]] = {}
        self._tags: dict[int, frozenset[str]] = {}
        self._by_followee: dict[int, set[int]] = {}
        self._by_tag: dict[str, set[int]] = {}
        # Reads of a person's follows run outside the lock; a later read never loses to an earlier one.
        self._reads_started: dict[int, int] = {}
        self._read_kept: dict[int, int] = {}

    def enter(self, user_id: int) -> None:
        """Count a client of this person's that connected here; read their follows if it is their first."""
        with self._lock:
            self._clients[user_id] = self._clients.get(user_id, 0) + 1
            first = self._clients[user_id] == 1
        if first:
            self.refresh(user_id, here=True)

    def leave(self, user_id: int) -> None:
        """Count a client gone; forget the person with their last client here."""
        with self._lock:
            left = self._clients.get(user_id, 0) - 1
            if left > 0:
                self._clients[user_id] = left
                return
            self._clients.pop(user_id, None)
            # The count of reads started goes on: a read still running from before is older than the next.
            self._read_kept.pop(user_id, None)
            self._index(user_id, frozenset(), frozenset())

    def refresh(self, user_id: int, *, here: bool = False) -> None:
        """Read a person's follows again (they changed), if they have clients here.

        `here`: in a handler's application context, whose session reads (else in one of its own).
        """
        load = self._load_here if here else self._load
        with self._lock:
            if user_id not in self._clients or load is None:
                return
            read = self._reads_started[user_id] = self._reads_started.get(user_id, 0) + 1
        try:
            followees, tags = load(user_id)
            follows, tag_names = frozenset(followees), frozenset(tags)
        except Exception:
            log.exception("could not read the follows of user %s: live home events may miss them", user_id)
            return
        with self._lock:
            if user_id not in self._clients or read <= self._read_kept.get(user_id, 0):
                return  # gone meanwhile, or a later read is kept already
            self._read_kept[user_id] = read
            self._index(user_id, follows, tag_names)

    def refresh_all(self) -> None:
        """Read again the follows of everyone with clients here (whose changed is not known)."""
        with self._lock:
            people = list(self._clients)
        for user_id in people:
            self.refresh(user_id)

    def _index(self, user_id: int, follows: frozenset[int], tags: frozenset[str]) -> None:
        """Replace what is known of one person (under the lock)."""
        _move(self._by_followee, user_id, self._follows.get(user_id, frozenset()), follows)
        _move(self._by_tag, user_id, self._tags.get(user_id, frozenset()), tags)
        if follows or tags:
            self._follows[user_id], self._tags[user_id] = follows, tags
        else:
            self._follows.pop(user_id, None)
            self._tags.pop(user_id, None)

    def people(self) -> int:
        """Return how many people have clients in this process."""
        with self._lock:
            return len(self._clients)

    def recipients(self, facts: HomeFacts) -> set[int]:
        """Return the people with clients here whose home timeline holds the post these facts describe."""
        with self._lock:
            here = self._clients
            found = {uid for uid in (facts.author, *facts.mentions, *facts.owners) if uid in here}
            found.update(self._by_followee.get(facts.author, ()))
            if facts.community is not None:
                found.update(self._by_followee.get(facts.community, ()))
            for tag in facts.tags:
                found.update(self._by_tag.get(tag, ()))
        if facts.members is not None:
            found &= facts.members
        return found

    def rooms_for(self, facts: HomeFacts) -> list[str]:
        """Return the user rooms of this process that a post's home event goes to."""
        return [user_room(user_id) for user_id in sorted(self.recipients(facts))]


def _move(index: dict[Any, set[int]], user_id: int, before: frozenset[Any], after: frozenset[Any]) -> None:
    for key in before - after:
        holders = index.get(key)
        if holders is not None:
            holders.discard(user_id)
            if not holders:
                del index[key]
    for key in after - before:
        index.setdefault(key, set()).add(user_id)
