"""API responses are encoded by orjson (microblog.inputs.JSONProvider) as Flask's own encoder would read."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from decimal import Decimal

from flask import jsonify
from flask_babel import lazy_gettext
from werkzeug.http import http_date


def test_values_orjson_does_not_know_are_encoded_as_flask_encodes_them(app):
    when = datetime(2026, 12, 7, 9, 30, tzinfo=UTC)
    with app.test_request_context():
        response = jsonify(
            {"when": when, "price": Decimal("1.50"), "label": lazy_gettext("Home"), 7: "seven"}
        )
    assert response.mimetype == "application/json"
    assert json.loads(response.data) == {
        "when": http_date(when),
        "price": "1.50",
        "label": "Home",
        "7": "seven",
    }


def test_an_integer_beyond_64_bits_falls_back_to_flask_s_encoder(app):
    with app.test_request_context():
        response = jsonify({"id": 2**70, "list": [1, 2]})
    assert json.loads(response.data) == {"id": 2**70, "list": [1, 2]}


def test_text_is_utf_8_and_keys_keep_their_order(app):
    with app.test_request_context():
        response = jsonify({"zebra": "Ærlig talt, blåbærsyltetøy", "alpha": 1})
    assert response.data.decode("utf-8") == '{"zebra":"Ærlig talt, blåbærsyltetøy","alpha":1}'


def test_an_api_page_is_the_json_of_its_entities(app, client, alice):
    from microblog import entities
    from microblog.services import timelines
    from tests.factories import make_post, make_token

    post = make_post(alice, "Nytt bygg: flytting på fredag #kontor")
    response = client.get("/api/v1/timelines/home", headers=make_token(alice))
    view = timelines.post_view(post.id, alice)
    assert view is not None
    with app.test_request_context(base_url="http://localhost/"):
        expected = json.loads(json.dumps([entities.status(view)], default=str))
    assert response.status_code == 200
    assert response.json == expected
