"""The shared test vectors, read from ../shared/vectors (never copied into this repo)."""

from __future__ import annotations

import json
import os
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
SHARED = Path(os.environ.get("MICROBLOG_SHARED_DIR") or ROOT.parent / "shared")


def post_length_cases() -> list[dict]:
    """Return the post-length cases."""
    path = SHARED / "vectors" / "post_length.json"
    return json.loads(path.read_text(encoding="utf-8"))["cases"]
