"""Embedders: one Protocol, a loaded sentence-transformers model and the numpy static-table model."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any, Protocol

import numpy as np
from reportqa.index.terms import TermCounts
from scipy.sparse import csr_matrix


class Embedder(Protocol):
    name: str
    dimension: int

    def encode(self, texts: Sequence[str]) -> np.ndarray:
        """Unit-length float32 rows, one per passage."""
        ...

    def encode_queries(self, texts: Sequence[str]) -> np.ndarray:
        """Unit-length float32 rows, one per question (asymmetric models prefix questions differently)."""
        ...


def unit_rows(matrix: np.ndarray) -> np.ndarray:
    matrix = np.asarray(matrix, dtype=np.float32)
    norms = np.linalg.norm(matrix, axis=1, keepdims=True)
    return matrix / np.maximum(norms, 1e-12)


class SentenceTransformerEmbedder:
    """A loaded sentence-transformers model, with an optional text transform and the model's query/passage prompts."""

    def __init__(self, model: Any, name: str, prepare: Callable[[str], str] | None = None,
                 batch_size: int = 64, query_prefix: str = "", passage_prefix: str = "") -> None:
        self._model = model
        self.name = name
        get_dimension = getattr(model, "get_embedding_dimension", None) or model.get_sentence_embedding_dimension
        self.dimension = int(get_dimension())
        self._prepare = prepare
        self._batch_size = batch_size
        self.query_prefix = query_prefix
        self.passage_prefix = passage_prefix

    def encode(self, texts: Sequence[str]) -> np.ndarray:
        prepared = [self._prepare(t) for t in texts] if self._prepare else list(texts)
        return self.encode_prepared([self.passage_prefix + t for t in prepared])

    def encode_queries(self, texts: Sequence[str]) -> np.ndarray:
        prepared = [self._prepare(t) for t in texts] if self._prepare else list(texts)
        return self.encode_prepared([self.query_prefix + t for t in prepared])

    def encode_prepared(self, prepared: Sequence[str]) -> np.ndarray:
        """Encode texts that already went through the model's preparation step."""
        if not prepared:
            return np.zeros((0, self.dimension), dtype=np.float32)
        vectors = self._model.encode(list(prepared), batch_size=self._batch_size, show_progress_bar=False,
                                     convert_to_numpy=True, normalize_embeddings=True)
        return np.asarray(vectors, dtype=np.float32)


class StaticTableEmbedder:
    """A static-embedding model evaluated with numpy: the mean of token rows, unit length.

    Gives the same vectors as sentence-transformers' StaticEmbedding + Normalize without loading torch,
    so serving workers stay small and start fast.
    """

    def __init__(self, table: np.ndarray, token_ids: Callable[[Sequence[str]], list[list[int]]],
                 prepare: Callable[[str], str], name: str,
                 vocabulary: Callable[[], tuple[dict[str, int], int | None]] | None = None) -> None:
        self._table = np.asarray(table, dtype=np.float32)
        self._token_ids = token_ids
        self._prepare = prepare
        self._vocabulary = vocabulary  # (token → row, the row of unknown tokens), for encode_counts
        self.name = name
        self.dimension = int(self._table.shape[1])

    def encode(self, texts: Sequence[str]) -> np.ndarray:
        return self.encode_prepared([self._prepare(t) for t in texts])

    def encode_queries(self, texts: Sequence[str]) -> np.ndarray:
        return self.encode(texts)  # a symmetric model: questions and passages share one space

    def encode_prepared(self, prepared: Sequence[str]) -> np.ndarray:
        if not prepared:
            return np.zeros((0, self.dimension), dtype=np.float32)
        rows = [self._table[ids].mean(axis=0) if ids else np.zeros(self.dimension, dtype=np.float32)
                for ids in self._token_ids(prepared)]
        return unit_rows(np.stack(rows))

    def encode_counts(self, corpus: TermCounts, block: int = 1 << 16) -> np.ndarray:
        """encode() of every document of a corpus given as term counts, without re-tokenising it.

        A document's vector is the unit-length sum of its tokens' rows (the mean, rescaled), computed as a
        sparse count matrix times the table; it equals encode(text) of the text the counts came from up to
        float32 rounding (the sum is taken in another order).
        """
        if self._vocabulary is None:
            raise ValueError(f"{self.name} has no vocabulary to map corpus terms to rows")
        rows_of, unknown = self._vocabulary()
        missing = -1 if unknown is None else unknown
        row = np.array([rows_of.get(t, missing) for t in corpus.vocabulary], dtype=np.int64)
        out = np.zeros((corpus.n_docs, self.dimension), dtype=np.float32)
        for start in range(0, corpus.n_docs, block):
            end = min(start + block, corpus.n_docs)
            lo, hi = int(corpus.indptr[start]), int(corpus.indptr[end])
            cols = row[corpus.ids[lo:hi]]
            keep = cols >= 0
            kept = np.zeros(hi - lo + 1, dtype=np.int64)
            np.cumsum(keep, out=kept[1:])
            indptr = kept[corpus.indptr[start : end + 1] - lo]
            counts = csr_matrix((corpus.counts[lo:hi][keep].astype(np.float32), cols[keep], indptr),
                                shape=(end - start, len(self._table)))
            out[start:end] = unit_rows(counts @ self._table)
        return out
