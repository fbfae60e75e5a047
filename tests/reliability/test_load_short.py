"""A short version of bench/reliability.py: bounded concurrent load on the small index, zero errors."""

from __future__ import annotations

import asyncio
import json
import subprocess
import sys
from pathlib import Path

import pytest
from reportqa.api.app import create_app

from bench.reliability import SMALL_QUESTIONS, fire, percentiles_ms, summarize
from bench.served import rss_bytes
from reportqa.core.settings import Settings

from .helpers import running

ROOT = Path(__file__).resolve().parents[2]


@pytest.mark.integration
def test_short_load_in_process_has_no_errors(index_copy: Settings) -> None:
    with running(create_app(index_copy)) as url:
        warm = asyncio.run(fire(url, 40, 8, SMALL_QUESTIONS, max_seconds=60))
        assert warm.errors == 0, warm.error_samples
        result = asyncio.run(fire(url, 400, 16, SMALL_QUESTIONS, offset=40, timeout_s=30, max_seconds=120))
    report = summarize(result)
    assert report["errors"] == 0, report["error_samples"]
    assert report["completed"] == 400 and report["statuses"] == {"200": 400}
    assert report["by_path"] == {"/ask": 200, "/search": 120, "/chat": 80}
    latency = report["latency_ms"]
    assert latency["p50"] <= latency["p95"] <= latency["p99"] <= latency["max"]
    assert latency["p99"] < 10_000, latency  # nothing stalls


def test_percentiles_and_memory_helpers() -> None:
    assert percentiles_ms([]) == {"p50": None, "p95": None, "p99": None, "max": None, "mean": None}
    stats = percentiles_ms([i / 1000 for i in range(1, 101)])  # 1..100 ms
    assert stats["p50"] == pytest.approx(50.5) and stats["p99"] == pytest.approx(99.01) and stats["max"] == 100
    import os

    assert rss_bytes(os.getpid()) > 10 * 2**20


@pytest.mark.integration
def test_bench_script_end_to_end(index_copy: Settings, tmp_path: Path) -> None:
    out = tmp_path / "reliability.json"
    done = subprocess.run(
        [sys.executable, "-m", "bench.reliability", "--requests", "150", "--concurrency", "8", "--warmup", "30",
         "--index-dir", str(index_copy.index_dir), "--out", str(out), "--max-seconds", "120",
         "--server-log", str(tmp_path / "server.log"),
         "--max-drift", "50"],
        cwd=ROOT, capture_output=True, text=True, timeout=240)
    assert done.returncode == 0, done.stdout[-2000:] + done.stderr[-2000:]
    report = json.loads(out.read_text(encoding="utf-8"))
    assert report["errors"] == 0 and report["completed"] == 150 and report["passed"] is True
    assert {"p50", "p95", "p99"} <= set(report["latency_ms"])
    assert report["rss_mb"]["after_warmup"] > 0 and report["rss_drift_pct"] is not None
    assert set(report["by_path"]) == {"/ask", "/search", "/chat"}


def test_the_hostile_run_fails_on_lost_documents_a_slow_ask_or_a_stalled_payload() -> None:
    from bench.hostile import hostile_problems, large_text

    good = {"lost_documents": [], "load": {"errors": 0, "latency_ms_by_path": {"/ask": {"p99": 210.0}}},
            "slow_requests": [{"payload": "slow claim", "status": 504, "seconds": 1.4}],
            "jobs": [{"target": "a.txt", "status": "done"}, {"target": "bomb.pdf", "status": "failed"}]}
    assert hostile_problems(good, 1000) == []
    assert hostile_problems(good | {"lost_documents": ["a.txt"]}, 1000) == ["lost documents: ['a.txt']"]
    assert hostile_problems(good, 200) == ["/ask p99 210.0 ms over 200 ms under the mix"]
    stalled = good | {"slow_requests": [{"payload": "slow claim", "status": 200, "seconds": 61.0}],
                      "jobs": [{"target": "a.txt", "status": "unsettled"}]}
    assert hostile_problems(stalled, 1000) == ["slow claim: 200 after 61.0 s", "job for a.txt unsettled"]
    assert 49_000_000 < len(large_text()) < 50_000_000
