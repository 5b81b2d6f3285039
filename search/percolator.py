"""Matching each new post against every saved search, once, after it is written (percolation).

A saved search is compiled once into what a post must have: its words (each
word's terms, each with its alternatives, anywhere in the text), its phrases
(terms at consecutive positions), its #tags, from: and @ names, is: flags and
days, and what it excludes.  The terms come from the same analysis the
backend searches with (search.analysis, or PostgreSQL's own configuration), so
a saved search finds exactly what the search page finds, on every post.

Every compiled search is filed under an anchor: one condition every post it
matches must meet (a tag, a name, one of a word's terms ...), the rarest it has.
A new post looks up its own keys (its terms, tags, names, flags) and tests only
the searches filed under them, so the cost of a post grows with the searches
that share a key with it, not with all saved searches.

This module only matches; who may see a match (a private community's post
reaches its members' searches only) is the caller's business.
"""

from __future__ import annotations

import logging
import math
import time
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, date
from typing import Any, Protocol

import regex
from sqlalchemy import func, select, text

from microblog.database import db
from models import TimelineList
from models.timeline_list import SEARCH

from .analysis import analyzed_positions, fold, query_positions
from .documents import PostDocument
from .query import QUESTION, UNANSWERED, SearchQuery, parse_query

log = logging.getLogger(__name__)

# How often, at most, the percolator looks whether saved searches changed in another process (s).
RECHECK_SECONDS = 1.0

# A sequence of terms: (offset from the first, its alternatives).  A word needs each of its
# terms anywhere; a phrase needs them at these offsets.
Terms = tuple[tuple[int, frozenset[str]], ...]
# A post's text: each term, with the positions it is at.
PostTerms = dict[str, frozenset[int]]


class Analysis(Protocol):
    """How a backend turns post text and search text into terms."""

    def post_terms(self, docs: Sequence[PostDocument]) -> dict[int, PostTerms]:
        """Return each post's terms with their positions, by post id."""

    def sequences(self, texts: Sequence[str], *, phrase: bool) -> list[Terms | None]:
        """Return each search text's terms (None: it has none, only stop words)."""


class PythonAnalysis:
    """microblog's own analyzer (search.analysis): the Whoosh index's, and PostgreSQL's for `both`."""

    def __init__(self, language: str) -> None:
        self.language = language

    def post_terms(self, docs: Sequence[PostDocument]) -> dict[int, PostTerms]:
        """Return each post's terms with their positions, as the index holds them."""
        found: dict[int, PostTerms] = {}
        for doc in docs:
            positions: dict[str, set[int]] = {}
            for pos, term in analyzed_positions(doc.text, self.language):
                positions.setdefault(term, set()).add(pos)
            found[doc.id] = {term: frozenset(at) for term, at in positions.items()}
        return found

    def sequences(self, texts: Sequence[str], *, phrase: bool) -> list[Terms | None]:
        """Return each text's terms as query_positions gives them (one position after another)."""
        result: list[Terms | None] = []
        for t in texts:
            positions = query_positions(t, self.language)
            result.append(tuple((i, frozenset(alts)) for i, alts in enumerate(positions)) or None)
        return result


_TSQUERY_TOKEN = regex.compile(r"\s*(?:'((?:[^']|'')*)'|(<->|<\d+>|&))")


class PostgresAnalysis:
    """PostgreSQL's own `english` or `norwegian` configuration: terms read back from it."""

    def __init__(self, language: str) -> None:
        self.language = language

    def post_terms(self, docs: Sequence[PostDocument]) -> dict[int, PostTerms]:
        """Return each post's lexemes with their positions: its document as the index stores it.

        Made here, as the index makes it (search.postgres_backend), rather than read from
        post_search: a new post is matched whether or not the search worker has indexed it yet.
        """
        found: dict[int, PostTerms] = {doc.id: {} for doc in docs}
        rows = db.session.execute(
            text(
                "SELECT x.i, t.lexeme, t.positions FROM unnest(CAST(:texts AS text[])) WITH ORDINALITY"
                " AS x(body, i), unnest(to_tsvector(CAST(:language AS regconfig), x.body)) t"
            ),
            {"language": self.language, "texts": [fold(doc.text, self.language) for doc in docs]},
        )
        for i, lexeme, positions in rows:
            found[docs[i - 1].id][lexeme] = frozenset(p - 1 for p in positions or ())
        return found

    def sequences(self, texts: Sequence[str], *, phrase: bool) -> list[Terms | None]:
        """Return each text's tsquery (plainto_ or phraseto_) as terms, as the backend searches it."""
        kept = [t if query_positions(t, self.language) else "" for t in texts]
        function = "phraseto_tsquery" if phrase else "plainto_tsquery"
        rows = db.session.execute(
            text(
                f"SELECT CAST({function}(CAST(:language AS regconfig), x.t) AS text)"
                " FROM unnest(CAST(:texts AS text[])) WITH ORDINALITY AS x(t, i) ORDER BY x.i"
            ),
            {"language": self.language, "texts": [fold(t, self.language) for t in kept]},
        )
        return [parse_tsquery(query) if t else None for t, (query,) in zip(kept, rows, strict=True)]


