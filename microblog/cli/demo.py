"""`flask --app wsgi demo seed`: a deterministic demo company, fast enough for a million posts."""

from __future__ import annotations

import os
import random
from datetime import timedelta
from multiprocessing import Pool

import click
from flask.cli import with_appcontext
from sqlalchemy import Table, func, insert, select, text

from microblog.cli.search import reindex_with_progress
from microblog.database import db
from microblog.services import social
from microblog.services.errors import ValidationError
from microblog.services.validation import check_post_text
from microblog.text import extract_mentions, extract_tags, render_html
from models import Base, Follow, Post, Tag, TagFollow, User, mentions, post_tags, utcnow

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

DEMO_PASSWORD = "demo-password"
BATCH = 5000


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


def _post_text(rng: random.Random, usernames: list[str], tags: list[str], user_count: int) -> str:
    while True:
        parts = [rng.choice(NORWEGIAN if rng.random() < 0.4 else ENGLISH)]
        if rng.random() < 0.5:
            parts.append(rng.choice(NORWEGIAN if rng.random() < 0.4 else ENGLISH))
        text = ". ".join(part[0].upper() + part[1:] for part in parts)
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


@click.group()
def demo() -> None:
    """Demo data."""


@demo.command("seed")
@click.option("--users", "user_count", default=200, show_default=True)
@click.option("--posts", "post_count", default=5000, show_default=True)
@click.option("--tags", "tag_count", default=500, show_default=True)
@click.option("--follows", "follows_per_user", default=100, show_default=True)
@click.option("--seed", default=42, show_default=True, help="Same seed, same data.")
@click.option("--index/--no-index", default=True, help="Rebuild the search index afterwards.")
@with_appcontext
def seed(
    user_count: int, post_count: int, tag_count: int, follows_per_user: int, seed: int, index: bool
) -> None:
    """Create a deterministic demo company: people, follows, tags and posts.

    Every demo account's password is "demo-password".
    """
    rng = random.Random(seed)
    usernames = _usernames(user_count)
    if db.session.scalar(select(User.id).where(User.username == usernames[0])):
        raise click.ClickException("Demo data is already in this database.")
    user_base = db.session.scalar(select(func.coalesce(func.max(User.id), 0))) or 0
    post_base = db.session.scalar(select(func.coalesce(func.max(Post.id), 0))) or 0
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
    existing = set(db.session.scalars(select(Tag.name).where(Tag.name.in_(tag_names))))
    _bulk(_table(Tag), [{"name": n, "created_at": now} for n in tag_names if n not in existing], "tags")
    tag_ids = dict(db.session.execute(select(Tag.name, Tag.id).where(Tag.name.in_(tag_names))).tuples().all())

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

    _seed_posts(rng, post_count, post_base, user_ids, usernames, tag_names, tag_ids, now)
    social.recount_accounts()  # bulk inserts bypass the services that keep the counters
    if db.engine.dialect.name == "postgresql":
        for table in ("users", "posts", "tags"):
            db.session.execute(
                text(f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), (SELECT max(id) FROM {table}))")
            )
        db.session.execute(text("ANALYZE"))  # fresh statistics, or the planner guesses badly
        db.session.commit()
    if index:  # bulk inserts bypass the outbox: index everything in one go
        reindex_with_progress(procs=min(4, os.cpu_count() or 1))
    click.echo(
        f"Seeded {user_count} people, {len(follows)} follows, {post_count} posts. Password: {DEMO_PASSWORD}"
    )


def _seed_posts(rng, post_count, post_base, user_ids, usernames, tag_names, tag_ids, now) -> None:
    user_count = len(user_ids)
    name_to_id = dict(zip(usernames, user_ids, strict=True))
    start = now - timedelta(seconds=30 * post_count)
    recent: dict[int, tuple[int, int]] = {}  # post id -> (thread root, author) of the last posts
    with Pool(2) as pool, click.progressbar(length=post_count, label="posts") as bar:
        for first in range(0, post_count, BATCH):
            size = min(BATCH, post_count - first)
            posts, tag_rows, mention_rows, jobs = [], [], [], []
            for i in range(first, first + size):
                pid = post_base + i + 1
                author = user_ids[_skewed(rng, user_count)]
                text_ = _post_text(rng, usernames, tag_names, user_count)
                mentioned = extract_mentions(text_)
                parent = pid - 1 - rng.randrange(min(50, i)) if i and rng.random() < 0.05 else None
                root, parent_author = recent.get(parent, (parent, None)) if parent else (None, None)
                recent[pid] = (root or pid, author)
                recent.pop(pid - 60, None)
                posts.append(
                    {
                        "id": pid,
                        "author_id": author,
                        "text": text_,
                        "created_at": start + timedelta(seconds=30 * i),
                        "in_reply_to_id": parent,
                        "conversation_id": root,
                        "like_count": 0,
                        "reply_count": 0,
                    }
                )
                jobs.append((text_, tuple(mentioned)))
                tag_rows += [{"post_id": pid, "tag_id": tag_ids[name]} for name in extract_tags(text_)]
                addressed = {name_to_id.get(name, author) for name in mentioned} | {parent_author or author}
                mention_rows += [{"post_id": pid, "user_id": uid} for uid in sorted(addressed - {author})]
            for row, html in zip(posts, pool.map(_render, jobs, chunksize=250), strict=True):
                row["html"] = html
            db.session.execute(insert(_table(Post)), posts)
            replied = [{"id": row["in_reply_to_id"]} for row in posts if row["in_reply_to_id"]]
            if replied:
                db.session.execute(
                    text("UPDATE posts SET reply_count = reply_count + 1 WHERE id = :id"), replied
                )
            if tag_rows:
                db.session.execute(insert(post_tags), tag_rows)
            if mention_rows:
                db.session.execute(insert(mentions), mention_rows)
            db.session.commit()
            bar.update(size)


def _table(model: type[Base]) -> Table:
    """Return a model's table (a Table, where `__table__` is typed as any FromClause)."""
    return Base.metadata.tables[model.__tablename__]


def _bulk(table: Table, rows: list[dict], label: str) -> None:
    with click.progressbar(length=len(rows), label=label) as bar:
        for i in range(0, len(rows), BATCH):
            db.session.execute(insert(table), rows[i : i + BATCH])
            bar.update(min(BATCH, len(rows) - i))
    db.session.commit()
