"""microblog.links: the API's absolute links are exactly url_for's, however they are built."""

from __future__ import annotations

import pytest
from flask import url_for

from microblog.links import link

CASES = [
    ("web.home", {}),
    ("web.post", {"post_id": 123456789012}),
    ("web.post", {"post_id": "42"}),
    ("web.profile", {"username": "alice"}),
    ("web.profile", {"username": "ola.nordmann_2-x"}),
    ("web.tag", {"name": "apollo"}),
    ("web.tag", {"name": "blåbær"}),  # quoted: url_for builds it
    ("web.tag", {"name": "a b/c?d#e"}),
    ("web.avatar", {"username": "alice", "v": "AL"}),
    ("web.avatar", {"username": "ærlig", "v": "ÆØ"}),
    ("web.media_file", {"key": "a" * 32, "name": "original.jpg"}),
    ("web.media_file", {"key": "b" * 32, "name": "small.png"}),
]


@pytest.mark.parametrize(("endpoint", "values"), CASES)
def test_a_link_is_url_for_s_absolute_url(app, endpoint, values):
    for base in ("http://localhost/", "https://microblog.example.internal/"):
        with app.test_request_context("/", base_url=base):
            assert link(endpoint, **values) == url_for(endpoint, _external=True, **values)
            assert link(endpoint, **values) == url_for(endpoint, _external=True, **values)  # once built
