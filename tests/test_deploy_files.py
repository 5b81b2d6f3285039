"""The files in deploy/ and the operations page (docs/operations.md): complete, valid and consistent."""

from __future__ import annotations

import configparser
import re
import shutil
import subprocess
import sys
from pathlib import Path

from config import TestingConfig
from microblog import create_app

from .conftest import missing_service
from .server import ROOT

DEPLOY = ROOT / "deploy"
OPERATIONS = (ROOT / "docs" / "operations.md").read_text()


def _settings_read_by_the_code() -> set[str]:
    names: set[str] = set()
    for path in [ROOT / "config.py", DEPLOY / "gunicorn.conf.py"]:
        names |= set(re.findall(r"MICROBLOG_[A-Z_]+[A-Z]", path.read_text()))
    return names


def test_every_setting_is_documented_in_the_example_environment_and_the_operations_page():
    settings = _settings_read_by_the_code()
    assert {"MICROBLOG_SECRET_KEY", "MICROBLOG_LDAP_URL", "MICROBLOG_LOG_FORMAT"} <= settings
    example = (DEPLOY / "microblog.env.example").read_text()
    in_example = set(re.findall(r"^(MICROBLOG_[A-Z_]+)=", example, re.M))
    # The port is each process's own: the unit sets it from its instance name.
    assert "Environment=MICROBLOG_PORT=%i" in (DEPLOY / "systemd" / "microblog@.service").read_text()
    assert settings - in_example == {"MICROBLOG_PORT"}, "missing from deploy/microblog.env.example"
    assert in_example - settings == set(), "the example sets what nothing reads"
    table = OPERATIONS.split("\n## Configuration\n", 1)[1].split("\n## ", 1)[0]
    assert {s for s in settings if f"`{s}`" not in table} == set(), "missing from the configuration table"


def test_the_units_are_valid_for_systemd():
    if shutil.which("systemd-analyze") is None:
        missing_service("systemd-analyze is not installed")
    units = sorted(p.name for p in (DEPLOY / "systemd").iterdir() if p.name != "microblog@.service")
    assert {"microblog.target", "microblog-backup.timer", "microblog-directory-sync.timer"} <= set(units)
    paths = [f"{DEPLOY}/systemd/{name}" for name in ["microblog@5001.service", *units]]
    result = subprocess.run(["systemd-analyze", "verify", "--man=no", *paths], capture_output=True, text=True)
    # This machine has no checkout at /srv/microblog; everything else must be right.
    absent = re.compile(r"Command /srv/microblog/\S+ is not executable: No such file or directory$")
    problems = [line for line in (result.stdout + result.stderr).splitlines() if not absent.search(line)]
    assert problems == []


def _unit(name: str) -> configparser.ConfigParser:
    unit = configparser.ConfigParser(interpolation=None, strict=False)
    unit.optionxform = str  # type: ignore[assignment,method-assign]
    unit.read(DEPLOY / "systemd" / name)
    return unit


def test_the_search_worker_unit_runs_one_worker_beside_the_web_processes(tmp_path: Path):
    worker, web = _unit("microblog-search.service"), _unit("microblog@.service")
    assert worker["Unit"]["PartOf"] == web["Unit"]["PartOf"] == "microblog.target"
    assert worker["Install"]["WantedBy"] == web["Install"]["WantedBy"] == "microblog.target"
    service = worker["Service"]
    assert service["ExecStart"] == "/srv/microblog/.venv/bin/flask --app wsgi search worker"
    # The same user, checkout, settings and writable data directory as the web processes.
    for key in ("User", "Group", "WorkingDirectory", "EnvironmentFile", "ReadWritePaths", "ProtectSystem"):
        assert service[key] == web["Service"][key], key
    assert (
        service["Restart"] == "always"
        and "%i" not in (DEPLOY / "systemd" / "microblog-search.service").read_text()
    )
    cli = create_app(TestingConfig({"MICROBLOG_DATA_DIR": str(tmp_path)})).test_cli_runner()
    assert cli.invoke(args=["search", "worker", "--help"]).exit_code == 0
    # IT is told to enable it with the web processes, and to restart it on upgrades.
    assert "cp deploy/systemd/microblog@.service deploy/systemd/microblog-search.service" in OPERATIONS
    assert (
        "systemctl enable --now microblog@5001 microblog@5002 microblog-search microblog.target" in OPERATIONS
    )
    assert "systemctl restart microblog-search" in OPERATIONS


