"""Run Debian's nginx with the site in deploy/nginx/microblog.conf, on a loopback port.

The site file is used as shipped, with only the lines its header tells an
operator to adapt changed: the listen address, the processes' ports and the
checkout's path.  Each of those must be found, so a change to the file cannot
leave the tests running something else.  nginx's main configuration (Debian's
/etc/nginx/nginx.conf on a real host) is a minimal one of the test's own.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path

from .server import stop, wait_until_answering

ROOT = Path(__file__).resolve().parent.parent
SITE = ROOT / "deploy" / "nginx" / "microblog.conf"
NGINX = shutil.which("nginx") or "/usr/sbin/nginx"
_PROCESS = re.compile(r"# ADAPT: microblog@(\d+)$")


def nginx_available() -> bool:
    """Return whether nginx is installed."""
    return os.access(NGINX, os.X_OK)


def _replace_once(text: str, old: str, new: str) -> str:
    if text.count(old) != 1:
        raise AssertionError(f"{SITE.name}: expected {old!r} once, found it {text.count(old)} times")
    return text.replace(old, new)


def _per_process(text: str, backends: Sequence[int]) -> str:
    """Replace each run of `# ADAPT: microblog@PORT` lines with one such line per backend."""
    out: list[str] = []
    runs = 0
    lines = text.splitlines(keepends=True)
    for i, line in enumerate(lines):
        match = _PROCESS.search(line)
        if match is None:
            out.append(line)
        elif i == 0 or not _PROCESS.search(lines[i - 1]):
            runs += 1
            out.extend(line.replace(match.group(1), str(port)) for port in backends)
    if runs != 3:
        raise AssertionError(f"{SITE.name}: expected three lists of processes, found {runs}")
    return "".join(out)


def site_config(port: int, backends: Sequence[int], data_dir: Path | None = None) -> str:
    """Return the shipped site with this listen port, these processes' ports, checkout and data directory."""
    text = SITE.read_text()
    media = f"{data_dir}/media/" if data_dir is not None else "/nonexistent/media/"
    text = _replace_once(text, "alias /var/lib/microblog/media/;", f"alias {media};")
    text = _replace_once(text, "listen 80;", f"listen 127.0.0.1:{port};")
    text = _replace_once(text, "listen [::]:80;", "")
    text = _replace_once(text, "alias /srv/microblog/microblog/static/;", f"alias {ROOT}/microblog/static/;")
    return _per_process(text, backends)


def main_config(folder: Path, workers: int | str = 1) -> str:
    """Return a minimal nginx.conf that keeps every file nginx writes inside `folder`."""
    user = "user root;\n" if os.geteuid() == 0 else ""  # workers read the checkout like the tests do
    kinds = ("client_body", "proxy", "fastcgi", "uwsgi", "scgi")
    temp = "".join(f"    {kind}_temp_path {folder / kind};\n" for kind in kinds)
    return (
        f"{user}daemon off;\nworker_processes {workers};\npid {folder / 'nginx.pid'};\n"
        f"error_log {folder / 'error.log'} info;\n"
        "events { worker_connections 4096; }\n"
        "http {\n    include /etc/nginx/mime.types;\n    default_type application/octet-stream;\n"
        f"    access_log {folder / 'access.log'};\n    sendfile on;\n{temp}"
        f"    include {folder / 'microblog.conf'};\n}}\n"
    )


@contextmanager
def running_nginx(
    folder: Path,
    port: int,
    backends: Sequence[int],
    *,
    workers: int | str = 1,
    timeout: float = 15,
    data_dir: Path | None = None,
) -> Iterator[str]:
    """Start nginx with the shipped site in front of `backends`; yield its URL; stop it afterwards."""
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "microblog.conf").write_text(site_config(port, backends, data_dir))
    (folder / "nginx.conf").write_text(main_config(folder, workers))
    command = [NGINX, "-p", str(folder), "-c", str(folder / "nginx.conf"), "-e", str(folder / "error.log")]
    check = subprocess.run([*command, "-t"], capture_output=True, text=True)
    if check.returncode != 0:
        raise RuntimeError(f"nginx -t failed:\n{check.stderr}")
    url = f"http://127.0.0.1:{port}"
    process = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        wait_until_answering(f"{url}/static/favicon.svg", process, folder / "error.log", timeout)
        yield url
    finally:
        stop(process)
