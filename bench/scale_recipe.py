"""The scale benchmark's LangChain recipe worker, and the time-boxed query loop both systems' workers use."""

from __future__ import annotations

import pickle
import statistics
import tempfile
import time
from pathlib import Path
from typing import Any

from bench.common import WORK, peak_rss_mb, percentiles, questions, rss_mb, write_json
from bench.synthetic import synthetic_texts

RECIPE_K = 5
EMBED_SAMPLE = 128


def query_loop(fn: Any, qs: list[str], n: int, time_box_s: float, max_query_s: float | None = None
                ) -> tuple[list[float], str | None]:
    """Up to n timed calls within time_box_s; stops early (with a reason) when the first 5 are too slow."""
    samples: list[float] = []
    started = time.perf_counter()
    for i in range(n):
        t = time.perf_counter()
        fn(qs[i % len(qs)])
        samples.append(time.perf_counter() - t)
        if max_query_s is not None and len(samples) == 5 and statistics.median(samples) > max_query_s:
            return samples, f"median of the first 5 queries {statistics.median(samples):.2f} s > {max_query_s} s"
        if time.perf_counter() - started > time_box_s:
            break
    return samples, None


def _recipe_index_mb(recipe: Any, dense: bool) -> float | None:
    """The recipe keeps its index in memory; this is its serialised size (FAISS.save_local + BM25 pickle)."""
    try:
        retriever = recipe._retriever
        bm25 = retriever.retrievers[0] if dense else retriever
        size = len(pickle.dumps((bm25.vectorizer, bm25.docs), protocol=pickle.HIGHEST_PROTOCOL))
        if dense:
            with tempfile.TemporaryDirectory(dir=WORK) as tmp:
                retriever.retrievers[1].vectorstore.save_local(tmp)
                size += sum(p.stat().st_size for p in Path(tmp).iterdir())
        return round(size / 2**20, 2)
    except Exception:  # internals of third-party classes: a missing size must not lose the run
        return None


def recipe_worker(n: int, dense: bool, out: Path, build_budget_s: float, n_queries: int, time_box_s: float,
                  max_query_s: float) -> None:
    from reportqa.eval.baseline import LangChainRecipe

    from reportqa.core.types import Document

    record: dict[str, Any] = {"system": "recipe" if dense else "recipe-bm25", "chunks": n}
    t = time.perf_counter()
    documents = [Document(doc=f"synthetic-{i:07d}", title="", text=text) for i, text in enumerate(synthetic_texts(n))]
    record["generate_s"] = round(time.perf_counter() - t, 2)
    record["rss_after_data_mb"] = rss_mb()
    if dense:  # MiniLM embedding dominates the build: measure its rate on a sample before committing
        from langchain_community.embeddings import HuggingFaceEmbeddings
        from reportqa.index.models import _minilm_path

        embeddings = HuggingFaceEmbeddings(model_name=str(_minilm_path()))
        sample = [d.text for d in documents[:EMBED_SAMPLE]]
        embeddings.embed_documents(sample[:8])
        t = time.perf_counter()
        embeddings.embed_documents(sample)
        rate = len(sample) / (time.perf_counter() - t)
        record["embed_chunks_per_s"] = round(rate, 2)
        record["projected_build_s"] = round(n / rate, 1)
        del embeddings
        if n / rate > build_budget_s:
            record.update(status="stopped", stage="build",
                          reason=f"projected MiniLM embedding {n / rate:.0f} s ({rate:.1f} chunks/s on a "
                                 f"{len(sample)}-chunk sample) > build budget {build_budget_s:.0f} s")
            write_json(out, record)
            return
    write_json(out, record)
    t = time.perf_counter()
    recipe = LangChainRecipe(documents, k=RECIPE_K, dense=dense)
    record["build_s"] = round(time.perf_counter() - t, 3)
    record["recipe_chunks"] = recipe.chunks
    record["peak_rss_build_mb"] = peak_rss_mb()
    write_json(out, record)
    if record["build_s"] > build_budget_s:
        record.update(status="stopped", stage="build",
                      reason=f"build took {record['build_s']:.0f} s > budget {build_budget_s:.0f} s")
    qs = questions()
    recipe.retrieve(qs[0])
    samples, reason = query_loop(recipe.retrieve, qs, n_queries, time_box_s, max_query_s)
    record["invoke"] = percentiles(samples)
    if reason:
        record.update(status="stopped", stage="query", reason=reason)
    record["peak_rss_mb"] = peak_rss_mb()
    write_json(out, record)
    record["index_mb"] = _recipe_index_mb(recipe, dense)
    write_json(out, record)


# ---------------------------------------------------------------- orchestration
