"""The interface's language and time zone: catalogs, choosing them, and what each reader gets."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pytest
from babel.messages.pofile import read_po
from flask import g

from config import TestingConfig
from microblog import create_app, language
from microblog.database import db
from models import User

from .factories import login

ROOT = Path(__file__).resolve().parent.parent


def _catalog(locale: str):
    with (language.TRANSLATIONS / locale / "LC_MESSAGES" / "messages.po").open("rb") as po:
        return read_po(po, locale=locale)


def test_every_translatable_string_is_in_the_catalogs_and_translated_into_norwegian(tmp_path):
    pot = tmp_path / "messages.pot"
    subprocess.run(
        [
            sys.executable,
            "-m",
            "babel.messages.frontend",
            "extract",
            "-F",
            "babel.cfg",
            "-k",
            "_l",
            "-o",
            str(pot),
            ".",
        ],
        cwd=ROOT,
        check=True,
        capture_output=True,
    )
    with pot.open("rb") as source:
        wanted = {m.id for m in read_po(source) if m.id}
    assert wanted, "nothing to translate was found: the extraction is broken"
    for locale in language.LOCALES:
        catalog = _catalog(locale)
        missing = sorted(str(m) for m in wanted if m not in catalog)
        assert missing == [], f"{locale}: run `make translations-extract` and translate: {missing}"
    norwegian = _catalog("nb")
    untranslated = sorted(str(m.id) for m in norwegian if m.id and (not m.string or m.fuzzy))
    assert untranslated == [], f"nb: translate {untranslated}"


def test_a_norwegian_browser_gets_the_norwegian_interface(client, alice):
    login(client, "alice")
    page = client.get("/settings", headers={"Accept-Language": "nb-NO,nb;q=0.9,en;q=0.5"}).get_data(
        as_text=True
    )
    assert '<html lang="nb">' in page and "Språk og tid" in page
    for header in ("no", "nn-NO"):  # Norwegian, or nynorsk: bokmål reads best
        assert "Språk og tid" in client.get("/settings", headers={"Accept-Language": header}).get_data(
            as_text=True
        )
    english = client.get("/settings", headers={"Accept-Language": "en-GB,en;q=0.8"}).get_data(as_text=True)
    assert '<html lang="en">' in english and "Language and time" in english


@pytest.mark.settings(DEFAULT_LOCALE="nb")
def test_without_a_browser_preference_the_installation_s_default_decides(client, alice):
    login(client, "alice")
    assert "Språk og tid" in client.get("/settings").get_data(as_text=True)
    assert "Language and time" in client.get("/settings", headers={"Accept-Language": "en"}).get_data(
        as_text=True
    )


def test_a_person_s_choice_in_settings_beats_the_browser(client, alice):
    login(client, "alice")
    response = client.post("/settings/preferences", data={"locale": "nb", "timezone": "America/New_York"})
    assert response.status_code == 302
    db.session.expire_all()
    assert (db.session.get_one(User, alice.id).locale, db.session.get_one(User, alice.id).timezone) == (
        "nb",
        "America/New_York",
    )
    page = client.get("/settings", headers={"Accept-Language": "en"}).get_data(as_text=True)
    assert "Språk og tid" in page
    (chosen,) = re.findall(r"<option[^>]*\bselected\b[^>]*>[^<]*</option>", page.split('name="timezone"')[1])
    assert 'value="America/New_York"' in chosen
    client.post("/settings/preferences", data={"locale": "", "timezone": ""})
    assert "Language and time" in client.get("/settings", headers={"Accept-Language": "en"}).get_data(
        as_text=True
    )


def test_a_language_or_time_zone_outside_the_lists_changes_nothing(client, alice):
    login(client, "alice")
    for data in ({"locale": "de", "timezone": ""}, {"locale": "nb", "timezone": "Mars/Olympus"}):
        assert client.post("/settings/preferences", data=data).status_code == 302
        db.session.expire_all()
        user = db.session.get_one(User, alice.id)
        assert (user.locale, user.timezone) == (None, None)


@pytest.mark.parametrize(
    ("name", "value"), [("MICROBLOG_DEFAULT_LOCALE", "de"), ("MICROBLOG_TIMEZONE", "Oslo")]
)
def test_an_unknown_default_language_or_time_zone_stops_start_up(tmp_path, name, value):
    config = TestingConfig({"MICROBLOG_DATA_DIR": str(tmp_path), name: value})
    with pytest.raises(ValueError, match=name):
        create_app(config)


def test_times_read_in_the_reader_s_language_and_time_zone(client, alice, bob):
    from datetime import UTC, datetime, timedelta

    from microblog.web import exact_time, timeago

    moment = datetime(2026, 12, 4, 18, 58, tzinfo=UTC)
    alice.timezone = "Europe/Oslo"
    bob.timezone = "America/New_York"
    db.session.commit()
    with client.application.test_request_context(headers={"Accept-Language": "nb"}):
        g._login_user = alice  # Flask-Login's current_user for this request
        assert exact_time(moment) == "4. desember 2026 kl. 19:58"
        assert timeago(moment, moment + timedelta(minutes=3)) == "for 3 minutter siden"
        assert timeago(moment, moment + timedelta(seconds=10)) == "akkurat nå"
        assert timeago(moment, moment + timedelta(days=30)) == "4. des. 2026"
    with client.application.test_request_context(headers={"Accept-Language": "en"}):
        g._login_user = bob
        assert exact_time(moment) == "December 4, 2026 at 1:58\u202fPM"
        assert timeago(moment, moment + timedelta(hours=5)) == "5 hours ago"


def test_the_log_in_page_speaks_norwegian_to_a_norwegian_browser(client):
    page = client.get("/login", headers={"Accept-Language": "nb-NO"}).get_data(as_text=True)
    assert "Logg inn på microblog" in page and "Brukernavn eller e-post" in page and "Husk meg" in page
    refused = client.post("/login", data={"login": "", "password": ""}, headers={"Accept-Language": "nb"})
    assert refused.status_code == 422
    assert "Dette feltet er påkrevd." in refused.get_data(as_text=True)  # WTForms' own catalog
    english = client.get("/login", headers={"Accept-Language": "en"}).get_data(as_text=True)
    assert "Log in to microblog" in english


def test_a_community_page_speaks_norwegian_with_plural_forms(client, alice, bob):
    from .factories import make_community

    make_community(alice, "leaders", private=True, members=(bob,))
    make_community(alice, "solo")
    login(client, "bob")
    nb = {"Accept-Language": "nb"}
    page = client.get("/@leaders", headers=nb).get_data(as_text=True)
    assert "2 medlemmer" in page and "Du er medlem" in page and "Privat" in page
    assert re.search(r">\s*1 medlem\s*<", client.get("/communities", headers=nb).get_data(as_text=True))
    assert "2 members" in client.get("/@leaders", headers={"Accept-Language": "en"}).get_data(as_text=True)
