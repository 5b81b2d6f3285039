"""`flask --app wsgi demo seed`: a deterministic demo company, fast enough for a million posts."""

from __future__ import annotations

import os
import random
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from multiprocessing import Pool
from zoneinfo import ZoneInfo

import click
from flask import current_app
from flask.cli import with_appcontext
from sqlalchemy import Table, bindparam, func, insert, select, text, update

from microblog.cli import demo_activity
from microblog.cli.demo_answering import QUESTION_TAGS, Answering, team_rows
from microblog.cli.search import reindex_with_progress
from microblog.database import db
from microblog.services import kept_homes, rollups, social
from microblog.services.errors import ValidationError
from microblog.services.validation import check_post_text
from microblog.text import extract_mentions, extract_tags, render_html
from models import (
    Base,
    Community,
    CommunityAdmin,
    DailyActivity,
    Follow,
    InboxItem,
    Like,
    Post,
    Tag,
    TagFollow,
    TeamMember,
    User,
    mentions,
    post_tags,
    utcnow,
)
from models.post import PRIVATE, PUBLIC
from models.user import COMMUNITY

FIRST = (
    "kari ola ingrid lars nora jonas emma henrik sofie magnus ida erik thea anders maja "
    "olivia james liam amelia noah ava lucas mia oliver grace ethan isla jakob sigrid knut astrid"
).split()
LAST = (
    "nordmann hansen johansen olsen larsen andersen pedersen nilsen kristiansen jensen berg "
    "haugen bakke lie dahl smith jones taylor brown wilson evans moen solberg strand eide"
).split()
DEPARTMENTS = (
    "Engineering",
    "Product",
    "Design",
    "Sales",
    "Marketing",
    "Finance",
    "People",
    "IT",
    "Support",
    "Legal",
    "Data",
    "Operations",
)
TITLES = (
    "Software Engineer",
    "Senior Engineer",
    "Product Manager",
    "Designer",
    "Account Executive",
    "Analyst",
    "Team Lead",
    "Support Specialist",
    "Controller",
    "Recruiter",
    "SRE",
    "Architect",
)
PROJECTS = (
    "apollo gemini mercury artemis voyager pioneer hubble kepler cassini juno orion atlas "
    "titan rosetta galileo skylab mariner viking horizon polaris"
).split()
TAG_WORDS = (
    "release build deploy incident review design infra mobile web api data sales kantine "
    "fredagspils onboarding security budget roadmap hiring qa ops"
).split()
ENGLISH = (
    "shipped the new build to staging, please test the login flow before Friday|"
    "the deploy pipeline is green again after the cache fix|"
    "great demo today, thanks everyone who joined the review|"
    "we are looking for a volunteer to own the on-call handbook|"
    "lunch talk at noon about database indexes and query plans|"
    "reminder: the quarterly planning doc closes tomorrow|"
    "fixed the flaky integration test, it was a timezone bug|"
    "customer feedback on the new dashboard is very positive|"
    "who knows how the billing export handles refunds|"
    "migrating the last services off the old cluster this week"
).split("|")
NORWEGIAN = (
    "nytt bygg er ute i staging, test gjerne innloggingen før fredag|"
    "blåbærsyltetøy og vafler i kantina klokka to|"
    "takk for en flott gjennomgang i dag, godt jobbet alle sammen|"
    "økonomirapporten for kvartalet er klar til gjennomlesing|"
    "hvem vet hvordan eksporten håndterer kreditnotaer|"
    "vi flytter de siste tjenestene til den nye klyngen denne uka|"
    "husk sommerfesten på fredag, påmelding innen onsdag|"
    "feilen i betalingsløsningen er rettet og produksjonssatt|"
    "ærlig talt er det nye dashbordet mye raskere enn det gamle|"
    "søker frivillige til å skrive vaktboka for driftsteamet"
).split("|")

