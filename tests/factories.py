"""Test data made through the services, as the product makes it."""

from __future__ import annotations

from flask.testing import FlaskClient

import search
from microblog.database import db
from microblog.services import accounts, communities, posts, visibility
from models import ListHit, Post, TimelineList, User

PASSWORD = "correct horse battery"


def make_user(username: str, *, is_admin: bool = False, **profile: str) -> User:
    """Create an account (password: factories.PASSWORD) with an optional profile."""
    user = accounts.create_user(
        username,
        f"{username}@example.com",
        PASSWORD,
        display_name=profile.pop("display_name", ""),
        is_admin=is_admin,
    )
    if profile:
        accounts.update_profile(user, **profile)
    return user


def make_post(author: User, text: str = "Status update", **kwargs) -> Post:
    """Publish a post through the service."""
    return posts.post_status(author, text, **kwargs)


def make_hit(saved_search: TimelineList, post: Post) -> None:
    """Record that a post matched a saved search, as the percolator does when the post is written."""
    db.session.add(ListHit(list_id=saved_search.id, post_id=post.id))
    db.session.commit()


def login(client: FlaskClient, username: str, password: str = PASSWORD, remember: bool = False):
    """Log the client in through the form; return the response."""
    data = {"login": username, "password": password}
    if remember:
        data["remember"] = "y"
    response = client.post("/login", data=data)
    assert response.status_code == 302, response.data
    return response


def make_token(user: User, *scopes: str) -> dict[str, str]:
    """Create a personal access token (read and write unless scopes say otherwise); return its header."""
    from microblog.services import tokens

    _, value = tokens.create_personal_token(user, "tests", scopes or ("read", "write"))
    return {"Authorization": f"Bearer {value}"}


def anyone() -> search.Reader:
    """Return the reader of a search by a colleague in no community: public posts only."""
    return visibility.search_reader(None)


def make_community(
    owner: User, handle: str, *, private: bool = False, members: tuple[User, ...] = (), name: str = ""
) -> User:
    """Create a community owned (and administered) by owner, with these members added by IT."""
    community = communities.create_community(
        owner, handle, name=name or handle.capitalize(), description=f"The {handle} team", private=private
    )
    for member in members:
        communities.add_member(None, community, member)
    return community


def make_team(
    handle: str, *, members: tuple[User, ...] = (), leads: tuple[User, ...] = (), name: str = ""
) -> User:
    """Create a team (official) account, as IT does, with these members and leads."""
    from microblog.services import teams

    return teams.create_team(
        None, handle, name=name or handle.replace("-", " ").title(), members=members, leads=leads
    )
