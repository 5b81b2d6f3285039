"""The dashboard's rollups: counted as posts and likes are written, they equal a count of everything again."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from microblog.database import db
from microblog.services import accounts, editing, posts, rollups
from models import DailyActivity, FirstReply, PostDay, Tag, TagDay, TalkDay

from .factories import make_community, make_team, make_user

COUNTED = {PostDay: ("posts", "replies"), TagDay: ("posts",), TalkDay: ("replies", "mentions")}


def counts() -> dict[str, list[tuple]]:
    """Return every rollup row (rows whose counts are all zero left out: a deleted post's day)."""
    db.session.rollback()
    found: dict[str, list[tuple]] = {}
    for model, columns in COUNTED.items():
        rows = db.session.execute(select(model)).scalars().all()
        found[model.__tablename__] = sorted(
            tuple(getattr(row, c.name) for c in model.__table__.columns)
            for row in rows
            if any(getattr(row, column) for column in columns)
        )
    found["first_replies"] = sorted(
        (r.post_id, r.department, r.community_id, r.public, round(r.seconds, 3))
        for r in db.session.scalars(select(FirstReply))
    )
    return found


def flags() -> list[tuple]:
    db.session.rollback()
    return sorted(
        db.session.execute(
            select(DailyActivity.user_id, DailyActivity.day, DailyActivity.community_id, DailyActivity.did)
        ).tuples()
    )


@pytest.fixture
def company(app):
    people = {
        name: make_user(name, department=department)
        for name, department in [
            ("ann", "Engineering"),
            ("bob", "Engineering"),
            ("cy", "Sales"),
            ("di", "Sales"),
            ("ed", ""),
        ]
    }
    people["secret"] = make_community(people["ann"], "secret", private=True, members=(people["cy"],))
    people["open"] = make_community(people["bob"], "open", members=(people["di"],))
    people["desk"] = make_team("desk", leads=(people["di"],))
    return people


def write(company) -> dict:
    p = company
    written = {}
    written["launch"] = posts.post_status(p["ann"], "Launch plan for @cy and @ed #apollo #zeus")
    written["reply"] = posts.post_status(p["cy"], "Looks good @bob", in_reply_to=written["launch"].id)
    written["again"] = posts.post_status(p["di"], "Me too #apollo", in_reply_to=written["launch"].id)
    written["own"] = posts.post_status(p["ann"], "And one more thing", in_reply_to=written["launch"].id)
    written["secret"] = posts.post_status(p["ann"], "@secret the real plan #apollo @cy")
    written["inside"] = posts.post_status(p["cy"], "Count me in", in_reply_to=written["secret"].id)
    written["open"] = posts.post_status(p["bob"], "@open hello #zeus")
    written["ask"] = posts.post_status(p["ed"], "@desk my laptop", question=True)
    written["answer"] = posts.post_status(
        p["desk"], "On our way @ed", in_reply_to=written["ask"].id, posted_by=p["di"]
    )
    for who, key in (
        ("bob", "launch"),
        ("cy", "secret"),
        ("di", "open"),
        ("ed", "answer"),
        ("ann", "launch"),
    ):
        posts.like_post(p[who], written[key].id)
    posts.unlike_post(p["ann"], written["launch"].id)
    return written


def test_the_counts_kept_as_posts_and_likes_are_written_equal_a_count_of_everything(company):
    write(company)
    kept, kept_flags = counts(), flags()
    assert kept["post_days"] and kept["tag_days"] and kept["talk_days"] and kept["first_replies"]
    rollups.rebuild_all()
    assert counts() == kept
    assert flags() == kept_flags


def test_deleting_posts_takes_their_counts_back_and_the_next_reply_becomes_the_first(company):
    p, written = company, write(company)
    first = db.session.scalar(select(FirstReply.seconds).where(FirstReply.post_id == written["launch"].id))
    posts.delete_post(p["cy"], written["reply"].id)  # the first reply by someone else: di's is next
    posts.delete_post(p["ann"], written["secret"].id)  # a private community's post, with a reply
    posts.delete_post(p["bob"], written["open"].id)
    kept = counts()
    later = db.session.scalar(select(FirstReply.seconds).where(FirstReply.post_id == written["launch"].id))
    assert later is not None and later >= first
    rollups.rebuild_all()
    assert counts() == kept


def test_editing_a_post_counts_its_new_tags_and_addressees_instead_of_its_old_ones(company):
    p, written = company, write(company)
    editing.edit_post(p["ann"], written["launch"].id, "Launch plan for @di #hermes #zeus")
    editing.edit_post(p["ann"], written["secret"].id, "@secret the real plan, now #hermes @ann")
    editing.edit_post(p["di"], written["answer"].id, "On our way, @ed and @bob")  # a team's, by a member
    kept = counts()
    hermes = db.session.scalar(select(Tag.id).where(Tag.name == "hermes"))
    assert hermes in {row[TagDay.__table__.columns.keys().index("tag_id")] for row in kept["tag_days"]}
    rollups.rebuild_all()
    assert counts() == kept


def test_a_private_community_s_post_counts_in_the_company_and_the_community_only(company):
    p = company
    posts.post_status(p["ann"], "@secret the real plan #apollo @cy")
    secret = p["secret"].id
    rows = counts()
    assert {(d, c, public) for d, c, _, public, *_ in rows["post_days"]} == {
        ("", 0, False),
        ("", secret, False),
    }
    assert {(d, c) for d, c, *_ in rows["tag_days"]} == {("", secret)}  # a tag's count names it: members only
    assert {(d, c) for d, c, *_ in rows["talk_days"]} == {("", secret)}


def test_a_person_who_moves_takes_what_they_wrote_and_what_was_said_to_them_along(company):
    p = company
    write(company)
    accounts.update_profile(p["ann"], department="Sales")
    kept = counts()
    rollups.rebuild_all()
    assert counts() == kept
    apollo = db.session.scalar(select(Tag.id).where(Tag.name == "apollo"))
    tagged = {(row[0], row[3]) for row in kept["tag_days"]}
    assert ("Sales", apollo) in tagged and ("Engineering", apollo) not in tagged  # only ann wrote #apollo
    pairs = {tuple(row[3:5]) for row in kept["talk_days"]}
    assert ("Sales", "Sales") in pairs and ("Engineering", "Sales") not in pairs  # ann to cy, only
    posts.delete_post(p["ann"], posts.post_status(p["ann"], "Moved #apollo").id)  # counted, then taken back
    assert counts() == kept


def test_people_moving_together_are_moved_together(company):
    p = company
    write(company)
    p["ann"].department, p["cy"].department = "Legal", "Engineering"  # as a directory sync does, one commit
    db.session.commit()
    kept = counts()
    rollups.rebuild_all()
    assert counts() == kept
