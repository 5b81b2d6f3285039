"""Image uploads: POST /api/v2/media of a 4000x3000 JPEG against Pillow's own decode + resize.

    .venv/bin/python -m bench.media [--uploads 40] [--quality 92]

Starts one production server process (gunicorn, gevent worker, SQLite) in a temporary
data directory, uploads the same photo-like 4000x3000 JPEG `--uploads` times through
the Mastodon API (one at a time, as a person attaching a photo), and prints the
upload's p50 / p99 next to the bare baseline measured in the same run: Pillow opening
the same bytes, decoding them and resizing to what microblog keeps (3840x2160's pixels),
nothing else.  Also the server worker's peak resident memory (VmHWM), and one 50-megapixel
upload's time and the peak after it (the bound on memory: decoded at a reduced scale, at
most two at once per process).
"""

from __future__ import annotations

import argparse
import io
import random
import sys
import tempfile
import time
from pathlib import Path

import requests
from PIL import Image, ImageDraw, ImageFilter

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.stats import fmt, pct  # noqa: E402
from microblog.images import ORIGINAL_PIXELS, _fit  # noqa: E402
from tests.server import client_site, flask_cli, running_server  # noqa: E402


def photo(size: tuple[int, int], quality: int, seed: int = 7) -> bytes:
    """Return a JPEG with a photo's detail: shapes, gradients and grain (a flat image decodes faster)."""
    rng = random.Random(seed)
    image = Image.effect_noise(size, 64).convert("RGB")
    draw = ImageDraw.Draw(image, "RGBA")
    for _ in range(300):
        x, y = rng.randrange(size[0]), rng.randrange(size[1])
        r = rng.randrange(20, size[0] // 6)
        colour = (rng.randrange(256), rng.randrange(256), rng.randrange(256), rng.randrange(60, 200))
        draw.ellipse((x - r, y - r, x + r, y + r), fill=colour)
    image = image.filter(ImageFilter.GaussianBlur(0.6))
    out = io.BytesIO()
    image.save(out, "JPEG", quality=quality)
    return out.getvalue()


def bare(data: bytes) -> float:
    """Return the milliseconds Pillow takes to open, decode and resize the bytes to what is kept."""
    start = time.perf_counter()
    with Image.open(io.BytesIO(data)) as image:
        image.load()
        image.resize(_fit(*image.size, ORIGINAL_PIXELS))
    return (time.perf_counter() - start) * 1000


def server_peak_kb(port: str) -> int:
    """Return the largest VmHWM (peak resident memory) of the processes started with the server's port."""
    peaks = []
    for proc in Path("/proc").glob("[0-9]*"):
        try:
            if f"MICROBLOG_PORT={port}".encode() not in (proc / "environ").read_bytes().split(b"\0"):
                continue
            status = (proc / "status").read_text()
        except OSError:
            continue
        for line in status.splitlines():
            if line.startswith("VmHWM:"):
                peaks.append(int(line.split()[1]))
    return max(peaks, default=0)


def upload(url: str, token: str, data: bytes) -> tuple[float, int]:
    start = time.perf_counter()
    answer = requests.post(
        f"{url}/api/v2/media",
        files={"file": ("photo.jpg", data, "image/jpeg")},
        data={"description": "A photo"},
        headers={"Authorization": f"Bearer {token}"},
        timeout=120,
    )
    return (time.perf_counter() - start) * 1000, answer.status_code


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--uploads", type=int, default=40)
    parser.add_argument("--quality", type=int, default=92)
    args = parser.parse_args()
    data = photo((4000, 3000), args.quality)
    big = photo((8000, 6250), args.quality)
    with tempfile.TemporaryDirectory() as folder:
        env = client_site(Path(folder), "bench")
        token = flask_cli(env, "users", "token", "bench").strip().split()[-1]
        with running_server(env, gunicorn=True) as url:
            upload(url, token, data)  # warm: imports, first connection
            bare(data)
            ours, baseline = [], []
            for _ in range(args.uploads):  # interleaved: the machine's noise falls on both alike
                took, status = upload(url, token, data)
                assert status == 200, status
                ours.append(took)
                baseline.append(bare(data))
            peak = server_peak_kb(env["MICROBLOG_PORT"])
            big_took, big_status = upload(url, token, big)
            big_peak = server_peak_kb(env["MICROBLOG_PORT"])
    ratio = (sorted(ours)[len(ours) // 2]) / (sorted(baseline)[len(baseline) // 2])
    print(f"4000x3000 JPEG, {len(data) / 1e6:.1f} MB, {args.uploads} uploads, one at a time (ms, p50 / p99)")
    print(f"  upload through the API     {fmt(ours)}")
    print(f"  bare Pillow decode+resize  {fmt(baseline)}")
    print(f"  ratio of p50s              {ratio:7.2f}x   (p99s: {pct(ours, 99) / pct(baseline, 99):.2f}x)")
    if peak:
        print(f"  server peak RSS            {peak / 1024:7.0f} MB")
    print(
        f"8000x6250 JPEG (50 megapixels), {len(big) / 1e6:.1f} MB: {big_status} in {big_took:.0f} ms", end=""
    )
    print(f", server peak RSS then {big_peak / 1024:.0f} MB" if big_peak else "")
    return 0


if __name__ == "__main__":
    sys.exit(main())
