"""Ending a person's sessions: every place that does it (password change, deactivation,
directory adoption or removal) calls the one function here.
"""

from __future__ import annotations

import realtime
from microblog.database import on_commit
from models import User


def end_sessions(user: User) -> None:
    """End the user's sessions now and, after the commit, close their live connections.

    Call inside the action's transaction: a rolled-back change ends nothing.
    """
    user.end_sessions()  # a new session token: every signed cookie and login stops working
    user_id = user.id
    on_commit(lambda: realtime.end_sessions(user_id))
