"""Text analysis per MICROBLOG_SEARCH_LANGUAGE: how post text becomes searchable terms.

English: lower-case, stop words, Snowball stemming, accents folded (café = cafe).
Norwegian: the same with Norwegian stop words and stemmer; æ, ø and å are
letters of their own there and stay as they are (while é, ü ... fold).
Both (the default): folded as Norwegian, and each word indexed under its English
and its Norwegian stem (one term where they agree), at the same position.  A
stop word of either language is dropped ("the", "og", and so also "men" and
"is"), in posts and in searches alike.  A search word matches a post word if
either stemmer gives them the same stem: `sommerfest` finds `sommerfesten`,
`release` finds `released`.
"""

from __future__ import annotations

from collections.abc import Iterator
from functools import cache

from whoosh.analysis import (
    Analyzer,
    CharsetFilter,
    Filter,
    LowercaseFilter,
    RegexTokenizer,
    StemFilter,
    StopFilter,
)
from whoosh.analysis.acore import Token
from whoosh.lang import stemmer_for_language, stopwords_for_language
from whoosh.support.charset import accent_map

# Language setting -> the stemmer code that an index built for it records (see whoosh_schema.stem_language).
LANGUAGES = {"both": "en+no", "english": "en", "norwegian": "no"}
DEFAULT_LANGUAGE = "both"
# The single languages that `both` is made of, in the order their stems are indexed.
SINGLE = ("english", "norwegian")

# Accent folding that leaves the Norwegian letters alone.
_NORWEGIAN_KEEP = {ord(ch) for ch in "æøåÆØÅ"}
_norwegian_accent_map = {k: v for k, v in accent_map.items() if k not in _NORWEGIAN_KEEP}


def check_language(name: str) -> str:
    """Return the language name if supported, or raise ValueError naming the choices."""
    if name not in LANGUAGES:
        raise ValueError(f"MICROBLOG_SEARCH_LANGUAGE={name!r}: expected one of {', '.join(LANGUAGES)}")
    return name


def single_languages(language: str) -> tuple[str, ...]:
    """Return the single languages whose stemmers a setting uses: ("english", "norwegian") for both."""
    return SINGLE if check_language(language) == "both" else (language,)


def folding_map(language: str) -> dict[int, str]:
    """Return the accent folding of this language, as a str.translate table (both: as Norwegian)."""
    return accent_map if check_language(language) == "english" else _norwegian_accent_map


def fold(text: str, language: str) -> str:
    """Fold accents the way the analyzer does (for backends that stem elsewhere)."""
    return text.translate(folding_map(language))


class BilingualStemFilter(Filter):
    """Replace each token by its stems in several languages, at one position; drop stop words of them all.

    Like StopFilter (minsize 2, renumbered positions) with the stop words of
    every language, then each language's StemFilter; a token yields each
    distinct stem.  `lang` is what the index records (whoosh_schema.stem_language).
    """

    def __init__(self, langs: tuple[str, ...] = ("en", "no"), minsize: int = 2) -> None:
        self.langs = langs
        self.lang = "+".join(langs)
        self.minsize = minsize

    def __call__(self, tokens: Iterator[Token]) -> Iterator[Token]:
        pos = 0
        for t in tokens:
            stems = _stems(t.text, self.langs, self.minsize)
            for stem in dict.fromkeys(stems):
                t.text = stem
                if t.positions:
                    t.pos = pos
                yield t
            if stems:
                pos += 1


def _stems(word: str, langs: tuple[str, ...], minsize: int = 2) -> list[str]:
    """Return the word's stem in each language, or [] if it is short or a stop word of any of them."""
    if len(word) < minsize or any(word in _stopwords(lang) for lang in langs):
        return []
    return [_stem(lang, word) for lang in langs]


@cache
def _stopwords(lang: str) -> frozenset[str]:
    return frozenset(stopwords_for_language(lang))


_stem_cache: dict[tuple[str, str], str] = {}


def _stem(lang: str, word: str) -> str:
    """Return the word's stem in this language (cached, as StemFilter caches)."""
    key = (lang, word)
    found = _stem_cache.get(key)
    if found is None:
        if len(_stem_cache) > 100_000:
            _stem_cache.clear()
        found = _stem_cache[key] = stemmer_for_language(lang)(word)
    return found


@cache
def text_analyzer(language: str) -> Analyzer:
    """Return the Whoosh analyzer for post text in this language."""
    folding = folding_map(language)
    # Fold before stemming, so that "kafé" and "kafe" stem alike.
    base = RegexTokenizer() | LowercaseFilter() | CharsetFilter(folding)
    if check_language(language) == "both":
        return base | BilingualStemFilter(tuple(LANGUAGES[lang] for lang in SINGLE))
    code = LANGUAGES[language]
    return base | StopFilter(lang=code) | StemFilter(lang=code)


def analyzed_terms(text: str, language: str) -> list[str]:
    """Return the terms the index holds for this text: folded, no stop words, stemmed (both: all stems)."""
    return [token.text for token in text_analyzer(language)(text)]


def analyzed_variants(text: str, language: str) -> list[list[str]]:
    """Return this text's terms once per stemmer of the setting, distinct ones only; [] for only stop words.

    For queries: a search word or phrase matches if it matches under one of
    them, as the index holds every stemmer's terms (at the same positions).
    """
    if check_language(language) != "both":
        terms = analyzed_terms(text, language)
        return [terms] if terms else []
    langs = tuple(LANGUAGES[single] for single in SINGLE)
    tokens = RegexTokenizer() | LowercaseFilter() | CharsetFilter(folding_map(language))
    positions = [stems for t in tokens(text) if (stems := _stems(t.text, langs))]
    if not positions:
        return []
    variants = [[stems[i] for stems in positions] for i in range(len(langs))]
    return [v for i, v in enumerate(variants) if v not in variants[:i]]
