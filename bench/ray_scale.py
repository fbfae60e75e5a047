"""Benchmark: the Ray backend against the embedded engine on this machine (issue 21).

    python -m bench.ray_scale [--shards 1 2 4] [--embed-texts 384] [--out bench/results/ray.json]

1. Queries, five reports: the index written as 1, 2 and 4 shards, the shards served on a one-node Ray cluster
   (deployments reached through their handles, as the router does), eval/qa.jsonl asked one at a time: latency
   p50/p99 against the embedded engine in this process, and whether the top 10 (ids and order) and the answer
   are the embedded engine's. Then the same questions from 8 threads at once: queries per second and p99.
2. Embedding throughput, the stage that grows with the collection: new sentences (not in the vector cache)
   embedded by the Ray Data actor pool on a loopback cluster of one node (2 CPUs: 1 encoder worker, one CPU
   left to the pipeline) and of two (2 + 1 CPUs: 2 encoder workers). This machine has 2 cores either way: the
   second row shows what Ray's orchestration costs or gains, not what a second machine would add.

4. (--parts build) The whole build of a synthetic corpus (--build-chunks passages of resampled report
   sentences, 50 to a document, the corpus-fitted model): embedded, and on Ray with one and two nodes.
3. HNSW recall@10 against shard count: the dense channel is exact below 100,000 vectors per shard
   (index.dense.EXACT_LIMIT), so part 1 is exact. Here 60,000 vectors (the five reports' unit vectors and
   blends of two of them) are split into 1, 2 and 4 shards, each forced to HNSW with the build's own efSearch
   choice; 300 blend queries take each shard's 10 best, merged, against the exact top 10 of all vectors.
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import reportqa.scaleout  # noqa: F401  (Ray's loopback environment, before ray is imported)
from bench.common import log, machine, percentiles, questions, write_json
from reportqa.core.settings import Settings
from reportqa.engine import Engine, build, open_engine

ROOT = Path(__file__).resolve().parents[1]
MODELS = ROOT / "var" / "models"


def timed(engine: Engine, items: list[str]) -> tuple[list[float], list[tuple[Any, ...]]]:
    samples, outputs = [], []
    for question in items:
        started = time.perf_counter()
        trace = engine.run(question, 10)
        samples.append(time.perf_counter() - started)
        outputs.append(([h.chunk.id for h in trace.hits], trace.answer.text, trace.answer.confidence))
    return samples, outputs


def throughput(engine: Engine, items: list[str], threads: int = 8) -> dict[str, Any]:
    def one(question: str) -> float:
        started = time.perf_counter()
        engine.run(question, 10)
        return time.perf_counter() - started

    started = time.perf_counter()
    with ThreadPoolExecutor(threads) as pool:
        samples = list(pool.map(one, items))
    wall = time.perf_counter() - started
    return {"threads": threads, "qps": round(len(items) / wall, 1), **percentiles(samples)}


def query_part(shard_counts: list[int], work: Path) -> dict[str, Any]:
    import ray
    from ray import serve

    from reportqa.collection import sync
    from reportqa.scaleout.build import RayStages
    from reportqa.scaleout.cluster import connect
    from reportqa.scaleout.serve import deploy, engine_on_ray

    items = questions()
    embedded_settings = Settings(index_dir=work / "embedded", models_dir=MODELS)  # type: ignore[call-arg]
    build(embedded_settings)
    embedded = open_engine(embedded_settings)
    timed(embedded, items[:10])  # warm
    base_samples, base_out = timed(embedded, items)
    result: dict[str, Any] = {"questions": len(items), "embedded": percentiles(base_samples),
                              "embedded_threads": throughput(embedded, items), "shards": {}}
    connect(None, num_cpus=2)
    try:
        for n in shard_counts:
            settings = embedded_settings.model_copy(update={"index_dir": work / f"shards{n}", "shards": n})
            sync(settings, stages=RayStages())  # built on the cluster, as `reportqa index --backend ray` does
            handles = deploy(settings, http=False)
            engine = engine_on_ray(settings, handles)
            timed(engine, items[:10])
            samples, outputs = timed(engine, items)
            same_top10 = sum(o[0] == b[0] for o, b in zip(outputs, base_out, strict=True)) / len(items)
            same_answer = sum(o[1:] == b[1:] for o, b in zip(outputs, base_out, strict=True)) / len(items)
            row = {**percentiles(samples), "top10_identical": same_top10, "answer_identical": same_answer,
                   "added_p50_ms": round((statistics.median(samples) - statistics.median(base_samples)) * 1000, 1),
                   "threads": throughput(engine, items)}
            result["shards"][str(n)] = row
            log(f"{n} shards: {row}")
            serve.shutdown()
    finally:
        ray.shutdown()
    return result


def embed_part(n_texts: int) -> dict[str, Any]:
    import ray
    from ray.cluster_utils import Cluster
    from reportqa.index.build import BuildRequest
    from reportqa.index.encoder import E5_SMALL

    from reportqa.core.types import Chunk
    from reportqa.scaleout.build import embed_missing
    from reportqa.scaleout.cluster import quiet_data

    rows: dict[str, Any] = {}
    for nodes in (1, 2):
        with tempfile.TemporaryDirectory() as tmp:
            models = Path(tmp) / "models"
            models.mkdir()
            (models / "multilingual-e5-small").symlink_to(MODELS / "multilingual-e5-small")  # the model, not the cache
            texts = [f"基准测试句子{nodes}-{i}：某行业{2000 + i % 30}年市场规模约为{i * 7 % 997}亿元。"
                     for i in range(n_texts)]
            chunks = [Chunk(f"b#{i}", "b", "b", "", t, 0, 1, 1, 1) for i, t in enumerate(texts)]
            request = BuildRequest(chunks, {}, "bench", E5_SMALL, 384, {}, models_dir=models)
            args = {"num_cpus": 1, "object_store_memory": 200 * 1024 * 1024, "node_ip_address": "127.0.0.1",
                    "include_dashboard": False, "dashboard_host": "127.0.0.1"}
            cluster = Cluster(initialize_head=True, head_node_args={**args, "num_cpus": 2})
            if nodes == 2:
                cluster.add_node(**args)
            ray.init(address=cluster.address, logging_level="WARNING", log_to_driver=False)
            quiet_data()
            settings = Settings(index_dir=Path(tmp) / "index", models_dir=models)  # type: ignore[call-arg]
            started = time.perf_counter()
            embedded = embed_missing(request, settings, lambda _: None)
            seconds = time.perf_counter() - started
            workers = max(1, int(ray.cluster_resources().get("CPU", 1)) - 1)
            ray.shutdown()
            cluster.shutdown()
            rows[f"{nodes}_node"] = {"encoder_workers": workers, "texts": embedded, "seconds": round(seconds, 1),
                                     "texts_per_s": round(embedded / seconds, 1)}
            log(f"{nodes} node(s): {rows[f'{nodes}_node']}")
    return rows


def hnsw_part(shard_counts: list[int], n_vectors: int = 60_000) -> dict[str, Any]:
    import numpy as np
    from reportqa.index.dense import DenseIndex, exact_neighbours, probe_queries, recall_at
    from reportqa.index.search import open_index

    base = open_index(ROOT / "var" / "index", models_dir=MODELS)
    units = getattr(base, "units", None)
    assert units is not None, "the bench reads the encoder's unit vectors of var/index (make index)"
    real = np.asarray(units[0], dtype=np.float32)
    blends = probe_queries(real, n_vectors - len(real), seed=7)
    vectors = np.vstack([real, blends])
    queries = probe_queries(real, 300, seed=11)
    truth = exact_neighbours(queries, vectors, 10)
    rows: dict[str, Any] = {"vectors": len(vectors), "queries": len(queries)}
    for n in shard_counts:
        parts = np.array_split(np.arange(len(vectors)), n)
        found_sims, found_ids = [], []
        started = time.perf_counter()
        params = []
        for part in parts:
            index = DenseIndex.build(vectors[part], exact_limit=0)
            params.append(index.params.get("efSearch"))
            sims, ids = index.faiss_index.search(queries, 10)
            found_sims.append(sims)
            found_ids.append(np.where(ids >= 0, part[np.clip(ids, 0, None)], -1))
        sims, ids = np.hstack(found_sims), np.hstack(found_ids)
        order = np.argsort(-sims, axis=1, kind="stable")[:, :10]
        merged = np.take_along_axis(ids, order, axis=1)
        rows[str(n)] = {"recall_at_10": round(recall_at(merged, truth), 4), "ef_search": params,
                        "build_s": round(time.perf_counter() - started, 1)}
        log(f"HNSW, {n} shards: {rows[str(n)]}")
    return rows


def synthetic_corpus(folder: Path, n_chunks: int, per_doc: int = 50) -> Path:
    """Documents of report sentences resampled (bench.synthetic), per_doc passages each, one per line."""
    from bench.synthetic import synthetic_texts

    folder.mkdir(parents=True)
    texts = list(synthetic_texts(n_chunks))
    for d in range(0, n_chunks, per_doc):
        (folder / f"synthetic-{d // per_doc:05d}.txt").write_text("\n".join(texts[d : d + per_doc]) + "\n",
                                                                 encoding="utf-8")
    return folder


def build_part(n_chunks: int, work: Path) -> dict[str, Any]:
    """The whole build of a synthetic corpus with the corpus-fitted model (embedding is cheap, so cleaning,
    chunking and tokenising dominate): embedded, then on Ray with one node (2 CPUs) and two (2 + 1 CPUs)."""
    import ray
    from ray.cluster_utils import Cluster

    from reportqa.scaleout.build import ray_build
    from reportqa.scaleout.cluster import quiet_data

    corpus = synthetic_corpus(work / "synthetic", n_chunks)
    common = {"corpus": [corpus], "models_dir": MODELS, "embed_model": "corpus-static"}
    rows: dict[str, Any] = {"documents": len(list(corpus.iterdir()))}
    started = time.perf_counter()
    report = build(Settings(index_dir=work / "b-embedded", **common))  # type: ignore[arg-type]
    rows["embedded"] = {"seconds": round(time.perf_counter() - started, 1), "chunks": report.chunks}
    log(f"embedded build: {rows['embedded']}")
    args = {"object_store_memory": 300 * 1024 * 1024, "node_ip_address": "127.0.0.1", "include_dashboard": False,
            "dashboard_host": "127.0.0.1"}
    for nodes in (1, 2):
        cluster = Cluster(initialize_head=True, head_node_args={**args, "num_cpus": 2})
        if nodes == 2:
            cluster.add_node(**args, num_cpus=1)
        ray.init(address=cluster.address, logging_level="WARNING", log_to_driver=False)
        quiet_data()
        settings = Settings(index_dir=work / f"b-ray{nodes}", shards=2, backend="ray",  # type: ignore[arg-type]
                            ray_address=cluster.address, **common)
        started = time.perf_counter()
        report = ray_build(settings, lambda _: None)
        rows[f"ray_{nodes}_node"] = {"seconds": round(time.perf_counter() - started, 1), "chunks": report.chunks,
                                     "shards": 2}
        ray.shutdown()
        cluster.shutdown()
        log(f"ray build, {nodes} node(s): {rows[f'ray_{nodes}_node']}")
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--shards", type=int, nargs="+", default=[1, 2, 4])
    parser.add_argument("--embed-texts", type=int, default=384)
    parser.add_argument("--parts", nargs="+", default=["queries", "embedding", "hnsw", "build"])
    parser.add_argument("--build-chunks", type=int, default=50_000)
    parser.add_argument("--out", type=Path, default=ROOT / "bench" / "results" / "ray.json")
    args = parser.parse_args()
    result: dict[str, Any] = {"machine": machine()}
    with tempfile.TemporaryDirectory() as tmp:
        if "queries" in args.parts:
            result["queries"] = query_part(args.shards, Path(tmp))
        if "embedding" in args.parts:
            result["embedding"] = embed_part(args.embed_texts)
        if "hnsw" in args.parts:
            result["hnsw"] = hnsw_part(args.shards)
        if "build" in args.parts:
            result["build"] = build_part(args.build_chunks, Path(tmp))
    write_json(args.out, result)
    log(f"wrote {args.out}")


if __name__ == "__main__":
    main()
