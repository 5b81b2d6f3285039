"""Socket.IO client managers: home events, ending sessions in every process, resync after a Redis outage.

Both managers turn a post's home event (sent once, to HOME) into the user
rooms of their own clients whose home timeline holds it (see relations), and
read a person's follows again on RELATIONS.  They also understand
END_SESSIONS, emitted to a room like any event: each process disconnects its own clients in that room
instead of sending anything, and tells what keeps credentials in memory
(`on_ended`) to forget them.  With Redis, that is one publish whatever the
number of processes, and the sender waits until every process has heard it:
a token revoked in one process is refused by all of them once the revoking
request answers.  Without Redis (one process, `make run`), other processes
of the installation (the command line) touch a file in the data directory,
which the serving process looks at before it trusts what it remembers.
"""

from __future__ import annotations

import logging
import os
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import socketio

from .relations import HomeFacts, Relations, user_ids_of
from .sse import CLOSE, hub

log = logging.getLogger(__name__)

END_SESSIONS = "microblog:end-sessions"
# A post's home event is sent to this room once; each process delivers it to the user rooms it picks.
HOME = "microblog:home"
# An event for several streams (a post's home, public, tags, lists), sent once to this room: each
# process delivers it to each stream's rooms as if it had been sent there alone.
STREAMS = "microblog:streams"
# Sent to a person's user room after their follows changed: each process knowing them reads them again.
RELATIONS = "microblog:relations"
# How long a process that ended sessions waits for every other process to confirm it heard of it.
CONFIRM_WITHIN = 2.0

# Called in every process with each room whose sessions ended (None: perhaps any, forget everything).
Ended = Callable[[str | None], None]


def _ended(on_ended: Ended | None, rooms: object) -> None:
    """Tell what remembers credentials in this process (`on_ended`) which rooms' sessions ended."""
    if on_ended is None:
        return
    for room in [rooms] if rooms is None or isinstance(rooms, str) else list(rooms or ()):  # type: ignore[call-overload]
        try:
            on_ended(room)
        except Exception:
            log.exception("forgetting what ended in %s failed", room)


def _disconnect_room(manager: socketio.Manager, namespace: str, room: object) -> None:
    for sid, _eio_sid in list(manager.get_participants(namespace, room)):
        manager.server.disconnect(sid, namespace=namespace, ignore_queue=True)


def _to_event_streams(event: str, data: object, rooms: object) -> None:
    """Hand what this process delivers to its server-sent-event listeners too."""
    if event == END_SESSIONS:
        hub.deliver(CLOSE, None, rooms)
    else:
        hub.deliver(event, data, rooms)


def _refresh(relations: Relations | None, rooms: object) -> None:
    """Read again the follows of the people in these user rooms (RELATIONS), where they have clients."""
    if relations is None:
        return
    for user_id in user_ids_of([rooms] if isinstance(rooms, str) else list(rooms or ())):  # type: ignore[call-overload]
        relations.refresh(user_id)


def _each_stream(data: object) -> list[tuple[dict[str, Any], object]]:
    """Return the data and rooms of each stream a STREAMS event names, as publish() sends to one stream."""
    if not isinstance(data, dict) or not isinstance(data.get("streams"), list):
        return []
    each = []
    for part in data["streams"]:
        if not isinstance(part, dict) or not part.get("rooms"):
            continue
        one = {"stream": part.get("stream"), "payload": data.get("payload")}
        if "home" in part:
            one["home"] = part["home"]
        each.append((one, part["rooms"]))
    return each


@contextmanager
def _each_on_its_own(event: object, one: dict[str, Any]) -> Iterator[None]:
    """Log what fails in one stream's delivery: the other streams of the event still get it.

    In the publishing process, a failure that escaped would also keep the
    message from Redis, and so from every other process.
    """
    try:
        yield
    except Exception:
        log.exception("could not deliver %s to the %s stream", event, one.get("stream"))


def _sent_to(rooms: object, room: str) -> bool:
    """Return whether an event is sent to this one room (HOME, STREAMS), alone or as a list of one."""
    return rooms == room or rooms == [room] or rooms == (room,)


def _home(relations: Relations | None, data: object) -> tuple[object, list[str]]:
    """Return a home event as this process's clients get it (without its facts), and their user rooms."""
    if relations is None or not isinstance(data, dict):
        return data, []
    facts = HomeFacts.from_message(data.get("home"))
    rooms = relations.rooms_for(facts) if facts is not None else []
    return {key: value for key, value in data.items() if key != "home"}, rooms


