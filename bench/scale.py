"""Benchmark 4: the scale curve on synthetic corpora resampled from the real reports' sentences.

Sentences come from the five reports (ingest.chunk.split_sentences, line by line); chunk i is 3-6 of them
drawn with a fixed seed, so every worker regenerates exactly the same corpus without passing it around.
Each (system, size) runs in a fresh worker process with a hard time limit; peak memory is the worker's own
ru_maxrss. Systems:

  reportqa     index.build.build_index(BuildRequest(synthetic chunks)) with the default corpus-static
               embedder, then (fresh process) open_engine + Engine.ask / Engine.search;
  recipe       eval.baseline.LangChainRecipe (BM25Retriever + FAISS(MiniLM) + EnsembleRetriever), one
               synthetic chunk per LangChain document, then retriever.invoke;
  recipe-bm25  the same recipe without its dense half (dense=False). Its query time is a lower bound of the
               full recipe's (which adds a MiniLM query embedding and a FAISS search), so it still gives a
               ratio where MiniLM embedding makes the full recipe impractical to build.

A system stops at the first size where it is impractical (build over its budget, measured or projected
from a sample; query p50 over --max-query-s) and larger sizes are recorded as skipped with the reason.

    python -m bench.scale --sizes 10000 100000 [--recipe-build-budget 600] [--ours-build-budget 3600]
"""

from __future__ import annotations

import argparse
import os
import shutil
import time
from pathlib import Path
from typing import Any

from bench.common import (
    WORK,
    Completed,
    default_memory_limit_mb,
    disk_mb,
    fresh_dir,
    log,
    peak_rss_mb,
    percentiles,
    questions,
    read_json,
    rss_mb,
    run_bounded,
    worker_cmd,
    write_json,
)
from bench.scale_recipe import query_loop, recipe_worker
from bench.synthetic import CHUNKS_PER_DOC, SEED, doc_name, sentence_pool, synthetic_chunks, synthetic_texts

SYSTEMS = ("reportqa", "recipe-bm25", "recipe")
RECALL_FRESH = 230  # synthetic chunks (another seed) that join the eval questions as recall queries



# ---------------------------------------------------------------- workers (one process each)


def ours_build_worker(n: int, index_dir: Path, out: Path) -> None:
    from reportqa.index.build import BuildRequest, build_index
    from reportqa.index.models import CORPUS_STATIC
    from reportqa.index.store import current_version_path

    from reportqa.core.settings import Settings
    from reportqa.engine import chunker_manifest

    record: dict[str, Any] = {"system": "reportqa", "chunks": n}
    t = time.perf_counter()
    chunks = synthetic_chunks(n)
    documents = {doc_name(i): {"title": doc_name(i), "chunks": CHUNKS_PER_DOC}
                 for i in range(0, n, CHUNKS_PER_DOC)}
    record["generate_s"] = round(time.perf_counter() - t, 2)
    record["rss_after_data_mb"] = rss_mb()
    write_json(out, record)
    settings = Settings()
    request = BuildRequest(chunks, documents, f"synthetic-{SEED}-{n}", CORPUS_STATIC, settings.embed_dim,
                           chunker_manifest(settings), {"synthetic": True})
    t = time.perf_counter()
    build_index(index_dir, request)
    record["build_s"] = round(time.perf_counter() - t, 3)
    record["peak_rss_build_mb"] = peak_rss_mb()
    version = current_version_path(index_dir)
    record["index_mb"] = disk_mb(version)
    manifest = read_json(version / "manifest.json") or {}
    record["build_stages_s"] = manifest.get("stage_seconds")
    record["dense_index"] = manifest.get("dense_index")
    write_json(out, record)


def rss_split_mb() -> dict[str, float]:
    """Resident memory of this process by kind: anonymous (its own) and file-backed (memory-mapped index
    files, shared with every other process that maps them through the page cache)."""
    fields = {"RssAnon:": "anon", "RssFile:": "file", "RssShmem:": "shmem"}
    found: dict[str, float] = {}
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            key, _, value = line.partition("\t")
            name = fields.get(key.strip())
            if name and value.strip():
                found[name] = round(int(value.split()[0]) / 1024, 1)
    except (OSError, ValueError, IndexError):
        pass
    return found


