"""Mastodon's streaming API: event streams (/api/v1/streaming/user ...) and the WebSocket (/api/v1/streaming).

Both are fed by realtime's publish path, and both take what each stream listens
to and carries from `channels`.
"""

from . import event_streams, websocket  # noqa: F401  (routes)
