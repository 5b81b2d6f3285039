"""CLI commands: users create, communities, demo seed, posts rerender; configuration at start-up."""

from pathlib import Path

import pytest
from sqlalchemy import func, select

from config import ProductionConfig, config_from_env
from microblog import create_app
from microblog.database import db
from microblog.services import accounts, communities, teams, tokens
from models import (
    Community,
    CommunityAdmin,
    Follow,
    InboxItem,
    Post,
    Tag,
    TagFollow,
    User,
    mentions,
    post_tags,
)
from models.post import PRIVATE, PUBLIC
from models.user import COMMUNITY, PERSON

from .factories import make_community, make_user


def _count(table) -> int:
    return db.session.scalar(select(func.count()).select_from(table))


def test_users_create(app):
    runner = app.test_cli_runner()
    result = runner.invoke(
        args=["users", "create", "kari", "--email", "kari@example.com", "--password", "pw123456", "--admin"]
    )
    assert result.exit_code == 0, result.output
    assert "Created administrator @kari" in result.output
    assert db.session.scalar(select(User.is_admin).where(User.username == "kari")) is True
    again = runner.invoke(
        args=["users", "create", "kari", "--email", "k2@example.com", "--password", "pw123456"]
    )
    assert again.exit_code == 1 and "already registered" in again.output
    bad = runner.invoke(
        args=["users", "create", "x y", "--email", "k3@example.com", "--password", "pw123456"]
    )
    assert bad.exit_code == 1 and "Usernames are" in bad.output


def _snapshot() -> list:
    return [
        list(db.session.execute(select(User.username, User.department).order_by(User.id))),
        list(
            db.session.execute(
                select(Post.id, Post.author_id, Post.text, Post.html, Post.in_reply_to_id).order_by(Post.id)
            )
        ),
        sorted(db.session.execute(select(post_tags.c.post_id, post_tags.c.tag_id))),
        sorted(db.session.execute(select(mentions.c.post_id, mentions.c.user_id))),
        sorted(db.session.execute(select(Follow.follower_id, Follow.followee_id))),
        list(
            db.session.execute(select(Post.id, Post.is_question, Post.accepted_answer_id).order_by(Post.id))
        ),
        list(db.session.execute(select(InboxItem.post_id, InboxItem.state, InboxItem.assignee_id))),
    ]


def test_demo_seed_is_deterministic_and_consistent(app, tmp_path):
    runner = app.test_cli_runner()
    args = ["demo", "seed", "--users", "40", "--posts", "600", "--tags", "30", "--follows", "10"]
    result = runner.invoke(args=args)
    assert result.exit_code == 0, result.output
    people = select(User.id).where(User.kind == PERSON)
    assert (db.session.scalar(select(func.count()).select_from(people.subquery())), _count(Post)) == (40, 600)
    assert _count(Tag) == 30 + 2 and 40 * 3 <= _count(TagFollow) <= 40 * 7  # + #question, #spørsmål
    # Each person follows --follows distinct colleagues.
    assert _count(select(Follow).where(Follow.followee_id.in_(people)).subquery()) == 40 * 10
    _check_demo_communities(4)  # the default: one per 10 people
    # Every stored post obeys the post rule and its tags match its text.
    from microblog.services.validation import check_post_text
    from microblog.text import extract_tags

    for post in db.session.scalars(select(Post).limit(200)):
        assert check_post_text(post.text) == post.text
        stored = set(
            db.session.scalars(select(Tag.name).join(post_tags).where(post_tags.c.post_id == post.id))
        )
        assert stored == set(extract_tags(post.text))
    replies = db.session.scalars(select(Post).where(Post.in_reply_to_id.is_not(None))).all()
    assert replies and all(p.conversation_id for p in replies)
    reply_total = db.session.scalar(select(func.sum(Post.reply_count)))
    assert reply_total == len(replies)
    assert runner.invoke(args=args).exit_code == 1  # refuses to seed twice
    first = _snapshot()

    # The same seed on another empty database gives the same data.
    other = create_app(
        type(app.config["MICROBLOG_CONFIG"])(
            {"MICROBLOG_DATABASE_URL": f"sqlite:///{tmp_path}/o.db", "MICROBLOG_DATA_DIR": str(tmp_path)}
        )
    )
    with other.app_context():
        db.metadata.create_all(db.engine)
        assert other.test_cli_runner().invoke(args=args).exit_code == 0
        assert _snapshot() == first
        db.session.remove()
        db.engine.dispose()