def dense_recall(index: Any, embedder: Any, n_fresh: int = RECALL_FRESH) -> dict[str, Any]:
    """recall@10 of the approximate dense index against exact search over the same vectors.

    Queries: the eval questions and `n_fresh` synthetic chunks drawn with another seed (new combinations of
    the corpus's sentences), embedded as the server embeds questions. The exact neighbours are computed over
    the index's own stored vectors (memory-mapped, not copied).
    """
    import faiss
    import numpy as np
    from reportqa.index.dense import RECALL_K, SEARCH_K, exact_neighbours, recall_at

    native = index.faiss_index
    if not isinstance(native, faiss.IndexHNSW):
        return {"kind": index.params.get("kind"), "exact": True}
    storage = faiss.downcast_index(native.storage)
    vectors = faiss.rev_swig_ptr(storage.get_xb(), storage.ntotal * storage.d).reshape(storage.ntotal, storage.d)
    texts = questions() + list(synthetic_texts(n_fresh, seed=SEED + 1))
    queries = np.ascontiguousarray(embedder.encode(texts), dtype=np.float32)
    faiss.omp_set_num_threads(os.cpu_count() or 1)
    truth = exact_neighbours(queries, vectors, RECALL_K)
    faiss.omp_set_num_threads(1)
    found = np.vstack([index.search(q, SEARCH_K)[1][None, :RECALL_K] for q in queries])
    n_questions = len(texts) - n_fresh
    return {"kind": "hnsw", "exact": False, "efSearch": int(native.hnsw.efSearch), "queries": len(texts),
            "recall_at_10": round(recall_at(found, truth), 4),
            "recall_at_10_questions": round(recall_at(found[:n_questions], truth[:n_questions]), 4),
            "recall_at_10_fresh_chunks": round(recall_at(found[n_questions:], truth[n_questions:]), 4)}


def ours_query_worker(index_dir: Path, out: Path, n_queries: int, time_box_s: float) -> None:
    from reportqa.core.settings import Settings
    from reportqa.engine import open_engine

    record: dict[str, Any] = {"system": "reportqa"}
    t = time.perf_counter()
    engine = open_engine(Settings(index_dir=index_dir))
    record["open_s"] = round(time.perf_counter() - t, 3)
    record["rss_after_open_mb"] = rss_mb()
    record["rss_after_open_split_mb"] = rss_split_mb()
    qs = questions()
    for q in qs[:10]:
        engine.ask(q)
    samples, _ = query_loop(engine.ask, qs, n_queries, time_box_s)
    record["ask"] = percentiles(samples)
    write_json(out, record)
    samples, _ = query_loop(engine.search, qs, n_queries, time_box_s / 2)
    record["search"] = percentiles(samples)
    record["rss_after_queries_mb"] = rss_mb()
    record["rss_after_queries_split_mb"] = rss_split_mb()
    record["peak_rss_mb"] = peak_rss_mb()
    write_json(out, record)
    # after the serving figures: the exact search reads every vector of the index
    record["dense_recall"] = dense_recall(engine.index.dense, engine.index.embedder)
    write_json(out, record)


def _p50_s(row: dict[str, Any]) -> float | None:
    part = row.get("ask") or row.get("invoke") or {}
    return part["p50_ms"] / 1000 if part.get("p50_ms") else None


def _outcome(done: Completed, record: dict[str, Any], limit_s: float, stage: str) -> dict[str, Any]:
    if done.peak_group_rss_mb:
        key = "watchdog_peak_rss_query_mb" if stage == "query" and "build_s" in record else "watchdog_peak_rss_mb"
        record[key] = done.peak_group_rss_mb
    if done.killed_for_memory_mb:
        record.update(status="stopped", stage=stage,
                      reason=f"{stage} killed: its RSS reached {done.killed_for_memory_mb:.0f} MB (limit: 90% of "
                             f"the machine's memory)")
    elif done.timed_out:
        record.update(status="stopped", stage=stage,
                      reason=f"{stage} killed at the {limit_s:.0f} s limit (wall {done.wall_s:.0f} s)")
    elif done.returncode:
        record.update(status="error", stage=stage, reason=f"exit {done.returncode}: {done.tail(800)}")
    return record


