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
    # The confirmation speaks the language just chosen, not the one the form was sent in.
    answer = client.post("/settings/preferences", data={"locale": "", "timezone": ""}, follow_redirects=True)
    assert "Language and time zone saved." in answer.get_data(as_text=True)
    assert "Language and time" in client.get("/settings", headers={"Accept-Language": "en"}).get_data(
        as_text=True
    )
    answer = client.post(
        "/settings/preferences", data={"locale": "nb", "timezone": ""}, follow_redirects=True
    )
    assert "Språk og tidssone er lagret." in answer.get_data(as_text=True)


def test_a_language_or_time_zone_outside_the_lists_changes_nothing(client, alice):
    login(client, "alice")
    # "localtime" and "Factory" are in the machine's zone list but are no place (pytz refuses them).
    assert "localtime" not in language.time_zones() and "Factory" not in language.time_zones()
    assert "Europe/Oslo" in language.time_zones()
    for data in (
        {"locale": "de", "timezone": ""},
        {"locale": "nb", "timezone": "Mars/Olympus"},
        {"locale": "", "timezone": "localtime"},
        {"locale": "", "timezone": "Factory"},
    ):
        assert client.post("/settings/preferences", data=data).status_code == 302
        db.session.expire_all()
        user = db.session.get_one(User, alice.id)
        assert (user.locale, user.timezone) == (None, None)


def test_a_stored_time_zone_this_machine_does_not_know_falls_back_to_the_default(client, alice):
    # Saved before the list was narrowed, or by an older tz database: the pages still open.
    db.session.get_one(User, alice.id).timezone = "localtime"
    db.session.commit()
    login(client, "alice")
    for path in ("/", "/settings"):
        response = client.get(path)
        assert response.status_code == 200, path
    assert 'data-time-zone="Europe/Oslo"' in response.get_data(as_text=True)


