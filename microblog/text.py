"""The post rule and the one function that turns post text into HTML.

The length rule is shared with the composer's counter (static/js/postlength.js)
and tested against ../shared/vectors/post_length.json on both sides:
grapheme clusters of the NFC-normalized text, every http(s) URL counting 23.
"""

from __future__ import annotations

import html
import ipaddress
import unicodedata
from collections.abc import Collection
from urllib.parse import urlsplit

import regex
from bleach.linkifier import Linker

from models.base import MAX_ID

MAX_POST_LENGTH = 140
URL_LENGTH = 23

# The counting rule: a URL is the scheme up to the next whitespace (same as the JS counter).
_COUNTED_URL = regex.compile(r"https?://\S+", regex.IGNORECASE)
_GRAPHEME = regex.compile(r"\X")
_FORBIDDEN_CONTROL = regex.compile(r"[^\P{Cc}\t\n]")
# Nothing visible: white space and format characters (zero-width space, BOM ...) only.
_BLANK = regex.compile(r"[\p{White_Space}\p{Cf}]*")

# Control characters, and the bidirectional overrides that can make a name read as another's.
UNPRINTABLE = regex.compile(r"[\p{Cc}\u202A-\u202E\u2066-\u2069]")
_ID_DIGITS = len(str(MAX_ID))

USERNAME_RE = regex.compile(r"[a-z0-9_](?:[a-z0-9_.-]{0,28}[a-z0-9_])?")
_MENTION = regex.compile(r"(?<![\p{L}\p{N}_.@/-])@([A-Za-z0-9_](?:[A-Za-z0-9_.-]*[A-Za-z0-9_])?)")
_TAG = regex.compile(r"(?<![\p{L}\p{N}_&/#-])#([\p{L}\p{N}_][\p{L}\p{N}_-]*)")
_TAG_MAX = 100


def parse_id(raw: object) -> int | None:
    """Return the id (or count) a path or parameter names, or None unless it is ASCII digits in range.

    int() would also take "+2", " 2", "2_0" and other scripts' digits ("２"), so one
    resource would answer to many names.
    """
    if isinstance(raw, int) and not isinstance(raw, bool):
        value = raw
    elif isinstance(raw, str) and 0 < len(raw) <= _ID_DIGITS and raw.isascii() and raw.isdigit():
        value = int(raw)
    else:
        return None
    return value if 0 <= value <= MAX_ID else None


def normalize_text(text: str) -> str:
    """Return text in the stored form: NFC, LF line ends, no trailing whitespace."""
    return unicodedata.normalize("NFC", text).replace("\r\n", "\n").rstrip()


_HOST_LABELS = regex.compile(r"[a-z0-9](?:[a-z0-9-]*[a-z0-9])?(?:\.[a-z0-9](?:[a-z0-9-]*[a-z0-9])?)*\.?")


def web_origin(value: str) -> str | None:
    """Return the origin (scheme://host[:port], host in ASCII) of an absolute http(s) URL, else None.

    Only such URLs from input are stored as links or put into a header: a host must be a
    DNS name (IDN in its ASCII form) or an IP address, so nothing else can ride along.
    """
    if not value or len(value) > 2000 or not value.isprintable() or any(c.isspace() for c in value):
        return None
    try:
        parts = urlsplit(value)
        port = parts.port
        host = parts.hostname or ""
        if parts.scheme.lower() not in ("http", "https") or not host:
            return None
        if parts.netloc.rpartition("@")[2].startswith("["):
            host = f"[{ipaddress.IPv6Address(host).compressed}]"
        else:
            host = host.encode("idna").decode("ascii").lower()
            if not _HOST_LABELS.fullmatch(host):
                return None
    except (ValueError, UnicodeError):  # a bad port, an unbalanced [, a label IDNA refuses
        return None
    return f"{parts.scheme.lower()}://{host}" + (f":{port}" if port is not None else "")


def is_web_url(value: str) -> bool:
    """Return whether value is an absolute http(s) URL with a proper host (the only links we render)."""
    return web_origin(value) is not None


