"""POST /ask at one concurrency with 1 and with N server workers: where the slowest requests of a level fall.

    python -m bench.workers [--index-dir var/index] [--workers 1 2] [--concurrency 32] [--requests 2000]

Prints requests/s, p50, p99 and the start time of the slowest requests per worker count; writes nothing.
"""

from __future__ import annotations

import argparse
import asyncio
import time
from pathlib import Path

import httpx

from bench.common import percentiles, questions
from bench.http_load import Server


async def timed_level(url: str, qs: list[str], concurrency: int, n_requests: int) -> tuple[list[tuple[float, float]],
                                                                                             float]:
    """(start offset, latency) of every request, and the level's wall time."""
    limits = httpx.Limits(max_connections=concurrency, max_keepalive_connections=concurrency)
    records: list[tuple[float, float]] = []
    next_id = 0
    async with httpx.AsyncClient(base_url=url, limits=limits, timeout=30) as client:
        started = time.perf_counter()

        async def client_task() -> None:
            nonlocal next_id
            while next_id < n_requests:
                i = next_id
                next_id += 1
                t = time.perf_counter()
                response = await client.post("/ask", json={"question": qs[i % len(qs)]})
                response.raise_for_status()
                records.append((t - started, time.perf_counter() - t))

        await asyncio.gather(*(client_task() for _ in range(concurrency)))
        return records, time.perf_counter() - started


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--index-dir", type=Path, default=Path("var/index"))
    parser.add_argument("--workers", type=int, nargs="+", default=[1, 2])
    parser.add_argument("--concurrency", type=int, default=32)
    parser.add_argument("--requests", type=int, default=2000)
    args = parser.parse_args()
    qs = questions()
    for workers in args.workers:
        server = Server(args.index_dir, workers, Path(f"/tmp/reportqa-bench-workers-{workers}.log"))
        try:
            server.wait_ready(120)
            asyncio.run(timed_level(server.url, qs, 8, 200))  # warm connections and caches
            records, wall = asyncio.run(timed_level(server.url, qs, args.concurrency, args.requests))
        finally:
            server.stop()
        stats = percentiles([latency for _, latency in records])
        slowest = sorted(records, key=lambda r: -r[1])[:10]
        print(f"workers {workers}: {len(records) / wall:.0f} req/s, p50 {stats['p50_ms']} ms, p99 {stats['p99_ms']} ms;"
              f" slowest (start s, ms): {[(round(s, 2), round(lat * 1000)) for s, lat in slowest]}")


if __name__ == "__main__":
    main()
