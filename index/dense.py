"""The dense channel: FAISS inner-product search over unit vectors; exact when small, HNSW when large.

Up to EXACT_LIMIT vectors a flat index is searched exhaustively (one query over 100,000 × 256 floats takes
about 6 ms on one core, growing linearly). Above it an HNSW graph (IndexHNSWFlat, M=32, efConstruction=80)
whose efSearch is chosen at build time as the smallest of EF_LADDER that finds RECALL_TARGET of the exact
top 10 for PROBE_QUERIES probe queries (blends of two corpus vectors, which fall between chunks as questions
do). The parameters and the measured recall go into the manifest.

HNSW rather than IVF, by measurement on the synthetic scale corpus (bench/scale.py) on 2 cores: at 100k × 256
an IVF with nlist = 4·√N needed nprobe 256 of 1,280 lists (20 % of the vectors scanned, ~5 ms a query, no
faster than exact) to reach 0.99 recall@10, because chunks that mix sentences of many topics do not cluster;
HNSW reached 0.99 at efSearch 256 in 0.6-0.8 ms and built in 11 s. At 1M it builds in about 150 s, the blend
probes (harder than real queries) pick efSearch 1024 (0.979), and the benchmark's questions and fresh chunks
see 0.992 recall@10 at about 2.5 ms a query.

Files are read memory-mapped (flat and HNSW: IO_FLAG_MMAP_IFC; anything else: IO_FLAG_MMAP), so server
workers share the vectors and the graph through the page cache instead of each holding a copy.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import faiss
import numpy as np

EXACT_LIMIT = 100_000
HNSW_M = 32
EF_CONSTRUCTION = 80
EF_LADDER = (64, 96, 128, 192, 256, 384, 512, 768, 1024)
SEARCH_K = 60  # what the search asks for (index.search.CANDIDATES); efSearch is never below it
RECALL_TARGET = 0.99
RECALL_K = 10
PROBE_QUERIES = 300
SEED = 1234
_FLAT_FOURCC = (b"IxFI", b"IxF2", b"IxFl")
_HNSW_FOURCC = (b"IHNf", b"IHNs", b"IHNp", b"IHN2", b"IHNc")


def probe_queries(vectors: np.ndarray, n: int = PROBE_QUERIES, seed: int = SEED) -> np.ndarray:
    """Unit-length blends of two random corpus vectors: near the corpus, but not copies of it."""
    rng = np.random.default_rng(seed)
    a = vectors[rng.integers(0, len(vectors), n)]
    b = vectors[rng.integers(0, len(vectors), n)]
    blend = a + b
    return np.ascontiguousarray(blend / np.maximum(np.linalg.norm(blend, axis=1, keepdims=True), 1e-12),
                                dtype=np.float32)


def exact_neighbours(queries: np.ndarray, vectors: np.ndarray, k: int = RECALL_K) -> np.ndarray:
    _, ids = faiss.knn(np.ascontiguousarray(queries, dtype=np.float32), vectors, k,
                       metric=faiss.METRIC_INNER_PRODUCT)
    return np.asarray(ids)


def recall_at(found: np.ndarray, truth: np.ndarray) -> float:
    """Share of the exact neighbours (per query, ids ≥ 0) that the approximate search returned."""
    hits = sum(len(set(f.tolist()) & set(t[t >= 0].tolist())) for f, t in zip(found, truth, strict=True))
    return hits / max(int((truth >= 0).sum()), 1)


class DenseIndex:
    def __init__(self, index: faiss.Index, params: dict[str, Any] | None = None) -> None:
        self._index = index
        self.params = params or describe(index)

    @property
    def size(self) -> int:
        return int(self._index.ntotal)

    @property
    def dimension(self) -> int:
        return int(self._index.d)

    @property
    def faiss_index(self) -> faiss.Index:
        return self._index

    @classmethod
    def build(cls, vectors: np.ndarray, exact_limit: int = EXACT_LIMIT) -> DenseIndex:
        faiss.omp_set_num_threads(os.cpu_count() or 1)  # building uses every core
        vectors = np.ascontiguousarray(vectors, dtype=np.float32)
        n, dim = vectors.shape
        if n <= exact_limit:
            flat = faiss.IndexFlatIP(dim)
            flat.add(vectors)
            return cls(flat, {"kind": "flat", "exact": True})
        index = faiss.IndexHNSWFlat(dim, HNSW_M, faiss.METRIC_INNER_PRODUCT)
        index.hnsw.efConstruction = EF_CONSTRUCTION
        for start in range(0, n, 1 << 17):
            index.add(vectors[start : start + (1 << 17)])
        queries = probe_queries(vectors)
        truth = exact_neighbours(queries, vectors)
        ef, recall, tried = _choose_ef(index, queries, truth)
        params = {"kind": "hnsw", "exact": False, "M": HNSW_M, "efConstruction": EF_CONSTRUCTION, "efSearch": ef,
                  "recall_at_10": round(recall, 4), "recall_target": RECALL_TARGET,
                  "probe_queries": len(queries), "ef_recall": tried}
        return cls(index, params)

    def search(self, query: np.ndarray, k: int) -> tuple[np.ndarray, np.ndarray]:
        """(scores, ids) of the k nearest chunks; ids of -1 mean fewer than k exist."""
        k = max(1, min(k, self.size))
        scores, ids = self._index.search(np.ascontiguousarray(query.reshape(1, -1), dtype=np.float32), k)
        return scores[0], ids[0]

    def similarities(self, query: np.ndarray, ids: Sequence[int]) -> np.ndarray:
        """Inner products of the query with the stored vectors of the given chunks (any index kind)."""
        if not len(ids):
            return np.zeros(0, dtype=np.float32)
        stored = np.vstack([self._index.reconstruct(int(i)) for i in ids])
        return np.asarray(stored @ np.asarray(query, dtype=np.float32).reshape(-1), dtype=np.float32)

    def save(self, path: Path) -> None:
        faiss.write_index(self._index, str(path))

    @classmethod
    def load(cls, path: Path) -> DenseIndex:
        # one query is too small to split across threads; with busy cores OpenMP costs 6 ms instead of 0.4
        faiss.omp_set_num_threads(int(os.environ.get("REPORTQA_FAISS_THREADS", "1")))
        with path.open("rb") as handle:
            fourcc = handle.read(4)
        mmap = faiss.IO_FLAG_MMAP_IFC if fourcc in _FLAT_FOURCC + _HNSW_FOURCC else faiss.IO_FLAG_MMAP
        return cls(faiss.read_index(str(path), mmap | faiss.IO_FLAG_READ_ONLY))


def _choose_ef(index: faiss.IndexHNSW, queries: np.ndarray, truth: np.ndarray
               ) -> tuple[int, float, dict[str, float]]:
    """The smallest efSearch of the ladder whose recall@10 reaches RECALL_TARGET (else the largest tried).

    Each probe searches for SEARCH_K neighbours as the server does; recall counts the first 10 of them.
    """
    tried: dict[str, float] = {}
    recall, ef = 0.0, EF_LADDER[0]
    for ef in EF_LADDER:
        index.hnsw.efSearch = ef
        _, found = index.search(queries, SEARCH_K)
        recall = recall_at(found[:, :RECALL_K], truth)
        tried[str(ef)] = round(recall, 4)
        if recall >= RECALL_TARGET:
            break
    return ef, recall, tried


def describe(index: faiss.Index) -> dict[str, Any]:
    """What kind of index a loaded file holds (the manifest has the build-time measurements)."""
    if isinstance(index, faiss.IndexHNSW):
        return {"kind": "hnsw", "exact": False, "efSearch": int(index.hnsw.efSearch)}
    return {"kind": "flat", "exact": True}