def post_length(text: str) -> int:
    """Count text as the composer does: graphemes after NFC, each URL as 23."""
    text = unicodedata.normalize("NFC", text)
    length = 0
    start = 0
    for url in _COUNTED_URL.finditer(text):
        length += len(_GRAPHEME.findall(text[start : url.start()])) + URL_LENGTH
        start = url.end()
    return length + len(_GRAPHEME.findall(text[start:]))


def post_problem(text: str) -> str | None:
    """Return what breaks the post rule: "empty", "control" or "length"; None if the text may be posted.

    The messages people read live with the services (services.validation.check_post_text).
    """
    if not text or _BLANK.fullmatch(text):
        return "empty"
    if _FORBIDDEN_CONTROL.search(text.replace("\r\n", "\n")):
        return "control"
    if post_length(text) > MAX_POST_LENGTH:
        return "length"
    return None


def _url_spans(text: str) -> list[tuple[int, int]]:
    return [m.span() for m in _COUNTED_URL.finditer(text)]


def _outside(spans: list[tuple[int, int]], pos: int) -> bool:
    return not any(a <= pos < b for a, b in spans)


def extract_mentions(text: str) -> list[str]:
    """Return the lower-cased usernames @mentioned in text, in order, once each."""
    spans = _url_spans(text)
    names: dict[str, None] = {}
    for m in _MENTION.finditer(text):
        name = m.group(1).lower()
        if _outside(spans, m.start()) and USERNAME_RE.fullmatch(name):
            names[name] = None
    return list(names)


def normalize_tag(name: str) -> str | None:
    """Return a tag name in stored form (lower-case, no '#'), or None if it is not one."""
    name = unicodedata.normalize("NFC", name.lstrip("#")).strip().rstrip("-").lower()
    if not name or len(name) > _TAG_MAX or name.isdigit():
        return None
    if not regex.fullmatch(r"[\p{L}\p{N}_][\p{L}\p{N}_-]*", name):
        return None
    return name


def extract_tags(text: str) -> list[str]:
    """Return the tag names in text (lower-case, without '#'), in order, once each."""
    spans = _url_spans(text)
    names: dict[str, None] = {}
    for m in _TAG.finditer(text):
        name = normalize_tag(m.group(1))
        if name and _outside(spans, m.start()):
            names[name] = None
    return list(names)


# What the linkifier turns into links, matched against *escaped* text (hence the
# &lt; / &gt; / &quot; stops).  Paths mirror the web routes /@<name> and /tags/<name>.
_LINKABLE = regex.compile(
    r"(?P<url>https?://(?:(?!&(?:lt|gt|quot);)[^\s<>\"])+(?<![.,;:!?)\]'*]))"
    r"|(?<![\p{L}\p{N}_.@/-])(?P<mention>@[A-Za-z0-9_](?:[A-Za-z0-9_.-]*[A-Za-z0-9_])?)"
    r"|(?<![\p{L}\p{N}_&/#-])(?P<tag>#[\p{L}\p{N}_][\p{L}\p{N}_-]*)",
    regex.IGNORECASE,
)


def _link_attrs(known_users: Collection[str]):
    def callback(attrs: dict, new: bool = False) -> dict | None:
        text = attrs["_text"]
        if text.startswith("@"):
            name = text[1:].lower()
            if name not in known_users:
                return None  # not a colleague: leave the text as it is
            attrs[(None, "href")] = f"/@{name}"
            attrs[(None, "class")] = "mention"
        elif text.startswith("#"):
            name = normalize_tag(text)
            if name is None:
                return None
            attrs[(None, "href")] = f"/tags/{name}"
            attrs[(None, "class")] = "hashtag"
        else:
            attrs[(None, "rel")] = "nofollow noopener noreferrer"
            attrs[(None, "target")] = "_blank"
        return attrs

    return callback


def render_html(text: str, known_users: Collection[str] = ()) -> str:
    """Turn raw post text into safe HTML: escape, then linkify URLs, #tags and known @users."""
    escaped = html.escape(text, quote=False).replace("\n", "<br>\n")
    linker = Linker(url_re=_LINKABLE, callbacks=[_link_attrs(frozenset(known_users))], parse_email=False)
    return linker.linkify(escaped)