@pytest.mark.parametrize(
    ("name", "value"),
    [("MICROBLOG_DEFAULT_LOCALE", "de"), ("MICROBLOG_TIMEZONE", "Oslo"), ("MICROBLOG_TIMEZONE", "localtime")],
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


def test_search_notes_and_the_admin_list_speak_the_reader_s_language(client, alice):
    alice.is_admin = True
    db.session.commit()
    login(client, "alice")
    long_query = "sommerfest " * 60  # past the 500 characters searched
    for header, note in (("nb", "Søket brukte bare de første 500 tegnene."), ("en", "Only the first 500")):
        page = client.get("/search", query_string={"q": long_query}, headers={"Accept-Language": header})
        assert note in page.get_data(as_text=True), header
    # Paging past the last account says so (no "No account matches “None”").
    page = client.get("/admin/users?after=zzzz", headers={"Accept-Language": "nb"}).get_data(as_text=True)
    assert "Ingen flere kontoer." in page and "None" not in page


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


NB = {"Accept-Language": "nb"}


def _nb(client, path: str) -> str:
    return client.get(path, headers=NB).get_data(as_text=True)


def test_a_norwegian_reader_s_feed_and_thread_speak_norwegian(client, alice, bob):
    from microblog.services import posts

    from .factories import make_post, make_user

    mine = make_post(alice, "Lunsj?")
    liked = make_post(bob, "Bygget er grønt")
    for name in ("carol", "dave", "erik"):
        posts.like_post(make_user(name), str(liked.id))
    posts.like_post(make_user("frida"), str(mine.id))
    for n in range(20):  # a second page
        make_post(bob, f"Oppdatering {n}")
    login(client, "alice")
    page = _nb(client, "/public")
    assert "Hjem</a>" in page and "Gå til innholdet" in page and 'placeholder="Hva jobber du med?"' in page
    assert ">Publiser</button>" in page and "Eldre innlegg" in page and 'aria-label="Innlegg"' in page
    page = _nb(client, "/public?max_id=" + str(liked.id + 1))
    assert 'title="Svar"' in page and 'title="Lik" aria-label="Lik (3 personer liker dette)"' in page
    assert 'aria-label="Lik (1 person liker dette)"' in page  # the plural form follows the count
    assert 'data-confirm="Slette dette innlegget?"' in page and ">Slett</button>" in page
    thread = _nb(client, f"/posts/{liked.id}")
    assert '<h1 class="feed-title">Samtale</h1>' in thread and "<title>Samtale · microblog</title>" in thread
    assert 'placeholder="Svar til @bob…"' in thread and ">Svar</button>" in thread
    reply = make_post(alice, "@bob flott", in_reply_to=str(liked.id))
    assert "↳ svar til <span data-reply-to>@bob</span>" in _nb(client, f"/posts/{reply.id}")
    deleted = client.post(f"/posts/{mine.id}/delete", headers=NB, follow_redirects=True)
    assert "Innlegget er slettet." in deleted.get_data(as_text=True)
    english = client.get("/public", headers={"Accept-Language": "en"}).get_data(as_text=True)
    assert "Older posts" in english and "Skip to content" in english and "Eldre innlegg" not in english


def test_settings_and_tokens_speak_norwegian_to_who_chose_it(client, alice):
    login(client, "alice")
    client.post("/settings/preferences", data={"locale": "nb", "timezone": ""})
    page = client.get("/settings").get_data(as_text=True)  # the choice, whatever the browser says
    assert "Profilen din" in page and "Lagre profilen" in page and "Bytt passord" in page
    assert "<title>Innstillinger · microblog</title>" in page
    saved = client.post("/settings", data={"display_name": "Alice A."}, follow_redirects=True)
    assert "Profilen er lagret." in saved.get_data(as_text=True)
    created = client.post("/settings/tokens", data={"name": "ci", "read": "y"}).get_data(as_text=True)
    assert "Den nye nøkkelen din." in created and "Apper og tilgangsnøkler" in created
    assert 'data-confirm="Trekke tilbake nøkkelen ci? Det som bruker den, slutter å virke."' in created
    assert "aldri brukt" in created and ">Trekk tilbake</button>" in created
    token_id = re.search(r"/settings/tokens/(\d+)/revoke", created).group(1)
    revoked = client.post(f"/settings/tokens/{token_id}/revoke", follow_redirects=True)
    assert "Tilgangen er trukket tilbake." in revoked.get_data(as_text=True)


def test_people_and_admin_pages_speak_norwegian(client, admin, alice, bob):
    login(client, "root")
    people = _nb(client, "/people")
    assert "<h1>Personer</h1>" in people and 'aria-label="Følg Bob Berg"' in people
    assert 'placeholder="Filtrer på navn"' in people and ">Alle</option>" in people
    followed = client.post("/@bob/follow", data={"next": "/people"}, headers=NB, follow_redirects=True)
    assert "Du følger nå Bob Berg." in followed.get_data(as_text=True)
    assert "<title>Bob Berg: følgere · microblog</title>" in _nb(client, "/@bob/followers")
    accounts = _nb(client, "/admin/users")
    assert '<h1 class="feed-title">Kontoer</h1>' in accounts and "<th>Handlinger</th>" in accounts
    assert 'data-confirm="Deaktivere Bob Berg? Vedkommende blir logget ut' in accounts
    done = client.post("/admin/users/bob/deactivate", headers=NB, follow_redirects=True)
    assert "Bob Berg er deaktivert og logget ut." in done.get_data(as_text=True)
    done = client.post(
        "/admin/users/bob/deactivate", headers={"Accept-Language": "en"}, follow_redirects=True
    )
    assert "Bob Berg is deactivated and logged out." in done.get_data(as_text=True)


def test_a_tag_s_follower_count_has_its_plural_form(client, alice, bob):
    from microblog.services import social

    login(client, "alice")
    client.post("/tags/apollo/follow")
    assert re.search(r">\s*1 følger\s*<", _nb(client, "/tags/apollo"))
    social.follow_tag(bob, "apollo")
    assert re.search(r">\s*2 følgere\s*<", _nb(client, "/tags/apollo"))
    assert re.search(r">\s*2 followers\s*<", client.get("/tags/apollo").get_data(as_text=True))


def test_notes_and_error_pages_speak_norwegian(client, alice):
    note = client.get("/", headers=NB, follow_redirects=True).get_data(as_text=True)
    assert '<p class="flash flash-info">Logg inn for å se den siden.</p>' in note
    login(client, "alice")
    missing = client.get("/posts/999999", headers=NB)
    assert missing.status_code == 404 and "<title>Feil · microblog</title>" in missing.get_data(as_text=True)
    assert "<title>Error · microblog</title>" in client.get("/posts/999999").get_data(as_text=True)


def test_a_too_long_field_is_named_as_its_form_names_it(client, alice):
    login(client, "alice")
    nb = {"Accept-Language": "nb"}
    page = client.post(
        "/communities/new",
        data={"handle": "apollo", "name": "Apollo", "description": "x" * 301, "visibility": "public"},
        headers=nb,
    ).get_data(as_text=True)
    assert "Beskrivelse kan ha høyst 300 tegn." in page  # not the person's "Om deg"
    page = client.post("/settings", data={"display_name": "x" * 61, "bio": ""}, headers=nb).get_data(
        as_text=True
    )
    assert "Fullt navn kan ha høyst 60 tegn." in page