# Communities: "<prefix>-<word>" handles, named in English or Norwegian after teams and projects.
COMMUNITY_PREFIXES = (
    ("team", "Team {}", "The {} team: plans, questions and wins."),
    ("prosjekt", "Prosjekt {}", "Alt om prosjekt {}: status, møter og beslutninger."),
    ("project", "Project {}", "Everything about project {}: status, meetings and decisions."),
    ("gruppe", "Faggruppe {}", "Faggruppe for {}: erfaringer, spørsmål og tips."),
    ("guild", "{} guild", "Practitioners of {} across teams share what they learn."),
    ("drift", "Drift {}", "Driftsmeldinger og vaktbytter for {}."),
)
COMMUNITY_WORDS = (
    PROJECTS
    + (
        "kantine plattform betaling mobil sikkerhet data frontend backend design okonomi "
        "rekruttering kundeservice salg oslo bergen trondheim stavanger tromso onboarding "
        "arkitektur testing"
    ).split()
)
COMMUNITY_SHARE = 0.15  # of the posts that start a thread: posted in a community
PRIVATE_SHARE = 1 / 3  # of the communities: private (drawn)
DEMO_PASSWORD = "demo-password"
BATCH = 5000


@dataclass(frozen=True)
class DemoCommunity:
    """A seeded community: its account id, handle, whether it is private, and its members."""

    id: int
    handle: str
    private: bool
    members: tuple[int, ...]


