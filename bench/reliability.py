"""Reliability soak: a bounded load against `reportqa serve`, with errors, latency and memory drift.

    python -m bench.reliability --requests 20000 --concurrency 32

Starts the server as a subprocess on a free 127.0.0.1 port (the real index at var/index if it has one, else a
small index built from a hand-written corpus into a temporary folder), warms it up, records its resident memory,
fires a mix of /ask, /search and /chat with httpx.AsyncClient, records memory again, and writes
bench/results/reliability.json. Exit status 1 on any failed request or a memory drift over --max-drift percent
(2 when the server cannot be started). Every loop is bounded in count and in time.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import platform
import subprocess
import sys
import tempfile
import threading
import time
from collections import Counter, defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx

from bench.hostile import SHARE_DOC, hostile_mix, hostile_problems, private_copy
from bench.served import ROOT, Server, build_small_index, rss_bytes

DEFAULT_INDEX = ROOT / "var" / "index"
DEFAULT_OUT = ROOT / "bench" / "results" / "reliability.json"
HOSTILE_OUT = ROOT / "bench" / "results" / "reliability-hostile.json"
SERVER_LOG = ROOT / "bench" / "results" / "tmp" / "reliability-server.log"  # git-ignored
QA = ROOT / "eval" / "qa.jsonl"
HOSTILE_LOAD_CAP = 10_000_000
LOG_PROBLEMS = ("Traceback", "ERROR", "WARNING", "Exception", "Invalid HTTP", "unhandled")

# Questions for the small fallback corpus (the same facts as tests/conftest.py's SMALL_DOCS).
SMALL_QUESTIONS = [
    "2026年全球AI支出预计是多少？", "星河半导体2025年营业收入是多少？", "星河半导体的研发投入是多少？",
    "全固态电池的能量密度有望达到多少？", "中国新型储能累计装机规模", "全球量子计算市场规模",
    "超导量子比特数量", "北美云厂商资本开支合计", "碳化硅器件年产能", "AI软件支出增速",
]
FOLLOW_UPS = ["它的研发投入呢？", "那2030年呢？", "其增速是多少？"]

# --- the load --------------------------------------------------------------------------------------------


def request_for(i: int, questions: Sequence[str]) -> tuple[str, dict[str, Any]]:
    """The i-th request of the mix: 5 in 10 /ask, 3 in 10 /search, 2 in 10 /chat (half of them follow-ups)."""
    question = questions[(i * 7) % len(questions)]
    slot = i % 10
    if slot < 5:
        return "/ask", {"question": question, "id": f"r{i}"}
    if slot < 8:
        return "/search", {"query": question, "top_k": 5}
    messages = [{"role": "user", "content": question}]
    if slot == 9:
        messages += [{"role": "assistant", "content": "……"},
                     {"role": "user", "content": FOLLOW_UPS[i % len(FOLLOW_UPS)]}]
    return "/chat", {"messages": messages}


@dataclass
class LoadResult:
    requested: int
    latencies_s: list[float] = field(default_factory=list)
    latencies_by_path: defaultdict[str, list[float]] = field(default_factory=lambda: defaultdict(list))
    statuses: Counter[str] = field(default_factory=Counter)
    by_path: Counter[str] = field(default_factory=Counter)
    errors: int = 0
    error_samples: list[str] = field(default_factory=list)
    completed: int = 0
    wall_s: float = 0.0
    stopped_early: bool = False

    def timed(self, path: str, seconds: float, status: str) -> None:
        self.latencies_s.append(seconds)
        self.latencies_by_path[path].append(seconds)
        self.statuses[status] += 1


async def fire(base_url: str, total: int, concurrency: int, questions: Sequence[str], *, offset: int = 0,
               timeout_s: float = 60.0, max_seconds: float = 3600.0,
               until: threading.Event | None = None) -> LoadResult:
    """Send exactly `total` requests with `concurrency` workers, stopping early after `max_seconds`.

    A request counts as an error unless it gets a 200 with a JSON body of the expected shape; requests not sent
    because the time ran out count as errors too.
    """
    result = LoadResult(requested=total)
    next_index = 0
    deadline = time.monotonic() + max_seconds
    begun = time.monotonic()
    limits = httpx.Limits(max_connections=concurrency, max_keepalive_connections=concurrency)

    def record_error(what: str) -> None:
        result.errors += 1
        if len(result.error_samples) < 20:
            result.error_samples.append(f"t+{time.monotonic() - begun:.1f}s {what[:300]}")

    async def worker(client: httpx.AsyncClient) -> None:
        nonlocal next_index
        while next_index < total and time.monotonic() < deadline and not (until and until.is_set()):
            i = next_index
            next_index += 1
            path, body = request_for(offset + i, questions)
            result.by_path[path] += 1
            started = time.perf_counter()
            try:
                reply = await client.post(path, json=body)
            except httpx.HTTPError as exc:
                result.timed(path, time.perf_counter() - started, type(exc).__name__)
                record_error(f"{path} #{offset + i}: {type(exc).__name__}: {exc!r}")
                continue
            result.timed(path, time.perf_counter() - started, str(reply.status_code))
            result.completed += 1
            if reply.status_code != 200:
                record_error(f"{path}: HTTP {reply.status_code}: {reply.text[:200]}")
                continue
            try:
                data = reply.json()
                ok = isinstance(data.get("results" if path == "/search" else "citations"), list)
            except ValueError:
                ok = False
            if not ok:
                record_error(f"{path}: unexpected body: {reply.text[:200]}")

    started = time.perf_counter()
    async with httpx.AsyncClient(base_url=base_url, timeout=timeout_s, limits=limits) as client:
        await asyncio.gather(*(worker(client) for _ in range(max(1, min(concurrency, total)))))
    result.wall_s = time.perf_counter() - started
    unsent = total - next_index
    if unsent > 0 and until is not None and until.is_set():
        result.requested = next_index  # the run it accompanied is over: what was sent is the run
    elif unsent > 0:
        result.stopped_early = True
        result.errors += unsent
        result.error_samples.append(f"{unsent} requests not sent: time limit of {max_seconds:.0f} s reached")
    return result


def percentiles_ms(samples_s: Sequence[float]) -> dict[str, float | None]:
    if not samples_s:
        return {"p50": None, "p95": None, "p99": None, "max": None, "mean": None}
    ordered = sorted(s * 1000.0 for s in samples_s)

    def pick(q: float) -> float:  # linear interpolation between closest ranks
        pos = (len(ordered) - 1) * q
        low = int(pos)
        high = min(low + 1, len(ordered) - 1)
        return ordered[low] + (ordered[high] - ordered[low]) * (pos - low)

    return {"p50": round(pick(0.50), 2), "p95": round(pick(0.95), 2), "p99": round(pick(0.99), 2),
            "max": round(ordered[-1], 2), "mean": round(sum(ordered) / len(ordered), 2)}


def summarize(result: LoadResult) -> dict[str, Any]:
    return {"requests": result.requested, "completed": result.completed, "errors": result.errors,
            "error_samples": result.error_samples, "statuses": dict(result.statuses),
            "by_path": dict(result.by_path), "wall_s": round(result.wall_s, 2),
            "throughput_rps": round(result.completed / result.wall_s, 1) if result.wall_s else None,
            "latency_ms": percentiles_ms(result.latencies_s), "stopped_early": result.stopped_early,
            "latency_ms_by_path": {path: percentiles_ms(samples) for path, samples in
                                   sorted(result.latencies_by_path.items())}}


def drift_pct(before: int, after: int) -> float | None:
    return round((after - before) * 100.0 / before, 2) if before > 0 else None


# --- the command -----------------------------------------------------------------------------------------


def load_questions(index_dir: Path, built_small: bool, path: Path | None) -> list[str]:
    if path is not None:
        rows = [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]
        return [str(r["question"]) for r in rows]
    if not built_small and index_dir.resolve() == DEFAULT_INDEX.resolve() and QA.is_file():
        rows = [json.loads(line) for line in QA.read_text(encoding="utf-8").splitlines() if line.strip()]
        if rows:
            return [str(r["question"]) for r in rows]
    return list(SMALL_QUESTIONS)


def parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m bench.reliability", description=__doc__.split("\n\n")[0])
    parser.add_argument("--requests", type=int, default=None,
                        help="requests in the measured run (default 20,000; --hostile: as many as it takes)")
    parser.add_argument("--concurrency", type=int, default=32)
    parser.add_argument("--warmup", type=int, default=None, help="warm-up requests (default: 5%%, 200 to 2000)")
    parser.add_argument("--index-dir", type=Path, default=None,
                        help="index to serve (default: var/index if it has a CURRENT version, else a small one)")
    parser.add_argument("--questions", type=Path, default=None, help='JSONL with a "question" per line')
    parser.add_argument("--out", type=Path, default=DEFAULT_OUT)
    parser.add_argument("--max-drift", type=float, default=10.0, help="allowed RSS growth in percent")
    parser.add_argument("--timeout", type=float, default=60.0, help="seconds per request")
    parser.add_argument("--max-seconds", type=float, default=1800.0, help="time limit for the measured run")
    parser.add_argument("--server-log", type=Path, default=SERVER_LOG, help="where the server's output goes")
    parser.add_argument("--hostile", action="store_true",
                        help="the hostile mix on a private index copy, two workers (bench/hostile.py)")
    parser.add_argument("--ingest-seconds", type=float, default=60.0, help="REPORTQA_INGEST_SECONDS (--hostile)")
    parser.add_argument("--max-p99-ms", type=float, default=1000.0, help="allowed /ask p99 under the mix")
    args = parser.parse_args(argv)
    if args.requests is None:  # the hostile load lasts until the payloads and uploads beside it are done
        args.requests = HOSTILE_LOAD_CAP if args.hostile else 20_000
    if args.hostile and args.out == DEFAULT_OUT:
        args.out = HOSTILE_OUT
    if args.requests < 1 or args.concurrency < 1:
        parser.error("--requests and --concurrency must be at least 1")
    return args


def machine() -> dict[str, Any]:
    return {"cpus": os.cpu_count(), "python": platform.python_version(), "platform": platform.platform(),
            "load_average": [round(x, 2) for x in os.getloadavg()]}


def run_hostile(args: argparse.Namespace) -> dict[str, Any]:
    """The load with the hostile payloads and uploads beside it, on a copy of the index (uploads change it)."""
    with tempfile.TemporaryDirectory(prefix="reportqa-hostile-") as work:
        source = args.index_dir or (DEFAULT_INDEX if (DEFAULT_INDEX / "CURRENT").is_file() else None)
        if source is None:
            index_dir = build_small_index(Path(work), extra=dict([SHARE_DOC]))
        else:
            index_dir = private_copy(source, Path(work))
        questions = load_questions(source or index_dir, source is None, args.questions)
        server = Server(index_dir, args.server_log, workers=2,
                        env={"REPORTQA_INGEST_SECONDS": str(args.ingest_seconds)})
        try:
            server.wait_ready()
            asyncio.run(fire(server.url, 200, args.concurrency, questions, timeout_s=args.timeout))

            def load(stop: threading.Event) -> dict[str, Any]:
                return summarize(asyncio.run(fire(server.url, args.requests, args.concurrency, questions,
                                                  timeout_s=args.timeout, max_seconds=args.max_seconds, until=stop)))

            report = hostile_mix(server.url, load, settle_s=args.ingest_seconds + 120)
            alive = server.proc.poll() is None
        finally:
            server.stop()
    problems = hostile_problems(report, args.max_p99_ms) + ([] if alive else ["the server died during the run"])
    return report | {"index": "small (built for this run)" if source is None else f"a copy of {source}",
                     "concurrency": args.concurrency, "workers": 2, "ingest_seconds": args.ingest_seconds,
                     "machine": machine(), "finished_at": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
                     "passed": not problems, "problems": problems}


def run(args: argparse.Namespace) -> dict[str, Any]:
    if args.hostile:
        return run_hostile(args)
    with tempfile.TemporaryDirectory(prefix="reportqa-reliability-") as work:
        index_dir, built_small = args.index_dir, False
        if index_dir is None:
            if (DEFAULT_INDEX / "CURRENT").is_file():
                index_dir = DEFAULT_INDEX
            else:
                print("no index at var/index; building a small one", file=sys.stderr)
                index_dir, built_small = build_small_index(Path(work)), True
        questions = load_questions(index_dir, built_small, args.questions)
        warmup = args.warmup if args.warmup is not None else min(2000, max(200, args.requests // 20))
        server = Server(index_dir, args.server_log)
        try:
            server.wait_ready()
            warm = asyncio.run(fire(server.url, warmup, args.concurrency, questions, timeout_s=args.timeout,
                                    max_seconds=args.max_seconds))
            time.sleep(1.0)  # let the allocator settle before the baseline
            rss_warm = rss_bytes(server.proc.pid)
            load = asyncio.run(fire(server.url, args.requests, args.concurrency, questions, offset=warmup,
                                    timeout_s=args.timeout, max_seconds=args.max_seconds))
            time.sleep(1.0)
            rss_after = rss_bytes(server.proc.pid)
            alive = server.proc.poll() is None
        finally:
            exit_code = server.stop()
            log_text = server.log_path.read_text(errors="replace") if server.log_path.exists() else ""
    report = summarize(load)
    drift = drift_pct(rss_warm, rss_after)
    report.update({
        "concurrency": args.concurrency, "warmup": {"requests": warmup, "errors": warm.errors},
        "index_dir": str(index_dir), "index": "small (built for this run)" if built_small else str(index_dir),
        "questions": len(questions),
        "rss_mb": {"after_warmup": round(rss_warm / 2**20, 1), "after_run": round(rss_after / 2**20, 1)},
        "rss_drift_pct": drift, "max_drift_pct": args.max_drift,
        "server_alive_after_run": alive, "server_exit_code": exit_code,
        "machine": machine(),
        "finished_at": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
    })
    problems = []
    if load.errors:
        problems.append(f"{load.errors} failed requests")
    if drift is None:
        problems.append("resident memory could not be measured")
    elif drift > args.max_drift:
        problems.append(f"RSS grew {drift}% (limit {args.max_drift}%)")
    if not alive:
        problems.append("the server died during the run")
    report["passed"] = not problems
    report["problems"] = problems
    report["server_log"] = str(args.server_log)
    report["server_log_problems"] = [line[:300] for line in log_text.splitlines()
                                     if any(w in line for w in LOG_PROBLEMS)][:50]
    return report


def main(argv: Sequence[str] | None = None) -> int:
    args = parse_args(argv)
    try:
        report = run(args)
    except (RuntimeError, TimeoutError, subprocess.SubprocessError, OSError) as exc:
        print(f"bench.reliability: could not run: {exc}", file=sys.stderr)
        return 2
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(report, ensure_ascii=False, indent=2) + "\n", encoding="utf-8")
    if args.hostile:
        print_hostile(report)
        print(f"wrote {args.out}")
        return 0 if report["passed"] else 1
    latency = report["latency_ms"]
    print(f"requests {report['requests']}  completed {report['completed']}  errors {report['errors']}  "
          f"{report['throughput_rps']} req/s  p50 {latency['p50']} ms  p95 {latency['p95']} ms  "
          f"p99 {latency['p99']} ms")
    verdict = "PASS" if report["passed"] else "FAIL: " + "; ".join(report["problems"])
    print(f"RSS after warm-up {report['rss_mb']['after_warmup']} MB, after run {report['rss_mb']['after_run']} MB, "
          f"drift {report['rss_drift_pct']}%  →  {verdict}")
    print(f"wrote {args.out}")
    return 0 if report["passed"] else 1


def print_hostile(report: dict[str, Any]) -> None:
    load = report["load"]
    ask = load["latency_ms_by_path"].get("/ask", {})
    print(f"load: {load['completed']} requests, {load['errors']} errors; /ask p50 {ask.get('p50')} ms, "
          f"p99 {ask.get('p99')} ms, max {ask.get('max')} ms")
    for outcome in report["slow_requests"]:
        print(f"  {outcome['payload']}: {outcome['status']} in {outcome['seconds']} s")
    for job in report["jobs"]:
        print(f"  {job['kind']} {job['target']}: {job['status']} {job['code']} in {job['seconds']} s"
              + (f" ({job['error']})" if job["error"] else ""))
    print(f"documents {report['documents_before']} → {report['documents_after']}, lost {report['lost_documents']}"
          f"  →  {'PASS' if report['passed'] else 'FAIL: ' + '; '.join(report['problems'])}")


if __name__ == "__main__":
    raise SystemExit(main())
