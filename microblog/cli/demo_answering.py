"""The answering part of `demo seed`: team accounts with their inboxes, and questions with accepted answers.

`Answering` decides, before the posts are drawn, which post slots ask a team
(@it-support, @hr) or ask a question, and schedules what follows: the team's
reply, or replies to the question (one of them accepted).  A reply takes the
first free slot at or after the time it is due, so ids keep following time
and the number of posts stays --posts; what falls due after the last slot is
never written (recent items wait, recent questions stay open).  The inbox
items are inserted after the posts, in the order they were received.
"""

from __future__ import annotations

import heapq
import math
import random
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from microblog.services.errors import ValidationError
from microblog.services.validation import check_post_text
from models.inbox_item import ANSWERED, ASSIGNED, CLOSED, OPEN
from models.team import LEAD, MEMBER
from models.user import TEAM

# (handle, name, description, department its people come from, members, share of the items)
TEAMS = (
    ("it-support", "IT Support", "Laptops, accounts, VPN and everything else IT. Ask us here.", "IT", 6, 5),
    ("hr", "HR", "Spørsmål om lønn, ferie, pensjon og permisjon? Spør oss her.", "People", 3, 1),
)
ASKS = {
    "it-support": (
        "the VPN drops every hour, is that known?|my laptop will not connect to the office wifi|"
        "can I get access to the staging database?|the printer on the third floor is jammed again|"
        "how do I reset my two-factor device?|vpn-en faller ut hver time, er det kjent?|"
        "får ikke logget inn på e-posten etter passordbytte|kan jeg få en ekstra skjerm til hjemmekontoret?|"
        "Teams crashes when I share my screen|who approves a new software licence?"
    ).split("|"),
    "hr": (
        "when is the pension deadline this year?|how many vacation days carry over?|"
        "når kommer lønnsslippen for juni?|hvordan søker jeg foreldrepermisjon?|"
        "is there a budget for courses and conferences?|hvem kontakter jeg om sykemelding?"
    ).split("|"),
}
TEAM_ANSWERS = {
    "it-support": (
        "thanks, we are on it: a fix is rolling out today|fixed now, please restart and try again|"
        "access granted, it can take 15 minutes to apply|takk, vi har sendt en ny enhet i posten|"
        "this is a known issue, the workaround is in the wiki|løst nå, gi beskjed om det skjer igjen"
    ).split("|"),
    "hr": (
        "the deadline is 30 November, details on the intranet|five days carry over, the rest lapses|"
        "lønnsslippen kommer den 20., som vanlig|søknaden sendes via personalportalen, vi hjelper gjerne"
    ).split("|"),
}
CLOSE_REASONS = (
    "Duplicate",
    "Not for us: asked the facilities team",
    "Answered elsewhere",
    "No reply from asker",
)
QUESTIONS = (
    "does anyone know why staging is down?|who owns the billing export these days?|"
    "what is the best way to get a test account for the new api?|is the release on Thursday still on?|"
    "where do I find the on-call handbook?|how do we run the integration tests locally?|"
    "hvem vet hvorfor bygget feiler på main?|hvor finner jeg referatet fra forrige møte?|"
    "er det noen som har erfaring med den nye dashbord-løsningen?|når er fristen for kvartalsplanen?"
).split("|")
REPLIES = (
    "restart the cache, that fixed it for us|ask in the ops channel, they know|"
    "it is in the wiki under the project page|yes, still on as far as I know|"
    "prøv å kjøre migreringen på nytt|det står i wikien, under prosjektsiden|"
    "I had the same problem: clear the build directory first|ja, fristen er fredag"
).split("|")
QUESTION_TAGS = ("question", "spørsmål")
QUESTION_IN_COMMUNITY = 0.3  # of the questions: asked in a community (a third of them private)
# What becomes of an item: answered by the team, closed without an answer, or left waiting.
ANSWERED_SHARE, CLOSED_SHARE = 0.8, 0.08
ACCEPTED_SHARE, REPLIED_SHARE = 0.35, 0.15  # of the questions: with an accepted answer; with a reply only


@dataclass(frozen=True)
class DemoTeam:
    """A seeded team account: its id, handle, members (the lead first) and share of the items."""

    id: int
    handle: str
    members: tuple[int, ...]
    weight: int


@dataclass
class Special:
    """A post that is not an ordinary one: asks a team or a question, or answers one."""

    author: int
    text: str
    parent: int | None = None
    root: int | None = None
    parent_author: int | None = None
    community: Any = None  # a DemoCommunity (demo.py imports this module)
    posted_by: int | None = None
    question: bool = False


@dataclass(order=True)
class _Due:
    slot: int
    seq: int
    kind: str = field(compare=False)  # "team": the team's answer to an item; "reply": to a question
    ref: int = field(compare=False)  # the item's index, or the question's post id
    accept: bool = field(compare=False, default=False)