class FileMark:
    """A file that processes of one installation replace to tell each other to look again.

    Each mark is a new file (a new inode) put in place at once: a mark within the
    clock's step, or one whose time is set back, still differs from the one seen
    before.  Unless `own_marks_are_news`, a process's own marks are not news to it.
    """

    def __init__(self, path: Path, *, own_marks_are_news: bool = False) -> None:
        self.path = path
        self.own_marks_are_news = own_marks_are_news
        self._seen: tuple[int, int] | None = None
        self._lock = threading.Lock()

    def _mark(self) -> tuple[int, int]:
        try:
            found = self.path.stat()
        except FileNotFoundError:
            return (0, 0)
        return (found.st_ino, found.st_mtime_ns)

    def touch(self) -> bool:
        """Mark the file anew; return whether it could.

        Unless own marks are news, this process takes its mark for seen, if no
        other process had marked the file since its last look (one that did stays news).
        """
        try:
            fresh = self.path.with_name(f".{self.path.name}.{uuid.uuid4().hex}")
            fresh.write_text(f"{time.time_ns()}\n")
            found = fresh.stat()  # renaming keeps its inode and time: what the others will see
            with self._lock:
                before = self._mark()
                os.replace(fresh, self.path)
                if not self.own_marks_are_news and before == self._seen:
                    self._seen = (found.st_ino, found.st_mtime_ns)
        except OSError:
            log.exception("could not mark %s: other processes will not hear of it", self.path)
            return False
        return True

    def changed(self) -> bool | None:
        """Return whether another process marked the file since the last look (None: it cannot be read)."""
        try:
            mark = self._mark()
        except OSError:
            return None
        with self._lock:
            seen, self._seen = self._seen, mark
        return seen is not None and mark != seen


class LocalManager(socketio.Manager):
    """One process: rooms in memory; other processes (the command line) reach it through files.

    `ends` is marked when sessions end; beside it, `relations-changed` when follows change.
    """

    def __init__(
        self, ends: Path | None = None, on_ended: Ended | None = None, relations: Relations | None = None
    ) -> None:
        super().__init__()
        # Ended sessions: this process's own marks make it forget everything too (a mark of another
        # process's that its own replaced is never lost). Follows: only the others' marks are news.
        self.ends = FileMark(ends, own_marks_are_news=True) if ends is not None else None
        self.follows = FileMark(ends.with_name("relations-changed")) if ends is not None else None
        if self.follows is not None:
            self.follows.changed()  # what was marked before this process started is known to it
        self.on_ended = on_ended
        self.relations = relations

    def emit(self, event, data, namespace, room=None, skip_sid=None, callback=None, to=None, **kwargs):
        if event == RELATIONS:
            _refresh(self.relations, to or room)
            if self.follows is not None:
                self.follows.touch()
            return
        if _sent_to(to or room, STREAMS):
            for one, rooms in _each_stream(data):
                with _each_on_its_own(event, one):
                    self.emit(event, one, namespace, to=rooms, skip_sid=skip_sid, callback=callback, **kwargs)
            return
        if _sent_to(to or room, HOME):
            if self.follows is not None and self.follows.changed() and self.relations is not None:
                self.relations.refresh_all()  # follows changed at the command line: whose, it did not say
            data, rooms = _home(self.relations, data)
            if not rooms:
                return
            to, room = rooms, None
        _to_event_streams(event, data, to or room)
        if event == END_SESSIONS:
            _ended(self.on_ended, to or room)
            if self.ends is not None:
                self.ends.touch()
            _disconnect_room(self, namespace or "/", to or room)
            return
        super().emit(event, data, namespace, room=room, skip_sid=skip_sid, callback=callback, to=to, **kwargs)

    def hears_every_end(self) -> bool:
        """Forget everything remembered if another process ended sessions since the last look; True."""
        if self.ends is None:
            return True
        changed = self.ends.changed()
        if changed is None:
            return False
        if changed:
            _ended(self.on_ended, None)
        return True