def parse_tsquery(query: str) -> Terms | None:
    """Return the terms of a plainto_tsquery (`'a' & 'b'`) or phraseto_tsquery (`'a' <-> 'b' <2> 'c'`)."""
    terms: list[tuple[int, frozenset[str]]] = []
    offset, at = 0, 0
    while at < len(query.rstrip()):
        match = _TSQUERY_TOKEN.match(query, at)
        if match is None:
            log.warning("cannot read the tsquery %r: the saved search matches nothing", query)
            return None
        at = match.end()
        lexeme, operator = match.groups()
        if lexeme is not None:
            terms.append((offset, frozenset({lexeme.replace("''", "'")})))
        elif operator == "<->":
            offset += 1
        elif operator != "&":
            offset += int(operator[1:-1])
    return tuple(terms) or None


@dataclass(frozen=True)
class SavedSearch:
    """A saved search as the percolator needs it: which list, whose, and what it asks."""

    list_id: int
    user_id: int
    query: str


@dataclass(slots=True)
class Compiled:
    """What a post must have to match one saved search (see the module docstring)."""

    search: SavedSearch
    words: tuple[Terms, ...]
    phrases: tuple[Terms, ...]
    excluded: tuple[Terms, ...]
    tags: frozenset[str]
    authors: frozenset[str]
    mentions: frozenset[str]
    flags: frozenset[str]
    excluded_flags: frozenset[str]
    after: date | None
    before: date | None

    def anchor(self) -> tuple[str, ...]:
        """Return keys of which every matching post has at least one: the rarest condition's."""
        choices: list[tuple[float, tuple[str, ...]]] = []
        choices += [(1.0, (f"@ {name}",)) for name in self.mentions]
        choices += [(1.0, (f"# {tag}",)) for tag in self.tags]
        choices += [(3.0, (f"f {name}",)) for name in self.authors]
        for terms in self.words + self.phrases:
            for _offset, alternatives in terms:
                # A longer term is rarer, as a rule; a term with several alternatives is as common as all.
                rarity = 2.0 + 10.0 / min(map(len, alternatives)) + len(alternatives)
                choices.append((rarity, tuple(f"t {term}" for term in sorted(alternatives))))
        choices += [(50.0, (f"i {flag}",)) for flag in self.flags]
        return min(choices)[1] if choices else ()

    def matches(self, post: PostFacts) -> bool:
        """Return whether the post meets every condition of the search."""
        return (
            self.tags <= post.tags
            and all(name == post.author for name in self.authors)
            and self.mentions <= post.mentions
            and self.flags <= post.flags
            and self.excluded_flags.isdisjoint(post.flags)
            and (self.after is None or post.day >= self.after)
            and (self.before is None or post.day < self.before)
            and all(_has_all(post.terms, word) for word in self.words)
            and all(_has_sequence(post.terms, phrase) for phrase in self.phrases)
            and not any(_has_sequence(post.terms, phrase) for phrase in self.excluded)
        )


@dataclass(slots=True)
class PostFacts:
    """What a saved search looks at in one post."""

    id: int
    terms: PostTerms
    tags: frozenset[str]
    author: str
    mentions: frozenset[str]
    flags: frozenset[str]
    day: date

    def keys(self) -> list[str]:
        """Return every anchor key the post has."""
        keys = [f"t {term}" for term in self.terms]
        keys += [f"# {tag}" for tag in self.tags]
        keys += [f"@ {name}" for name in self.mentions]
        keys += [f"i {flag}" for flag in self.flags]
        keys.append(f"f {self.author}")
        return keys


def _has_all(terms: PostTerms, word: Terms) -> bool:
    return all(any(t in terms for t in alternatives) for _offset, alternatives in word)


def _positions(terms: PostTerms, alternatives: frozenset[str]) -> set[int]:
    found: set[int] = set()
    for term in alternatives:
        found |= terms.get(term, frozenset())
    return found


def _has_sequence(terms: PostTerms, phrase: Terms) -> bool:
    """Return whether the terms occur at the phrase's offsets from some position (a single term: anywhere)."""
    if len(phrase) == 1:
        return _has_all(terms, phrase)
    starts = _positions(terms, phrase[0][1])
    for offset, alternatives in phrase[1:]:
        if not starts:
            return False
        starts &= {p - offset for p in _positions(terms, alternatives)}
    return bool(starts)


