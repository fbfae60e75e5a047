"""POST /ask at one concurrency with 1 and with N server workers: where the slowest requests of a level fall.

    python -m bench.workers [--index-dir var/index] [--workers 1 2] [--concurrency 32] [--requests 2000]

Prints requests/s, p50, p99 and the start time of the slowest requests per worker count; writes nothing.
"""

from __future__ import annotations

import argparse
import asyncio
from pathlib import Path

from bench.common import questions
from bench.http_load import Server, load_level


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
            asyncio.run(load_level(server.url, qs, 8, 200, 60))  # warm connections and caches
            level = asyncio.run(load_level(server.url, qs, args.concurrency, args.requests, 300))
        finally:
            server.stop()
        print(f"workers {workers}: {level['requests_per_s']:.0f} req/s, p50 {level['p50_ms']} ms, "
              f"p99 {level['p99_ms']} ms, errors {level['errors']}; slowest (start s, ms): {level['slowest']}")


if __name__ == "__main__":
    main()