class RedisQueue(socketio.RedisManager):
    """Several processes sharing Redis.

    While Redis is away, events published by other processes are lost for this
    process's clients.  So when the connection to Redis comes back, every client
    of this process is disconnected: clients reconnect and catch up through the
    REST feeds (?since_id), which is how they recover from any gap.
    """

    def __init__(
        self, url: str, on_ended: Ended | None = None, relations: Relations | None = None, **kwargs
    ) -> None:
        super().__init__(url, **kwargs)
        self.on_ended = on_ended
        self.relations = relations
        self._subscribed_before = False
        # Whether this process's listener is subscribed: only then does it hear every END_SESSIONS.
        self.hearing = False

    def _redis_connect(self) -> None:
        super()._redis_connect()
        # Only the listener subscribes, and only once Redis answers: a resubscription is the
        # moment this process is back on the queue (publishes reconnect too, but never subscribe).
        subscribe, listen = self.pubsub.subscribe, self.pubsub.listen

        def subscribe_then_resync(*channels, **kwargs):
            result = subscribe(*channels, **kwargs)
            if self._subscribed_before:
                _ended(self.on_ended, None)  # what was ended while this process did not listen went unheard
                if self.server is not None:
                    log.warning("back on the Redis queue: asking this process's clients to resync")
                    self.server.start_background_task(self._resync_clients)
            self._subscribed_before = True
            self.hearing = True
            return result

        def listen_while_hearing(*args, **kwargs):
            try:
                yield from listen(*args, **kwargs)
            finally:
                self.hearing = False  # the connection broke: ended sessions may go unheard until it is back

        self.pubsub.subscribe = subscribe_then_resync
        self.pubsub.listen = listen_while_hearing

    def hears_every_end(self) -> bool:
        """Return whether this process hears every END_SESSIONS now (its listener subscribed)."""
        return self.hearing

    def emit(self, event, data, namespace=None, room=None, skip_sid=None, callback=None, to=None, **kwargs):
        if event != END_SESSIONS or kwargs.get("ignore_queue"):
            return super().emit(
                event,
                data,
                namespace=namespace,
                room=room,
                skip_sid=skip_sid,
                callback=callback,
                to=to,
                **kwargs,
            )
        # Ended sessions are confirmed: each other process counts itself under `confirm` once it has
        # forgotten them, and this one waits for as many as Redis delivered the message to.
        confirm = f"{self.channel}:ended:{uuid.uuid4().hex}"
        message = {
            "method": "emit",
            "event": END_SESSIONS,
            "data": [{"confirm": confirm}],
            "binary": False,
            "namespace": namespace or "/",
            "room": to or room,
            "skip_sid": None,
            "callback": None,
            "host_id": self.host_id,
        }
        self._handle_emit(message)  # this process, at once
        delivered = self._publish(message) or 0
        self._await_confirmations(confirm, delivered - (1 if self.hearing else 0))

    def _await_confirmations(self, key: str, expected: int) -> None:
        deadline = time.monotonic() + CONFIRM_WITHIN
        try:
            while expected > 0 and int(self.redis.get(key) or 0) < expected:
                if time.monotonic() > deadline:
                    log.warning("ended sessions: not every process confirmed within %.0f s", CONFIRM_WITHIN)
                    break
                time.sleep(0.002)
            self.redis.delete(key)
        except Exception:
            log.exception("could not wait for the processes to confirm ended sessions")

    def _confirm(self, data: Any) -> None:
        key = data.get("confirm") if isinstance(data, dict) else None
        if isinstance(key, str) and key.startswith(f"{self.channel}:ended:"):
            try:
                with self.redis.pipeline() as pipe:
                    pipe.incr(key).expire(key, 60).execute()
            except Exception:
                log.exception("could not confirm ended sessions")

    def _resync_clients(self) -> None:
        for namespace in list(self.get_namespaces()):
            _disconnect_room(self, namespace, None)

    def _handle_emit(self, message: dict) -> None:
        # Every process, the publisher included, receives each message here once.
        data = message.get("data")
        if message.get("event") == RELATIONS:
            _refresh(self.relations, message.get("room"))
            return
        if _sent_to(message.get("room"), STREAMS):
            if message.get("binary") or not isinstance(data, list) or len(data) != 1:
                return
            for one, rooms in _each_stream(data[0]):
                with _each_on_its_own(message.get("event"), one):
                    self._handle_emit({**message, "data": [one], "room": rooms})
            return
        if _sent_to(message.get("room"), HOME):
            if message.get("binary") or not isinstance(data, list) or len(data) != 1:
                return
            heard, rooms = _home(self.relations, data[0])
            if not rooms:
                return
            message = {**message, "data": [heard], "room": rooms}
            data = message["data"]
        if not message.get("binary") and isinstance(data, list) and len(data) == 1:
            _to_event_streams(message.get("event", ""), data[0], message.get("room"))
        if message.get("event") == END_SESSIONS:
            _ended(self.on_ended, message.get("room"))
            _disconnect_room(self, message.get("namespace") or "/", message.get("room"))
            if message.get("host_id") != self.host_id and isinstance(data, list) and data:
                self._confirm(data[0])
            return
        super()._handle_emit(message)
