"""How posts and searches map onto Whoosh: the index schema, a post's fields, a search's query."""

from __future__ import annotations

from datetime import UTC, date

from whoosh import query as q
from whoosh.analysis import StemFilter
from whoosh.fields import ID, KEYWORD, NUMERIC, TEXT, Schema

from .analysis import BilingualStemFilter, query_positions, text_analyzer
from .documents import IdRange, PostDocument
from .query import QUESTION, UNANSWERED, SearchQuery

EPOCH = date(1970, 1, 1)


def schema(language: str) -> Schema:
    """Return the index schema for post text in `language`.

    Numeric fields are trie-coded: every posting of a numeric term costs
    indexing time, so `id` uses 8 terms (shift_step=8, fast enough ranges for
    paging) and dates are whole days in 32 bits (what date filters need).
    """
    return Schema(
        id=NUMERIC(
            int, bits=64, stored=True, unique=True, sortable=True, shift_step=8
        ),  # signed: unsigned 64-bit ranges fail
        text=TEXT(analyzer=text_analyzer(language), phrase=True),
        author=ID,
        tags=KEYWORD(lowercase=True),
        mentions=KEYWORD(lowercase=True),
        day=NUMERIC(int, bits=32, shift_step=8),
        # "private c<community id>" for a post in a private community, empty for a public one.
        audience=KEYWORD,
        # What is:<flag> finds: "question unanswered", "question" (answered) or empty (not a question).
        flags=KEYWORD,
    )


def day_number(moment: date) -> int:
    """Return a day as the number the `day` field holds (days since 1970-01-01)."""
    return (moment - EPOCH).days


def document_fields(doc: PostDocument) -> dict[str, object]:
    """Return a post's fields as the index takes them (add_document keyword arguments)."""
    return {
        "id": doc.id,
        "text": doc.text,
        "author": doc.author,
        "tags": " ".join(doc.tags),
        "mentions": " ".join(doc.mentions),
        "day": day_number(doc.created_at.astimezone(UTC).date()),
        "audience": f"private c{doc.community_id}" if doc.private else "",
        "flags": " ".join(post_flags(doc)),
    }


def post_flags(doc: PostDocument) -> tuple[str, ...]:
    """Return the is: flags a post has (search.query.FLAGS)."""
    if not doc.question:
        return ()
    return (QUESTION,) if doc.answered else (QUESTION, UNANSWERED)


def compile_query(query: SearchQuery, language: str, days: IdRange | None = None) -> q.Query | None:
    """Return the Whoosh query of a search, or None: words and phrases score, the rest filters.

    `days` is the id range of the search's days, which the search walks within.
    Private posts are not this query's business: whoosh_segments.newest_matches
    leaves out those outside the reader's communities as it reads the matches.
    """

    def matching(text: str) -> q.Query | None:
        """The text's terms in sequence, each with any of its alternatives (None: only stop words)."""
        positions = [_any_of(alternatives) for alternatives in query_positions(text, language)]
        if len(positions) <= 1:
            return positions[0] if positions else None
        if all(isinstance(p, q.Term) for p in positions):
            return q.Phrase("text", [p.text for p in positions])
        return q.Sequence(positions)

    def word(text: str) -> q.Query | None:
        """A search word: all of its terms (a word like "go/no-go" has several), each with any alternative."""
        positions = list(dict.fromkeys(_any_of(alts) for alts in query_positions(text, language)))
        if len(positions) <= 1:
            return positions[0] if positions else None
        return q.And(positions)

    scored: list[q.Query] = [m for m in map(word, query.words) if m is not None]
    scored += [m for m in map(matching, query.phrases) if m is not None]
    # Filters score nothing (boost 0), so they narrow the matches without changing their ranking.
    # (Whoosh 2.7's Require query, meant for this, lets non-matching documents through.)
    filters: list[q.Query] = [q.Term("tags", tag, boost=0.0) for tag in query.tags]
    filters += [q.Term("author", name, boost=0.0) for name in query.authors]
    filters += [q.Term("mentions", name, boost=0.0) for name in query.mentions]
    filters += [q.Term("flags", flag, boost=0.0) for flag in query.flags]
    if not (scored or filters):
        return None
    compiled: q.Query = q.And(scored + filters)
    excluded = [m for m in map(matching, query.excluded) if m is not None]
    excluded += [q.Term("flags", flag) for flag in query.excluded_flags]
    # Days leave out the posts outside them: excluded queries score nothing. (A zero-boost range
    # among the required ones loses matches in scored searches in Whoosh 2.7, and a constant-score
    # range lists every id of the range each time it is matched.)  Within the days' id range, the
    # only posts outside the days are those made in the few days next to it (see IdRange).
    if query.after:
        start = day_number(days.earliest.date()) if days else None
        excluded.append(
            q.NumericRange("day", start, day_number(query.after), endexcl=True, constantscore=False)
        )
    if query.before:
        end = day_number(days.latest.date()) if days else None
        excluded.append(q.NumericRange("day", day_number(query.before), end, constantscore=False))
    return q.AndNot(compiled, q.Or(excluded)) if excluded else compiled


def stem_language(stored: Schema) -> str | None:
    """Return the language code the index's text field stems with (the schema is stored in the index)."""
    for item in getattr(stored["text"].analyzer, "items", ()):
        if isinstance(item, StemFilter | BilingualStemFilter):
            return item.lang
    return None


def _any_of(alternatives: list[str]) -> q.Query:
    terms = [q.Term("text", term) for term in alternatives]
    return terms[0] if len(terms) == 1 else q.Or(terms)
