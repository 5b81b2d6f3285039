"""Questions and accepted answers.

A post is a question when its author marks it so (the web composer's toggle,
`question=true` on POST /api/v1/statuses) or when it carries #question (or
#spørsmål): the convention stock Mastodon clients can use (services.posts).
Its asker, or an admin of the community it is in, accepts one direct reply as
the answer; the answer is shown under the question wherever it is shown.
Accepting tells the answerer, and the asker when someone else accepted; a
question's new state reaches every stream that carried it, and the search
index (is:unanswered).  A team accepting a reply to its own question answers
the reply's item in the team's inbox.
"""

from __future__ import annotations

from collections.abc import Iterable

from flask_babel import gettext as _
from sqlalchemy import select

import search
from microblog.database import db
from microblog.entities import FeedPost
from models import CommunityAdmin, Post, TeamMember, User, utcnow

from . import communities, inbox, notifications, teams
from .errors import PermissionDenied, ValidationError
from .posts import access_post, announce_update


def may_accept(viewer: User | None, question: Post) -> bool:
    """Return whether the viewer may accept an answer to this question (its asker, or a community admin)."""
    if viewer is None or not question.is_question:
        return False
    if viewer.id == question.author_id:
        return True
    if question.author.is_team and teams.is_member(viewer, question.author):
        return True  # a team's question: its members act for the asker
    return question.community_id is not None and communities.is_admin(
        viewer, db.session.get_one(User, question.community_id)
    )


def acceptable_questions(viewer: User | None, posts: Iterable[FeedPost]) -> set[int]:
    """Return the ids of the questions among these posts whose answer the viewer may accept (as may_accept).

    For a page of posts (the thread page): at most two queries, whatever its size.
    """
    questions = [post for post in posts if post.is_question]
    if viewer is None or not questions:
        return set()
    team_ids = {q.author.id for q in questions if q.author.is_team and q.author.id != viewer.id}
    on_teams = set(
        db.session.scalars(
            select(TeamMember.team_id).where(
                TeamMember.user_id == viewer.id, TeamMember.team_id.in_(team_ids)
            )
        )
        if team_ids
        else ()
    )
    community_ids = {q.community.id for q in questions if q.community is not None}
    admin_of = set(
        db.session.scalars(
            select(CommunityAdmin.community_id).where(
                CommunityAdmin.user_id == viewer.id, CommunityAdmin.community_id.in_(community_ids)
            )
        )
        if community_ids
        else ()
    )
    return {
        q.id
        for q in questions
        if q.author.id == viewer.id
        or q.author.id in on_teams
        or (q.community is not None and q.community.id in admin_of)
    }


def accept_answer(actor: User, answer_id: int | str) -> Post:
    """Accept a reply as the answer to the question it replies to; return the question.

    Accepting another reply replaces the earlier choice.
    """
    answer = access_post(actor, answer_id)
    if answer.in_reply_to_id is None:
        raise ValidationError(_("Only a reply to a question can be its answer."), field="status")
    question = access_post(actor, answer.in_reply_to_id)
    if not question.is_question:
        raise ValidationError(_("The post this replies to is not a question."), field="status")
    if not may_accept(actor, question):
        raise PermissionDenied(_("Only the asker or an admin of its community can accept an answer."))
    if question.accepted_answer_id == answer.id:
        return question
    question.accepted_answer_id = answer.id
    question.answer_accepted_at = utcnow()
    inbox.answer_by_acceptance(actor, question, answer, question.answer_accepted_at)
    _notify_accepted(actor, question, answer)
    _changed(question)
    return question


def _notify_accepted(actor: User, question: Post, answer: Post) -> None:
    """Tell the answer's writer, and the asker if someone else accepted, that an answer was accepted.

    A team's question is accepted by the team: its members' names stay inside
    the team, so the notification names the team account.  A team's answer is
    told to the member who wrote it.
    """
    team = question.author if question.author.is_team else None
    for_team = team is not None and (actor.id == team.id or teams.is_member(actor, team))
    shown_actor = team if for_team and team is not None else actor
    writer = answer.posted_by_id or answer.author_id
    asker = (question.posted_by_id if team is not None else question.author_id) or question.author_id
    recipients = [uid for uid in (writer, asker) if uid != actor.id]
    notifications.notify("answer_accepted", shown_actor, recipients, answer.id)


def unaccept_answer(actor: User, question_id: int | str) -> Post:
    """Take back a question's accepted answer: it is unanswered again.

    A team's inbox item the acceptance answered stays answered (inbox.answer_by_acceptance).
    """
    question = access_post(actor, question_id)
    if not may_accept(actor, question):
        raise PermissionDenied(_("Only the asker or an admin of its community can accept an answer."))
    if question.accepted_answer_id is None:
        return question
    question.accepted_answer_id = None
    question.answer_accepted_at = None
    _changed(question)
    return question


def _changed(question: Post) -> None:
    db.session.flush()
    search.index_post(question.id)  # is:unanswered follows
    announce_update(question.id)
    db.session.commit()
