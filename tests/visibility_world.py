"""The visibility matrix's world: a private community, its private posts, and everyone who must not see them.

Every private post holds the word "zebra" (and one carries the tag #zebraplan,
used nowhere else), so a leak of its text, a snippet or a highlight shows up
as that word; the public control post is what every signed-in reader sees.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import func, select

import search
from microblog.database import db
from microblog.services import communities, posts, social
from models import Notification, User

from .factories import make_community, make_post, make_token, make_user

SECRET = "zebra"  # in every private post, in no public one
SECRET_TAG = "zebraplan"  # used by a private post only
NEVER_USED_TAG = "yakplan"  # used by no post at all: what an unused tag looks like
MISSING_POST = 987_654_321  # an id no post has

# Who reads, by role: the person behind it (None: an anonymous client).
ROLE_USER: dict[str, str | None] = {
    "member": "mia",
    "nonmember": "nora",  # @mentioned in the private post
    "removed": "rex",  # a member when it was posted, removed by IT since
    "left": "lea",  # a member when it was posted, left since
    "requester": "quinn",  # asked to join, still waiting
    "siteadmin": "ada",  # a site administrator, not a member
    "readonly": "nora",  # a read-only token of a non-member (API and streams only)
    "anonymous": None,
}
ROLES = tuple(ROLE_USER)
OUTSIDERS = tuple(role for role in ROLES if role != "member")
WEB_ROLES = tuple(role for role in ROLES if role != "readonly")  # a token is no browser
SIGNED_IN = tuple(role for role in ROLES if role != "anonymous")


@dataclass
class World:
    """The people, the community and the ids of its posts."""

    users: dict[str, User]
    community: User
    ids: dict[str, int]
    headers: dict[str, dict[str, str]] = field(default_factory=dict)

    @property
    def private(self) -> set[int]:
        """Return the ids of every post in the private community."""
        return {self.ids[k] for k in ("secret", "member_reply", "rex_reply", "lea_post", "late_reply")}

    @property
    def public(self) -> set[int]:
        """Return the ids of every public post."""
        return {self.ids[k] for k in ("morning", "control", "control_reply")}

    def user(self, role: str) -> User | None:
        """Return the person behind a role (None: anonymous)."""
        name = ROLE_USER[role]
        return self.users[name] if name else None

    def auth(self, role: str) -> dict[str, str]:
        """Return the API headers of a role: its token (read-only for `readonly`), or none."""
        return self.headers.get(role, {})

    def fill(self, template: str) -> str:
        """Return a path with {ids}, {@users} and {community} filled in."""
        values = {**self.ids, **{f"{name}_id": u.id for name, u in self.users.items()}}
        values["community_id"] = self.community.id
        return template.format(**values)


def build_world() -> World:
    """Make the world through the services, in the order real people would."""
    names = ("owen", "mia", "rex", "lea", "quinn", "nora")
    users = {name: make_user(name, display_name=name.capitalize()) for name in names}
    users["ada"] = make_user("ada", display_name="Ada Admin", is_admin=True)
    owen, mia, rex, lea, nora = (users[n] for n in ("owen", "mia", "rex", "lea", "nora"))
    skunk = make_community(owen, "skunkworks", private=True, members=(mia, rex, lea))
    social.follow_user(users["quinn"], "skunkworks")  # a join request, never answered
    for name in ("mia", "rex", "lea", "quinn", "nora", "ada"):  # so that a leak would reach their feeds
        social.follow_user(users[name], "owen")
        social.follow_tag(users[name], "skunk")
    ids: dict[str, int] = {}
    ids["morning"] = make_post(owen, "Good morning").id
    ids["control"] = make_post(owen, "Lunch launch in the canteen #skunk @nora @rex @lea @quinn @ada @mia").id
    ids["control_reply"] = make_post(nora, "Count me in", in_reply_to=ids["control"]).id
    posts.like_post(nora, ids["control"])
    ids["secret"] = make_post(owen, f"@skunkworks Zebra launch plan #skunk #{SECRET_TAG} @nora @rex @mia").id
    ids["member_reply"] = make_post(mia, "Zebra reply: quokka agreed", in_reply_to=ids["secret"]).id
    ids["rex_reply"] = make_post(rex, "Zebra doubts from rex", in_reply_to=ids["secret"]).id
    ids["lea_post"] = make_post(lea, "@skunkworks Zebra notes by lea").id
    posts.like_post(mia, ids["secret"])
    posts.like_post(lea, ids["secret"])
    communities.remove_member(None, skunk, rex)
    communities.leave(lea, skunk)
    ids["last_note_before_departures"] = db.session.scalar(select(func.max(Notification.id))) or 0
    # After they went: a reply to rex and likes of their posts must not reach them.
    ids["late_reply"] = make_post(mia, "Zebra answer for rex", in_reply_to=ids["rex_reply"]).id
    posts.like_post(mia, ids["rex_reply"])
    posts.like_post(mia, ids["lea_post"])
    search.drain()
    world = World(users, skunk, ids)
    for role in SIGNED_IN:
        person = world.user(role)
        assert person is not None
        world.headers[role] = make_token(person, *(("read",) if role == "readonly" else ()))
    return world


def post_ids_in_html(body: str) -> set[int]:
    """Return the ids of the posts a page or fragment renders."""
    return {int(i) for i in re.findall(r'data-post-id="(\d+)"', body)}


def status_ids(data: Any) -> set[int]:
    """Return the ids of every Status inside a JSON document (lists, contexts, notifications, search)."""
    found: set[int] = set()
    if isinstance(data, dict):
        if "content" in data and "id" in data:
            found.add(int(data["id"]))
        for value in data.values():
            found |= status_ids(value)
    elif isinstance(data, list):
        for value in data:
            found |= status_ids(value)
    return found


def mentions_secret(text: str) -> bool:
    """Return whether a body holds anything of a private post's text or tag."""
    return SECRET in text.casefold()


class Matrix:
    """Collects every (role, path) that leaked or failed its control, and fails once with all of them."""

    def __init__(self) -> None:
        self.failures: list[str] = []
        self.checked = 0

    def check(self, ok: bool, role: str, path: str, why: str) -> None:
        """Record a failure unless ok."""
        self.checked += 1
        if not ok:
            self.failures.append(f"{role:>10}  {path}: {why}")

    def done(self) -> None:
        """Fail with every recorded failure."""
        assert self.checked, "nothing was checked"
        assert not self.failures, f"{len(self.failures)} failures:\n" + "\n".join(self.failures)