class Curve:
    """Runs the sizes in order, one worker per (system, size), writing the JSON after every step."""

    def __init__(self, out: Path, sizes: list[int], ours_budget_s: float, recipe_budget_s: float,
                 n_queries: int, time_box_s: float, max_query_s: float, keep: bool,
                 systems: tuple[str, ...] = SYSTEMS) -> None:
        self.out, self.sizes, self.keep, self.systems = out, sizes, keep, systems
        self.ours_budget_s, self.recipe_budget_s = ours_budget_s, recipe_budget_s
        self.n_queries, self.time_box_s, self.max_query_s = n_queries, time_box_s, max_query_s
        self.rows: list[dict[str, Any]] = []
        self.stopped: dict[str, str] = {}
        self.last: dict[str, dict[str, Any]] = {}
        self.history: dict[str, list[dict[str, Any]]] = {}
        self.memory_limit_mb = default_memory_limit_mb()
        self.result: dict[str, Any] = {
            "seed": SEED, "sentences": len(sentence_pool()), "chunk_sentences": "3-6", "sizes": sizes,
            "ours_build_budget_s": ours_budget_s, "recipe_build_budget_s": recipe_budget_s,
            "max_query_s": max_query_s, "queries_per_size": n_queries, "query_time_box_s": time_box_s,
            "rows": self.rows,
        }

    def save(self) -> None:
        self.result["ratio"] = speed_ratio(self.rows)
        write_json(self.out, self.result)

    def _skip_reason(self, system: str, n: int, budget_s: float) -> str | None:
        if system in self.stopped:
            return f"stopped at a smaller size: {self.stopped[system]}"
        last = self.last.get(system)
        if not last:
            return None
        factor = n / last["chunks"]
        if last.get("build_s") and last["build_s"] * factor > budget_s:
            return (f"projected build {last['build_s'] * factor:.0f} s (linear from {last['build_s']:.0f} s at "
                    f"{last['chunks']:,} chunks) > budget {budget_s:.0f} s")
        memory = self._projected_memory_mb(system, n)
        if memory and self.memory_limit_mb and memory > self.memory_limit_mb:
            return (f"projected peak memory {memory / 1024:.1f} GiB (linear in chunks from the smaller sizes) > "
                    f"{self.memory_limit_mb / 1024:.1f} GiB (90% of this machine)")
        p50 = _p50_s(last)
        if system != "reportqa" and p50 and p50 * factor > self.max_query_s:
            return (f"projected query p50 {p50 * factor:.2f} s (linear from {p50:.3f} s at {last['chunks']:,} "
                    f"chunks) > {self.max_query_s} s")
        return None

    def _projected_memory_mb(self, system: str, n: int) -> float | None:
        """Peak build RSS at n chunks: the line through the last two sizes, else proportional to the last."""
        points = [(r["chunks"], r.get("peak_rss_build_mb")) for r in self.history.get(system, [])]
        points = [(c, m) for c, m in points if m]
        if not points:
            return None
        if len(points) == 1:
            c, m = points[0]
            return m * n / c
        (c1, m1), (c2, m2) = points[-2:]
        slope = max((m2 - m1) / (c2 - c1), 0.0)
        return m2 + slope * (n - c2)

    def _finish(self, system: str, n: int, row: dict[str, Any]) -> None:
        row.setdefault("status", "ok")
        row["system"], row["chunks"] = system, n
        if row["status"] == "ok":
            self.last[system] = row
            self.history.setdefault(system, []).append(row)
        else:
            self.stopped[system] = f"{row.get('reason', row['status'])} (at {n:,} chunks)"
        self.rows.append(row)
        p50 = _p50_s(row)
        log(f"scale: {system} {n:,}: {row['status']} build {row.get('build_s')} s "
            f"p50 {p50 * 1000 if p50 else None} ms {row.get('reason', '')}")
        self.save()

    def run(self) -> dict[str, Any]:
        for n in self.sizes:
            for system in self.systems:
                budget = self.ours_budget_s if system == "reportqa" else self.recipe_budget_s
                reason = self._skip_reason(system, n, budget)
                if reason:
                    self._finish(system, n, {"status": "skipped", "reason": reason})
                    continue
                self._finish(system, n, self._ours(n) if system == "reportqa" else self._recipe(n, system))
        self.save()
        return self.result

    def _ours(self, n: int) -> dict[str, Any]:
        work = fresh_dir(WORK / f"scale-{n}")
        index_dir, out = work / "index", work / "ours-build.json"
        limit = self.ours_budget_s + 120 + n / 2000  # + generating the synthetic chunks
        log(f"scale: reportqa build {n:,} chunks (limit {limit:.0f} s)")
        done = run_bounded(worker_cmd("bench.scale", "ours-build", "--chunks", str(n), "--index-dir",
                                      str(index_dir), "--out", str(out)), limit)
        row = _outcome(done, read_json(out) or {}, limit, "build")
        if "status" not in row and row.get("build_s", 0) > self.ours_budget_s:
            row.update(status="stopped", stage="build",
                       reason=f"build took {row['build_s']:.0f} s > budget {self.ours_budget_s:.0f} s")
        if "status" not in row:
            out = work / "ours-query.json"
            limit = 2.5 * self.time_box_s + 300 + n / 1000  # + opening the index (reading every chunk)
            done = run_bounded(worker_cmd("bench.scale", "ours-query", "--index-dir", str(index_dir), "--out",
                                          str(out), "--queries", str(self.n_queries), "--time-box",
                                          str(self.time_box_s)), limit)
            query = read_json(out) or {}
            query.pop("system", None)
            row.update(query)
            row = _outcome(done, row, limit, "query")
        if not self.keep:
            shutil.rmtree(work, ignore_errors=True)
        return row

    def _recipe(self, n: int, system: str) -> dict[str, Any]:
        work = fresh_dir(WORK / f"scale-{n}-{system}")
        out = work / "recipe.json"
        limit = self.recipe_budget_s + 2 * self.time_box_s + 300 + n / 1000
        log(f"scale: {system} {n:,} chunks (limit {limit:.0f} s)")
        dense = ["--dense"] if system == "recipe" else []
        done = run_bounded(worker_cmd("bench.scale", "recipe", "--chunks", str(n), *dense, "--out", str(out),
                                      "--build-budget", str(self.recipe_budget_s), "--queries",
                                      str(self.n_queries), "--time-box", str(self.time_box_s),
                                      "--max-query-s", str(self.max_query_s)), limit)
        record = read_json(out) or {}
        row = _outcome(done, record, limit, "query" if "build_s" in record else "build")
        shutil.rmtree(work, ignore_errors=True)
        return row


