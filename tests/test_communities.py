"""Communities through their services: creating, joining, requests, admins, and where posts land."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select

from microblog.database import db
from microblog.services import (
    accounts,
    communities,
    join_requests,
    notifications,
    posts,
    social,
    timelines,
    tokens,
)
from microblog.services.errors import Conflict, NotFound, PermissionDenied, ValidationError
from models import Community, CommunityAdmin, Follow, FollowRequest, Notification, Post, User, mentions
from models.post import PRIVATE, PUBLIC

from .factories import PASSWORD, make_community, make_post, make_team, make_user


@pytest.fixture
def carol(app):
    """A third colleague."""
    return make_user("carol", display_name="Carol Carlsen")


def _fresh(user: User) -> User:
    db.session.expire_all()
    return db.session.get_one(User, user.id)


def _notes(user: User, kind: str) -> list[Notification]:
    return list(
        db.session.scalars(
            select(Notification).where(Notification.user_id == user.id, Notification.kind == kind)
        )
    )


# -- creating -------------------------------------------------------------------


def test_the_creator_is_the_first_member_and_admin_of_a_group_account(alice):
    apollo = communities.create_community(
        alice, "Apollo", name="Project Apollo", description="Moon", private=True
    )
    assert (apollo.username, apollo.kind, apollo.locked, apollo.email, apollo.password_hash) == (
        "apollo",
        "community",
        True,
        None,
        None,
    )
    assert communities.is_member(alice, apollo) and communities.is_admin(alice, apollo)
    # The member count is public; a private membership is not counted on the member's profile.
    assert _fresh(apollo).followers_count == 1 and _fresh(alice).following_count == 0
    assert db.session.get_one(Community, apollo.id).created_by_id == alice.id


TAKEN = "That handle is taken: people, communities and teams share one namespace."


def test_communities_and_people_share_one_namespace(alice, bob):
    with pytest.raises(Conflict) as taken:
        communities.create_community(alice, "bob", name="Bob's team")
    assert taken.value.message == TAKEN and taken.value.field == "handle"
    make_team("hr")
    with pytest.raises(Conflict) as taken:
        communities.create_community(alice, "HR", name="Human resources")
    assert taken.value.message == TAKEN
    make_community(alice, "apollo")
    with pytest.raises(Conflict):
        communities.create_community(bob, "APOLLO", name="Another Apollo")
    with pytest.raises(Conflict):
        accounts.create_user("apollo", "apollo@example.com", PASSWORD)
    with pytest.raises(ValidationError):
        communities.create_community(alice, "x y", name="Bad handle")
    with pytest.raises(ValidationError):
        communities.create_community(alice, "unnamed", name="   ")
    assert db.session.scalar(select(func.count()).select_from(Community)) == 1


@pytest.mark.settings(COMMUNITY_CREATION="admins")
def test_only_administrators_create_communities_when_the_setting_says_so(alice, admin):
    with pytest.raises(PermissionDenied):
        communities.create_community(alice, "apollo", name="Apollo")
    communities.create_community(admin, "apollo", name="Apollo", owner=alice)
    assert communities.is_admin(alice, communities.access_community("apollo"))


def test_a_community_cannot_log_in_get_a_token_or_post(alice):
    apollo = make_community(alice, "apollo")
    with pytest.raises(ValidationError):
        accounts.authenticate("apollo", "")
    with pytest.raises(ValidationError):
        tokens.create_personal_token(apollo, "bot")
    with pytest.raises(PermissionDenied):
        posts.post_status(apollo, "I speak for the team")


def test_communities_are_not_colleagues(alice):
    make_community(alice, "apollo")
    assert [u.username for u in social.colleagues()] == ["alice"]
    assert [u.username for u in social.all_users()] == ["alice"]


# -- joining and leaving ----------------------------------------------------------


def test_a_public_community_is_joined_at_once_and_left(alice, bob):
    apollo = make_community(alice, "apollo")
    social.follow_user(bob, "apollo")
    assert communities.is_member(bob, apollo)
    assert _fresh(apollo).followers_count == 2
    assert _notes(alice, "follow") == []  # joining is not following the admin
    social.unfollow_user(bob, "apollo")
    assert not communities.is_member(bob, apollo) and _fresh(apollo).followers_count == 1


def test_a_private_community_takes_a_request_that_an_admin_accepts(alice, bob, carol):
    leaders = make_community(alice, "leaders", private=True, members=(carol,))
    communities.set_community_admin(None, leaders, carol, True)
    social.follow_user(bob, "leaders")
    assert not communities.is_member(bob, leaders) and join_requests.has_requested(bob, leaders)
    # Every admin hears of it, naming the community.
    for admin_user in (alice, carol):
        (note,) = _notes(admin_user, "follow_request")
        assert (note.actor_id, note.community_id) == (bob.id, leaders.id)
    assert [u.username for u in join_requests.pending_requests(alice, leaders)] == ["bob"]
    with pytest.raises(PermissionDenied):
        join_requests.pending_requests(bob, leaders)
    with pytest.raises(PermissionDenied):
        join_requests.accept_request(bob, leaders, "bob")
    join_requests.accept_request(carol, leaders, "bob")
    assert communities.is_member(bob, leaders) and not join_requests.has_requested(bob, leaders)
    (accepted,) = _notes(bob, "join_accepted")
    assert (accepted.actor_id, accepted.community_id) == (leaders.id, leaders.id)
    with pytest.raises(NotFound):
        join_requests.accept_request(alice, leaders, "bob")  # nothing is waiting any more


def test_a_refused_or_withdrawn_request_leaves_no_membership(alice, bob, carol):
    leaders = make_community(alice, "leaders", private=True)
    social.follow_user(bob, "leaders")
    join_requests.refuse_request(alice, leaders, "bob")
    social.follow_user(carol, "leaders")
    social.unfollow_user(carol, "leaders")  # takes the request back
    assert db.session.scalar(select(func.count()).select_from(FollowRequest)) == 0
    assert not communities.is_member(bob, leaders) and not communities.is_member(carol, leaders)


def test_the_last_admin_cannot_leave_or_step_down_until_another_is_appointed(alice, bob):
    apollo = make_community(alice, "apollo", members=(bob,))
    with pytest.raises(ValidationError, match="Appoint another admin"):
        communities.leave(alice, apollo)
    with pytest.raises(ValidationError):
        communities.set_community_admin(alice, apollo, alice, False)
    with pytest.raises(ValidationError):
        communities.remove_member(None, apollo, alice)
    communities.set_community_admin(alice, apollo, bob, True)
    communities.leave(alice, apollo)
    assert not communities.is_member(alice, apollo) and not communities.is_admin(alice, apollo)
    assert communities.admin_ids(apollo) == {bob.id}


def test_admins_add_remove_and_appoint_members(alice, bob, carol):
    apollo = make_community(alice, "apollo")
    with pytest.raises(PermissionDenied):
        communities.add_member(bob, apollo, carol)
    communities.add_member(alice, apollo, bob, admin=True)
    communities.add_member(bob, apollo, carol)
    communities.remove_member(bob, apollo, carol)
    assert [u.username for u in communities.members(apollo)] == ["alice", "bob"]
    assert [u.username for u in communities.admins(apollo)] == ["alice", "bob"]
    with pytest.raises(ValidationError):
        communities.set_community_admin(alice, apollo, carol, True)  # not a member


def test_an_archived_community_takes_no_posts_and_no_members_but_stays_readable(alice, bob):
    apollo = make_community(alice, "apollo", private=True)
    post = make_post(alice, "@apollo minutes of the last meeting")
    communities.set_archived(alice, apollo, True)
    with pytest.raises(ValidationError, match="archived"):
        make_post(alice, "@apollo one more thing")
    with pytest.raises(ValidationError, match="archived"):
        make_post(alice, "a late reply", in_reply_to=post.id)
    with pytest.raises(ValidationError, match="archived"):
        social.follow_user(bob, "apollo")
    assert [p.id for p in timelines.community_timeline(alice, apollo).posts] == [post.id]
    communities.set_archived(alice, apollo, False)
    make_post(alice, "@apollo we are back")


def test_site_administrators_mark_official_and_take_over_only_abandoned_communities(alice, bob, admin):
    apollo = make_community(alice, "apollo")
    with pytest.raises(PermissionDenied):
        communities.set_official(alice, apollo, True)
    communities.set_official(admin, apollo, True)
    assert communities.details(apollo).is_official
    with pytest.raises(ValidationError):
        communities.take_over(admin, apollo)  # alice still runs it
    with pytest.raises(PermissionDenied):
        communities.take_over(bob, apollo)
    accounts.set_active(admin, "alice", False)
    communities.take_over(admin, apollo)
    assert communities.is_admin(admin, apollo) and communities.is_member(admin, apollo)


# -- where posts land ---------------------------------------------------------------


def test_a_post_addressing_a_community_is_in_it_and_private_if_the_community_is(alice, bob):
    apollo = make_community(alice, "apollo")
    leaders = make_community(alice, "leaders", private=True)
    public = make_post(alice, "@apollo launch on Friday")
    private = make_post(alice, "@leaders budget draft")
    assert (public.community_id, public.visibility) == (apollo.id, PUBLIC)
    assert (private.community_id, private.visibility) == (leaders.id, PRIVATE)
    assert 'href="/@leaders"' in private.html
    company = make_post(bob, "lunch?")
    assert (company.community_id, company.visibility) == (None, PUBLIC)


def test_posting_into_a_community_needs_membership_and_one_community(alice, bob):
    make_community(alice, "apollo")
    make_community(alice, "leaders", private=True)
    with pytest.raises(ValidationError, match="Join @apollo"):
        make_post(bob, "@apollo can I help?")
    with pytest.raises(ValidationError, match="one community only"):
        make_post(alice, "@apollo and @leaders both")
    assert db.session.scalar(select(func.count()).select_from(Post)) == 0


def test_a_reply_stays_in_its_post_s_community(alice, bob, carol):
    apollo = make_community(alice, "apollo")
    leaders = make_community(alice, "leaders", private=True, members=(bob,))
    root = make_post(alice, "@leaders who takes the minutes?")
    reply = make_post(bob, "I will", in_reply_to=root.id)
    assert (reply.community_id, reply.visibility) == (leaders.id, PRIVATE)
    with pytest.raises(ValidationError, match="stays where its post is"):
        make_post(bob, "@apollo moving this over", in_reply_to=root.id)
    company = make_post(carol, "anyone for coffee?")
    with pytest.raises(ValidationError, match="stays where its post is"):
        make_post(alice, "@leaders see this", in_reply_to=company.id)
    # A public community's post can be answered by whoever reads it; the answer stays in it.
    launch = make_post(alice, "@apollo launch moved")
    answer = make_post(carol, "thanks", in_reply_to=launch.id)
    assert (answer.community_id, answer.visibility) == (apollo.id, PUBLIC)
    # Outsiders cannot even find a private post to answer.
    with pytest.raises(NotFound):
        make_post(carol, "me too", in_reply_to=root.id)


def test_a_private_post_addresses_and_notifies_members_only(alice, bob, carol):
    make_community(alice, "leaders", private=True, members=(bob,))
    post = make_post(alice, "@leaders @bob @carol please read")
    addressed = set(db.session.scalars(select(mentions.c.user_id).where(mentions.c.post_id == post.id)))
    assert addressed == {bob.id}
    assert len(_notes(bob, "mention")) == 1 and _notes(carol, "mention") == []


def test_private_posts_are_counted_on_no_account(alice, bob):
    apollo = make_community(alice, "apollo")
    leaders = make_community(alice, "leaders", private=True)
    make_post(alice, "@apollo public news")
    make_post(alice, "@leaders private news")
    make_post(alice, "company news")
    assert _fresh(alice).posts_count == 2
    assert _fresh(apollo).posts_count == 1 and _fresh(leaders).posts_count == 0
    social.recount_accounts()
    assert (_fresh(alice).posts_count, _fresh(apollo).posts_count, _fresh(leaders).posts_count) == (2, 1, 0)
    assert accounts.site_counts().posts >= 2


def test_community_admins_delete_posts_in_their_community_and_site_admins_cannot_see_private_ones(
    alice, bob, admin
):
    make_community(alice, "leaders", private=True, members=(bob,))
    post = make_post(bob, "@leaders off-topic")
    with pytest.raises(NotFound):
        posts.delete_post(admin, post.id)  # site administrators do not browse private communities
    posts.delete_post(alice, post.id)
    assert db.session.get(Post, post.id) is None


def test_home_holds_the_posts_of_joined_communities(alice, bob, carol):
    make_community(alice, "apollo", members=(bob,))
    make_community(alice, "leaders", private=True, members=(bob,))
    public = make_post(alice, "@apollo standup moved")
    private = make_post(alice, "@leaders budget")
    assert {p.id for p in timelines.home_timeline(bob).posts} == {public.id, private.id}
    assert timelines.home_timeline(carol).posts == []
    social.follow_user(carol, "alice")  # following the author shows what carol may see, not more
    assert [p.id for p in timelines.home_timeline(carol).posts] == [public.id]


def test_membership_rows_follow_the_follows_table(alice, bob):
    apollo = make_community(alice, "apollo", members=(bob,))
    assert db.session.get(Follow, (bob.id, apollo.id)) is not None
    communities.remove_member(alice, apollo, bob)
    assert db.session.get(Follow, (bob.id, apollo.id)) is None
    assert db.session.get(CommunityAdmin, (apollo.id, alice.id)) is not None


def test_a_tag_page_answers_alike_for_a_tag_used_only_in_private_and_one_never_used(alice, bob, client):
    from .factories import login

    make_community(alice, "leaders", private=True)
    make_post(alice, "@leaders #reorg plans")
    login(client, "bob")
    private_only = client.get("/tags/reorg")
    never = client.get("/tags/neverused")
    assert private_only.status_code == never.status_code == 404
    assert private_only.data.replace(b"reorg", b"neverused") == never.data
    followers = [client.get(f"/tags/{name}/followers").status_code for name in ("reorg", "neverused")]
    assert followers == [404, 404]


def test_a_private_community_s_members_are_listed_to_its_members_only(alice, bob, carol):
    leaders = make_community(alice, "leaders", private=True, members=(bob,))
    apollo = make_community(alice, "apollo", members=(bob,))
    assert [u.username for u in social.followers(bob, leaders)] == ["alice", "bob"]
    assert social.followers(carol, leaders) == [] and social.followers(None, leaders) == []
    assert [u.username for u in social.followers(carol, apollo)] == ["alice", "bob"]
    # Nor does a person's list of follows tell outsiders which private communities they are in.
    assert [u.username for u in social.following(alice, bob)] == ["apollo", "leaders"]
    assert [u.username for u in social.following(carol, bob)] == ["apollo"]
    cursor = timelines.Cursor()
    assert social.follower_accounts(carol, leaders, cursor) == []
    assert [u.username for u in social.following_accounts(carol, bob, cursor)] == ["apollo"]


def test_a_request_from_someone_deactivated_since_cannot_be_accepted(alice, bob, admin):
    leaders = make_community(alice, "leaders", private=True)
    social.follow_user(bob, "leaders")
    accounts.set_active(admin, "bob", False)
    with pytest.raises(ValidationError, match="cannot be a member"):
        join_requests.accept_request(alice, leaders, "bob")
    assert not communities.is_member(bob, leaders)


def test_the_last_active_admin_stays_even_when_a_deactivated_one_is_listed(alice, bob, admin):
    apollo = make_community(alice, "apollo", members=(bob,))
    communities.set_community_admin(alice, apollo, bob, True)
    accounts.set_active(admin, "bob", False)
    with pytest.raises(ValidationError, match="Appoint another admin"):
        communities.leave(alice, apollo)


def test_an_archived_community_takes_no_new_members_and_removing_a_stranger_is_not_found(alice, bob, carol):
    leaders = make_community(alice, "leaders", private=True)
    social.follow_user(bob, "leaders")
    communities.set_archived(alice, leaders, True)
    with pytest.raises(ValidationError, match="archived"):
        communities.add_member(alice, leaders, carol)
    with pytest.raises(ValidationError, match="archived"):
        join_requests.accept_request(alice, leaders, "bob")
    with pytest.raises(NotFound):
        communities.remove_member(alice, leaders, carol)
    assert [u.username for u in communities.members(leaders)] == ["alice"]


def test_join_requests_are_shown_to_current_admins_only(alice, bob, carol):
    leaders = make_community(alice, "leaders", private=True, members=(carol,))
    communities.set_community_admin(alice, leaders, carol, True)
    social.follow_user(bob, "leaders")
    assert [n.kind for n in notifications.list_notifications(carol)] == ["follow_request"]
    communities.set_community_admin(alice, leaders, carol, False)
    assert notifications.list_notifications(carol) == []
    assert notifications.unread_count(carol) == 0
    assert [n.kind for n in notifications.list_notifications(alice)] == ["follow_request"]


def test_site_administrators_cannot_deactivate_or_promote_a_community_account(alice, admin):
    make_community(alice, "apollo")
    with pytest.raises(ValidationError, match="is a community"):
        accounts.set_active(admin, "apollo", False)
    with pytest.raises(ValidationError, match="is a community"):
        accounts.set_admin(admin, "apollo", True)


def test_a_retried_post_is_not_handed_back_to_a_former_member(alice, bob):
    leaders = make_community(alice, "leaders", private=True, members=(bob,))
    first = posts.post_status(bob, "@leaders draft", idempotency_key="k1")
    communities.remove_member(alice, leaders, bob)
    again = posts.post_status(bob, "company-wide now", idempotency_key="k1")
    assert again.id != first.id and again.community_id is None


def test_a_private_community_is_handed_to_a_member_never_to_the_site_administrator(alice, bob, carol, admin):
    leaders = make_community(alice, "leaders", private=True, members=(bob,))
    make_post(alice, "@leaders the plan")
    accounts.set_active(admin, "alice", False)  # deactivating its only admin ...
    with pytest.raises(ValidationError, match="appoint one of its members"):
        communities.take_over(admin, leaders)  # ... does not open it to the site administrator
    with pytest.raises(ValidationError, match="not a member"):
        communities.take_over(admin, leaders, carol)
    assert communities.take_over(admin, leaders, bob).id == bob.id
    assert communities.is_admin(bob, leaders) and not communities.is_member(admin, leaders)
    assert timelines.community_timeline(admin, leaders).posts == []
    with pytest.raises(ValidationError):
        communities.take_over(admin, leaders, bob)  # bob runs it now


def test_following_counts_leave_out_private_memberships_so_no_count_reveals_them(alice, bob):
    make_community(alice, "apollo", members=(bob,))
    leaders = make_community(alice, "leaders", private=True, members=(bob,))
    assert _fresh(bob).following_count == 1  # apollo only: what everyone's list of bob's follows shows
    communities.remove_member(alice, leaders, bob)
    assert _fresh(bob).following_count == 1
    assert _fresh(leaders).followers_count == 1
    social.recount_accounts()
    assert (_fresh(bob).following_count, _fresh(alice).following_count) == (1, 1)


def test_marking_notifications_seen_tells_a_former_member_nothing_of_private_posts(app, alice, bob):
    """The mark answered stops at the newest notification one may still read, deleted posts or not."""
    secret = make_community(alice, "secret", private=True, members=(bob,))
    public = make_post(alice, "@bob a public hello")
    first = make_post(alice, "@secret @bob first private")
    make_post(alice, "@secret @bob second private")
    ids = list(
        db.session.scalars(
            select(Notification.id).where(Notification.user_id == bob.id).order_by(Notification.id)
        )
    )
    assert len(ids) == 3
    communities.remove_member(alice, secret, bob)
    posts.delete_post(alice, first.id)
    marks = [notifications.mark_notifications_seen(bob, up_to) for up_to in ids]
    assert marks == [ids[0], ids[0], ids[0]]  # whether the first private post was deleted or not: the same
    assert notifications.list_notifications(bob)[0].post.id == public.id
