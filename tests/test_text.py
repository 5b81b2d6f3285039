"""The post rule and rendering (microblog.text)."""

import pytest

from microblog.services.errors import ValidationError
from microblog.services.validation import check_post_text
from microblog.text import (
    extract_mentions,
    extract_tags,
    normalize_tag,
    post_length,
    render_html,
)

from .vectors import post_length_cases

CASES = post_length_cases()


def test_vectors_file_is_there_and_covers_the_rule():
    names = {c["name"] for c in CASES}
    assert {"exactly-140", "over-by-one", "emoji-zwj-family", "long-url-counts-23", "nul-byte"} <= names


@pytest.mark.parametrize("case", CASES, ids=[c["name"] for c in CASES])
def test_post_rule_matches_shared_vectors(case):
    if case["length"] is not None:
        assert post_length(case["text"]) == case["length"]
    if case["valid"]:
        assert check_post_text(case["text"])
    else:
        with pytest.raises(ValidationError):
            check_post_text(case["text"])


def test_check_post_text_normalizes_nfc_and_line_ends():
    assert check_post_text("Cafe\u0301\r\nok  ") == "Caf\u00e9\nok"


@pytest.mark.parametrize(
    "text, message",
    [
        ("", "empty"),
        ("  \n ", "empty"),
        ("\u200b", "empty"),
        ("\ufeff \u2060", "empty"),
        ("a" * 141, "140"),
        ("bad\x1bchar", "control"),
        ("cr\ronly", "control"),
    ],
)
def test_refusals_say_why(text, message):
    with pytest.raises(ValidationError) as info:
        check_post_text(text)
    assert message in info.value.message


def test_extract_tags_lowercases_dedupes_and_skips_urls_and_numbers():
    text = "#Apollo ship #apollo-web #APOLLO #blåbær #1 https://x.example/#frag mail#x #trailing-"
    assert extract_tags(text) == ["apollo", "apollo-web", "blåbær", "trailing"]


def test_normalize_tag():
    assert normalize_tag("#Økonomi") == "økonomi"
    assert normalize_tag("123") is None
    assert normalize_tag("bad tag") is None
    assert normalize_tag("x" * 101) is None


def test_extract_mentions_ignores_emails_and_trailing_dots():
    assert extract_mentions("@Kari.Nordmann. thanks, cc @ola_h and kari@example.com @ola_h") == [
        "kari.nordmann",
        "ola_h",
    ]


def test_render_escapes_everything_a_user_types():
    html = render_html('<script>alert(1)</script> <img src=x onerror="y"> & "quotes"')
    assert "<script" not in html and "<img" not in html
    assert "&lt;script&gt;" in html and "&amp;" in html


def test_render_links_urls_tags_and_known_mentions_only():
    html = render_html(
        "Hi @kari.nordmann and @stranger, see https://wiki.example.com/a?b=1&c=2. #Apollo",
        {"kari.nordmann"},
    )
    assert '<a href="/@kari.nordmann" class="mention">@kari.nordmann</a>' in html
    assert "@stranger" in html and 'href="/@stranger"' not in html
    assert 'href="https://wiki.example.com/a?b=1&amp;c=2"' in html  # trailing '.' left out
    assert 'rel="nofollow noopener noreferrer"' in html
    assert '<a href="/tags/apollo" class="hashtag">#Apollo</a>' in html


def test_render_keeps_newlines_and_refuses_javascript_urls():
    html = render_html('line one\nline two javascript:alert(1) https://ok.example/"onmouseover=x')
    assert "line one<br>\nline two" in html
    assert 'href="javascript' not in html
    assert 'onmouseover=x"' not in html.split('href="')[1].split('"')[0]
