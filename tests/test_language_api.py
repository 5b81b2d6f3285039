"""Error messages in the reader's language: API clients by Accept-Language, pages by the person's
choice, the CLI in English; and the scripts' strings from the catalog the page embeds."""

from __future__ import annotations

import json
import re
import subprocess
import sys

import pytest
from babel.messages.pofile import read_po
from flask_babel import gettext

from microblog import language
from microblog.database import db
from microblog.services import accounts, communities
from microblog.services.errors import NotFound
from models import User

from .factories import login, make_community, make_post, make_token
from .test_language import ROOT

NB = {"Accept-Language": "nb-NO,nb;q=0.9"}


def _error(response, status: int) -> str:
    assert response.status_code == status, response.get_data(as_text=True)
    return response.get_json()["error"]


def test_api_errors_speak_the_client_s_language(client, alice, bob):
    headers = make_token(alice)
    missing = "/api/v1/statuses/999999"
    assert _error(client.get(missing, headers=headers), 404) == "That post does not exist or was deleted."
    assert _error(client.get(missing, headers=headers | NB), 404) == "Innlegget finnes ikke eller er slettet."
    for header in ("no", "nn-NO,nn;q=0.9"):  # Norwegian, or nynorsk: bokmål
        nb = client.get(missing, headers=headers | {"Accept-Language": header})
        assert _error(nb, 404) == "Innlegget finnes ikke eller er slettet."

    long = {"status": "x" * 150}
    assert _error(client.post("/api/v1/statuses", json=long, headers=headers), 422) == (
        "Posts are at most 140 characters; this one has 150."
    )
    assert _error(client.post("/api/v1/statuses", json=long, headers=headers | NB), 422) == (
        "Innlegg kan ha høyst 140 tegn; dette har 150."
    )

    post = make_post(bob, "Bob's")
    read_only = make_token(alice, "read")
    refused = client.post(f"/api/v1/statuses/{post.id}/favourite", headers=read_only | NB)
    assert _error(refused, 403) == "Denne handlingen er utenfor tilgangene som er gitt"
    english = client.post(f"/api/v1/statuses/{post.id}/favourite", headers=read_only)
    assert _error(english, 403) == "This action is outside the authorized scopes"


def test_the_api_ignores_the_person_s_web_setting(client, alice):
    accounts.update_preferences(alice, locale="nb", timezone="")
    headers = make_token(alice)
    missing = "/api/v1/accounts/lookup?acct=nobody"
    assert _error(client.get(missing, headers=headers | {"Accept-Language": "en"}), 404) == (
        "There is no one called @nobody here."
    )
    assert _error(client.get(missing, headers=headers), 404) == "There is no one called @nobody here."
    assert _error(client.get(missing, headers=headers | NB), 404) == "Det finnes ingen som heter @nobody her."
    # The same person's pages follow the setting, whatever the browser says.
    login(client, "alice")
    page = client.get("/@nobody", headers={"Accept-Language": "en"})
    assert page.status_code == 404 and "Det finnes ingen som heter @nobody her." in page.get_data(
        as_text=True
    )


@pytest.mark.settings(DEFAULT_LOCALE="nb")
def test_without_accept_language_the_api_speaks_the_installation_s_default(client, alice):
    missing = client.get("/api/v1/statuses/999999", headers=make_token(alice))
    assert _error(missing, 404) == "Innlegget finnes ikke eller er slettet."
    english = client.get("/api/v1/statuses/999999", headers=make_token(alice) | {"Accept-Language": "en"})
    assert _error(english, 404) == "That post does not exist or was deleted."


def test_http_errors_and_oauth_descriptions_are_translated_but_codes_are_not(client):
    assert _error(client.get("/api/v1/nothing-here", headers=NB), 404).startswith("Det er ingenting her.")
    assert _error(client.get("/api/v1/nothing-here"), 404).startswith("There is nothing here.")
    revoke = client.post(
        "/oauth/revoke", data={"client_id": "nope", "client_secret": "x", "token": "t"}, headers=NB
    )
    assert revoke.status_code == 401
    assert revoke.get_json() == {
        "error": "invalid_client",  # a machine code: never translated
        "error_description": "Autentiseringen av klienten mislyktes.",
    }


def test_a_service_error_on_a_page_reads_norwegian_for_a_norwegian_reader(client, alice):
    login(client, "alice")
    accounts.update_preferences(alice, locale="nb", timezone="")
    response = client.post("/posts", data={"text": "x" * 150, "next": "/"})
    assert response.status_code == 422
    assert "Innlegg kan ha høyst 140 tegn; dette har 150." in response.get_data(as_text=True)
    accounts.update_preferences(db.session.get_one(User, alice.id), locale="en", timezone="")
    english = client.post("/posts", data={"text": "x" * 150, "next": "/"}).get_data(as_text=True)
    assert "Posts are at most 140 characters; this one has 150." in english


