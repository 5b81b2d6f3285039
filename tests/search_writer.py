"""One of several processes posting, deleting and indexing at once (test_search_processes.py).

    python -m tests.search_writer USERNAME COUNT     (configured by MICROBLOG_* variables)

Drains the outbox after every write with a short writer timeout, so that the
processes fight over Whoosh's writer lock; prints how often it found it busy.
"""

from __future__ import annotations

import sys

import search
from microblog import create_app
from microblog.database import db
from microblog.services import accounts, posts


def main(username: str, count: int) -> None:
    app = create_app()
    with app.test_request_context("/"):  # posts build absolute URLs for their live events
        backend = search.backend()
        if hasattr(backend, "writer_timeout"):
            backend.writer_timeout = 0.01  # give up fast: the outbox keeps what was not written
        author = accounts.access_user(username)
        busy = 0
        for i in range(count):
            post = posts.post_status(author, f"Report {i} from {username}: token{username}x{i}")
            if i % 5 == 4:
                posts.delete_post(author, post.id)
            try:
                search.drain()
            except search.IndexBusy:
                busy += 1
                db.session.rollback()
        while True:  # leave nothing behind that this process wrote
            try:
                search.drain()
                break
            except search.IndexBusy:
                busy += 1
                db.session.rollback()
        print(f"busy={busy}")


if __name__ == "__main__":
    main(sys.argv[1], int(sys.argv[2]))
