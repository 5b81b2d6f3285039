"""How Whoosh ranks matches by relevance: from the post alone, never from the rest of the index.

Whoosh's default BM25F weighs a word by how many documents of the whole index
hold it (idf) and a post's length against the index's average.  The index
holds private posts too: their words would shift those weights, so the order
of the public posts someone sees would tell which words a private community
uses, and how often.  Here a match scores by BM25's term-frequency part only,
with the same weight for every word and a fixed average length: the score of
a post depends on that post and the query, as PostgreSQL's ts_rank_cd does.
"""

from __future__ import annotations

from typing import Any

from whoosh import scoring

# About the words (stems, in both languages) of a 140-character post: where BM25 starts
# discounting a longer post's repeated words.
AVERAGE_POST_TERMS = 24.0
B = 0.75
K1 = 1.2


class _PostAloneScorer(scoring.WeightLengthScorer):
    def __init__(self, searcher: Any, fieldname: str, text: bytes) -> None:
        self.setup(searcher, fieldname, text)

    def _score(self, weight: float, length: int) -> float:
        return scoring.bm25(1.0, weight, length, AVERAGE_POST_TERMS, B, K1)


class PostAlone(scoring.WeightingModel):
    """BM25 without collection statistics: every word weighs the same, lengths meet a constant."""

    def supports_block_quality(self) -> bool:
        """Return that matchers may skip blocks by their best possible score."""
        return True

    def scorer(self, searcher: Any, fieldname: str, text: bytes, qf: int = 1) -> Any:
        """Return the scorer of one query term in one field."""
        if not searcher.schema[fieldname].scorable:
            return scoring.WeightScorer.for_(searcher, fieldname, text)
        return _PostAloneScorer(searcher, fieldname, text)


POST_ALONE = PostAlone()
