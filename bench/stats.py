"""Timing helpers shared by the benchmarks: percentiles and a timed call, in milliseconds."""

from __future__ import annotations

import statistics
import time


def pct(samples: list[float], q: float) -> float:
    """Return the q-th percentile of samples (ms)."""
    ordered = sorted(samples)
    return ordered[min(len(ordered) - 1, int(round(q / 100 * (len(ordered) - 1))))]


def fmt(samples: list[float]) -> str:
    """Return "p50 / p99" of samples."""
    return f"{statistics.median(samples):7.2f} / {pct(samples, 99):7.2f}"


def timed(fn) -> tuple[float, object]:
    """Call fn; return the milliseconds it took and its result."""
    start = time.perf_counter()
    result = fn()
    return (time.perf_counter() - start) * 1000, result
