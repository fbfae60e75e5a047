"""Benchmark 3: POST /ask through uvicorn on 127.0.0.1 with a bounded async load generator.

The server runs as a subprocess (`reportqa serve --workers 2 --port <free>`) so the load generator, in this
process, does not share its interpreter. Each concurrency level sends at most N requests and stops early at a
time limit; requests/s counts completed requests (successes and errors) over the level's wall time.

    python -m bench.http_load --index-dir DIR [--requests 2000] [--levels 1 8 32] [--level-timeout 120] [--fresh]

By default the levels cycle eval/qa.jsonl's questions, so the workers' question-vector caches answer most of them;
`--fresh` gives every request a question no earlier request asked (the report sets' questions, then CMRC 2018's,
as many as there are), as new users' questions would be.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import socket
import subprocess
import time
from collections import Counter
from pathlib import Path
from typing import Any

import httpx

from bench.common import CMRC, ROOT, child_env, kill_group, log, percentiles, questions, reportqa_cmd

LEVELS = (1, 8, 32)
HOST = "127.0.0.1"


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind((HOST, 0))
        return int(sock.getsockname()[1])


class Server:
    """`reportqa serve` in its own process group, stopped (only that group) on exit."""

    def __init__(self, index_dir: Path, workers: int, log_path: Path) -> None:
        self.port = free_port()
        self.workers = workers
        self.url = f"http://{HOST}:{self.port}"
        self._log = log_path.open("w", encoding="utf-8")
        cmd = [*reportqa_cmd(), "serve", "--index-dir", str(index_dir), "--host", HOST, "--port", str(self.port),
               "--workers", str(workers)]
        self.proc = subprocess.Popen(cmd, env=child_env(), stdout=self._log, stderr=subprocess.STDOUT,
                                     start_new_session=True)

    def wait_ready(self, timeout_s: float) -> float:
        """Until every worker has answered /healthz: a worker listens only once it has started."""
        started = time.perf_counter()
        answered: set[int] = set()
        while time.perf_counter() - started < timeout_s:
            if self.proc.poll() is not None:
                raise RuntimeError(f"server exited with {self.proc.returncode}; see {self._log.name}")
            try:
                r = httpx.get(f"{self.url}/healthz", timeout=5)  # a fresh connection each time
                if r.status_code == 200 and r.json().get("status") == "ok":
                    answered.add(r.json().get("worker"))
                    if len(answered) >= self.workers:
                        return time.perf_counter() - started
            except httpx.HTTPError:
                pass
            time.sleep(0.25)
        raise TimeoutError(f"server not ready after {timeout_s:.0f} s; see {self._log.name}")

    def stop(self) -> None:
        import signal

        if self.proc.poll() is None:
            kill_group(self.proc, signal.SIGTERM)
            try:
                self.proc.wait(timeout=20)
            except subprocess.TimeoutExpired:
                kill_group(self.proc)
                self.proc.wait(timeout=10)
        self._log.close()

    def __enter__(self) -> Server:
        return self

    def __exit__(self, *_: object) -> None:
        self.stop()


class _Connection:
    """One keep-alive HTTP/1.1 connection over asyncio streams: httpx's client added ~1.4 ms per request
    (171 vs 224 req/s at concurrency 1), CPU the server then lacked on two cores."""

    def __init__(self, host: str, port: int) -> None:
        self.host, self.port = host, port
        self._streams: tuple[asyncio.StreamReader, asyncio.StreamWriter] | None = None

    async def post_json(self, path: str, payload: dict[str, Any]) -> tuple[int, bytes]:
        if self._streams is None:
            self._streams = await asyncio.open_connection(self.host, self.port)
        reader, writer = self._streams
        body = json.dumps(payload, ensure_ascii=False).encode("utf-8")
        writer.write(b"POST %s HTTP/1.1\r\nHost: %s\r\nContent-Type: application/json\r\n"
                     b"Content-Length: %d\r\n\r\n%s" % (path.encode(), self.host.encode(), len(body), body))
        head = await reader.readuntil(b"\r\n\r\n")
        status = int(head.split(b" ", 2)[1])
        length = next((int(line.split(b":", 1)[1]) for line in head.split(b"\r\n")
                       if line.lower().startswith(b"content-length:")), 0)
        content = await reader.readexactly(length)
        if any(line.lower() == b"connection: close" for line in head.split(b"\r\n")):
            self.close()
        return status, content

    def close(self) -> None:
        if self._streams is not None:
            self._streams[1].close()
            self._streams = None


async def load_level(url: str, qs: list[str], concurrency: int, n_requests: int, timeout_s: float,
                     request_timeout_s: float = 30.0) -> dict[str, Any]:
    """`concurrency` connections share a request counter; stop at n_requests or timeout_s, whichever first."""
    host, port = url.removeprefix("http://").rsplit(":", 1)
    latencies: list[float] = []
    starts: list[float] = []  # when each successful request was sent, seconds into the level
    errors: Counter[str] = Counter()
    next_id = 0
    started = time.perf_counter()
    deadline = started + timeout_s

    async def client_task() -> None:
        nonlocal next_id
        connection = _Connection(host, int(port))
        while next_id < n_requests and time.perf_counter() < deadline:
            i = next_id
            next_id += 1
            t = time.perf_counter()
            try:
                status, _ = await asyncio.wait_for(
                    connection.post_json("/ask", {"question": qs[i % len(qs)], "id": f"b{i}"}), request_timeout_s)
                if status == 200:
                    latencies.append(time.perf_counter() - t)
                    starts.append(t - started)
                else:
                    errors[f"http_{status}"] += 1
            except (TimeoutError, OSError, asyncio.IncompleteReadError, ValueError) as exc:
                errors[type(exc).__name__] += 1
                connection.close()
        connection.close()

    await asyncio.gather(*(client_task() for _ in range(concurrency)))
    elapsed = time.perf_counter() - started
    done = len(latencies) + sum(errors.values())
    slowest = sorted(zip(latencies, starts, strict=True), reverse=True)[:10]  # (latency, sent at)
    return {"concurrency": concurrency, "requests": done, "ok": len(latencies), "errors": sum(errors.values()),
            "error_kinds": dict(errors), "wall_s": round(elapsed, 3),
            "requests_per_s": round(done / elapsed, 2) if elapsed > 0 else None,
            "stopped_by_time_limit": done < n_requests, **percentiles(latencies),
            "slowest": [(round(s, 2), round(lat * 1000)) for lat, s in slowest]}


def distinct_questions() -> list[str]:
    """Every question of the project's Q&A sets and of CMRC 2018 dev (when present), each once, in file order."""
    paths = [*sorted((ROOT / "eval").glob("**/qa.jsonl")), CMRC / "qa.jsonl"]
    seen: dict[str, None] = {}
    for path in paths:
        if path.is_file() and not any(part.startswith("sealed") for part in path.parts):
            seen.update((q, None) for q in questions(path))
    return list(seen)


