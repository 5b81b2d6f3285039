"""The interface's language and time zone: who reads gets theirs (DESIGN.md "Language").

A person's choice in Settings comes first, then the browser's Accept-Language,
then MICROBLOG_DEFAULT_LOCALE (API clients: their Accept-Language, see select_locale);
times are shown in the person's time zone, else MICROBLOG_TIMEZONE.  Catalogs live
in microblog/translations/<locale>/LC_MESSAGES as gettext .po files under version
control; the .mo files Flask-Babel reads are compiled from them (`make translations`,
or here at start-up when a .po is newer).
"""

from __future__ import annotations

import logging
import zoneinfo
from functools import cache
from pathlib import Path

import pytz
from babel.messages.extract import extract
from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po
from flask import Flask, current_app, request
from flask_babel import Babel
from flask_login import current_user

log = logging.getLogger(__name__)

TRANSLATIONS = Path(__file__).resolve().parent / "translations"
SCRIPTS = Path(__file__).resolve().parent / "static" / "js"
LOCALES = ("en", "nb")  # English and Norwegian bokmål
# Browsers of Norwegian readers may say only "no" (Norwegian) or "nn" (nynorsk): bokmål reads best.
_ALIASES = {"no": "nb", "nn": "nb"}
# Requests from API clients, answered in JSON (microblog.errors) and in the client's language.
CLIENT_PATHS = ("/api/", "/oauth/token", "/oauth/revoke", "/.well-known/")

babel = Babel()


@cache
def time_zones() -> tuple[str, ...]:
    """Return the IANA time zone names that both this machine and Flask-Babel (pytz) know, sorted.

    The machine's list also holds names that are no place ("localtime", "Factory"), which pytz
    refuses: a reader with one of those could open no page at all.
    """
    return tuple(sorted(zoneinfo.available_timezones() & pytz.all_timezones_set))


def check_locale(value: str) -> str:
    """Return a supported locale (or "" for the browser's), or raise ValueError."""
    value = (value or "").strip()
    if value and value not in LOCALES:
        raise ValueError(f"expected one of {', '.join(LOCALES)}")
    return value


def check_time_zone(value: str) -> str:
    """Return a known IANA time zone name (or "" for the default), or raise ValueError."""
    value = (value or "").strip()
    if value and value not in time_zones():
        raise ValueError("expected an IANA time zone name, like Europe/Oslo")
    return value


def is_client_request() -> bool:
    """Return whether this request comes from an API client (JSON answers, its own language rule)."""
    return bool(request) and request.path.startswith(CLIENT_PATHS)


def select_locale() -> str:
    """Return the locale of this request, by one rule for pages, the API and work outside requests.

    - An API client's request (paths under CLIENT_PATHS): its Accept-Language, else the
      installation's default.  A client declares its language per request, so the person's
      web setting does not apply: an English client of a Norwegian reader gets English errors.
    - A web page: the person's choice in Settings, else the browser's Accept-Language, else
      the installation's default.
    - No request (CLI commands, background work): the installation's default,
      MICROBLOG_DEFAULT_LOCALE (English unless set).  Outside an app context too,
      flask_babel.gettext returns the English text with its placeholders filled.

    Accept-Language picks the best match among en and nb; "no" and "nn" read as nb.
    """
    if not request:
        return current_app.config["DEFAULT_LOCALE"]
    if not is_client_request():
        chosen = getattr(current_user, "locale", None) if current_user else None
        if chosen in LOCALES:
            return chosen
    best = request.accept_languages.best_match([*LOCALES, *_ALIASES])
    if best:
        return _ALIASES.get(best, best)
    return current_app.config["DEFAULT_LOCALE"]


def select_time_zone() -> str:
    """Return the time zone of this request: the person's choice, else the installation's."""
    chosen = getattr(current_user, "timezone", None) if current_user else None
    if chosen and chosen in time_zones():  # a name this machine no longer knows: the default
        return chosen
    return current_app.config["TIMEZONE"]


@cache
def script_messages() -> frozenset[str]:
    """Return the msgids the scripts in static/js translate (a plural's by its singular), read once."""
    found = set()
    for path in sorted(SCRIPTS.glob("**/*.js")):
        with path.open("rb") as source:
            for _line, message, _comments, _context in extract("javascript", source):
                found.add(message[0] if isinstance(message, tuple) else message)
    return frozenset(found)


@cache
def script_catalog(locale: str) -> dict[str, str | list[str]]:
    """Return the scripts' translations in locale: msgid -> text, or -> its plural forms in order.

    Only the scripts' own messages, from the catalog under version control, computed once per
    locale and process.  Untranslated (English) messages are left out: the script keeps its msgid.
    Pages embed this as a JSON data block that static/js/i18n.js reads (templates/base.html).
    """
    po = TRANSLATIONS / locale / "LC_MESSAGES" / "messages.po"
    if locale not in LOCALES or not po.exists():
        return {}
    with po.open("rb") as source:
        catalog = read_po(source, locale=locale)
    translated: dict[str, str | list[str]] = {}
    for msgid in sorted(script_messages()):
        entry = catalog.get(msgid)
        if entry is None or entry.fuzzy:
            continue
        if isinstance(entry.string, tuple | list):
            if all(entry.string):
                translated[msgid] = list(entry.string)
        elif entry.string:
            translated[msgid] = entry.string
    return translated


def compile_catalogs(folder: Path = TRANSLATIONS) -> list[Path]:
    """Compile every .po that is newer than its .mo; return the .mo files written."""
    written = []
    for po in sorted(folder.glob("*/LC_MESSAGES/*.po")):
        mo = po.with_suffix(".mo")
        if mo.exists() and mo.stat().st_mtime >= po.stat().st_mtime:
            continue
        with po.open("rb") as source:
            catalog = read_po(source, locale=po.parent.parent.name)
        try:
            with mo.open("wb") as target:
                write_mo(target, catalog)
        except OSError as error:  # a read-only installation: `make translations` compiles them
            log.warning("could not compile %s: %s", po, error)
            continue
        written.append(mo)
    return written


def init_app(app: Flask) -> None:
    """Attach Flask-Babel with this installation's defaults, checking them first."""
    try:
        check_locale(app.config["DEFAULT_LOCALE"])
    except ValueError as error:
        raise ValueError(f"MICROBLOG_DEFAULT_LOCALE={app.config['DEFAULT_LOCALE']!r}: {error}") from None
    try:
        check_time_zone(app.config["TIMEZONE"])
    except ValueError as error:
        raise ValueError(f"MICROBLOG_TIMEZONE={app.config['TIMEZONE']!r}: {error}") from None
    compile_catalogs()
    app.config["BABEL_DEFAULT_LOCALE"] = app.config["DEFAULT_LOCALE"]
    app.config["BABEL_DEFAULT_TIMEZONE"] = app.config["TIMEZONE"]
    babel.init_app(app, locale_selector=select_locale, timezone_selector=select_time_zone)
