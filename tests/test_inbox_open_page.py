"""The open inbox's pages (open and assigned items, merged by id) on the demo data, both directions."""

from sqlalchemy import select

from microblog.database import db
from microblog.services import inbox
from models import InboxItem, TeamMember, User


def test_open_pages_hold_every_waiting_item_in_order(app):
    args = ["demo", "seed", "--users", "40", "--posts", "2000", "--follows", "5", "--no-index"]
    result = app.test_cli_runner().invoke(args=[*args, "--inbox-items", "300", "--questions", "10"])
    assert result.exit_code == 0, result.output
    team = db.session.scalars(select(User).where(User.username == "it-support")).one()
    member = db.session.get_one(
        User, db.session.scalar(select(TeamMember.user_id).where(TeamMember.team_id == team.id))
    )
    waiting = list(
        db.session.scalars(
            select(InboxItem.id)
            .where(InboxItem.team_id == team.id, InboxItem.state.in_(inbox.WAITING))
            .order_by(InboxItem.id)
        )
    )
    states = set(db.session.scalars(select(InboxItem.state).where(InboxItem.id.in_(waiting))))
    assert len(waiting) > 40 and states == set(inbox.WAITING)
    for newest_first in (False, True):
        expected = waiting[::-1] if newest_first else waiting
        walked: list[int] = []
        after = None
        while True:
            page = inbox.list_items(member, team, filter="open", newest_first=newest_first, after=after)
            walked += [item.id for item in page]
            if len(page) < inbox.PAGE_LIMIT:
                break
            after = page[-1].id
        assert walked == expected
    middle = waiting[len(waiting) // 2]
    page = inbox.list_items(member, team, after=middle, limit=5)
    assert [item.id for item in page] == [i for i in waiting if i > middle][:5]
