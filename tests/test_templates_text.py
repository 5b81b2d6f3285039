"""Every word a template shows goes through a translation call (DESIGN.md "Language").

A template is read with Jinja2's lexer: its literal text (the "data" between {{ }}, {% %} and
{# #}) is put back together with a mark where each expression or statement stood, and read
with html.parser, so that text and the attributes people read (title, placeholder,
aria-label, alt, data-confirm, a submit input's value) are found even where an expression
splits them.  Whatever letters remain there are English nobody can translate.  Strings in
expressions are checked too: a sentence written as a string constant outside _() / ngettext()
(a macro argument, a {% set %} value) is shown untranslated just the same.
"""

from __future__ import annotations

import re
from html.parser import HTMLParser
from pathlib import Path

import pytest
from jinja2 import Environment, nodes

ROOT = Path(__file__).resolve().parent.parent
TEMPLATES = ROOT / "templates"

# Words that are not language, so stay as they are in every language.
ALLOWED_WORDS = {
    "microblog",  # the product's name, in the page title and the header
    "apollo",  # the example project's tag in the tag box's placeholder (#apollo), a name
}
# Attributes whose value people read (or hear, from a screen reader).
READ_ATTRIBUTES = {"title", "placeholder", "aria-label", "alt", "data-confirm"}
# Elements whose content is code, data or a key cap, not language (a curl command, search syntax, Ctrl).
CODE_ELEMENTS = {"code", "kbd", "script", "style"}
# The functions that translate; their arguments are msgids and values, not shown as they are.
TRANSLATING = {"_", "gettext", "ngettext", "pgettext", "npgettext"}

# Blocks that base.html puts inside an attribute (class="{% block main_class %}"): a CSS class, not text.
ATTRIBUTE_BLOCK = re.compile(r"{%-?\s*block\s+main_class\s*-?%}.*?{%-?\s*endblock\b[^%]*%}", re.DOTALL)

MARK = " \ue000 "  # where an expression or statement stood: no letters, splits words
_STARTS = {"variable_begin", "block_begin", "linestatement_begin"}
_ENDS = {"variable_end", "block_end", "linestatement_end"}


def _letters(text: str) -> list[str]:
    """Return the words with letters in text that are not on the allow-list."""
    words = re.findall(r"[^\W\d_]+", text.replace(MARK.strip(), " "))
    return [w for w in words if w.lower() not in ALLOWED_WORDS]


def _literal_html(source: str, env: Environment) -> str:
    """Return the template's literal text, with MARK where each {{ }} / {% %} stood ({# #} dropped)."""
    out: list[str] = []
    inside = False
    for _lineno, kind, value in env.lex(source):
        if kind in _STARTS:
            out.append(MARK)
            inside = True
        elif kind in _ENDS:
            inside = False
        elif kind == "data" and not inside:
            out.append(value)
    return "".join(out)


class _Reader(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)  # &nbsp; &middot; &lt; ... become characters
        self.found: list[str] = []
        self._code = 0

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in CODE_ELEMENTS:
            self._code += 1
        named = {name.replace(MARK.strip(), "").strip(): value or "" for name, value in attrs}
        shown = [name for name in READ_ATTRIBUTES if name in named]
        if tag == "input" and named.get("type") in ("submit", "button", "reset"):
            shown.append("value")
        for name in shown:
            words = _letters(named[name])
            if words:
                self.found.append(f'<{tag} {name}="{named[name].replace(MARK, "{{…}}")}">')

    def handle_endtag(self, tag: str) -> None:
        if tag in CODE_ELEMENTS and self._code:
            self._code -= 1

    def handle_data(self, data: str) -> None:
        if not self._code and _letters(data):
            self.found.append(" ".join(data.replace(MARK, " {{…}} ").split()))


