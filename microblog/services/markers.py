"""Read markers: where a person stopped reading home and notifications, shared by every client of theirs."""

from __future__ import annotations

from collections.abc import Iterable

from flask_babel import gettext as _
from sqlalchemy import select

from microblog.database import db
from microblog.text import parse_id
from models import Marker, User, utcnow
from models.marker import TIMELINES

from . import notifications
from .errors import ValidationError


def markers(owner: User, timelines: Iterable[str]) -> dict[str, Marker]:
    """Return the owner's markers of these timelines (home, notifications), those set; others are ignored."""
    wanted = [t for t in dict.fromkeys(timelines) if t in TIMELINES]
    if not wanted:
        return {}
    found = db.session.scalars(select(Marker).where(Marker.user_id == owner.id, Marker.timeline.in_(wanted)))
    return {marker.timeline: marker for marker in found}


def set_markers(owner: User, last_read: dict[str, object]) -> dict[str, Marker]:
    """Set where the owner stopped reading, per timeline (timeline -> id); return the markers set.

    Each change raises the marker's version.  The notifications marker also
    clears the badge up to it (services.notifications.mark_notifications_seen),
    as the web's notifications page does.  Refused, changing nothing: an
    unknown timeline, an id that is not one, or no timeline at all.
    """
    if not last_read:
        raise ValidationError(_("Say which timeline was read: home or notifications."), field="home")
    ids: dict[str, int] = {}
    for timeline, value in last_read.items():
        if timeline not in TIMELINES:
            raise ValidationError(_("A marker is for home or notifications."), field=timeline)
        found = parse_id(value)
        if found is None:
            raise ValidationError(_("last_read_id must be an id."), field=f"{timeline}[last_read_id]")
        ids[timeline] = found
    if "notifications" in ids:  # the badge's mark: what the web's notifications page clears too
        notifications.mark_notifications_seen(owner, ids["notifications"])
    return _save(owner, ids)


def read_home(owner: User, up_to: object) -> Marker:
    """Move the home marker forward to a post the web page showed (nothing newer: nothing written).

    Opening home in an older tab never moves it back (a client may, with set_markers).
    """
    current = markers(owner, ["home"]).get("home")
    found = parse_id(up_to)
    if current is not None and found is not None and found <= current.last_read_id:
        return current
    return set_markers(owner, {"home": up_to})["home"]


def read_notifications(owner: User, up_to: int | str | None) -> int:
    """Mark the owner's notifications seen up to a notification (the web page's badge), and set the marker."""
    seen = notifications.mark_notifications_seen(owner, up_to)
    if seen:
        _save(owner, {"notifications": seen})
    return seen


def _save(owner: User, ids: dict[str, int]) -> dict[str, Marker]:
    current = markers(owner, ids)
    now = utcnow()
    for timeline, last_read_id in ids.items():
        marker = current.get(timeline)
        if marker is None:
            marker = current[timeline] = Marker(user_id=owner.id, timeline=timeline, version=0)
            db.session.add(marker)
        marker.last_read_id, marker.version, marker.updated_at = last_read_id, marker.version + 1, now
    db.session.commit()
    return current