def test_manage_says_which_settings_file_it_cannot_read(tmp_path: Path):
    missing = tmp_path / "nowhere.env"
    result = subprocess.run(
        [DEPLOY / "manage", "db", "upgrade"],
        env={"PATH": "/usr/bin:/bin", "MICROBLOG_ENV_FILE": str(missing)},
        capture_output=True,
        text=True,
    )
    assert result.returncode == 2
    assert f"cannot read {missing}" in result.stderr


def test_the_operations_page_names_only_files_and_commands_that_exist(tmp_path: Path):
    page = OPERATIONS
    named = set(re.findall(r"\bdeploy/[\w./@*-]+[\w@*]", page))
    assert {"deploy/manage", "deploy/nginx/microblog.conf", "deploy/backup.sh"} <= named
    assert {path for path in named if not list(ROOT.glob(path))} == set()  # `microblog-backup.*` too
    commands = set(re.findall(r"deploy/manage ([a-z-]+ [a-z-]+)", page))
    assert {"users sync-directory", "search reindex", "users export"} <= commands
    cli = create_app(TestingConfig({"MICROBLOG_DATA_DIR": str(tmp_path)})).test_cli_runner()
    for command in commands:
        group, name = command.split()
        if group == "db":
            continue  # Flask-Migrate's
        result = cli.invoke(args=[group, name, "--help"])
        assert result.exit_code == 0, f"`{command}` is not a command: {result.output}"


def test_gunicorn_takes_an_empty_setting_for_its_default(monkeypatch):
    import runpy

    for name in ("MICROBLOG_HOST", "MICROBLOG_WORKER_CONNECTIONS", "MICROBLOG_LOG_FORMAT"):
        monkeypatch.setenv(name, "")  # `KEY=` in the settings file, as systemd passes it
    monkeypatch.setenv("MICROBLOG_PORT", "5001")
    settings = runpy.run_path(str(DEPLOY / "gunicorn.conf.py"))
    assert settings["bind"] == "127.0.0.1:5001"  # never all interfaces
    assert settings["worker_connections"] == 4000 and settings["accesslog"] == "-"


# gunicorn's master reads the settings (JSON logs: it imports microblog.logs), forks, and the gevent
# worker patches the standard library, then loads the app; psycopg chooses how it waits for the server
# as it is first imported.
_GUNICORN_ORDER = """
import logging.config, runpy, sys
settings = runpy.run_path(sys.argv[1])
logging.config.dictConfig(settings["logconfig_dict"])
from gevent import monkey
monkey.patch_all()
import wsgi  # noqa: the app, as the worker loads it
from sqlalchemy import create_engine
create_engine("postgresql+psycopg://nobody@127.0.0.1:1/none")
import psycopg.waiting
print(psycopg.waiting.wait.__name__)
"""


def test_a_gevent_worker_waits_for_postgresql_without_holding_its_other_requests(tmp_path: Path):
    """psycopg imported before gevent patches `select` waits in C: the whole worker stops for each query."""
    env = {
        "PATH": "/usr/bin:/bin",
        "MICROBLOG_LOG_FORMAT": "json",
        "MICROBLOG_DATA_DIR": str(tmp_path),
        "MICROBLOG_DATABASE_URL": f"sqlite:///{tmp_path / 'microblog.db'}",
    }
    done = subprocess.run(
        [sys.executable, "-c", _GUNICORN_ORDER, str(DEPLOY / "gunicorn.conf.py")],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=True,
    )
    assert done.stdout.split()[-1] != "wait_c", done.stdout
