"""`demo seed`'s team accounts, inboxes and questions: as the services would have written them."""

from datetime import timedelta

from sqlalchemy import func, select
from sqlalchemy.orm import aliased

from microblog.database import db
from microblog.text import extract_mentions
from models import Follow, InboxItem, Post, TeamMember, User, mentions
from models.inbox_item import ANSWERED, ASSIGNED, CLOSED, INBOX_STATES, OPEN
from models.post import PUBLIC
from models.team import LEAD
from models.user import PERSON, TEAM

SEED = ["demo", "seed", "--users", "60", "--posts", "3000", "--tags", "30", "--follows", "5", "--no-index"]


def _seed(app, *extra: str) -> str:
    result = app.test_cli_runner().invoke(args=[*SEED, *extra])
    assert result.exit_code == 0, result.output
    return result.output


def test_demo_seed_gives_teams_their_inbox_in_every_state(app):
    output = _seed(app, "--inbox-items", "200", "--questions", "400")
    teams = {t.id: t for t in db.session.scalars(select(User).where(User.kind == TEAM))}
    assert sorted(t.username for t in teams.values()) == ["hr", "it-support"]
    assert "2 teams (240 inbox items), 400 questions" in output
    members: dict[int, set[int]] = {tid: set() for tid in teams}
    for row in db.session.scalars(select(TeamMember)):
        members[row.team_id].add(row.user_id)
        assert db.session.get_one(User, row.user_id).kind == PERSON
    leads = db.session.execute(select(TeamMember.team_id).where(TeamMember.role == LEAD)).scalars().all()
    assert sorted(leads) == sorted(teams) and all(len(people) >= 3 for people in members.values())

    items = db.session.scalars(select(InboxItem).order_by(InboxItem.id)).all()
    by_team = {t.username: sum(i.team_id == tid for i in items) for tid, t in teams.items()}
    assert by_team == {"it-support": 200, "hr": 40}
    assert {i.state for i in items} == set(INBOX_STATES)
    assert [i.received_at for i in items] == sorted(i.received_at for i in items)  # ids follow arrival
    posts = {p.id: p for p in db.session.scalars(select(Post).where(Post.id.in_([i.post_id for i in items])))}
    for item in items:
        post, team = posts[item.post_id], teams[item.team_id]
        # The post mentions the team (text and mentions row), publicly, and is the asker's.
        assert team.username in extract_mentions(post.text) and post.visibility == PUBLIC
        assert (post.author_id, post.created_at) == (item.asker_id, item.received_at)
        assert db.session.get(Post, post.id) and _mentions(post.id, team.id)
        assert item.assignee_id is None or item.assignee_id in members[team.id]
        assert item.changed_at >= item.received_at
        if item.state == ANSWERED:
            answer = db.session.get_one(Post, item.answer_post_id)
            assert (answer.author_id, answer.in_reply_to_id, answer.conversation_id) == (
                team.id,
                post.id,
                post.id,
            )
            assert answer.posted_by_id in members[team.id] and item.changed_by_id == answer.posted_by_id
            assert item.answered_at == answer.created_at
            assert timedelta(seconds=item.first_answer_seconds) == answer.created_at - post.created_at
            assert _mentions(answer.id, post.author_id)  # the answer addresses the asker
        else:
            assert item.answered_at is item.first_answer_seconds is item.answer_post_id is None
            assert bool(item.closed_reason) == (item.state == CLOSED)
            assert (item.assignee_id is not None) == (item.state == ASSIGNED) or item.state == CLOSED
        if item.state in (CLOSED, ASSIGNED):
            assert item.changed_by_id in members[team.id]
        if item.state == OPEN:
            assert item.changed_by_id is None

    # Every post mentioning a team (or replying to its posts) is in its inbox; the team posts answers only.
    in_inbox = {(i.team_id, i.post_id) for i in items}
    mentioned = db.session.execute(
        select(mentions.c.user_id, mentions.c.post_id).where(mentions.c.user_id.in_(teams))
    )
    assert {(tid, pid) for tid, pid in mentioned} == in_inbox
    parent = aliased(Post)
    replies_to_teams = db.session.scalar(
        select(func.count())
        .select_from(Post)
        .join(parent, parent.id == Post.in_reply_to_id)
        .where(parent.author_id.in_(teams))
    )
    assert replies_to_teams == 0
    team_posts = db.session.scalars(select(Post.id).where(Post.author_id.in_(teams))).all()
    assert sorted(team_posts) == sorted(i.answer_post_id for i in items if i.answer_post_id)
    for tid, team in teams.items():  # the counters count the team's (public) answers
        assert team.posts_count == sum(1 for i in items if i.team_id == tid and i.answer_post_id)


def test_demo_seed_asks_questions_with_accepted_answers(app):
    _seed(app, "--inbox-items", "100", "--questions", "600")
    questions = db.session.scalars(select(Post).where(Post.is_question.is_(True))).all()
    assert len(questions) == 600
    accepted = [q for q in questions if q.accepted_answer_id is not None]
    assert 0.2 * 600 < len(accepted) < 0.5 * 600
    assert any(q.visibility != PUBLIC for q in questions)  # some in private communities
    for question in questions:
        assert (question.answer_accepted_at is None) == (question.accepted_answer_id is None)
        if question.community_id is not None:
            community = db.session.get_one(User, question.community_id)
            assert community.username in extract_mentions(question.text)
            assert db.session.get(Follow, (question.author_id, community.id))  # asked by a member
    for question in accepted:
        answer = db.session.get_one(Post, question.accepted_answer_id)
        assert answer.in_reply_to_id == question.id and answer.author_id != question.author_id
        assert (answer.community_id, answer.visibility) == (question.community_id, question.visibility)
        assert question.created_at < answer.created_at <= question.answer_accepted_at
    tagged = [q for q in questions if "#question" in q.text or "#spørsmål" in q.text]
    assert tagged and len(tagged) < len(questions)  # the tag convention, and the flag alone


def test_demo_seed_scales_answering_with_the_posts(app):
    output = _seed(app)  # defaults: 5% of the posts each (@hr: a fifth more items)
    assert "2 teams (180 inbox items), 150 questions" in output
    refused = app.test_cli_runner().invoke(args=[*SEED, "--questions", "2000"])
    assert refused.exit_code == 1 and "half the posts" in refused.output


def _mentions(post_id: int, user_id: int) -> bool:
    row = select(mentions.c.post_id).where(mentions.c.post_id == post_id, mentions.c.user_id == user_id)
    return db.session.scalar(row) is not None
