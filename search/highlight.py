"""Mark the words of a post that a search matched, in the post's rendered HTML."""

from __future__ import annotations

from collections.abc import Callable
from functools import lru_cache

import regex
from markupsafe import Markup

from .analysis import analyzed_terms, query_positions
from .query import SearchQuery

# The renderer's output is text (already escaped) between tags; entities are not words.
_TAG = regex.compile(r"(<[^>]*>)")
_WORD = regex.compile(r"(&#?\w+;)|([\p{L}\p{N}_]+)")


@lru_cache(maxsize=20_000)
def _stems(word: str, language: str) -> frozenset[str]:
    return frozenset(analyzed_terms(word, language))


def highlighter(query: SearchQuery, language: str) -> Callable[[str], Markup]:
    """Return a function that wraps each word of a post whose stem (or tag name) the query searched in <mark>.

    The query is analyzed once, for every post of a results page.  The function
    takes microblog.text.render_html output: tags are the renderer's own and
    text between them is escaped, so only text runs are touched.
    """
    stems: set[str] = set()
    for text in (*query.words, *query.phrases):  # as searched: a compound is not split in a search
        stems.update(term for alternatives in query_positions(text, language) for term in alternatives)
    tags = frozenset(query.tags)

    def mark(match: regex.Match[str]) -> str:
        word = match.group(2)
        if word is None:
            return match.group(0)
        if word.lower() in tags or _stems(word, language) & stems:
            return f"<mark>{word}</mark>"
        return word

    def highlight(html: str) -> Markup:
        if not (stems or tags):
            return Markup(html)
        parts = _TAG.split(html)
        for i in range(0, len(parts), 2):  # even parts are text, odd parts are tags
            parts[i] = _WORD.sub(mark, parts[i])
        return Markup("".join(parts))

    return highlight