def _check_demo_communities(count: int) -> None:
    """Check the seeded communities: a third private, ~5 per person, admins, posts as visible as they are."""
    communities = db.session.scalars(select(User).where(User.kind == COMMUNITY).order_by(User.id)).all()
    assert len(communities) == count == _count(Community)
    assert sum(c.locked for c in communities) == round(count / 3)
    assert all(not c.email and not c.password_hash and c.display_name and c.bio for c in communities)
    ids = {c.id: c for c in communities}
    memberships = db.session.execute(
        select(Follow.follower_id, Follow.followee_id).where(Follow.followee_id.in_(ids))
    ).all()
    members: dict[int, set[int]] = {cid: set() for cid in ids}
    per_person: dict[int, int] = {}
    for person, cid in memberships:
        members[cid].add(person)
        per_person[person] = per_person.get(person, 0) + 1
    assert all(min(3, count) <= n <= 7 for n in per_person.values())
    assert 4 <= sum(per_person.values()) / len(per_person) <= 6 or count < 5
    for cid, admin in db.session.execute(select(CommunityAdmin.community_id, CommunityAdmin.user_id)):
        assert admin in members[cid]
    assert {cid for (cid,) in db.session.execute(select(CommunityAdmin.community_id))} == set(ids)
    from microblog.text import extract_mentions

    placed = db.session.execute(
        select(
            Post.id, Post.author_id, Post.community_id, Post.visibility, Post.in_reply_to_id, Post.text
        ).where(Post.community_id.is_not(None))
    ).all()
    assert placed and any(ids[row.community_id].locked for row in placed)
    for row in placed:
        community = ids[row.community_id]
        assert row.visibility == (PRIVATE if community.locked else PUBLIC)
        if row.in_reply_to_id is None:  # a thread starts by addressing the community
            assert community.username in extract_mentions(row.text)
            assert row.author_id in members[row.community_id]
        elif community.locked:
            assert row.author_id in members[row.community_id]
    # Private posts address members only, and are counted nowhere (services.posts._count_post).
    private_mentions = db.session.execute(
        select(mentions.c.user_id, Post.community_id)
        .join(Post, Post.id == mentions.c.post_id)
        .where(Post.visibility == PRIVATE)
    ).all()
    assert all(user_id in members[cid] for user_id, cid in private_mentions)
    for community in communities:
        public = sum(1 for row in placed if row.community_id == community.id and row.visibility == PUBLIC)
        assert (community.posts_count, community.followers_count) == (public, len(members[community.id]))
    public_by = select(func.count()).where(Post.author_id == User.id, Post.visibility == PUBLIC)
    assert not db.session.scalar(
        select(func.count()).where(User.kind == PERSON, User.posts_count != public_by.scalar_subquery())
    )


def test_demo_seed_places_posts_in_communities(app):
    args = ["demo", "seed", "--users", "60", "--posts", "1500", "--tags", "30", "--follows", "5"]
    result = app.test_cli_runner().invoke(args=[*args, "--communities", "12", "--no-index"])
    assert result.exit_code == 0, result.output
    assert "12 communities (4 private)" in result.output
    _check_demo_communities(12)


def test_demo_accounts_can_log_in(app, client):
    app.test_cli_runner().invoke(args=["demo", "seed", "--users", "5", "--posts", "20"])
    username = db.session.scalar(select(User.username).order_by(User.id))
    response = client.post("/login", data={"login": username, "password": "demo-password"})
    assert response.status_code == 302


