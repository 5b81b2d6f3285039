"""Socket.IO client managers: ending sessions in every process, and resync after a Redis outage.

Both managers understand one server-side message, END_SESSIONS, emitted to a
room like any event: each process disconnects its own clients in that room
instead of sending anything.  With Redis, that is one publish whatever the
number of processes.
"""

from __future__ import annotations

import logging

import socketio

from .sse import CLOSE, hub

log = logging.getLogger(__name__)

END_SESSIONS = "microblog:end-sessions"


def _disconnect_room(manager: socketio.Manager, namespace: str, room: object) -> None:
    for sid, _eio_sid in list(manager.get_participants(namespace, room)):
        manager.server.disconnect(sid, namespace=namespace, ignore_queue=True)


def _to_event_streams(event: str, data: object, rooms: object) -> None:
    """Hand what this process delivers to its server-sent-event listeners too."""
    if event == END_SESSIONS:
        hub.deliver(CLOSE, None, rooms)
    else:
        hub.deliver(event, data, rooms)


class LocalManager(socketio.Manager):
    """One process: rooms in memory."""

    def emit(self, event, data, namespace, room=None, skip_sid=None, callback=None, to=None, **kwargs):
        _to_event_streams(event, data, to or room)
        if event == END_SESSIONS:
            _disconnect_room(self, namespace or "/", to or room)
            return
        super().emit(event, data, namespace, room=room, skip_sid=skip_sid, callback=callback, to=to, **kwargs)


class RedisQueue(socketio.RedisManager):
    """Several processes sharing Redis.

    While Redis is away, events published by other processes are lost for this
    process's clients.  So when the connection to Redis comes back, every client
    of this process is disconnected: clients reconnect and catch up through the
    REST feeds (?since_id), which is how they recover from any gap.
    """

    def __init__(self, url: str, **kwargs) -> None:
        super().__init__(url, **kwargs)
        self._subscribed_before = False

    def _redis_connect(self) -> None:
        super()._redis_connect()
        # Only the listener subscribes, and only once Redis answers: a resubscription is the
        # moment this process is back on the queue (publishes reconnect too, but never subscribe).
        subscribe = self.pubsub.subscribe

        def subscribe_then_resync(*channels, **kwargs):
            result = subscribe(*channels, **kwargs)
            if self._subscribed_before and self.server is not None:
                log.warning("back on the Redis queue: asking this process's clients to resync")
                self.server.start_background_task(self._resync_clients)
            self._subscribed_before = True
            return result

        self.pubsub.subscribe = subscribe_then_resync

    def _resync_clients(self) -> None:
        for namespace in list(self.get_namespaces()):
            _disconnect_room(self, namespace, None)

    def _handle_emit(self, message: dict) -> None:
        # Every process, the publisher included, receives each message here once.
        data = message.get("data")
        if not message.get("binary") and isinstance(data, list) and len(data) == 1:
            _to_event_streams(message.get("event", ""), data[0], message.get("room"))
        if message.get("event") == END_SESSIONS:
            _disconnect_room(self, message.get("namespace") or "/", message.get("room"))
            return
        super()._handle_emit(message)
