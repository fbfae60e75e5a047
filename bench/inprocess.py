"""Benchmarks 1 and 2: index build of the five reports (cold and warm) and in-process query latency.

Each system runs in its own worker process so that a cold build really is cold (interpreter start, imports,
model loading or fitting included):

    python -m bench.inprocess ours   --index-dir DIR --out FILE --queries N
    python -m bench.inprocess recipe --out FILE --queries N

The worker builds twice (the second build is the warm one), then times N questions of eval/qa.jsonl, cycled.
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path
from typing import Any

from bench.common import (
    CORPUS,
    Completed,
    child_env,
    disk_mb,
    log,
    peak_rss_mb,
    percentiles,
    questions,
    read_json,
    reportqa_cmd,
    run_bounded,
    worker_cmd,
    write_json,
)

WARMUP = 20
RECIPE_K = 5  # the same number of passages as reportqa's default top_k


def _timed_loop(fn: Any, qs: list[str], n: int, before: Any = None) -> list[float]:
    """Seconds per call; `before` runs untimed ahead of each (clearing a cache, so a cycled question is new)."""
    samples = []
    for i in range(n):
        q = qs[i % len(qs)]
        if before is not None:
            before()
        t = time.perf_counter()
        fn(q)
        samples.append(time.perf_counter() - t)
    return samples


def ours_worker(index_dir: Path, out: Path, n_queries: int) -> None:
    from reportqa.index.store import current_version_path

    from reportqa.core.settings import Settings
    from reportqa.engine import build, open_engine

    settings = Settings(index_dir=index_dir, corpus=[CORPUS])
    record: dict[str, Any] = {"system": "reportqa"}
    t = time.perf_counter()
    report = build(settings)
    record["first_build_s"] = round(time.perf_counter() - t, 3)
    record["first_build_done_wall"] = time.time()
    t = time.perf_counter()
    report = build(settings)
    record["warm_build_s"] = round(time.perf_counter() - t, 3)
    record.update(documents=report.documents, chunks=report.chunks,
                  index_mb=disk_mb(current_version_path(index_dir)), peak_rss_build_mb=peak_rss_mb())
    write_json(out, record)
    t = time.perf_counter()
    engine = open_engine(settings)
    record["open_s"] = round(time.perf_counter() - t, 3)
    qs = questions()
    for q in qs[:WARMUP]:
        engine.ask(q)
    forget_pairs = getattr(engine.models.verifier, "forget", lambda: None)

    def forget() -> None:  # every question encoded and verified, as a new user's would be
        engine.index.query_vectors.clear()
        forget_pairs()

    record["ask"] = percentiles(_timed_loop(engine.ask, qs, n_queries, forget))
    record["search"] = percentiles(_timed_loop(engine.search, qs, n_queries, forget))
    record["peak_rss_mb"] = peak_rss_mb()
    write_json(out, record)


def recipe_worker(out: Path, n_queries: int) -> None:
    from reportqa.eval.baseline import LangChainRecipe
    from reportqa.ingest.load import load_documents

    def construct() -> LangChainRecipe:
        documents, _ = load_documents([CORPUS])
        return LangChainRecipe(documents, k=RECIPE_K)

    record: dict[str, Any] = {"system": "langchain-recipe"}
    t = time.perf_counter()
    recipe = construct()
    record["first_build_s"] = round(time.perf_counter() - t, 3)
    record["first_build_done_wall"] = time.time()
    t = time.perf_counter()
    recipe = construct()
    record["warm_build_s"] = round(time.perf_counter() - t, 3)
    record.update(chunks=recipe.chunks, peak_rss_build_mb=peak_rss_mb())
    write_json(out, record)
    qs = questions()
    for q in qs[:WARMUP]:
        recipe.retrieve(q)
    record["invoke"] = percentiles(_timed_loop(recipe.retrieve, qs, n_queries))
    record["peak_rss_mb"] = peak_rss_mb()
    write_json(out, record)


def _worker_result(done: Completed, out: Path) -> dict[str, Any]:
    record = read_json(out) or {}
    if done.timed_out:
        record["error"] = f"killed at the time limit after {done.wall_s:.0f} s"
    elif done.returncode:
        record["error"] = f"exit {done.returncode}: {done.tail()}"
    if "first_build_done_wall" in record:
        record["cold_build_s"] = round(record.pop("first_build_done_wall") - done.started_wall, 3)
    return record


def run(work: Path, bench_index: Path, n_queries: int, timeout_s: float) -> tuple[dict[str, Any], dict[str, Any]]:
    """(build results, latency results); builds `bench_index` with the CLI as the cold build of reportqa."""
    build: dict[str, Any] = {"corpus": str(CORPUS.relative_to(CORPUS.parent))}
    latency: dict[str, Any] = {"queries": n_queries, "warmup": WARMUP, "recipe_k": RECIPE_K}

    log(f"build: reportqa index --index-dir {bench_index} (cold, fresh process)")
    done = run_bounded([*reportqa_cmd(), "index", "--index-dir", str(bench_index)], timeout_s)
    cli: dict[str, Any] = {"command": "reportqa index --index-dir <tmp>", "wall_s": round(done.wall_s, 3),
                           "returncode": done.returncode}
    if done.returncode:
        cli["error"] = done.tail()
    build["reportqa_cli_cold"] = cli

    log("build+latency: reportqa worker")
    out = work / "ours-worker.json"
    done = run_bounded(worker_cmd("bench.inprocess", "ours", "--index-dir", str(work / "ours-worker-index"),
                                  "--out", str(out), "--queries", str(n_queries)), timeout_s, env=child_env())
    ours = _worker_result(done, out)
    log("build+latency: LangChain recipe worker")
    out = work / "recipe-worker.json"
    done = run_bounded(worker_cmd("bench.inprocess", "recipe", "--out", str(out), "--queries", str(n_queries)),
                       timeout_s, env=child_env())
    recipe = _worker_result(done, out)

    def build_part(rec: dict[str, Any], cold: float | None) -> dict[str, Any]:
        keys = ("chunks", "documents", "first_build_s", "warm_build_s", "index_mb", "peak_rss_build_mb", "error")
        return {"cold_build_s": cold, **{k: rec[k] for k in keys if k in rec},
                "cold_build_in_worker_s": rec.get("cold_build_s")}

    build["reportqa"] = build_part(ours, cli["wall_s"] if cli["returncode"] == 0 else None)
    build["langchain_recipe"] = build_part(recipe, recipe.get("cold_build_s"))
    latency["reportqa"] = {"ask": ours.get("ask"), "search": ours.get("search"), "open_s": ours.get("open_s"),
                           "peak_rss_mb": ours.get("peak_rss_mb"), "error": ours.get("error")}
    latency["langchain_recipe"] = {"invoke": recipe.get("invoke"), "peak_rss_mb": recipe.get("peak_rss_mb"),
                                   "error": recipe.get("error")}
    ours_p50 = (ours.get("ask") or {}).get("p50_ms")
    recipe_p50 = (recipe.get("invoke") or {}).get("p50_ms")
    if ours_p50 and recipe_p50:
        latency["p50_ratio_recipe_over_ask"] = round(recipe_p50 / ours_p50, 2)
    return build, latency


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("system", choices=["ours", "recipe"])
    parser.add_argument("--index-dir", type=Path)
    parser.add_argument("--out", type=Path, required=True)
    parser.add_argument("--queries", type=int, default=1020)
    args = parser.parse_args()
    if args.system == "ours":
        ours_worker(args.index_dir, args.out, args.queries)
    else:
        recipe_worker(args.out, args.queries)


if __name__ == "__main__":
    main()