def team_rows(
    rng: random.Random, people: list[tuple[int, str]], first_id: int, now: datetime
) -> tuple[list[DemoTeam], list[dict], list[dict]]:
    """Return the demo teams and their users and team_members rows (members from their department first)."""
    teams, accounts, members = [], [], []
    for n, (handle, name, bio, department, size, weight) in enumerate(TEAMS):
        pool = [uid for uid, dept in people if dept == department] or [uid for uid, _ in people]
        others = [uid for uid, _ in people if uid not in set(pool)]
        chosen = rng.sample(pool, min(size, len(pool)))
        chosen += rng.sample(others, min(size - len(chosen), len(others)))
        tid = first_id + n
        teams.append(DemoTeam(tid, handle, tuple(chosen), weight))
        accounts.append(
            {
                "id": tid,
                "username": handle,
                "email": None,
                "password_hash": None,
                "kind": TEAM,
                "locked": False,
                "display_name": name,
                "job_title": "",
                "department": department,
                "bio": bio,
                "is_admin": False,
                "is_active": True,
                "created_at": now - timedelta(days=365),
            }
        )
        members += [
            {
                "team_id": tid,
                "user_id": uid,
                "role": LEAD if i == 0 else MEMBER,
                "created_at": now - timedelta(days=365),
            }
            for i, uid in enumerate(chosen)
        ]
    return teams, accounts, members


def _lognormal_seconds(rng: random.Random, median: float, sigma: float = 1.3, least: int = 60) -> int:
    return max(least, int(rng.lognormvariate(math.log(median), sigma)))


