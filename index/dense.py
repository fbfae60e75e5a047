"""The dense channel: FAISS inner-product search over unit vectors; exact when small, HNSW when large."""

from __future__ import annotations

import os
from pathlib import Path

import faiss
import numpy as np

EXACT_LIMIT = 200_000


class DenseIndex:
    def __init__(self, index: faiss.Index) -> None:
        self._index = index

    @property
    def size(self) -> int:
        return int(self._index.ntotal)

    @property
    def dimension(self) -> int:
        return int(self._index.d)

    @classmethod
    def build(cls, vectors: np.ndarray) -> DenseIndex:
        faiss.omp_set_num_threads(os.cpu_count() or 1)  # building uses every core
        vectors = np.ascontiguousarray(vectors, dtype=np.float32)
        dim = vectors.shape[1]
        if len(vectors) <= EXACT_LIMIT:
            index: faiss.Index = faiss.IndexFlatIP(dim)
        else:
            index = faiss.IndexHNSWFlat(dim, 32, faiss.METRIC_INNER_PRODUCT)
            index.hnsw.efConstruction = 80
            index.hnsw.efSearch = 128
        index.add(vectors)
        return cls(index)

    def search(self, query: np.ndarray, k: int) -> tuple[np.ndarray, np.ndarray]:
        """(scores, ids) of the k nearest chunks; ids of -1 mean fewer than k exist."""
        k = max(1, min(k, self.size))
        scores, ids = self._index.search(np.ascontiguousarray(query.reshape(1, -1), dtype=np.float32), k)
        return scores[0], ids[0]

    def save(self, path: Path) -> None:
        faiss.write_index(self._index, str(path))

    @classmethod
    def load(cls, path: Path) -> DenseIndex:
        # one query is too small to split across threads; with busy cores OpenMP costs 6 ms instead of 0.4
        faiss.omp_set_num_threads(int(os.environ.get("REPORTQA_FAISS_THREADS", "1")))
        return cls(faiss.read_index(str(path), faiss.IO_FLAG_MMAP | faiss.IO_FLAG_READ_ONLY))
