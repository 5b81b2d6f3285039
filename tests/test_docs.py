"""The Markdown files of the repository: every code fence closes, every relative link leads somewhere."""

from __future__ import annotations

import re
import subprocess
from pathlib import Path
from urllib.parse import unquote, urlsplit

import pytest
from markdown_it import MarkdownIt
from markdown_it.token import Token

ROOT = Path(__file__).resolve().parent.parent

# What may stand before a fence marker on its line: indentation and blockquote markers.
_CONTAINER_PREFIX = re.compile(r"^[ \t>]*")


def markdown_files() -> list[Path]:
    """Return README.md, docs/*.md and every other tracked *.md file."""
    found = {ROOT / "README.md", *(ROOT / "docs").glob("*.md")}
    listed = subprocess.run(
        ["git", "ls-files", "-z", "--", "*.md"], cwd=ROOT, capture_output=True, text=True, check=False
    )
    if listed.returncode == 0:
        found |= {ROOT / name for name in listed.stdout.split("\0") if name}
    else:  # not a git checkout (an unpacked archive): every *.md outside hidden directories
        hidden = [p for p in ROOT.rglob("*.md") if any(part[0] == "." for part in p.relative_to(ROOT).parts)]
        found |= set(ROOT.rglob("*.md")) - set(hidden)
    return sorted(p for p in found if p.is_file())


def _tokens(tokens: list[Token]):
    for token in tokens:
        yield token
        if token.children:
            yield from _tokens(token.children)


def _is_marker(line: str, char: str, length: int) -> bool:
    """Return whether a line (in its containers) is a fence marker of at least this length, alone."""
    rest = _CONTAINER_PREFIX.sub("", line).rstrip()
    return len(rest) >= length and rest == char * len(rest)


def fence_problems(text: str) -> list[str]:
    """Return the code fences that never close, or that close with text after the marker."""
    lines = text.splitlines()
    problems = []
    for token in MarkdownIt("commonmark").parse(text):
        if token.type != "fence" or token.map is None:
            continue
        start, end = token.map
        char, length = token.markup[0], len(token.markup)
        for offset, line in enumerate(token.content.splitlines(), start=start + 2):
            # A marker alone would have closed the fence: this one has text after it.
            if line.lstrip(" ").startswith(char * length):
                problems.append(f"line {offset}: a closing fence followed by text: {line.strip()!r}")
        if end - 1 <= start or not _is_marker(lines[end - 1], char, length):
            problems.append(f"line {start + 1}: the code fence {token.markup}{token.info} never closes")
    return problems


def slug(heading: str) -> str:
    """Return a heading's anchor as GitHub makes it: lower case, punctuation dropped, spaces to hyphens."""
    return re.sub(r"[^\w\- ]", "", heading.strip().lower()).replace(" ", "-")


def anchors(text: str) -> set[str]:
    """Return the anchors of a document's headings."""
    tokens = MarkdownIt("commonmark").parse(text)
    return {slug(tokens[i + 1].content) for i, t in enumerate(tokens) if t.type == "heading_open"}


def link_problems(path: Path, text: str) -> list[str]:
    """Return relative links and images that lead to no file (or to no heading of a Markdown file)."""
    problems = []
    for token in _tokens(MarkdownIt("commonmark").parse(text)):
        target = token.attrGet("href") if token.type == "link_open" else None
        if token.type == "image":
            target = token.attrGet("src")
        if not isinstance(target, str):
            continue
        url = urlsplit(target)
        if url.scheme or url.netloc or url.path.startswith("/"):
            continue  # another site, or a path on the running site
        file = (path.parent / unquote(url.path)).resolve()
        if url.path and not file.exists():
            problems.append(f"{target}: {file} does not exist")
            continue
        if url.fragment and (not url.path or file.suffix == ".md"):
            document = file if url.path else path
            if unquote(url.fragment) not in anchors(file.read_text() if url.path else text):
                problems.append(f"{target}: {document.name} has no heading #{url.fragment}")
    return problems


@pytest.mark.parametrize("path", markdown_files(), ids=lambda p: str(p.relative_to(ROOT)))
def test_every_code_fence_closes(path: Path):
    assert fence_problems(path.read_text()) == []


@pytest.mark.parametrize("path", markdown_files(), ids=lambda p: str(p.relative_to(ROOT)))
def test_every_relative_link_leads_to_a_file(path: Path):
    assert link_problems(path, path.read_text()) == []


def test_the_documentation_is_checked():
    names = {str(p.relative_to(ROOT)) for p in markdown_files()}
    docs = {"docs/using.md", "docs/api.md", "docs/operations.md", "docs/architecture.md"}
    assert {"README.md", *docs} <= names


# The checks themselves, on documents that are broken in the ways they look for.


def test_a_fence_closed_with_text_after_the_marker_is_found():
    text = "# Setup\n\n```nginx\nserver {}\n``` Then reload.\n\n**7. Check it.**\n\n```sh\ncurl x\n```\n"
    problems = fence_problems(text)
    assert any("line 5: a closing fence followed by text" in p for p in problems)
    assert any("line 9: a closing fence followed by text: '```sh'" in p for p in problems)


def test_a_fence_left_open_is_found_at_the_end_and_in_a_list_item():
    assert fence_problems("text\n\n```sh\nmake run\n") == ["line 3: the code fence ```sh never closes"]
    assert fence_problems("```\n") == ["line 1: the code fence ``` never closes"]
    assert fence_problems("- one\n\n  ```sh\n  make run\n- two\n") == [
        "line 3: the code fence ```sh never closes"
    ]
    assert fence_problems("> ```\n> quoted\n\nafter\n") == ["line 1: the code fence ``` never closes"]


def test_closed_fences_pass():
    text = "```sh\nmake run\n```\n\n- item\n\n  ~~~~\n  ~~~ inside a longer fence\n  ~~~~\n"
    text += "\n> ```\n> quoted\n> ```\n"
    assert fence_problems(text) == []


def test_a_link_or_image_to_a_missing_file_or_heading_is_found(tmp_path: Path):
    (tmp_path / "docs").mkdir()
    (tmp_path / "docs" / "there.md").write_text("# There\n\n## One box: `make run`\n")
    page = tmp_path / "README.md"
    text = (
        "[ok](docs/there.md) [ok](docs/there.md#one-box-make-run) [ok](#top) [web](https://example.com)"
        " [site](/healthz) [gone](docs/gone.md) ![img](docs/gone.png) [bad](docs/there.md#nowhere)\n\n# Top\n"
    )
    problems = link_problems(page, text)
    assert [p.split(":")[0] for p in problems] == ["docs/gone.md", "docs/gone.png", "docs/there.md#nowhere"]
