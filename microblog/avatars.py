"""Generated avatars: initials on a colour derived from the username (no outside service)."""

from __future__ import annotations

import hashlib
from html import escape

# Background colours with enough contrast for white text.
_PALETTE = (
    "#1f6feb",
    "#8250df",
    "#bf3989",
    "#cf222e",
    "#bc4c00",
    "#4d7c0f",
    "#0f766e",
    "#0369a1",
    "#6d28d9",
    "#9a3412",
    "#166534",
    "#1e40af",
)


def initials(name: str) -> str:
    """Return up to two initials of a name, upper-case."""
    words = [w for w in name.replace(".", " ").replace("_", " ").replace("-", " ").split() if w]
    letters = "".join(w[0] for w in words[:1] + words[1:][-1:]) if words else "?"
    return letters.upper()


def avatar_svg(username: str, name: str) -> str:
    """Return an SVG avatar for a user."""
    digest = hashlib.sha256(username.encode()).digest()
    colour = _PALETTE[digest[0] % len(_PALETTE)]
    text = escape(initials(name))
    return (
        '<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 64 64" width="64" height="64">'
        f'<rect width="64" height="64" rx="32" fill="{colour}"/>'
        '<text x="32" y="32" dy=".35em" text-anchor="middle" fill="#fff" '
        'font-family="system-ui,-apple-system,Segoe UI,Roboto,sans-serif" font-size="26" '
        f'font-weight="600">{text}</text></svg>'
    )