def _usernames(count: int) -> list[str]:
    # Walk first and last names together so that any prefix of the list looks like a company.
    pairs = len(FIRST) * len(LAST)
    names = [f"{FIRST[i % len(FIRST)]}.{LAST[(i + i // len(FIRST)) % len(LAST)]}" for i in range(pairs)]
    return [names[i % pairs] + (str(i // pairs) if i >= pairs else "") for i in range(count)]


def _tag_names(count: int) -> list[str]:
    base = PROJECTS + TAG_WORDS + [f"{p}-{w}" for p in PROJECTS for w in TAG_WORDS]
    return [base[i % len(base)] + (str(i // len(base)) if i >= len(base) else "") for i in range(count)]


def _skewed(rng: random.Random, n: int, alpha: float = 1.1) -> int:
    """Return an index in [0, n) with a heavy head (a few very active or popular)."""
    return min(n - 1, int(rng.paretovariate(alpha)) - 1) if rng.random() < 0.5 else rng.randrange(n)


def _popular(rng: random.Random, n: int) -> int:
    """Return an index in [0, n), the low ones likelier (a milder head than _skewed: sizes of groups)."""
    return min(n - 1, int(n * rng.random() ** 2))


def _post_text(
    rng: random.Random, usernames: list[str], tags: list[str], user_count: int, prefix: str = ""
) -> str:
    while True:
        parts = [rng.choice(NORWEGIAN if rng.random() < 0.4 else ENGLISH)]
        if rng.random() < 0.5:
            parts.append(rng.choice(NORWEGIAN if rng.random() < 0.4 else ENGLISH))
        text = prefix + ". ".join(part[0].upper() + part[1:] for part in parts)
        if rng.random() < 0.12:
            text = f"@{usernames[rng.randrange(user_count)]} {text}"
        if rng.random() < 0.06:
            text += f" https://wiki.example.com/{rng.choice(PROJECTS)}/{rng.randrange(10**6)}"
        picked = {tags[_skewed(rng, len(tags))] for _ in range(rng.choice((0, 1, 1, 1, 2)))}
        text += "".join(f" #{name}" for name in sorted(picked))
        try:
            return check_post_text(text)
        except ValidationError:
            continue  # too long: draw again (deterministic, since the rng drives it)


def _render(job: tuple[str, tuple[str, ...]]) -> str:
    return render_html(*job)


def _community_profiles(count: int) -> list[tuple[str, str, str]]:
    """Return (handle, name, description) of `count` communities, in English and Norwegian."""
    profiles = []
    for i in range(count):
        prefix, name, description = COMMUNITY_PREFIXES[i % len(COMMUNITY_PREFIXES)]
        cycle, word = divmod(i // len(COMMUNITY_PREFIXES), len(COMMUNITY_WORDS))
        suffix = str(cycle + 1) if cycle else ""
        title = COMMUNITY_WORDS[word].capitalize() + (f" {suffix}" if suffix else "")
        handle = f"{prefix}-{COMMUNITY_WORDS[word]}{suffix}"
        profiles.append((handle, name.format(title), description.format(title)))
    return profiles


def _seed_communities(
    rng: random.Random, count: int, user_ids: list[int], first_id: int, now: datetime
) -> list[DemoCommunity]:
    """Insert `count` communities (a third private), each person a member of ~5, an admin each."""
    if not count or not user_ids:
        return []
    profiles = _community_profiles(count)
    drawn = set(rng.sample(range(count), round(count * PRIVATE_SHARE)))
    private = [i in drawn for i in range(count)]
    members: list[set[int]] = [set() for _ in profiles]
    for uid in user_ids:  # 3-7 each (5 on average), the popular communities drawn more often
        want = min(rng.randint(3, 7), count)
        mine: set[int] = set()
        while len(mine) < want:
            mine.add(_popular(rng, count))
        for index in mine:
            members[index].add(uid)
    admins = []
    for people in members:
        if not people:  # nobody drew it: its founder is its only member
            people.add(user_ids[rng.randrange(len(user_ids))])
        admins.append(sorted(people)[rng.randrange(len(people))])
    ids = [first_id + i for i in range(count)]
    account_rows = [
        {
            "id": cid,
            "username": handle,
            "email": None,
            "password_hash": None,
            "kind": COMMUNITY,
            "locked": locked,
            "display_name": name,
            "job_title": "",
            "department": "",
            "bio": description,
            "is_admin": False,
            "is_active": True,
            "created_at": now - timedelta(days=300),
        }
        for cid, (handle, name, description), locked in zip(ids, profiles, private, strict=True)
    ]
    _bulk(_table(User), account_rows, "communities")
    created = now - timedelta(days=300)
    details = [
        {"id": cid, "is_official": False, "created_by_id": admin, "created_at": created}
        for cid, admin in zip(ids, admins, strict=True)
    ]
    _bulk(_table(Community), details, "community details")
    admin_rows = [
        {"community_id": cid, "user_id": admin, "created_at": created}
        for cid, admin in zip(ids, admins, strict=True)
    ]
    _bulk(_table(CommunityAdmin), admin_rows, "community admins")
    member_rows = [
        {"follower_id": uid, "followee_id": cid, "created_at": created}
        for cid, people in zip(ids, members, strict=True)
        for uid in sorted(people)
    ]
    _bulk(_table(Follow), member_rows, "memberships")
    return [
        DemoCommunity(cid, handle, locked, tuple(sorted(people)))
        for cid, (handle, _, _), locked, people in zip(ids, profiles, private, members, strict=True)
    ]


@click.group()
def demo() -> None:
    """Demo data."""


@demo.command("seed")
@click.option("--users", "user_count", default=200, show_default=True)
@click.option("--posts", "post_count", default=5000, show_default=True)
@click.option("--tags", "tag_count", default=500, show_default=True)
@click.option("--follows", "follows_per_user", default=100, show_default=True)
@click.option(
    "--communities",
    "community_count",
    type=int,
    default=None,
    help="Communities (a third private); default: one per 10 people, at most 300.",
)
@click.option(
    "--inbox-items",
    type=int,
    default=None,
    help="Items in @it-support's inbox (@hr gets a fifth as many); default: 5% of the posts, at most 50,000.",
)
@click.option(
    "--questions",
    "question_count",
    type=int,
    default=None,
    help="Questions (about a third with an accepted answer); default: 5% of the posts, at most 50,000.",
)
@click.option("--seed", default=42, show_default=True, help="Same seed, same data.")
@click.option("--index/--no-index", default=True, help="Rebuild the search index afterwards.")
@with_appcontext
def seed(
    user_count: int,
    post_count: int,
    tag_count: int,
    follows_per_user: int,
    community_count: int | None,
    inbox_items: int | None,
    question_count: int | None,
    seed: int,
    index: bool,
) -> None:
    """Create a deterministic demo company: people, follows, tags, communities, teams, questions and posts.

    Every demo account's password is "demo-password".
    """
    rng = random.Random(seed)
    if inbox_items is None:
        inbox_items = min(50_000, post_count // 20)
    if question_count is None:
        question_count = min(50_000, post_count // 20)
    if inbox_items < 0 or question_count < 0 or inbox_items * 6 // 5 + question_count > post_count // 2:
        raise click.ClickException("--inbox-items (and @hr's fifth) and --questions may fill half the posts.")
    usernames = _usernames(user_count)
    if db.session.scalar(select(User.id).where(User.username == usernames[0])):
        raise click.ClickException("Demo data is already in this database.")
    user_base = db.session.scalar(select(func.coalesce(func.max(User.id), 0))) or 0
    post_base = kept_homes.last_post_id()  # PostgreSQL: past every id the sequence handed out too
    password = User()
    password.set_password(DEMO_PASSWORD)  # hashed once: scrypt per user would take minutes
    now = utcnow()

    user_rows = [
        {
            "id": user_base + i + 1,
            "username": name,
            "email": f"{name}@example.com",
            "password_hash": password.password_hash,
            "display_name": " ".join(w.capitalize() for w in name.rstrip("0123456789").split(".")),
            "job_title": rng.choice(TITLES),
            "department": rng.choice(DEPARTMENTS),
            "bio": "",
            "is_admin": False,
            "is_active": True,
            "created_at": now - timedelta(days=400),
        }
        for i, name in enumerate(usernames)
    ]
    _bulk(_table(User), user_rows, "people")
    user_ids = [user_base + i + 1 for i in range(len(usernames))]

    tag_names = [n for n in _tag_names(tag_count)]
    stored = tag_names + [n for n in QUESTION_TAGS if question_count and n not in tag_names]
    existing = set(db.session.scalars(select(Tag.name).where(Tag.name.in_(stored))))
    _bulk(_table(Tag), [{"name": n, "created_at": now} for n in stored if n not in existing], "tags")
    tag_ids = dict(db.session.execute(select(Tag.name, Tag.id).where(Tag.name.in_(stored))).tuples().all())

    follows: set[tuple[int, int]] = set()
    for uid in user_ids:
        # Draw until the user follows `follows_per_user` distinct colleagues (the head repeats).
        want = min(follows_per_user, user_count - 1)
        mine: set[int] = set()
        for _ in range(want * 20):
            if len(mine) >= want:
                break
            target = user_ids[_skewed(rng, user_count)]
            if target != uid:
                mine.add(target)
        follows.update((uid, target) for target in sorted(mine))
    _bulk(
        _table(Follow),
        [{"follower_id": a, "followee_id": b, "created_at": now} for a, b in sorted(follows)],
        "follows",
    )

    tag_follows: set[tuple[int, int]] = set()
    for uid in user_ids:
        want = min(rng.randint(3, 7), len(tag_names))
        picked: set[int] = set()
        while len(picked) < want:
            picked.add(tag_ids[tag_names[_skewed(rng, len(tag_names))]])
        tag_follows.update((uid, tag_id) for tag_id in sorted(picked))
    _bulk(
        _table(TagFollow),
        [{"user_id": a, "tag_id": b, "created_at": now} for a, b in sorted(tag_follows)],
        "tag follows",
    )

    if community_count is None:
        community_count = min(300, max(1, user_count // 10))
    # A generator of its own: the people, follows and posts are the same whatever the communities.
    community_rng = random.Random(f"{seed}-communities")
    communities = _seed_communities(community_rng, community_count, user_ids, user_base + user_count + 1, now)
    # The teams and questions draw from a generator of their own too.
    answering_rng = random.Random(f"{seed}-answering")
    people = [(uid, str(row["department"])) for uid, row in zip(user_ids, user_rows, strict=True)]
    teams, team_accounts, team_members = team_rows(
        answering_rng, people, user_base + user_count + len(communities) + 1, now
    )
    if db.session.scalar(select(User.id).where(User.username.in_([t.handle for t in teams]))):
        raise click.ClickException("A team account of the demo is already in this database.")
    _bulk(_table(User), team_accounts, "teams")
    _bulk(_table(TeamMember), team_members, "team members")
    answering = Answering(
        answering_rng,
        post_count=post_count,
        post_base=post_base,
        start=now - timedelta(seconds=30 * post_count),
        teams=teams,
        inbox_items=inbox_items,
        questions=question_count,
        people=user_ids,
        communities=communities,
    )
    wrote = _seed_posts(
        rng,
        post_count,
        post_base,
        user_ids,
        usernames,
        tag_names,
        tag_ids,
        now,
        communities,
        community_rng,
        answering,
        # Likes come from a generator of their own, so the posts are the same as before there were any.
        random.Random(f"{seed}-likes"),
    )
    # Reading days, from a generator of their own: everything above is the same with or without them.
    days = demo_activity.seed_activity(
        random.Random(f"{seed}-activity"), user_ids, wrote, now - timedelta(seconds=30 * post_count), now
    )
    _bulk(_table(DailyActivity), days, "reading days")
    item_base = db.session.scalar(select(func.coalesce(func.max(InboxItem.id), 0))) or 0
    items = answering.inbox_rows(item_base + 1)
    _bulk(_table(InboxItem), items, "inbox items")
    social.recount_accounts()  # bulk inserts bypass the services that keep the counters
    rollups.rebuild_all()  # ... and the dashboard's
    if db.engine.dialect.name == "postgresql":
        for table in ("users", "posts", "tags", "inbox_items"):
            # Past the ids written, never back below one handed out (kept homes settle posts' ids by it).
            sequence = f"pg_get_serial_sequence('{table}', 'id')"
            db.session.execute(
                text(
                    f"SELECT setval({sequence}, greatest((SELECT coalesce(max(id), 1) FROM {table}),"
                    f" coalesce(pg_sequence_last_value({sequence}::regclass), 1)))"
                )
            )
        db.session.commit()
        # Fresh statistics, or the planner guesses badly; and the visibility map, so that the
        # dashboard's counts are read from their indexes alone.
        with db.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as connection:
            connection.execute(text("VACUUM ANALYZE"))
    if index:  # bulk inserts bypass the outbox: index everything in one go
        reindex_with_progress(procs=min(4, os.cpu_count() or 1))
    click.echo(
        f"Seeded {user_count} people, {len(follows)} follows, {len(communities)} communities"
        f" ({sum(c.private for c in communities)} private), {post_count} posts,"
        f" {len(teams)} teams ({len(items)} inbox items), {question_count} questions."
        f" Password: {DEMO_PASSWORD}"
    )


def _seed_posts(
    rng,
    post_count,
    post_base,
    user_ids,
    usernames,
    tag_names,
    tag_ids,
    now,
    communities,
    community_rng,
    answering,
    like_rng,
) -> set[tuple[int, date]]:
    """Insert the posts, their tags, mentions and likes; return who wrote on which local day."""
    user_count = len(user_ids)
    name_to_id = dict(zip(usernames, user_ids, strict=True))
    name_to_id.update((t.handle, t.id) for t in answering.teams)  # a team is addressed as a person is
    start = now - timedelta(seconds=30 * post_count)
    # post id -> (thread root, author, community) of the last posts
    recent: dict[int, tuple[int, int, DemoCommunity | None]] = {}
    member_sets = {c.id: frozenset(c.members) for c in communities}
    zone = ZoneInfo(current_app.config["TIMEZONE"])
    wrote: set[tuple[int, date]] = set()
    with Pool(2) as pool, click.progressbar(length=post_count, label="posts") as bar:
        for first in range(0, post_count, BATCH):
            size = min(BATCH, post_count - first)
            kept_homes.writing_posts()  # as a post's id default does, until the batch is committed
            posts, tag_rows, mention_rows, jobs = [], [], [], []
            for i in range(first, first + size):
                pid = post_base + i + 1
                special = answering.take(i, tag_names)
                if special is not None:
                    author, text_, parent = special.author, special.text, special.parent
                    root, parent_author, community = special.root, special.parent_author, special.community
                else:
                    author = user_ids[_skewed(rng, user_count)]
                    text_ = _post_text(rng, usernames, tag_names, user_count)
                    parent = pid - 1 - rng.randrange(min(50, i)) if i and rng.random() < 0.05 else None
                    if parent is not None and parent in recent:  # not the team's answer: the asker's post
                        parent = answering.redirect(parent, recent[parent][1])
                    asked = answering.asker_of(parent) if parent else None
                    root, parent_author, community = (
                        recent.get(parent, (parent, asked[0] if asked else None, asked and asked[1]))
                        if parent
                        else (None, None, None)
                    )
                    if parent is None and communities and community_rng.random() < COMMUNITY_SHARE:
                        # A new thread in a community: a member addresses it (as its page's composer does).
                        community = communities[_popular(community_rng, len(communities))]
                        author = community.members[_skewed(community_rng, len(community.members))]
                        text_ = _addressed(community_rng, community, text_, usernames, tag_names, user_count)
                    elif (
                        community is not None
                        and community.private
                        and author not in member_sets[community.id]
                    ):
                        # A reply stays in its parent's community; in a private one only members answer.
                        author = community.members[_skewed(community_rng, len(community.members))]
                mentioned = extract_mentions(text_)
                recent[pid] = (root or pid, author, community)
                recent.pop(pid - 60, None)
                posts.append(
                    {
                        "id": pid,
                        "author_id": author,
                        "text": text_,
                        "created_at": start + timedelta(seconds=30 * i),
                        "in_reply_to_id": parent,
                        "conversation_id": root,
                        "community_id": community.id if community else None,
                        "visibility": PRIVATE if community and community.private else PUBLIC,
                        "posted_by_id": special.posted_by if special else None,
                        "is_question": bool(special and special.question),
                        "like_count": 0,
                        "reply_count": 0,
                    }
                )
                jobs.append((text_, tuple(mentioned)))
                tag_rows += [{"post_id": pid, "tag_id": tag_ids[name]} for name in extract_tags(text_)]
                addressed = {name_to_id.get(name, author) for name in mentioned} | {parent_author or author}
                if community is not None and community.private:  # a private post addresses members only
                    addressed &= member_sets[community.id]
                mention_rows += [{"post_id": pid, "user_id": uid} for uid in sorted(addressed - {author})]
            for row, html in zip(posts, pool.map(_render, jobs, chunksize=250), strict=True):
                row["html"] = html
            likes = demo_activity.likes(like_rng, posts, user_ids, member_sets, now, _skewed)
            db.session.execute(insert(_table(Post)), posts)
            if likes:
                db.session.execute(insert(_table(Like)), likes)
            wrote.update(
                (row["posted_by_id"] or row["author_id"], row["created_at"].astimezone(zone).date())
                for row in posts
            )
            replied = [{"id": row["in_reply_to_id"]} for row in posts if row["in_reply_to_id"]]
            if replied:
                db.session.execute(
                    text("UPDATE posts SET reply_count = reply_count + 1 WHERE id = :id"), replied
                )
            accepted = answering.take_accepted()
            if accepted:
                table = _table(Post)
                accept = (
                    update(table)
                    .where(table.c.id == bindparam("question"))
                    .values(accepted_answer_id=bindparam("answer"), answer_accepted_at=bindparam("at"))
                )
                db.session.execute(accept, accepted)
            if tag_rows:
                db.session.execute(insert(post_tags), tag_rows)
            if mention_rows:
                db.session.execute(insert(mentions), mention_rows)
            db.session.commit()
            bar.update(size)
    return wrote


def _addressed(
    rng: random.Random, community: DemoCommunity, text: str, usernames: list[str], tags: list[str], users: int
) -> str:
    """Return the text addressed to the community: "@handle " first, or a new text if that is too long."""
    try:
        return check_post_text(f"@{community.handle} {text}")
    except ValidationError:
        return _post_text(rng, usernames, tags, users, prefix=f"@{community.handle} ")


def _table(model: type[Base]) -> Table:
    """Return a model's table (a Table, where `__table__` is typed as any FromClause)."""
    return Base.metadata.tables[model.__tablename__]


def _bulk(table: Table, rows: list[dict], label: str) -> None:
    with click.progressbar(length=len(rows), label=label) as bar:
        for i in range(0, len(rows), BATCH):
            db.session.execute(insert(table), rows[i : i + BATCH])
            bar.update(min(BATCH, len(rows) - i))
    db.session.commit()
