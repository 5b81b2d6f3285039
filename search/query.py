"""Parse what people type into the search box into a structured query, whatever they type.

    apollo "release notes" #apollo from:kari @ola before:2026-11-01 after:2026-10-01 -draft is:question

Words and "phrases" are matched against post text (by the backend's analyzer);
`#tag`, `from:username`, `@username` (mentions), the dates and `is:question` /
`is:unanswered` (questions; those without an accepted answer) filter; `-word`,
`-"a phrase"` and `-is:question` exclude.  Nothing here raises: unbalanced
quotes close at the end, operators without a value are dropped with a note,
and very long input is cut.  Both backends and the Mastodon-compatible /api/v2/search use this parser.
"""

from __future__ import annotations

import unicodedata
from dataclasses import dataclass, field
from datetime import date

import regex
from flask_babel import gettext

from microblog.text import USERNAME_RE, normalize_tag

MAX_QUERY_LENGTH = 500
MAX_TERMS = 32

_TOKEN = regex.compile(r'(-?)"([^"]*)(?:"|$)|(\S+)')
_CONTROL = regex.compile(r"\p{C}")

# What `is:` asks of a post: that it is a question, or a question no answer was accepted for yet.
QUESTION = "question"
UNANSWERED = "unanswered"
FLAGS = (QUESTION, UNANSWERED)


@dataclass(frozen=True)
class SearchQuery:
    """A parsed search; empty tuples mean no such condition."""

    words: tuple[str, ...] = ()
    phrases: tuple[str, ...] = ()
    excluded: tuple[str, ...] = ()
    tags: tuple[str, ...] = ()
    authors: tuple[str, ...] = ()
    mentions: tuple[str, ...] = ()
    flags: tuple[str, ...] = ()  # is:<flag>, each one of FLAGS
    excluded_flags: tuple[str, ...] = ()  # -is:<flag>
    after: date | None = None
    before: date | None = None
    newest_first: bool = False
    notes: tuple[str, ...] = field(default=(), compare=False)

    @property
    def is_empty(self) -> bool:
        """Return whether there is nothing to search for (only exclusions, or nothing)."""
        return not (self.words or self.phrases or self.tags or self.authors or self.mentions or self.flags)


def _date(value: str) -> date | None:
    try:
        return date.fromisoformat(value)
    except ValueError:
        return None


def parse_query(raw: str | None, *, newest_first: bool = False) -> SearchQuery:
    """Parse a search string into a SearchQuery; never raises."""
    text = unicodedata.normalize("NFC", _CONTROL.sub(" ", raw or ""))
    notes: list[str] = []
    if len(text) > MAX_QUERY_LENGTH:
        text = text[:MAX_QUERY_LENGTH]
        notes.append(gettext("Only the first %(num)s characters were searched.", num=MAX_QUERY_LENGTH))
    found: dict[str, list[str]] = {
        k: []
        for k in ("words", "phrases", "excluded", "tags", "authors", "mentions", "flags", "excluded_flags")
    }
    dates: dict[str, date] = {}
    terms = 0
    for match in _TOKEN.finditer(text):
        if terms >= MAX_TERMS:
            notes.append(f"Only the first {MAX_TERMS} terms were searched.")
            break
        terms += 1
        negated, phrase, token = match.group(1), match.group(2), match.group(3)
        if phrase is not None:
            phrase = " ".join(phrase.split())
            if phrase:
                found["excluded" if negated else "phrases"].append(phrase)
            continue
        _token(token, found, dates, notes)
    return SearchQuery(
        **{key: tuple(dict.fromkeys(values)) for key, values in found.items()},
        after=dates.get("after"),
        before=dates.get("before"),
        newest_first=newest_first,
        notes=tuple(dict.fromkeys(notes)),
    )


def _token(token: str, found: dict[str, list[str]], dates: dict[str, date], notes: list[str]) -> None:
    lowered = token.lower()
    for operator in ("from:", "before:", "after:"):
        if lowered.startswith(operator):
            value = token[len(operator) :].strip()
            if operator == "from:":
                name = value.lstrip("@").lower()
                if USERNAME_RE.fullmatch(name):
                    found["authors"].append(name)
                else:
                    notes.append(f"“{token}” needs a username, like from:kari.nordmann.")
            else:
                day = _date(value)
                if day is None:
                    notes.append(f"“{token}” needs a date, like {operator}2026-11-01.")
                else:
                    dates[operator[:-1]] = day
            return
    flag = lowered.split(":", 1)[1].rstrip(".,;:!?") if lowered.startswith(("is:", "-is:")) else ""
    if flag:  # ("is:" alone is prose)
        _flag(token, flag, found, notes)
        return
    if token.startswith("#"):
        tag = normalize_tag(token)
        if tag:
            found["tags"].append(tag)
        return
    if token.startswith("@"):
        name = token[1:].rstrip(".,;:!?").lower()
        if USERNAME_RE.fullmatch(name):
            found["mentions"].append(name)
        return
    if token.startswith("-"):
        word = token[1:].strip()
        if word:
            found["excluded"].append(word)
        return
    word = token.strip(".,;:!?()[]{}'\"")
    if word and any(ch.isalnum() for ch in word):
        found["words"].append(word)


def _flag(token: str, flag: str, found: dict[str, list[str]], notes: list[str]) -> None:
    """Add the flag of `is:<flag>` or `-is:<flag>`; an unknown one is dropped with a note."""
    if flag in FLAGS:
        found["excluded_flags" if token.startswith("-") else "flags"].append(flag)
    else:
        notes.append(
            gettext("“%(token)s” was left out: search knows is:question and is:unanswered.", token=token)
        )
