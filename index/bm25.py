"""A numeric BM25 core: per-(term, document) scores precomputed term by term, queries add postings.

Scores equal bm25s 0.3.16's default ("lucene", k1=1.2, b=0.75), which this replaced:

    idf(t)   = ln(1 + (N - df + 0.5) / (df + 0.5))
    tf part  = tf / (tf + k1 * (1 - b + b * dl / avgdl))
    score    = float32(idf(t) as float32 * tf part)     (the product taken in float64, as bm25s does)

A document with no tokens counts as one token long, as bm25s counted it (it indexed such a document as [""]).

On disk: a folder of .npy arrays (read back memory-mapped, so server workers share one copy through the page
cache): the postings in CSC-by-term layout, indptr.npy (int64, terms + 1), indices.npy (document ids, int32,
ascending within a term) and data.npy (scores, float32); plus df.npy (int32) and params.json.
"""

from __future__ import annotations

import json
import math
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
from scipy.sparse import csr_matrix

K1 = 1.2
B = 0.75
PARAMS = "params.json"
FILES = {"indptr": "indptr.npy", "docs": "indices.npy", "scores": "data.npy", "df": "df.npy"}  # scipy's CSC names
_BLOCK = 1 << 22  # postings scored per step: bounds the float64 temporaries


def counts_from_ids(indptr: np.ndarray, ids: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(indptr, unique ids, counts) per document from token ids with repeats (CSR, ids in any order)."""
    indptr = np.asarray(indptr, dtype=np.int64)
    ids = np.asarray(ids, dtype=np.int64)
    n_docs = len(indptr) - 1
    if not len(ids):
        return np.zeros(n_docs + 1, np.int64), np.zeros(0, np.int32), np.zeros(0, np.int32)
    doc = np.repeat(np.arange(n_docs, dtype=np.int64), np.diff(indptr))
    width = int(ids.max()) + 1
    keys, counts = np.unique(doc * width + ids, return_counts=True)
    unique_doc = keys // width
    new_indptr = np.zeros(n_docs + 1, dtype=np.int64)
    np.cumsum(np.bincount(unique_doc, minlength=n_docs), out=new_indptr[1:])
    return new_indptr, (keys % width).astype(np.int32), counts.astype(np.int32)


def document_lengths(indptr: np.ndarray, counts: np.ndarray) -> np.ndarray:
    """Tokens per document (repeats included) from per-document counts."""
    cumulative = np.zeros(len(counts) + 1, dtype=np.int64)
    np.cumsum(counts, out=cumulative[1:])
    indptr = np.asarray(indptr, dtype=np.int64)
    return cumulative[indptr[1:]] - cumulative[indptr[:-1]]


@dataclass(frozen=True, slots=True)
class CollectionStats:
    """What BM25 scores a document against: the whole collection's size, mean length and document frequencies.
    A shard scored with the collection's statistics gives each of its documents the score one index over the
    whole collection would (scored with its own, rankings would change with the number of shards)."""

    n_docs: int
    avgdl: float
    df: np.ndarray  # per term id of the shared vocabulary

    @classmethod
    def of(cls, indptr: np.ndarray, counts: np.ndarray, n_terms: int, ids: np.ndarray) -> CollectionStats:
        lengths = document_lengths(indptr, counts)
        lengths[lengths == 0] = 1  # bm25s indexed an empty document as [""]
        n_docs = len(lengths)
        avgdl = float(lengths.sum() / n_docs) if n_docs else 1.0
        return cls(n_docs, avgdl, np.bincount(np.asarray(ids, dtype=np.int64), minlength=n_terms).astype(np.int32))


class BM25:
    """Precomputed BM25 postings over term ids 0..n_terms-1 and documents 0..n_docs-1."""

    def __init__(self, indptr: np.ndarray, docs: np.ndarray, scores: np.ndarray, df: np.ndarray,
                 params: dict[str, Any]) -> None:
        self.indptr, self.docs, self.scores, self.df = indptr, docs, scores, df
        self.params = params
        self.n_docs = int(params["n_docs"])
        self.n_terms = len(indptr) - 1

    @classmethod
    def from_counts(cls, indptr: np.ndarray, ids: np.ndarray, counts: np.ndarray, n_terms: int,
                    k1: float = K1, b: float = B, collection: CollectionStats | None = None) -> BM25:
        """From each document's distinct term ids and their counts (CSR by document); scored against
        `collection` when these documents are one shard of it."""
        indptr = np.asarray(indptr, dtype=np.int64)
        n_docs = len(indptr) - 1
        lengths = document_lengths(indptr, counts)
        lengths[lengths == 0] = 1  # bm25s indexed an empty document as [""]
        avgdl = float(lengths.sum() / n_docs) if n_docs else 1.0
        idf_docs = n_docs
        if collection is not None:
            avgdl, idf_docs = collection.avgdl, collection.n_docs
        # CSR (doc × term) → CSC: a counting sort in C, documents ascending within each term
        by_term = csr_matrix((np.asarray(counts, dtype=np.int32), np.asarray(ids, dtype=np.int32), indptr),
                             shape=(n_docs, n_terms)).tocsc()
        t_indptr = np.asarray(by_term.indptr, dtype=np.int64)
        docs = np.asarray(by_term.indices, dtype=np.int32)
        tf = by_term.data
        del by_term
        df = np.diff(t_indptr).astype(np.int32) if collection is None else collection.df.astype(np.int32)
        idf = np.array([math.log(1 + (idf_docs - d + 0.5) / (d + 0.5)) for d in df.tolist()], dtype=np.float32)
        # the same float64 expression as bm25s: k1 * ((1 - b) + b * dl / avgdl) + tf
        length_part = k1 * ((1 - b) + b * lengths / avgdl)
        scores = np.empty(len(docs), dtype=np.float32)
        for start in range(0, len(docs), _BLOCK):
            end = min(start + _BLOCK, len(docs))
            first = int(np.searchsorted(t_indptr, start, side="right")) - 1
            last = int(np.searchsorted(t_indptr, end, side="left"))
            spans = np.minimum(t_indptr[first + 1 : last + 1], end) - np.maximum(t_indptr[first:last], start)
            term_idf = np.repeat(idf[first:last], spans).astype(np.float64)
            block_tf = tf[start:end].astype(np.float64)
            scores[start:end] = term_idf * (block_tf / (length_part[docs[start:end]] + block_tf))
        params = {"k1": k1, "b": b, "n_docs": n_docs, "avgdl": avgdl, "method": "lucene"}
        if collection is not None:
            params["collection_docs"] = idf_docs  # df.npy holds the collection's document frequencies
        return cls(t_indptr, docs, scores, df, params)

    @classmethod
    def from_ids(cls, indptr: np.ndarray, ids: np.ndarray, n_terms: int, k1: float = K1, b: float = B) -> BM25:
        """From each document's token ids, repeats included (CSR by document)."""
        doc_indptr, unique, counts = counts_from_ids(indptr, ids)
        return cls.from_counts(doc_indptr, unique, counts, n_terms, k1, b)

    def idf(self) -> np.ndarray:
        """float64 idf of every term, as bm25s computed it before storing float32."""
        n = int(self.params.get("collection_docs", self.n_docs))
        return np.array([math.log(1 + (n - d + 0.5) / (d + 0.5)) for d in self.df.tolist()])

    def postings(self, term: int) -> tuple[np.ndarray, np.ndarray]:
        start, end = int(self.indptr[term]), int(self.indptr[term + 1])
        return self.docs[start:end], self.scores[start:end]

    def score_terms(self, terms: Iterable[int], out: np.ndarray | None = None) -> np.ndarray:
        """Sum of the terms' postings into a float32 vector over all documents (bm25s's get_scores)."""
        total = np.zeros(self.n_docs, dtype=np.float32) if out is None else out
        for term in terms:
            docs, scores = self.postings(term)
            np.add.at(total, docs, scores)  # numpy's fast path for ufunc.at: ~2 ns a posting
        return total

    def weighted_scores(self, weighted_terms: Iterable[tuple[int, float]]) -> np.ndarray:
        """Σ weight · score over the query's terms; terms of equal weight are summed first, then scaled.

        One vector over all documents is allocated (two when the terms carry more than one weight).
        """
        by_weight: dict[float, list[int]] = {}
        for term, weight in weighted_terms:
            by_weight.setdefault(weight, []).append(term)
        groups = iter(by_weight.items())
        first = next(groups, None)
        total = np.zeros(self.n_docs, dtype=np.float32)
        if first is None:
            return total
        self.score_terms(first[1], total)
        if first[0] != 1.0:
            np.multiply(total, np.float32(first[0]), out=total)
        group: np.ndarray | None = None
        for weight, terms in groups:
            if group is None:
                group = np.zeros(self.n_docs, dtype=np.float32)
            else:
                group.fill(0.0)
            self.score_terms(terms, group)
            np.multiply(group, np.float32(weight), out=group)
            total += group
        return total

    def save(self, folder: Path) -> None:
        folder.mkdir(parents=True, exist_ok=True)
        for name, file in FILES.items():
            np.save(folder / file, getattr(self, name), allow_pickle=False)
        (folder / PARAMS).write_text(json.dumps(self.params), encoding="utf-8")

    @classmethod
    def load(cls, folder: Path, mmap: bool = True) -> BM25:
        params = json.loads((folder / PARAMS).read_text(encoding="utf-8"))
        mode: Any = "r" if mmap else None
        # plain ndarray views of the maps: np.memmap's slicing overhead is paid per query term otherwise
        arrays = [np.load(folder / file, mmap_mode=mode, allow_pickle=False).view(np.ndarray)
                  for file in FILES.values()]
        bm25 = cls(arrays[0], arrays[1], arrays[2], arrays[3], params)
        if bm25.indptr[-1] != len(bm25.docs) or len(bm25.docs) != len(bm25.scores) or len(bm25.df) != bm25.n_terms:
            raise ValueError(f"the BM25 arrays in {folder} do not fit together")
        return bm25
