"""Team accounts: members post as the account, the real author is recorded, removal ends it at once."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from microblog.database import db
from microblog.services import accounts, team_desk, teams, timelines, tokens
from microblog.services.errors import Conflict, NotFound, PermissionDenied, ValidationError
from models import AccessToken, Post

from .factories import make_community, make_post, make_user


def test_a_member_posts_as_the_team_and_the_real_author_is_recorded(support, bob):
    post = make_post(support, "The VPN is back", posted_by=bob)
    assert (post.author_id, post.posted_by_id) == (support.id, bob.id)
    view = timelines.post_view(post.id)
    assert view.author.username == "it-support" and view.author.is_team
    assert view.posted_by == (bob.id, "bob")


def test_a_team_cannot_post_alone_nor_through_an_outsider(support, app):
    carol = make_user("carol")
    with pytest.raises(PermissionDenied):
        make_post(support, "no one wrote this")
    with pytest.raises(PermissionDenied):
        make_post(support, "carol is not on the team", posted_by=carol)
    with pytest.raises(PermissionDenied):
        make_post(carol, "only a team is posted as", posted_by=make_user("dave"))
    assert db.session.scalar(select(Post.id)) is None


def test_removing_a_member_ends_their_post_as_and_revokes_their_team_tokens(support, alice, bob):
    _, value = tokens.issue_team_token(None, support, bob, "read write")
    token = tokens.authenticate_token(value)
    assert token is not None and token.user_id == support.id and token.on_behalf_of_id == bob.id
    _, own = tokens.create_personal_token(bob, "bob's own", ["read"])
    team_desk.remove_member(alice, support, bob)
    assert tokens.authenticate_token(value) is None
    assert tokens.authenticate_token(own) is not None  # bob's own token is his, not the team's
    with pytest.raises(PermissionDenied):
        make_post(support, "after removal", posted_by=bob)
    assert not teams.is_member(bob, support)


def test_a_team_token_stops_working_when_its_member_leaves_even_if_the_row_survived(support, alice, bob):
    token, value = tokens.issue_team_token(None, support, bob, "read write")
    from models import TeamMember

    db.session.delete(db.session.get(TeamMember, (support.id, bob.id)))  # as a bulk change would
    db.session.commit()
    assert tokens.authenticate_token(value) is None


def test_only_leads_and_admins_manage_members_and_tokens(support, alice, bob, admin):
    carol = make_user("carol")
    with pytest.raises(PermissionDenied):
        teams.add_member(bob, support, carol)
    with pytest.raises(PermissionDenied):
        tokens.issue_team_token(bob, support, bob, "read")
    teams.add_member(alice, support, carol)
    teams.add_member(admin, support, carol, role="lead")
    assert teams.role_of(carol, support) == "lead"
    with pytest.raises(ValidationError):
        teams.add_member(alice, support, carol, role="boss")
    with pytest.raises(ValidationError):
        tokens.issue_team_token(None, support, make_user("dave"), "read")  # not on the team
    with pytest.raises(PermissionDenied):  # a lead's token acts for the lead; IT's for anyone on the team
        tokens.issue_team_token(alice, support, bob, "read")
    with pytest.raises(PermissionDenied):
        tokens.issue_team_token(admin, support, bob, "read")
    assert tokens.issue_team_token(alice, support, alice, "read")[0].on_behalf_of_id == alice.id
    with pytest.raises(NotFound):
        team_desk.remove_member(alice, support, make_user("erin"))


def test_only_site_admins_create_teams_and_handles_are_one_namespace(app, alice, admin):
    with pytest.raises(PermissionDenied):
        teams.create_team(alice, "hr", name="HR")
    team = teams.create_team(admin, "hr", name="HR", members=[alice])
    assert team.is_team and team.password_hash is None and team.email is None
    with pytest.raises(Conflict):
        teams.create_team(admin, "alice", name="Not alice")
    make_community(alice, "apollo")
    with pytest.raises(Conflict) as taken:
        teams.create_team(None, "apollo", name="Apollo")
    assert taken.value.message == "That handle is taken: people, communities and teams share one namespace."
    with pytest.raises(ValidationError):
        teams.add_member(None, team, team)  # a team is not a person


def test_a_team_account_cannot_log_in(support):
    from microblog.services.errors import ServiceError

    with pytest.raises(ServiceError):
        accounts.authenticate("it-support", "correct horse battery")


def test_the_team_and_admins_see_who_wrote_it_others_do_not(support, alice, bob, admin):
    carol = make_user("carol")
    assert teams.sees_real_authors(bob, {support.id}) == {support.id}
    assert teams.sees_real_authors(admin, {support.id}) == {support.id}
    assert teams.sees_real_authors(carol, {support.id}) == set()
    assert teams.sees_real_authors(None, {support.id}) == set()


def test_a_team_posts_into_a_private_community_only_as_a_member(support, alice, bob):
    board = make_community(alice, "board", private=True)
    with pytest.raises(ValidationError, match="Join @board"):
        make_post(support, "@board hello", posted_by=bob)
    from microblog.services import communities

    communities.add_member(None, board, support)
    post = make_post(support, "@board hello", posted_by=bob)
    assert post.visibility == "private"


def test_team_tokens_are_listed_for_the_lead(support, alice, bob):
    tokens.issue_team_token(None, support, bob, "read write", name="helpdesk bot")
    listed = tokens.team_tokens(alice, support)
    assert [(t.name, t.on_behalf_of_id) for t in listed] == [("helpdesk bot", bob.id)]
    assert db.session.scalar(select(AccessToken.user_id)) == support.id
