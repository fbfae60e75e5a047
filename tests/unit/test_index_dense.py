"""The dense index: exact below the size limit, HNSW above it with a measured efSearch; memory-mapped loads."""

from __future__ import annotations

from pathlib import Path

import faiss
import numpy as np
from reportqa.index.dense import RECALL_TARGET, DenseIndex, exact_neighbours, probe_queries, recall_at


def _unit_vectors(n: int, dim: int = 32, seed: int = 0) -> np.ndarray:
    rng = np.random.default_rng(seed)
    centres = rng.standard_normal((20, dim))
    x = centres[rng.integers(0, 20, n)] + 0.5 * rng.standard_normal((n, dim))
    return (x / np.linalg.norm(x, axis=1, keepdims=True)).astype(np.float32)


def test_small_indexes_are_exact_and_load_memory_mapped(tmp_path: Path) -> None:
    vectors = _unit_vectors(500)
    index = DenseIndex.build(vectors)
    assert index.params == {"kind": "flat", "exact": True} and index.size == 500 and index.dimension == 32
    index.save(tmp_path / "dense.faiss")
    loaded = DenseIndex.load(tmp_path / "dense.faiss")
    scores, ids = loaded.search(vectors[3], 5)
    assert ids[0] == 3 and abs(scores[0] - 1.0) < 1e-5
    truth = exact_neighbours(vectors[:20], vectors, 5)
    found = np.vstack([loaded.search(v, 5)[1] for v in vectors[:20]])
    np.testing.assert_array_equal(found, truth)
    _, few = loaded.search(vectors[0], 10_000)
    assert len(few) == 500


def test_large_indexes_are_hnsw_with_a_measured_recall(tmp_path: Path) -> None:
    vectors = _unit_vectors(3000)
    index = DenseIndex.build(vectors, exact_limit=1000)
    params = index.params
    assert params["kind"] == "hnsw" and not params["exact"]
    assert params["recall_at_10"] >= RECALL_TARGET or params["efSearch"] == max(int(e) for e in params["ef_recall"])
    assert str(params["efSearch"]) in params["ef_recall"]
    index.save(tmp_path / "dense.faiss")
    loaded = DenseIndex.load(tmp_path / "dense.faiss")
    assert isinstance(loaded.faiss_index, faiss.IndexHNSW)
    assert loaded.params["efSearch"] == params["efSearch"]  # efSearch is stored in the file
    queries = probe_queries(vectors, 100, seed=9)
    found = np.vstack([loaded.search(q, 60)[1][None, :10] for q in queries])
    assert recall_at(found, exact_neighbours(queries, vectors)) >= 0.95


def test_recall_counts_shared_ids() -> None:
    truth = np.array([[1, 2, 3], [4, 5, -1]])
    assert recall_at(np.array([[3, 2, 9], [5, 4, 7]]), truth) == 4 / 5