def test_posts_rerender_command(app):
    from .factories import make_post, make_user

    make_post(make_user("kari"), "#apollo")
    db.session.execute(Post.__table__.update().values(html=""))
    db.session.commit()
    result = app.test_cli_runner().invoke(args=["posts", "rerender"])
    assert result.exit_code == 0 and "Re-rendered 1 posts" in result.output
    assert "/tags/apollo" in db.session.scalar(select(Post.html))


def test_production_refuses_to_start_without_a_secret_key(tmp_path):
    with pytest.raises(RuntimeError, match="MICROBLOG_SECRET_KEY is not set"):
        create_app(ProductionConfig({"MICROBLOG_DATA_DIR": str(tmp_path)}))
    app = create_app(
        ProductionConfig({"MICROBLOG_DATA_DIR": str(tmp_path), "MICROBLOG_SECRET_KEY": "k" * 40})
    )
    assert app.config["SECRET_KEY"] == "k" * 40


def test_development_generates_and_keeps_a_secret_key(tmp_path):
    env = {"MICROBLOG_DATA_DIR": str(tmp_path)}
    first = create_app(config_from_env(env)).config["SECRET_KEY"]
    assert len(first) >= 32 and (Path(tmp_path) / "secret_key").stat().st_mode & 0o077 == 0
    assert create_app(config_from_env(env)).config["SECRET_KEY"] == first


def test_config_reads_the_environment():
    config = config_from_env(
        {
            "MICROBLOG_ENV": "production",
            "MICROBLOG_DATABASE_URL": "postgresql+psycopg://db/microblog",
            "MICROBLOG_ALLOWED_EMAIL_DOMAINS": " Example.com, @corp.example.org ,",
            "MICROBLOG_PORT": "8080",
            "MICROBLOG_REDIS_URL": "redis://127.0.0.1:6379/0",
        }
    )
    assert isinstance(config, ProductionConfig)
    assert config.SQLALCHEMY_DATABASE_URI == "postgresql+psycopg://db/microblog"
    assert config.ALLOWED_EMAIL_DOMAINS == ("example.com", "corp.example.org")
    assert config.PORT == 8080 and config.RATELIMIT_STORAGE_URI == "microblog+redis://127.0.0.1:6379/0"
    with pytest.raises(RuntimeError, match="MICROBLOG_ENV"):
        config_from_env({"MICROBLOG_ENV": "staging"})


def test_migrations_match_the_models(app):
    from alembic.autogenerate import compare_metadata
    from alembic.migration import MigrationContext

    def for_this_database(obj, name, type_, reflected, compare_to) -> bool:
        # An index declared for one database only (Index.ddl_if) exists on that one only.
        ddl_if = getattr(obj, "_ddl_if", None)
        return ddl_if is None or ddl_if.dialect in (None, conn.dialect.name)

    with db.engine.connect() as conn:
        context = MigrationContext.configure(conn, opts={"include_object": for_this_database})
        diff = compare_metadata(context, db.metadata)
    assert diff == []


# ------------------------------------------------------------------ communities (IT)


def _cli(app, *args: str):
    return app.test_cli_runner().invoke(args=["communities", *args])