def test_an_error_page_from_a_service_reads_norwegian(client, alice):
    login(client, "alice")
    accounts.update_preferences(alice, locale="nb", timezone="")
    make_community(alice, "apollo", private=True)
    response = client.post("/@alice/follow")
    assert response.status_code == 422
    assert "Du ser alltid dine egne innlegg; du trenger ikke følge deg selv." in response.get_data(
        as_text=True
    )


def test_a_message_read_between_requests_does_not_set_the_next_requests_language(client, alice):
    # The test's own app context is shared with its requests (conftest): a message the test reads
    # (a factory's service, a module imported late) is in the default locale, which Flask-Babel
    # caches in `g`; the next request must still choose its reader's locale.
    login(client, "alice")
    accounts.update_preferences(alice, locale="nb", timezone="")
    assert gettext("Give the community a name.") == "Give the community a name."
    response = client.post("/@alice/follow")
    assert response.status_code == 422
    assert "Du ser alltid dine egne innlegg" in response.get_data(as_text=True)


def test_gettext_outside_a_request_or_app_gives_english():
    # Services raise from CLI commands and background work too: no request, maybe no app.
    assert gettext("There is no community called @%(handle)s here.", handle="x") == (
        "There is no community called @x here."
    )


def test_a_service_error_outside_a_request_is_english(app):
    with app.app_context():
        with pytest.raises(NotFound) as info:
            communities.access_community("nowhere")
    assert info.value.message == "There is no community called @nowhere here."


def test_a_cli_command_that_hits_a_service_error_prints_english_and_fails(app, alice):
    result = app.test_cli_runner().invoke(args=["communities", "add", "nowhere", "alice"])
    assert result.exit_code == 1
    assert "Error: There is no community called @nowhere here." in result.output
    assert "Traceback" not in result.output


# The scripts' strings


def test_the_script_messages_are_read_from_the_scripts_once():
    found = language.script_messages()
    for msgid in (
        "%(num)s new post",
        "%(num)s character left",
        "The post contains control characters",
        "Like",
    ):
        assert msgid in found
    assert language.script_messages() is found  # computed once per process


def test_make_translations_extract_finds_the_script_strings(tmp_path):
    pot = tmp_path / "messages.pot"
    subprocess.run(
        [sys.executable, "-m", "babel.messages.frontend", "extract", "-F", "babel.cfg", "-o", str(pot), "."],
        cwd=ROOT,
        check=True,
        capture_output=True,
    )
    with pot.open("rb") as source:
        extracted = {m.id: m for m in read_po(source) if m.id}
    assert ("%(num)s new post", "%(num)s new posts") in extracted
    assert ("%(action)s (%(num)s like)", "%(action)s (%(num)s likes)") in extracted
    assert any(
        "static/js/site.js" in path for path, _ in extracted["The post contains control characters"].locations
    )


def _embedded(page: str) -> dict:
    (block,) = re.findall(r'<script type="application/json" id="js-catalog">(.*?)</script>', page, re.S)
    return json.loads(block)


def test_pages_embed_exactly_the_script_translations_of_the_reader_s_language(client, alice):
    login(client, "alice")
    norwegian = _embedded(client.get("/", headers=NB).get_data(as_text=True))
    assert norwegian["%(num)s new post"] == ["%(num)s nytt innlegg", "%(num)s nye innlegg"]
    assert norwegian["The post contains control characters"] == "Innlegget inneholder kontrolltegn"
    assert set(norwegian) == set(language.script_messages())  # every one translated, nothing else
    assert _embedded(client.get("/", headers={"Accept-Language": "en"}).get_data(as_text=True)) == {}


def test_the_embedded_catalog_cannot_end_its_script_element(client, alice, monkeypatch):
    hostile = {"x": "</script><script>alert(1)</script>"}
    monkeypatch.setattr(language, "script_catalog", lambda locale: hostile)
    page = client.get("/login").get_data(as_text=True)
    assert "<script>alert(1)" not in page
    assert _embedded(page) == hostile


def test_an_error_page_that_cannot_be_made_falls_back_to_plain_english(config, monkeypatch):
    from microblog import create_app, errors

    app = create_app(config)

    @app.route("/boom")
    def boom():
        raise RuntimeError("a bug")

    def broken(*args, **kwargs):
        raise RuntimeError("the database is down: no person, no language, no page")

    monkeypatch.setattr(errors, "render_template", broken)
    response = app.test_client().get("/boom", headers={"Accept-Language": "nb"})
    assert response.status_code == 500 and response.mimetype == "text/plain"
    assert response.get_data(as_text=True) == "Something went wrong on our side. It has been logged."