class Answering:
    """Plan and write the posts of the teams' inboxes and of the questions, slot by slot."""

    def __init__(
        self,
        rng: random.Random,
        *,
        post_count: int,
        post_base: int,
        start: datetime,
        teams: list[DemoTeam],
        inbox_items: int,
        questions: int,
        people: list[int],
        communities: list,
    ) -> None:
        self.rng, self.post_count, self.post_base, self.start = rng, post_count, post_base, start
        self.teams, self.people, self.communities = teams, people, communities
        self.team_ids = {t.id for t in teams}
        # inbox_items is the busiest team's (the first's) inbox; the others get their share of it.
        per_team = [inbox_items * t.weight // teams[0].weight for t in teams] if teams and people else []
        slots = rng.sample(range(post_count), sum(per_team) + questions)
        kinds = [n for n, count in enumerate(per_team) for _ in range(count)]
        rng.shuffle(kinds)
        self.asks = dict(zip(slots, kinds, strict=False))  # slot -> the team asked
        self.question_slots = set(slots[len(kinds) :])
        self.due: list[_Due] = []
        self.seq = 0
        self.items: list[dict] = []  # inbox_items rows, in the order received
        self.answerer: dict[int, int] = {}  # item index -> the member who answers it
        self.thread: dict[int, tuple[int, Any]] = {}  # question or ask post id -> (asker, community)
        self.accepted: list[dict] = []  # the accepted answers of this batch
        self.answered_by: dict[int, int] = {}  # the team's answer post id -> item index

    def _schedule(self, slot: int, kind: str, ref: int, accept: bool = False) -> None:
        self.seq += 1
        heapq.heappush(self.due, _Due(slot, self.seq, kind, ref, accept))

    def _at(self, slot: int) -> datetime:
        return self.start + timedelta(seconds=30 * slot)

    def take(self, i: int, tag_names: list[str]) -> Special | None:
        """Return the special post of slot i, or None when it holds an ordinary post."""
        if i in self.asks:
            return self._ask(i, self.teams[self.asks[i]])
        if i in self.question_slots:
            return self._question(i, tag_names)
        if self.due and self.due[0].slot <= i:
            due = heapq.heappop(self.due)
            return self._team_answer(i, due) if due.kind == "team" else self._reply(i, due)
        return None

    def redirect(self, parent: int, team_of: int | None) -> int:
        """Return the post an ordinary reply answers: the asker's post rather than a team's reply to it.

        (A reply to a team's post would enter its inbox; the demo's ordinary posts never do.)
        """
        return self.items[self.answered_by[parent]]["post_id"] if team_of in self.team_ids else parent

    def asker_of(self, post_id: int) -> tuple[int, Any] | None:
        """Return the asker and community of a question or a post that asks a team (None for others)."""
        return self.thread.get(post_id)

    def _ask(self, i: int, team: DemoTeam) -> Special:
        pid, rng = self.post_base + i + 1, self.rng
        asker = self.people[rng.randrange(len(self.people))]
        received = self._at(i)
        item = {
            "id": None,
            "team_id": team.id,
            "post_id": pid,
            "asker_id": asker,
            "state": OPEN,
            "assignee_id": None,
            "received_at": received,
            "answered_at": None,
            "first_answer_seconds": None,
            "answer_post_id": None,
            "closed_reason": "",
            "changed_by_id": None,
            "changed_at": received,
        }
        index = len(self.items)
        self.items.append(item)
        member = team.members[rng.randrange(len(team.members))]
        if rng.random() < 0.5:
            item["assignee_id"] = member  # taken before it was answered or closed
        outcome = rng.random()
        if outcome < ANSWERED_SHARE:
            self.answerer[index] = member
            delay = _lognormal_seconds(rng, 2 * 3600)
            self._schedule(i + -(-delay // 30), "team", index)
        elif outcome < ANSWERED_SHARE + CLOSED_SHARE:
            item["closed_reason"] = rng.choice(CLOSE_REASONS)
            item["changed_by_id"] = member
            item["changed_at"] = self._at(min(self.post_count, i + _lognormal_seconds(rng, 3600) // 30))
        self.thread[pid] = (asker, None)
        text = self._text(f"@{team.handle} ", ASKS[team.handle])
        return Special(asker, text)

    def _team_answer(self, i: int, due: _Due) -> Special:
        item = self.items[due.ref]
        team = next(t for t in self.teams if t.id == item["team_id"])
        pid, answered = self.post_base + i + 1, self._at(i)
        member = self.answerer.pop(due.ref)
        item.update(
            state=ANSWERED,
            answered_at=answered,
            first_answer_seconds=int((answered - item["received_at"]).total_seconds()),
            answer_post_id=pid,
            changed_by_id=member,
            changed_at=answered,
        )
        self.answered_by[pid] = due.ref
        text = self._text("", TEAM_ANSWERS[team.handle])
        parent = item["post_id"]
        return Special(team.id, text, parent, parent, item["asker_id"], posted_by=member)

    def _question(self, i: int, tag_names: list[str]) -> Special:
        pid, rng = self.post_base + i + 1, self.rng
        community = None
        if self.communities and rng.random() < QUESTION_IN_COMMUNITY:
            community = self.communities[
                min(len(self.communities) - 1, int(len(self.communities) * rng.random() ** 2))
            ]
            asker = community.members[rng.randrange(len(community.members))]
        else:
            asker = self.people[rng.randrange(len(self.people))]
        tags = [rng.choice(QUESTION_TAGS)] if rng.random() < 0.3 else []
        if tag_names and rng.random() < 0.6:
            tags.append(tag_names[rng.randrange(len(tag_names))])
        prefix = f"@{community.handle} " if community else ""
        text = self._text(prefix, QUESTIONS, "".join(f" #{t}" for t in sorted(set(tags))))
        self.thread[pid] = (asker, community)
        draw = rng.random()
        if draw < ACCEPTED_SHARE:
            self._schedule(i + _lognormal_seconds(rng, 3600) // 30 + 1, "reply", pid, accept=True)
            if rng.random() < 0.3:
                self._schedule(i + _lognormal_seconds(rng, 3 * 3600) // 30 + 1, "reply", pid)
        elif draw < ACCEPTED_SHARE + REPLIED_SHARE:
            self._schedule(i + _lognormal_seconds(rng, 3600) // 30 + 1, "reply", pid)
        return Special(asker, text, community=community, question=True)

    def _reply(self, i: int, due: _Due) -> Special:
        pid, rng = self.post_base + i + 1, self.rng
        asker, community = self.thread[due.ref]
        crowd = community.members if community is not None and community.private else self.people
        k = rng.randrange(len(crowd))
        author = crowd[(k + 1) % len(crowd)] if crowd[k] == asker else crowd[k]
        if due.accept:
            at = self._at(min(self.post_count, i + _lognormal_seconds(rng, 3 * 3600) // 30))
            self.accepted.append({"question": due.ref, "answer": pid, "at": at})
        return Special(author, self._text("", REPLIES), due.ref, due.ref, asker, community)

    def _text(self, prefix: str, sentences: list[str], suffix: str = "") -> str:
        while True:
            sentence = self.rng.choice(sentences)
            try:
                return check_post_text(prefix + sentence[0].upper() + sentence[1:] + suffix)
            except ValidationError:
                suffix = ""  # too long with its tags: without them

    def take_accepted(self) -> list[dict]:
        """Return (and forget) the answers accepted since the last call: question, answer and when."""
        accepted, self.accepted = self.accepted, []
        return accepted

    def inbox_rows(self, first_id: int) -> list[dict]:
        """Return the inbox items, numbered from first_id; those never answered wait (assigned or open)."""
        for n, item in enumerate(self.items):
            item["id"] = first_id + n
            if item["state"] == OPEN and item["closed_reason"]:
                item["state"] = CLOSED
            elif item["state"] == OPEN and item["assignee_id"] is not None:
                item["state"] = ASSIGNED
                item["changed_by_id"] = item["assignee_id"]
                item["changed_at"] = min(
                    self._at(self.post_count), item["received_at"] + timedelta(minutes=5)
                )
        return self.items
