"""Read markers (Mastodon's /api/v1/markers): where a person stopped reading, the same in every client."""

from __future__ import annotations

from typing import Any

from flask import jsonify, request

from microblog import entities
from microblog.services import markers as marker_service
from models import Marker

from . import params, requires, route, viewer


def _marker(marker: Marker) -> dict[str, Any]:
    return {
        "last_read_id": str(marker.last_read_id),
        "version": marker.version,
        "updated_at": entities.time(marker.updated_at),
    }


@route("/api/v1/markers")
@requires("read:statuses")
def get_markers():
    """Return the markers of the timelines asked for (`timeline[]`: home, notifications)."""
    asked = request.args.getlist("timeline[]") + request.args.getlist("timeline")
    found = marker_service.markers(viewer(), asked)
    return jsonify({timeline: _marker(marker) for timeline, marker in found.items()})


@route("/api/v1/markers", methods=["POST"])
@requires("write:statuses")
def save_markers():
    """Set markers: `home[last_read_id]` and `notifications[last_read_id]` (a form), or the same as JSON."""
    data = params()
    last_read: dict[str, object] = {}
    for timeline in ("home", "notifications"):
        nested = data.get(timeline)
        if isinstance(nested, dict) and "last_read_id" in nested:
            last_read[timeline] = nested["last_read_id"]
        elif f"{timeline}[last_read_id]" in data:
            last_read[timeline] = data[f"{timeline}[last_read_id]"]
    saved = marker_service.set_markers(viewer(), last_read)  # none asked: {} (as Mastodon answers)
    return jsonify({timeline: _marker(marker) for timeline, marker in saved.items()})
