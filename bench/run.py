"""Run every benchmark, side by side with the LangChain recipe, and write bench/results/*.json + PNG plots.

    python -m bench.run            # the full run (`make bench`): scale 10k, 100k and 1M, 2,000 requests per level
    python -m bench.run --quick    # a short validation run: scale 10k only, fewer HTTP requests, *-quick.json

Sections (each bounded in time; a failing section is recorded and the others still run):
  inprocess  index build of the five reports, cold and warm, and in-process query latency (build.json,
             latency.json)
  http       POST /ask through `reportqa serve --workers 2` at concurrency 1, 8, 32 (http.json, http.png)
  batch      3,219 CMRC questions through `reportqa ask --batch`; 1,000 claims through `reportqa cite --batch`
             (batch.json)
  scale      synthetic corpora of 10k/100k/1M chunks, reportqa vs the recipe (scale.json, scale.png)
"""

from __future__ import annotations

import argparse
import os
import time
import traceback
from collections.abc import Callable
from pathlib import Path
from typing import Any

from bench import batch, http_load, inprocess, scale
from bench.common import (
    WORK,
    fresh_dir,
    git_revision,
    log,
    machine,
    read_json,
    reportqa_cmd,
    result_path,
    run_bounded,
    write_json,
)
from bench.plots import http_plot, scale_plot
from bench.report import update_readme

SECTIONS = ("inprocess", "http", "batch", "scale")


def profile(quick: bool) -> dict[str, Any]:
    if quick:
        return {"queries": 1020, "http_requests": 300, "http_level_timeout_s": 30, "scale_sizes": [10_000],
                "ours_build_budget_s": 600, "recipe_build_budget_s": 300, "scale_queries": 170,
                "scale_time_box_s": 30, "section_timeout_s": 1800}
    return {"queries": 1020, "http_requests": 2000, "http_level_timeout_s": 120,
            "scale_sizes": [10_000, 100_000, 1_000_000], "ours_build_budget_s": 3600,
            "recipe_build_budget_s": 600, "scale_queries": 510, "scale_time_box_s": 120, "section_timeout_s": 3600}


def ensure_index(index_dir: Path, timeout_s: float) -> None:
    done = run_bounded([*reportqa_cmd(), "index", "--if-missing", "--index-dir", str(index_dir)], timeout_s)
    if done.returncode:
        raise RuntimeError(f"could not build the bench index: {done.tail()}")


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--quick", action="store_true", help="short validation run; writes *-quick.json")
    parser.add_argument("--only", nargs="+", choices=SECTIONS, default=list(SECTIONS), help="sections to run")
    parser.add_argument("--sizes", type=int, nargs="+", default=None, help="scale sizes (chunks)")
    parser.add_argument("--http-requests", type=int, default=None, help="requests per concurrency level")
    parser.add_argument("--recipe-build-budget", type=float, default=None, help="seconds (scale)")
    parser.add_argument("--ours-build-budget", type=float, default=None, help="seconds (scale)")
    parser.add_argument("--keep", action="store_true", help="keep the temporary indexes under var/bench/")
    return parser.parse_args(argv)


def section_actions(args: argparse.Namespace, params: dict[str, Any], work: Path) -> dict[str, Callable[[], None]]:
    """What each section runs, writing its results file."""
    quick, bench_index = args.quick, work / "reports-index"

    def do_inprocess() -> None:
        built, latency = inprocess.run(work, bench_index, params["queries"], params["section_timeout_s"])
        write_json(result_path("build", quick), built)
        write_json(result_path("latency", quick), latency)

    def do_http() -> None:
        ensure_index(bench_index, params["section_timeout_s"])
        result = http_load.run(bench_index, work, params["http_requests"], params["http_level_timeout_s"])
        write_json(result_path("http", quick), result)

    def do_batch() -> None:
        ensure_index(bench_index, params["section_timeout_s"])
        result = {"cmrc_ask": batch.cmrc(work, params["section_timeout_s"]),
                  "cite": batch.cite(work, bench_index, params["section_timeout_s"])}
        write_json(result_path("batch", quick), result)

    def do_scale() -> None:
        scale.run(result_path("scale", quick), params["scale_sizes"], params["ours_build_budget_s"],
                  params["recipe_build_budget_s"], params["scale_queries"], params["scale_time_box_s"],
                  keep=args.keep)

    return {"inprocess": do_inprocess, "http": do_http, "batch": do_batch, "scale": do_scale}


def run_sections(actions: dict[str, Callable[[], None]], only: list[str], meta: dict[str, Any], meta_path: Path
                 ) -> int:
    """Each chosen section in order; a failure is recorded and the others still run. Returns the failures."""
    failed = 0
    for name in SECTIONS:
        if name not in only:
            continue
        started = time.perf_counter()
        status: dict[str, Any] = {"started": time.strftime("%Y-%m-%d %H:%M:%S %z"),
                                  "loadavg_at_start": [round(v, 2) for v in os.getloadavg()],
                                  "git": git_revision()}  # others may commit while a long run is going
        try:
            actions[name]()
            status["ok"] = True
        except Exception as exc:  # one broken section must not lose the others' numbers
            failed += 1
            status.update(ok=False, error=f"{type(exc).__name__}: {exc}", traceback=traceback.format_exc()[-3000:])
            log(f"{name} failed: {exc}")
        status["seconds"] = round(time.perf_counter() - started, 1)
        meta["sections"][name] = status
        write_json(meta_path, meta)
    return failed


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    quick = args.quick
    params = profile(quick)
    for key, value in (("scale_sizes", args.sizes), ("http_requests", args.http_requests),
                       ("recipe_build_budget_s", args.recipe_build_budget),
                       ("ours_build_budget_s", args.ours_build_budget)):
        if value is not None:
            params[key] = value
    work = fresh_dir(WORK / ("run-quick" if quick else "run"))
    meta_path = result_path("run", quick)
    previous = read_json(meta_path) or {}
    meta: dict[str, Any] = {"mode": "quick" if quick else "full", "machine": machine(), "params": params,
                            "sections": previous.get("sections", {}) if set(args.only) != set(SECTIONS) else {}}
    write_json(meta_path, meta)
    log(f"{meta['mode']} run on {meta['machine']['nproc']} CPUs, {meta['machine']['memory_gib']} GiB, "
        f"load {meta['machine']['loadavg_at_start']}; sections {args.only}")
    failed = run_sections(section_actions(args, params, work), args.only, meta, meta_path)
    note = f"{meta['mode']} run, {meta['machine']['date']}, {meta['machine']['nproc']} CPUs"
    scale_result = read_json(result_path("scale", quick))
    if scale_result:
        scale_plot(scale_result, result_path("scale", quick, ".png"), note)
    http_result = read_json(result_path("http", quick))
    if http_result:
        http_plot(http_result, result_path("http", quick, ".png"), note)
    update_readme()
    if not args.keep:
        fresh_dir(work).rmdir()
    log(f"done; results in bench/results/ ({failed} section(s) failed)")
    return 1 if failed else 0


if __name__ == "__main__":
    raise SystemExit(main())