def test_communities_create_add_remove_and_list(app):
    kari, ola = make_user("kari"), make_user("ola")
    created = _cli(
        app, "create", "Apollo", "--name", "Project Apollo", "--owner", "kari", "--description", "Launch"
    )
    assert created.exit_code == 0, created.output
    assert "Created the public community @apollo (Project Apollo), run by @kari." in created.output
    private = _cli(app, "create", "secret", "--name", "Secret", "--owner", "ola", "--private")
    assert private.exit_code == 0 and "private community @secret" in private.output
    apollo, secret = communities.access_community("apollo"), communities.access_community("secret")
    assert apollo.bio == "Launch" and not apollo.locked and secret.locked
    assert communities.is_admin(kari, apollo) and communities.is_admin(ola, secret)

    added = _cli(app, "add", "@secret", "kari", "--admin")
    assert added.exit_code == 0 and "@kari is a member and admin of @secret." in added.output
    assert communities.is_member(kari, secret) and communities.is_admin(kari, secret)
    assert _cli(app, "add", "apollo", "ola").exit_code == 0 and communities.is_member(ola, apollo)
    communities.set_official(None, secret, True)
    communities.set_archived(None, apollo, True)

    listing = _cli(app, "list")
    assert listing.exit_code == 0, listing.output
    lines = listing.output.splitlines()
    assert lines[0].split() == ["HANDLE", "NAME", "ACCESS", "MEMBERS", "OFFICIAL", "ARCHIVED"]
    assert lines[1].split()[:1] + lines[1].split()[3:6] == ["@apollo", "public", "2", "no"]
    assert lines[1].split()[-1] != "no"  # archived: its date
    assert lines[2].split() == ["@secret", "Secret", "private", "2", "yes", "no"]

    removed = _cli(app, "remove", "secret", "ola")
    assert removed.exit_code == 0 and "@ola is no longer a member of @secret." in removed.output
    assert not communities.is_member(ola, secret)


def test_communities_commands_refuse_clearly_without_a_traceback(app):
    kari = make_user("kari")
    make_user("gone")
    accounts.set_active(make_user("root", is_admin=True), "gone", False)
    make_community(kari, "apollo")
    assert "No communities" not in _cli(app, "list").output
    cases = [
        (("create", "apollo", "--name", "Again", "--owner", "kari"), "That handle is taken"),
        (("create", "kari", "--name", "Clash", "--owner", "kari"), "That handle is taken"),
        (("create", "new one", "--name", "Bad", "--owner", "kari"), "Usernames are"),
        (("create", "newone", "--name", "   ", "--owner", "kari"), "Give the community a name"),
        (("create", "newone", "--name", "X", "--owner", "nobody"), "There is no one called @nobody here."),
        (("create", "newone", "--name", "X", "--owner", "gone"), "@gone is deactivated"),
        (("create", "newone", "--name", "X", "--owner", "apollo"), "is a community, not a person"),
        (("add", "nowhere", "kari"), "There is no community called @nowhere here."),
        (("add", "kari", "kari"), "There is no community called @kari here."),
        (("add", "apollo", "nobody"), "There is no one called @nobody here."),
        (("add", "apollo", "gone"), "@gone is deactivated"),
        (("remove", "apollo", "gone"), "@gone is not a member of @apollo."),
        (("remove", "apollo", "kari"), "Appoint another admin of @apollo first"),
    ]
    for args, message in cases:
        result = _cli(app, *args)
        assert result.exit_code == 1, (args, result.output)
        assert message in result.output, (args, result.output)
        assert isinstance(result.exception, SystemExit), (args, result.exception)  # no traceback
    missing = _cli(app, "create", "newone", "--owner", "kari")
    assert missing.exit_code == 2 and "--name" in missing.output


def test_communities_list_says_when_there_are_none(app):
    result = _cli(app, "list")
    assert result.exit_code == 0 and "No communities yet" in result.output


def _teams(app, *args: str):
    return app.test_cli_runner().invoke(args=["teams", *args])


