"""What the composer offers after an @ or a #: accounts and tags the writer may see, by prefix.

Reading only.  The matching is search's (search.complete_people, search.search_tags);
what the writer may be shown is services.visibility's: a private community only to
its members, a tag used only in a private community's posts only to its members,
deactivated accounts to no one.
"""

from __future__ import annotations

import unicodedata

import regex
from flask_babel import gettext as _

import search
from models import User

from .errors import ValidationError
from .visibility import account_is_listable, search_reader

SUGGESTION_LIMIT = 8
MAX_PREFIX = 100  # a tag's longest name (text._TAG_MAX); usernames are shorter

# What may follow the @ or # as it is being typed: the characters of a username or a tag.
_MENTION_PREFIX = regex.compile(r"[A-Za-z0-9_.-]*")
_TAG_PREFIX = regex.compile(r"[\p{L}\p{N}_-]*")


def check_prefix(raw: str | None, sigil: str) -> str:
    """Return the typed prefix without its @ or #, or raise ValidationError if it is too long."""
    prefix = (raw or "").strip().removeprefix(sigil)
    if len(prefix) > MAX_PREFIX:
        raise ValidationError(
            _("A prefix to complete is at most %(max)s characters.", max=MAX_PREFIX), field="q"
        )
    return prefix


def mention_suggestions(viewer: User, raw: str | None, limit: int = SUGGESTION_LIMIT) -> list[User]:
    """Return the accounts the viewer may mention whose username or name starts with the typed prefix."""
    prefix = check_prefix(raw, "@")
    if not prefix or not _MENTION_PREFIX.fullmatch(prefix):
        return []
    return search.complete_people(prefix, account_is_listable(viewer.id), limit=limit)


def tag_suggestions(viewer: User, raw: str | None, limit: int = SUGGESTION_LIMIT) -> list[str]:
    """Return the names of tags on posts the viewer may see that start with the typed prefix."""
    prefix = unicodedata.normalize("NFC", check_prefix(raw, "#")).lower()  # as tags are stored
    if not prefix or not _TAG_PREFIX.fullmatch(prefix):
        return []
    return search.search_tags(search.SearchQuery(tags=(prefix,)), search_reader(viewer), limit=limit)
