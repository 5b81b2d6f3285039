"""`flask --app wsgi serve`: what `make run` starts."""

from __future__ import annotations

import click
from flask import current_app
from flask.cli import ScriptInfo, with_appcontext
from werkzeug.serving import WSGIRequestHandler, run_simple

from microblog.services import accounts


class RequestHandler(WSGIRequestHandler):
    """Werkzeug's handler, naming no server or Python version in the Server header."""

    def version_string(self) -> str:
        """Return what the Server header says."""
        return "microblog"


@click.command("serve")
@with_appcontext
def serve() -> None:
    """Serve the site on MICROBLOG_HOST:MICROBLOG_PORT (one process, embedded defaults)."""
    config = current_app.config
    host, port = config["HOST"], config["PORT"]
    click.echo(f"microblog: serving on http://{host}:{port}  (data in {config['DATA_DIR']})")
    if accounts.count_users() == 0:
        click.echo(
            "\nNo accounts yet. Create the first administrator in another terminal:\n"
            "  .venv/bin/flask --app wsgi users create admin --email admin@example.com --admin\n"
            f"then log in at http://{host}:{port}/login\n"
        )
    # One process, one thread per connection; Socket.IO's websockets run on simple-websocket
    # (what socketio.run() does in threading mode, which app.run() refuses inside a flask command).
    # The app itself, not the current_app proxy: request threads run outside this app context.
    app = click.get_current_context().ensure_object(ScriptInfo).load_app()
    run_simple(host, port, app, threaded=True, request_handler=RequestHandler)
