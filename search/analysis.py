"""Text analysis per MICROBLOG_SEARCH_LANGUAGE: how post text becomes searchable terms.

English: lower-case, stop words, Snowball stemming, accents folded (café = cafe).
Norwegian: the same with Norwegian stop words and stemmer; æ, ø and å are
letters of their own there and stay as they are (while é, ü ... fold).
Both (the default): folded as Norwegian, and each word indexed under its English
stem if it may be English and its Norwegian stem if it may be Norwegian (by
wordfreq's lists of the most frequent words of each), at the same position; a
Norwegian compound also under the stems of its parts.  A stop word of either
language is dropped ("the", "og", and so also "men" and "is"), in posts and in
searches alike.  A search word matches a post word with any of its stems:
`sommerfest` finds `sommerfesten`, `release` finds `released`, `rapport` finds
`økonomirapporten`; `regn` (rain) does not find `regning` (bill).
"""

from __future__ import annotations

from collections.abc import Iterator
from functools import cache, lru_cache

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
LANGUAGES = {"both": "en+no+compounds", "english": "en", "norwegian": "no"}
MIN_PART = 3  # letters of the shortest part of a compound

# Accent folding that leaves the Norwegian letters alone.
_NORWEGIAN_KEEP = {ord(ch) for ch in "æøåÆØÅ"}
_norwegian_accent_map = {k: v for k, v in accent_map.items() if k not in _NORWEGIAN_KEEP}


def check_language(name: str) -> str:
    """Return the language name if supported, or raise ValueError naming the choices."""
    if name not in LANGUAGES:
        raise ValueError(f"MICROBLOG_SEARCH_LANGUAGE={name!r}: expected one of {', '.join(LANGUAGES)}")
    return name


def folding_map(language: str) -> dict[int, str]:
    """Return the accent folding of this language, as a str.translate table (both: as Norwegian)."""
    return accent_map if check_language(language) == "english" else _norwegian_accent_map


def fold(text: str, language: str) -> str:
    """Fold accents the way the analyzer does (for backends that stem elsewhere)."""
    return text.translate(folding_map(language))


class BilingualStemFilter(Filter):
    """Replace each token by its English and Norwegian stems, at one position; drop stop words of either.

    Like StopFilter (minsize 2, renumbered positions) with the stop words of
    both languages, then bilingual_stems; a Norwegian compound also yields the
    stems of its parts (compound_parts).  `lang` is what the index records
    (whoosh_schema.stem_language), so that an index of another analysis is rebuilt.
    """

    def __init__(self, minsize: int = 2) -> None:
        self.lang = LANGUAGES["both"]
        self.minsize = minsize

    def __call__(self, tokens: Iterator[Token]) -> Iterator[Token]:
        pos = 0
        for t in tokens:
            word = t.text
            if len(word) < self.minsize or is_stop_word(word):
                continue
            stems = list(bilingual_stems(word))
            for part in compound_parts(word):
                stems += bilingual_stems(part)
            for stem in dict.fromkeys(stems):
                t.text = stem
                if t.positions:
                    t.pos = pos
                yield t
            pos += 1


def is_stop_word(word: str) -> bool:
    """Return whether a (lower-case, folded) word is a stop word in English or in Norwegian."""
    return word in _stopwords("en") or word in _stopwords("no")


@cache
def wordlists() -> tuple[frozenset[str], frozenset[str]]:
    """Return the English and the Norwegian (bokmål) words of wordfreq's small lists (~27,000 each).

    The words of frequency 1e-6 and up in each language: loading them takes
    ~0.1 s and ~7 MiB per process (wordfreq's large lists: 0.8 s, 73 MiB).
    """
    from wordfreq import iter_wordlist

    return frozenset(iter_wordlist("en", "small")), frozenset(iter_wordlist("nb", "small"))


@lru_cache(maxsize=100_000)
def bilingual_stems(word: str) -> tuple[str, ...]:
    """Return a word's stems: English if it may be English, Norwegian if it may be Norwegian.

    A word that only one language's list knows is stemmed as that language
    only ("regning" is not English: its English stem "regn" would make it rain;
    "planes" is not Norwegian: its Norwegian stem "plan" would make it a plan);
    a word both or neither list knows gets both stems.  The Norwegian stem is
    the stemmer applied twice, so that "lederen" and "leder" both come out "led".
    """
    english_words, norwegian_words = wordlists()
    english, norwegian = word in english_words, word in norwegian_words
    stems = []
    if english or not norwegian:
        stems.append(_stem("en", word))
    if norwegian or not english:
        stems.append(_stem("no", _stem("no", word)))
    return tuple(dict.fromkeys(stems))


@lru_cache(maxsize=100_000)
def compound_parts(word: str) -> tuple[str, ...]:
    """Return the two parts of a Norwegian compound word, or [] if it is not one (or is a known word).

    Written as one word ("økonomirapporten" = økonomi + rapporten,
    "prosjektlederen" = prosjekt + lederen): the longest last part that is a
    Norwegian word, after a first part that is one too, or one with a joining
    s or e ("arbeidsmiljøet" = arbeid(s) + miljøet).
    """
    english_words, norwegian_words = wordlists()
    if len(word) < 2 * MIN_PART + 1 or word in norwegian_words or word in english_words:
        return ()
    for split in range(MIN_PART, len(word) - MIN_PART + 1):
        modifier, head = word[:split], word[split:]
        if head not in norwegian_words:
            continue
        if modifier in norwegian_words:
            return (modifier, head)
        if modifier[-1] in "se" and len(modifier) > MIN_PART and modifier[:-1] in norwegian_words:
            return (modifier[:-1], head)
    return ()


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
        return base | BilingualStemFilter()
    code = LANGUAGES[language]
    return base | StopFilter(lang=code) | StemFilter(lang=code)


def analyzed_terms(text: str, language: str) -> list[str]:
    """Return the terms the index holds for this text: folded, no stop words, stemmed (both: all stems)."""
    return [token.text for token in text_analyzer(language)(text)]


def analyzed_positions(text: str, language: str) -> list[tuple[int, str]]:
    """Return the index's terms of this text with their positions (from 0; several terms share one)."""
    return [(t.pos, t.text) for t in text_analyzer(language)(text, positions=True)]


def query_positions(text: str, language: str) -> list[list[str]]:
    """Return a search text's terms, position by position, each as its alternatives; [] for only stop words.

    A search word matches a post word with any of its alternatives (the index
    holds every stem of a word at its position).  Compounds are not split in
    searches: the index holds the parts of a post's compounds besides the whole.
    """
    if check_language(language) != "both":
        return [[term] for term in analyzed_terms(text, language)]
    tokens = RegexTokenizer() | LowercaseFilter() | CharsetFilter(folding_map(language))
    return [
        list(bilingual_stems(t.text)) for t in tokens(text) if len(t.text) >= 2 and not is_stop_word(t.text)
    ]