def _untranslated_constants(source: str, env: Environment) -> list[str]:
    """Return string constants that read as words outside a translation call.

    Words: letters, a space, letters ("Reply to @"), or a capitalized word ("Unlike").  A single
    lower-case word stays unseen: it is as often a value ('leave', 'secondary', 'web.home').
    """
    found: list[str] = []

    def walk(node: nodes.Node) -> None:
        if (
            isinstance(node, nodes.Call)
            and isinstance(node.node, nodes.Name)
            and node.node.name in TRANSLATING
        ):
            return
        if isinstance(node, nodes.Const) and isinstance(node.value, str):
            reads = re.search(r"[^\W\d_]\s+[^\W\d_]", node.value) or re.match(r"[A-Z][a-z]", node.value)
            if reads and _letters(node.value):
                found.append(repr(node.value))
        for child in node.iter_child_nodes():
            walk(child)

    walk(env.parse(source))
    return found


def untranslated_text(source: str) -> list[str]:
    """Return what a template shows in English outside a translation call (empty: all translatable)."""
    env = Environment(extensions=["jinja2.ext.i18n"])
    reader = _Reader()
    reader.feed(_literal_html(ATTRIBUTE_BLOCK.sub("", source), env))
    reader.close()
    return reader.found + _untranslated_constants(source, env)


TEMPLATE_FILES = sorted(TEMPLATES.rglob("*.html"))


def test_the_templates_are_found():
    assert len(TEMPLATE_FILES) > 20 and TEMPLATES / "base.html" in TEMPLATE_FILES


@pytest.mark.parametrize("path", TEMPLATE_FILES, ids=lambda p: str(p.relative_to(TEMPLATES)))
def test_a_template_shows_no_text_outside_a_translation_call(path: Path):
    assert untranslated_text(path.read_text(encoding="utf-8")) == []


@pytest.mark.parametrize(
    ("source", "reported"),
    [
        ("<p>Hello</p>", "Hello"),
        ('<input placeholder="Search">', 'placeholder="Search"'),
        ('<button title="Delete {{ name }}">x</button>', 'title="Delete {{…}}"'),
        (
            '<a href="{{ url }}"{% if x %} aria-label="Main"{% endif %}>{{ _("Home") }}</a>',
            'aria-label="Main"',
        ),
        ('<form data-confirm="Delete this post?">', "data-confirm"),
        ('<img alt="Logo" src="{{ src }}">', 'alt="Logo"'),
        ('<input type="submit" value="Save">', 'value="Save"'),
        ("<p>{{ n }} follower{{ '' if n == 1 else 's' }}</p>", "follower"),
        ("<li>&nbsp;No one here.</li>", "No one here."),
        ("{{ render_feed(page, user.name ~ ' has not posted yet.') }}", "has not posted yet"),
        ("{% set confirm = 'Take rights from ' ~ name %}", "Take rights from"),
        ("<button>{{ 'Unfollow' if follows else 'Follow' }}</button>", "Unfollow"),
    ],
)
def test_the_checker_reports_english_outside_a_translation_call(source: str, reported: str):
    found = untranslated_text(source)
    assert any(reported in item for item in found), found


@pytest.mark.parametrize(
    "source",
    [
        '<p>{{ _("Hello") }}</p>',
        '<input placeholder="{{ _(\'Search\') }}" value="{{ q }}" type="search">',
        "<p>{{ ngettext('%(num)s like', '%(num)s likes', n) }} &middot; 42 · ↳ ♥ ♡ @{{ u }} #{{ t }}</p>",
        "<title>{{ title }} · microblog</title>{# A comment about English #}",
        '<button type="submit" name="decision" value="approve">{{ _("Authorize") }}</button>',
        "<p><code>from:kari.nordmann after:2026-11-01</code></p>",
        '<a href="{{ url_for(\'web.profile\', username=u.username) }}" class="button secondary">←</a>',
    ],
)
def test_the_checker_lets_translated_text_symbols_code_and_markup_pass(source: str):
    assert untranslated_text(source) == []
