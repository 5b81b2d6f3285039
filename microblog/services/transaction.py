"""Side effects that must wait for the commit: a rolled-back write announces nothing."""

from __future__ import annotations

import logging
from collections.abc import Callable

from sqlalchemy import event
from sqlalchemy.orm import Session, SessionTransaction

from microblog.extensions import db

log = logging.getLogger(__name__)

_KEY = "microblog.on_commit"


def on_commit(callback: Callable[[], None]) -> None:
    """Run callback after the current transaction commits; drop it if it rolls back.

    Callbacks must not touch the database: compute what they need before the commit.
    A failing callback is logged and never undoes or fails the write.
    """
    session = db.session()
    if not session.in_transaction():
        session.begin()  # so that a rollback, even of nothing, ends it and drops the callback
    session.info.setdefault(_KEY, []).append(callback)


@event.listens_for(Session, "after_commit")
def _run_callbacks(session: Session) -> None:
    for callback in session.info.pop(_KEY, []):
        try:
            callback()
        except Exception:
            log.exception("after-commit callback %r failed", callback)


@event.listens_for(Session, "after_transaction_end")
def _drop_callbacks(session: Session, transaction: SessionTransaction) -> None:
    # Runs after after_commit: what is left when the outermost transaction ends was rolled back.
    if transaction.parent is None:
        session.info.pop(_KEY, None)
