"""The benchmarks' own arithmetic: py-spy summaries per request, and how each server kind is started."""

from __future__ import annotations

from pathlib import Path

from bench.profiling import RATE, ROOT, frame_key, summarize_raw
from bench.servers import MICROBLOG, kinds


def test_py_spy_summary_counts_each_function_once_per_stack(tmp_path: Path) -> None:
    raw = tmp_path / "post-1.txt"
    root = 'process 7:"gunicorn";handle (/x/site-packages/gunicorn/workers/base_async.py:10)'
    post = f"post_status ({ROOT}/microblog/services/posts.py:90)"  # a frame of this checkout's code
    # A recursive frame (the same function twice in one stack) counts once in cumulative time.
    raw.write_text(
        f"{root};{post};execute (/usr/lib/python3.11/sqlite3/x.py:1) 30\n"
        f"{root};{post};{post};commit (/usr/lib/python3.11/sqlite3/x.py:2) 10\n"
        f"{root} 10\n"
    )
    summary = summarize_raw([raw], requests=5, top=3).splitlines()
    per_sample = 1000 / RATE / 5  # ms per request that one sample stands for
    assert summary[0] == f"  50 samples ({50 * per_sample:.2f} ms of CPU per request over 5 requests)"
    cumulative = summary[2:5]
    assert cumulative[0].split() == [f"{50 * per_sample:.3f}", "handle", "(gunicorn/workers/base_async.py)"]
    assert cumulative[1].split() == [f"{40 * per_sample:.3f}", "post_status", "(microblog/services/posts.py)"]
    own = summary[6:9]
    assert [line.split()[1] for line in own] == ["execute", "commit", "handle"]
    assert [line.split()[1] for line in summary[10:]] == ["post_status"]  # microblog's own code only


def test_frames_are_named_by_module_without_line() -> None:
    assert frame_key("iterencode (/usr/lib/python3.11/json/encoder.py:250)") == "iterencode (json/encoder.py)"
    assert frame_key("<built-in method acquire>") == "<built-in method acquire>"


def test_make_run_serves_microblog_as_make_run_does_and_drops_redis() -> None:
    gunicorn, make_run = kinds(["gunicorn", "make-run"], redis_ok=True)
    assert gunicorn.processes == 2 and make_run.processes == 1
    assert make_run.command(MICROBLOG)[1:] == ["-m", "flask", "--app", "wsgi", "serve"]
    env = {"MICROBLOG_ENV": "production", "MICROBLOG_REDIS_URL": "redis://x", "MICROBLOG_DATA_DIR": "/d"}
    assert make_run.environment(env) == {"MICROBLOG_DATA_DIR": "/d"}
    assert gunicorn.environment(env) == env
    assert make_run.command("bench.api:bare_app")[-3:] == ["-m", "bench.servers", "bench.api:bare_app"]
    assert kinds(["gunicorn"], redis_ok=False)[0].processes == 1
