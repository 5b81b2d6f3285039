"""The people and communities of the home-timeline tests (test_home_delivery, test_home_kept)."""

from __future__ import annotations

from microblog.services import lists
from models import User

from .factories import make_community, make_user

PEOPLE = ("alice", "bob", "carol", "dave", "erin", "frank", "gina", "nora")


def build() -> tuple[dict[str, User], User, User]:
    """Make the people; alice runs @ops (private, with dave) and @guild (public, with erin)."""
    people = {name: make_user(name) for name in PEOPLE}
    ops = make_community(people["alice"], "ops", private=True, members=(people["dave"],))
    guild = make_community(people["alice"], "guild", members=(people["erin"],))
    return people, ops, guild


def exclusive_list(owner: User, account: User) -> None:
    """Make owner read account in an exclusive list: in the list, not in home."""
    made = lists.create_list(owner, "Read apart", exclusive=True)
    lists.add_accounts(owner, made.id, [account.id])
