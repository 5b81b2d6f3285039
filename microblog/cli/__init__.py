"""CLI commands under `flask --app wsgi ...`."""

from flask import Flask


def init_app(app: Flask) -> None:
    """Register the command groups."""
    from .communities import communities_group
    from .dashboard import dashboard_group
    from .demo import demo
    from .ldap_login import sync_directory
    from .media import media_group
    from .posts import posts
    from .search import search_group
    from .serve import serve
    from .teams import teams_group
    from .users import users

    users.add_command(sync_directory)
    groups = (
        users,
        communities_group,
        dashboard_group,
        demo,
        media_group,
        posts,
        search_group,
        serve,
        teams_group,
    )
    for group in groups:
        app.cli.add_command(group)