def test_teams_create_add_remove_and_list(app):
    kari, ola, per = make_user("kari"), make_user("ola"), make_user("per")
    assert "No team accounts yet" in _teams(app, "list").output
    created = _teams(
        app, "create", "IT-Support", "--name", "IT support", "--member", "ola", "--lead", "kari",
        "--description", "Laptops, VPN, access",
    )  # fmt: skip
    assert created.exit_code == 0, created.output
    assert "Created the team account @it-support (IT support) with 2 members." in created.output
    support = teams.access_team("it-support")
    assert support.is_team and support.bio == "Laptops, VPN, access" and support.password_hash is None
    assert (teams.role_of(kari, support), teams.role_of(ola, support)) == ("lead", "member")

    added = _teams(app, "add", "@it-support", "per")
    assert added.exit_code == 0 and "@per is a member of @it-support." in added.output
    promoted = _teams(app, "add", "it-support", "ola", "--lead")
    assert promoted.exit_code == 0 and "@ola is a lead of @it-support." in promoted.output
    listing = _teams(app, "list")
    assert listing.exit_code == 0, listing.output
    header, row = listing.output.splitlines()
    assert header.split() == ["HANDLE", "NAME", "LEADS", "MEMBERS"]
    assert row.split() == ["@it-support", "IT", "support", "@kari,@ola", "@per"]

    _, value = tokens.issue_team_token(None, support, per, "read")
    removed = _teams(app, "remove", "it-support", "per")
    assert removed.exit_code == 0 and "@per is no longer on @it-support" in removed.output
    assert not teams.is_member(per, support) and tokens.authenticate_token(value) is None


def test_teams_commands_refuse_clearly_without_a_traceback(app):
    make_user("kari")
    make_user("gone")
    accounts.set_active(make_user("root", is_admin=True), "gone", False)
    make_community(accounts.access_user("kari"), "apollo")
    _teams(app, "create", "hr", "--name", "HR", "--member", "kari")
    cases = [
        (("create", "hr", "--name", "Again"), "That handle is taken"),
        (("create", "apollo", "--name", "Clash"), "That handle is taken"),
        (("create", "new one", "--name", "Bad"), "Usernames are"),
        (("create", "newone", "--name", "   "), "Give the team account a name"),
        (("create", "newone", "--name", "X", "--member", "nobody"), "There is no one called @nobody here."),
        (("create", "newone", "--name", "X", "--lead", "gone"), "@gone is deactivated"),
        (("create", "newone", "--name", "X", "--member", "apollo"), "@apollo is not a person"),
        (("create", "newone", "--name", "X", "--member", "hr"), "@hr is not a person"),
        (("add", "nowhere", "kari"), "There is no team account called @nowhere here."),
        (("add", "apollo", "kari"), "There is no team account called @apollo here."),
        (("add", "hr", "nobody"), "There is no one called @nobody here."),
        (("add", "hr", "gone"), "@gone is deactivated"),
        (("remove", "hr", "root"), "@root is not on @hr."),
        (("remove", "hr", "nobody"), "There is no one called @nobody here."),
    ]
    for args, message in cases:
        result = _teams(app, *args)
        assert result.exit_code == 1, (args, result.output)
        assert message in result.output, (args, result.output)
        assert isinstance(result.exception, SystemExit), (args, result.exception)  # no traceback
    missing = _teams(app, "create", "newone", "--member", "kari")
    assert missing.exit_code == 2 and "--name" in missing.output


def test_users_token_as_a_member_prints_a_team_token(app):
    kari = make_user("kari")
    make_user("ola")
    support = teams.create_team(None, "it-support", name="IT support", members=[kari])
    runner = app.test_cli_runner()
    result = runner.invoke(args=["users", "token", "it-support", "--as", "kari", "--scope", "write"])
    assert result.exit_code == 0, result.output
    value = result.stdout.strip()
    token = tokens.authenticate_token(value)
    assert token is not None and (token.user_id, token.on_behalf_of_id) == (support.id, kari.id)
    assert token.scopes == "write" and token.name == "Team token for @kari"
    assert "Team token for @it-support as @kari (write)" in result.stderr
    refusals = [
        (["it-support", "--as", "ola"], "@ola is not on @it-support."),
        (["it-support", "--as", "nobody"], "There is no one called @nobody here."),
        (["kari", "--as", "kari"], "There is no team account called @kari here."),
        (["it-support"], "@it-support is a team account: name the member it acts through with --as USER."),
    ]
    for args, message in refusals:
        refused = runner.invoke(args=["users", "token", *args])
        assert refused.exit_code == 1 and message in refused.output, (args, refused.output)
