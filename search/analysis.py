"""Text analysis per MICROBLOG_SEARCH_LANGUAGE: how post text becomes searchable terms.

English: lower-case, stop words, Snowball stemming, accents folded (café = cafe).
Norwegian: the same with Norwegian stop words and stemmer; æ, ø and å are
letters of their own there and stay as they are (while é, ü ... fold).
"""

from __future__ import annotations

from functools import cache

from whoosh.analysis import (
    Analyzer,
    CharsetFilter,
    LowercaseFilter,
    RegexTokenizer,
    StemFilter,
    StopFilter,
)
from whoosh.support.charset import accent_map

LANGUAGES = {"english": "en", "norwegian": "no"}

# Accent folding that leaves the Norwegian letters alone.
_NORWEGIAN_KEEP = {ord(ch) for ch in "æøåÆØÅ"}
_norwegian_accent_map = {k: v for k, v in accent_map.items() if k not in _NORWEGIAN_KEEP}


def check_language(name: str) -> str:
    """Return the language name if supported, or raise ValueError naming the choices."""
    if name not in LANGUAGES:
        raise ValueError(f"MICROBLOG_SEARCH_LANGUAGE={name!r}: expected one of {', '.join(LANGUAGES)}")
    return name


def folding_map(language: str) -> dict[int, str]:
    """Return the accent folding of this language, as a str.translate table."""
    return _norwegian_accent_map if check_language(language) == "norwegian" else accent_map


def fold(text: str, language: str) -> str:
    """Fold accents the way the analyzer does (for backends that stem elsewhere)."""
    return text.translate(folding_map(language))


@cache
def text_analyzer(language: str) -> Analyzer:
    """Return the Whoosh analyzer for post text in this language."""
    code = LANGUAGES[check_language(language)]
    folding = folding_map(language)
    # Fold before stemming, so that "kafé" and "kafe" stem alike.
    return (
        RegexTokenizer()
        | LowercaseFilter()
        | CharsetFilter(folding)
        | StopFilter(lang=code)
        | StemFilter(lang=code)
    )


def analyzed_terms(text: str, language: str) -> list[str]:
    """Return the terms the index holds for this text: folded, without stop words, stemmed."""
    return [token.text for token in text_analyzer(language)(text)]