def run(index_dir: Path, work: Path, n_requests: int, level_timeout_s: float, workers: int = 2,
        levels: tuple[int, ...] = LEVELS, fresh: bool = False) -> dict[str, Any]:
    warm_n = 20 * workers
    pool = distinct_questions() if fresh else questions()
    if fresh:
        n_requests = min(n_requests, (len(pool) - warm_n) // len(levels))
    result: dict[str, Any] = {"endpoint": "POST /ask", "server": f"reportqa serve --workers {workers}",
                              "requests_per_level": n_requests, "level_timeout_s": level_timeout_s,
                              "questions": "each request a new question" if fresh else "eval/qa.jsonl, cycled",
                              "levels": []}

    def level_questions(n: int) -> list[str]:  # the next unused block when fresh, else the whole list
        return pool[warm_n + n * n_requests: warm_n + (n + 1) * n_requests] if fresh else pool

    with Server(index_dir, workers, work / "server.log") as server:
        result["ready_s"] = round(server.wait_ready(180), 2)
        log(f"http: server ready on {server.url} after {result['ready_s']} s; warming every worker")
        warm = asyncio.run(load_level(server.url, pool[:warm_n], 2 * workers, warm_n, 60))
        result["warmup"] = {"requests": warm["requests"], "errors": warm["errors"]}
        for n, concurrency in enumerate(levels):
            level = asyncio.run(load_level(server.url, level_questions(n), concurrency, n_requests,
                                           level_timeout_s))
            log(f"http: c={concurrency} {level['requests_per_s']} req/s p50 {level['p50_ms']} ms "
                f"p99 {level['p99_ms']} ms errors {level['errors']}")
            result["levels"].append(level)
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--index-dir", type=Path, required=True)
    parser.add_argument("--requests", type=int, default=2000)
    parser.add_argument("--levels", type=int, nargs="+", default=list(LEVELS))
    parser.add_argument("--level-timeout", type=float, default=120)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--fresh", action="store_true", help="a question no earlier request asked, every request")
    args = parser.parse_args()
    work = Path("var/bench/http")
    work.mkdir(parents=True, exist_ok=True)
    print(json.dumps(run(args.index_dir, work, args.requests, args.level_timeout, args.workers,
                         tuple(args.levels), args.fresh), indent=2))


if __name__ == "__main__":
    main()
