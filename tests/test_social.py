"""Following people and tags; lists of people, colleagues by department."""

import pytest
from sqlalchemy import func, select

from microblog.database import db
from microblog.services import accounts, social
from microblog.services.errors import NotFound, ValidationError
from models import Follow, TagFollow

from .factories import make_user


def test_follow_is_idempotent_and_counted(app, alice, bob):
    social.follow_user(alice, "bob")
    social.follow_user(alice, "BOB")
    assert db.session.scalar(select(func.count()).select_from(Follow)) == 1
    assert social.is_following(alice, bob) and not social.is_following(bob, alice)
    assert social.profile_stats(bob).followers == 1 and social.profile_stats(alice).following == 1
    assert [u.username for u in social.followers(alice, bob)] == ["alice"]
    assert [u.username for u in social.following(bob, alice)] == ["bob"]
    social.unfollow_user(alice, "bob")
    social.unfollow_user(alice, "bob")
    assert db.session.scalar(select(func.count()).select_from(Follow)) == 0


def test_cannot_follow_self_or_nobody(app, alice):
    with pytest.raises(ValidationError):
        social.follow_user(alice, "alice")
    with pytest.raises(NotFound):
        social.follow_user(alice, "ghost")


def test_follow_tag_creates_it_and_normalizes(app, alice, bob):
    tag = social.follow_tag(alice, "#Apollo")
    social.follow_tag(alice, "apollo")
    social.follow_tag(bob, "APOLLO")
    assert tag.name == "apollo"
    assert db.session.scalar(select(func.count()).select_from(TagFollow)) == 2
    assert social.tag_follower_count(tag) == 2
    assert [t.name for t in social.followed_tags(alice)] == ["apollo"]
    assert [u.username for u in social.tag_followers(tag)] == ["alice", "bob"]
    social.unfollow_tag(alice, "#apollo")
    assert not social.is_following_tag(alice, tag)


@pytest.mark.parametrize("name", ["", "#", "123", "two words", "<b>"])
def test_bad_tag_names_are_refused(app, alice, name):
    with pytest.raises(ValidationError):
        social.follow_tag(alice, name)


def test_colleagues_filter_by_department_and_page(app, admin):
    for i in range(5):
        make_user(f"eng{i}", department="Engineering")
    make_user("sally", department="Sales")
    make_user("gone", department="Sales")
    accounts.set_active(admin, "gone", False)
    assert [u.username for u in social.colleagues(department="Sales")] == ["sally"]
    first = social.colleagues(department="Engineering", limit=3)
    rest = social.colleagues(department="Engineering", after=first[-1].username, limit=3)
    assert [u.username for u in first + rest] == [f"eng{i}" for i in range(5)]
    assert social.departments() == ["Engineering", "Sales"]
