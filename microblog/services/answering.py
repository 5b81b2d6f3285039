"""Answering an inbox item: a member replies to its post as the team."""

from __future__ import annotations

from microblog.database import db
from models import Post, User

from . import inbox
from .posts import post_status


def answer(actor: User, item_id: int | str, text: str) -> Post:
    """Reply to an inbox item's post as its team; the reply answers the item (services.inbox)."""
    item = inbox.access_item(actor, item_id)
    team = db.session.get_one(User, item.team_id)
    return post_status(team, text, in_reply_to=item.post_id, posted_by=actor)
