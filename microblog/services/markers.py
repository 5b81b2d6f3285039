"""Read markers: where a person stopped reading home and notifications, shared by every client of theirs."""

from __future__ import annotations

from collections.abc import Iterable

from flask_babel import gettext as _
from sqlalchemy import select

from microblog.database import db, upsert_into
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
    """Set where the owner stopped reading, per timeline (timeline -> id); return the owner's markers of them.

    A marker that changes gets a higher version; one set to where it is
    stays as it is.  The notifications marker also clears the badge up to it
    (services.notifications.mark_notifications_seen), as the web's
    notifications page does.  Nothing asked, nothing changes.  Refused,
    changing nothing: an unknown timeline, or an id that is not one.
    """
    ids: dict[str, int] = {}
    for timeline, value in last_read.items():
        if timeline not in TIMELINES:
            raise ValidationError(_("A marker is for home or notifications."), field=timeline)
        found = parse_id(value)
        if found is None:
            raise ValidationError(_("last_read_id must be an id."), field=f"{timeline}[last_read_id]")
        ids[timeline] = found
    for timeline, last_read_id in ids.items():
        _upsert(owner, timeline, last_read_id, forward_only=False)
    if "notifications" in ids:  # the badge's mark: what the web's notifications page clears too
        notifications.mark_notifications_seen(owner, ids["notifications"])  # commits
    db.session.commit()
    return markers(owner, ids)


def read_home(owner: User, up_to: object) -> Marker:
    """Move the home marker forward to a post the web page showed (nothing newer: nothing written).

    Opening home in an older tab never moves it back (a client may, with set_markers).
    """
    found = parse_id(up_to)
    if found is None:
        raise ValidationError(_("last_read_id must be an id."), field="up_to")
    _upsert(owner, "home", found, forward_only=True)
    db.session.commit()
    return markers(owner, ["home"])["home"]


def read_notifications(owner: User, up_to: int | str | None) -> int:
    """Mark the owner's notifications seen up to a notification (the web page's badge); the marker follows."""
    seen = notifications.mark_notifications_seen(owner, up_to)
    if seen:
        _upsert(owner, "notifications", seen, forward_only=True)
        db.session.commit()
    return seen


def _upsert(owner: User, timeline: str, last_read_id: int, *, forward_only: bool) -> None:
    """Insert or move a marker in one statement (two clients at once: one wins, neither fails).

    Its version rises only when it moves; `forward_only`: it never moves back.
    """
    stmt = upsert_into(Marker)
    stmt = stmt.values(
        user_id=owner.id, timeline=timeline, last_read_id=last_read_id, version=1, updated_at=utcnow()
    )
    moves = (
        Marker.last_read_id < stmt.excluded.last_read_id
        if forward_only
        else Marker.last_read_id != stmt.excluded.last_read_id
    )
    db.session.execute(
        stmt.on_conflict_do_update(
            index_elements=["user_id", "timeline"],
            set_={
                "last_read_id": stmt.excluded.last_read_id,
                "version": Marker.version + 1,
                "updated_at": stmt.excluded.updated_at,
            },
            where=moves,
        )
    )