def speed_ratio(rows: list[dict[str, Any]], at: int = 100_000) -> dict[str, Any] | None:
    """recipe p50 / reportqa p50 at `at` chunks (else the largest size both have): how many times faster."""
    def p50(system: str, n: int, part: str) -> float | None:
        for row in rows:
            if row["system"] == system and row["chunks"] == n and row.get("status") == "ok":
                return (row.get(part) or {}).get("p50_ms")
        return None

    sizes = sorted({r["chunks"] for r in rows}, key=lambda n: (n != at, -n))
    for n in sizes:
        ours_ask, ours_search = p50("reportqa", n, "ask"), p50("reportqa", n, "search")
        for system, bound in (("recipe", False), ("recipe-bm25", True)):
            theirs = p50(system, n, "invoke")
            if ours_ask and theirs:
                return {"chunks": n, "recipe_variant": system, "lower_bound": bound,
                        "reportqa_ask_p50_ms": ours_ask, "reportqa_search_p50_ms": ours_search,
                        "recipe_p50_ms": theirs, "ratio_vs_ask": round(theirs / ours_ask, 2),
                        "ratio_vs_search": round(theirs / ours_search, 2) if ours_search else None}
    return None


def run(out: Path, sizes: list[int], ours_budget_s: float, recipe_budget_s: float, n_queries: int,
        time_box_s: float, max_query_s: float = 2.0, keep: bool = False,
        systems: tuple[str, ...] = SYSTEMS) -> dict[str, Any]:
    WORK.mkdir(parents=True, exist_ok=True)
    return Curve(out, sizes, ours_budget_s, recipe_budget_s, n_queries, time_box_s, max_query_s, keep,
                 systems).run()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = parser.add_subparsers(dest="mode")
    p = sub.add_parser("ours-build")
    p.add_argument("--chunks", type=int, required=True)
    p.add_argument("--index-dir", type=Path, required=True)
    p.add_argument("--out", type=Path, required=True)
    p = sub.add_parser("ours-query")
    p.add_argument("--index-dir", type=Path, required=True)
    p.add_argument("--out", type=Path, required=True)
    p.add_argument("--queries", type=int, default=510)
    p.add_argument("--time-box", type=float, default=120)
    p = sub.add_parser("recipe")
    p.add_argument("--chunks", type=int, required=True)
    p.add_argument("--dense", action="store_true")
    p.add_argument("--out", type=Path, required=True)
    p.add_argument("--build-budget", type=float, default=600)
    p.add_argument("--queries", type=int, default=510)
    p.add_argument("--time-box", type=float, default=120)
    p.add_argument("--max-query-s", type=float, default=2.0)
    p = sub.add_parser("curve", help="run the whole curve (what bench.run calls)")
    p.add_argument("--sizes", type=int, nargs="+", default=[10_000, 100_000])
    p.add_argument("--out", type=Path, default=WORK / "scale.json")
    p.add_argument("--ours-build-budget", type=float, default=3600)
    p.add_argument("--recipe-build-budget", type=float, default=600)
    p.add_argument("--queries", type=int, default=510)
    p.add_argument("--time-box", type=float, default=120)
    p.add_argument("--systems", nargs="+", default=list(SYSTEMS), choices=SYSTEMS)
    p.add_argument("--keep", action="store_true")
    args = parser.parse_args()
    if args.mode == "ours-build":
        ours_build_worker(args.chunks, args.index_dir, args.out)
    elif args.mode == "ours-query":
        ours_query_worker(args.index_dir, args.out, args.queries, args.time_box)
    elif args.mode == "recipe":
        recipe_worker(args.chunks, args.dense, args.out, args.build_budget, args.queries, args.time_box,
                      args.max_query_s)
    elif args.mode == "curve":
        run(args.out, args.sizes, args.ours_build_budget, args.recipe_build_budget, args.queries, args.time_box,
            keep=args.keep, systems=tuple(args.systems))
    else:
        parser.print_help()


if __name__ == "__main__":
    main()
