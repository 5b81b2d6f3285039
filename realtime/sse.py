"""Listeners of Mastodon's streaming API: the same streams as Socket.IO, for Mastodon clients.

A listener is one server-sent-event stream (/api/v1/streaming/user ...) or one
WebSocket (/api/v1/streaming), whose rooms change as its client subscribes.
Each process keeps its own listeners, indexed by room.  The Socket.IO client
managers (realtime.queue) hand every event they deliver in this process to
`deliver()` as well, so a listener gets exactly what a Socket.IO client in
the same rooms gets, from any process, through the same one publish per post.

Delivery never blocks the publisher: each listener has a bounded queue, and a
listener that falls that far behind is closed (its client reconnects and
catches up through the REST API, as after any gap).
"""

from __future__ import annotations

import queue
import threading
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from typing import Any

CLOSE = "microblog:close"  # the listener ends; its data: BEHIND, or None when its sessions ended
BEHIND = "behind"  # it fell BACKLOG events behind: its client should reconnect and catch up
BACKLOG = 500  # events a listener may have waiting before it is dropped
SSE = "sse"
WEBSOCKET = "websocket"


@dataclass(eq=False)
class Listener:
    """One held-open stream: the rooms it hears, and what arrived for it."""

    rooms: set[str]
    kind: str = SSE
    # Bounded by _offer (BACKLOG), not by the queue: a SimpleQueue is gevent's own under the gevent
    # worker, whose waiter wakes at a fraction of the cost of a queue.Queue's (a post wakes them all).
    events: queue.SimpleQueue = field(default_factory=queue.SimpleQueue)

    def next_event(self, timeout: float) -> tuple[str, Any] | None:
        """Return the next (event, data), or None when `timeout` seconds pass without one."""
        try:
            return self.events.get(timeout=timeout)
        except queue.Empty:
            return None


class Hub:
    """The listeners of this process, by room."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._by_room: dict[str, set[Listener]] = {}

    def add(self, rooms: Iterable[str], kind: str = SSE) -> Listener:
        """Register a listener for these rooms."""
        listener = Listener(set(), kind)
        self.join(listener, rooms)
        return listener

    def join(self, listener: Listener, rooms: Iterable[str]) -> None:
        """Let a listener hear these rooms too."""
        with self._lock:
            for room in rooms:
                listener.rooms.add(room)
                self._by_room.setdefault(room, set()).add(listener)

    def leave(self, listener: Listener, rooms: Iterable[str]) -> None:
        """Let a listener no longer hear these rooms."""
        with self._lock:
            for room in list(rooms):
                listener.rooms.discard(room)
                members = self._by_room.get(room)
                if members is not None:
                    members.discard(listener)
                    if not members:
                        del self._by_room[room]

    def remove(self, listener: Listener) -> None:
        """Forget a listener (its client went away)."""
        self.leave(listener, set(listener.rooms))

    def count(self, kind: str = SSE) -> int:
        """Return how many listeners of one kind are registered."""
        with self._lock:
            found = {listener for members in self._by_room.values() for listener in members}
        return sum(listener.kind == kind for listener in found)

    def deliver(self, event: str, data: Any, rooms: Any) -> None:
        """Queue an event for every listener in any of the rooms, once each; never blocks."""
        targets = [rooms] if isinstance(rooms, str) else list(rooms or ())
        with self._lock:
            if not self._by_room:
                return
            reached = {listener for room in targets for listener in self._by_room.get(room, ())}
        for listener in reached:
            _offer(listener, event, data)


def _offer(listener: Listener, event: str, data: Any) -> None:
    if listener.events.qsize() < BACKLOG:
        listener.events.put((event, data))
        return
    # Too far behind: drain and close, so the client reconnects and catches up.
    try:
        while True:
            listener.events.get_nowait()
    except queue.Empty:
        pass
    listener.events.put((CLOSE, BEHIND))


hub = Hub()


def frames(listener: Listener, encode: Any, heartbeat: float) -> Iterator[str]:
    """Yield the text/event-stream of a listener: events, and a `:thump` comment when idle."""
    yield ":)\n\n"  # opens the stream at once, so clients and proxies see it is live
    while True:
        item = listener.next_event(heartbeat)
        if item is None:
            yield ":thump\n\n"
            continue
        event, data = item
        if event == CLOSE:
            return
        frame = encode(event, data)
        if frame:
            yield frame