def post_facts(doc: PostDocument, terms: PostTerms) -> PostFacts:
    """Return what saved searches look at in a post (its flags as search.whoosh_schema.post_flags)."""
    flags = (
        (QUESTION, UNANSWERED) if doc.question and not doc.answered else (QUESTION,) if doc.question else ()
    )
    return PostFacts(
        id=doc.id,
        terms=terms,
        tags=frozenset(tag.lower() for tag in doc.tags),
        author=doc.author,
        mentions=frozenset(name.lower() for name in doc.mentions),
        flags=frozenset(flags),
        day=doc.created_at.astimezone(UTC).date(),
    )


def compile_searches(searches: Sequence[SavedSearch], analysis: Analysis) -> list[Compiled]:
    """Compile saved searches (their texts analysed in one go); those that can match nothing are left out."""
    queries = [parse_query(s.query) for s in searches]
    word_texts = [t for q in queries for t in q.words]
    phrase_texts = [t for q in queries for t in (*q.phrases, *q.excluded)]
    words = iter(analysis.sequences(word_texts, phrase=False) if word_texts else [])
    phrases = iter(analysis.sequences(phrase_texts, phrase=True) if phrase_texts else [])
    compiled: list[Compiled] = []
    for search, query in zip(searches, queries, strict=True):
        word_terms = [next(words) for _ in query.words]
        phrase_terms = [next(phrases) for _ in query.phrases]
        excluded_terms = [next(phrases) for _ in query.excluded]
        one = _compile(search, query, word_terms, phrase_terms, excluded_terms)
        if one is not None:
            compiled.append(one)
    return compiled


def _compile(
    search: SavedSearch,
    query: SearchQuery,
    words: list[Terms | None],
    phrases: list[Terms | None],
    excluded: list[Terms | None],
) -> Compiled | None:
    """Compile one search as search.whoosh_schema.compile_query reads it; None if it matches nothing."""
    kept_words = tuple(w for w in words if w is not None)
    kept_phrases = tuple(p for p in phrases if p is not None)
    if not (kept_words or kept_phrases or query.tags or query.authors or query.mentions or query.flags):
        return None  # only stop words (or nothing): the search page finds nothing either
    if query.after and query.before and query.before <= query.after:
        return None
    return Compiled(
        search=search,
        words=kept_words,
        phrases=kept_phrases,
        excluded=tuple(p for p in excluded if p is not None),
        tags=frozenset(query.tags),
        authors=frozenset(query.authors),
        mentions=frozenset(query.mentions),
        flags=frozenset(query.flags),
        excluded_flags=frozenset(query.excluded_flags),
        after=query.after,
        before=query.before,
    )


class Percolator:
    """Every saved search of the installation, compiled and filed by anchor; reloaded when they change."""

    def __init__(self, analysis: Analysis, *, recheck: float = RECHECK_SECONDS) -> None:
        self.analysis = analysis
        self.recheck = recheck
        self.fingerprint: tuple[Any, ...] | None = None
        self.checked_at = -math.inf
        self.by_key: dict[str, list[Compiled]] = {}
        self.size = 0

    def forget(self) -> None:
        """Look at the saved searches again before the next match (one was saved, changed or removed here)."""
        self.checked_at = -math.inf

    def load(self, searches: Iterable[SavedSearch]) -> None:
        """Compile these saved searches and file them by anchor, replacing what was loaded."""
        by_key: dict[str, list[Compiled]] = {}
        compiled = compile_searches(list(searches), self.analysis)
        for one in compiled:
            for key in one.anchor():
                by_key.setdefault(key, []).append(one)
        self.by_key, self.size = by_key, len(compiled)

    def refresh(self) -> None:
        """Load the saved searches again if any was saved, changed or removed since the last load.

        Looked at once per `recheck` seconds at most (reading 10,000 rows' changes takes
        ~1 ms): a search saved through another process matches within that time, and one
        saved through this one at once (forget()).
        """
        now = time.monotonic()
        if now - self.checked_at < self.recheck:
            return
        self.checked_at = now
        lists = TimelineList.__table__.c
        current = tuple(
            db.session.execute(
                select(func.count(), func.max(lists.id), func.max(lists.changed_at)).where(
                    lists.kind == SEARCH
                )
            ).one()
        )
        if current != self.fingerprint:
            rows = db.session.execute(
                select(lists.id, lists.user_id, lists.query).where(lists.kind == SEARCH)
            )
            self.load(SavedSearch(*row) for row in rows)
            self.fingerprint = current

    def match(self, docs: Sequence[PostDocument]) -> list[tuple[SavedSearch, PostDocument]]:
        """Return every (saved search, post) that matches, testing those filed under the post's keys."""
        if not self.by_key or not docs:
            return []
        terms = self.analysis.post_terms(docs)
        found: list[tuple[SavedSearch, PostDocument]] = []
        for doc in docs:
            post = post_facts(doc, terms.get(doc.id, {}))
            tested: set[int] = set()
            for key in post.keys():
                for candidate in self.by_key.get(key, ()):
                    list_id = candidate.search.list_id
                    if list_id not in tested:
                        tested.add(list_id)
                        if candidate.matches(post):
                            found.append((candidate.search, doc))
        return found
