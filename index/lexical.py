"""The BM25 channels: a vocabulary of terms over the numeric BM25 core (index.bm25)."""

from __future__ import annotations

import json
from collections.abc import Sequence
from pathlib import Path

import numpy as np
from reportqa.index.bm25 import BM25, CollectionStats
from reportqa.index.memory import keep_freed_memory
from reportqa.index.terms import TermCounts, counts_from_lists

VOCABULARY = "vocabulary.json"


class LexicalIndex:
    def __init__(self, core: BM25, vocabulary: dict[str, int], size: int) -> None:
        self._core = core
        self._vocabulary = vocabulary
        self.size = size

    @classmethod
    def build(cls, token_lists: Sequence[Sequence[str]]) -> LexicalIndex:
        """From tokenised documents (small corpora, tests); large builds use from_counts."""
        return cls.from_counts(counts_from_lists(token_lists))

    @classmethod
    def from_counts(cls, corpus: TermCounts, collection: CollectionStats | None = None) -> LexicalIndex:
        """Over the corpus's documents; scored against `collection` when they are one shard of it (the corpus
        then shares the collection's vocabulary)."""
        core = BM25.from_counts(corpus.indptr, corpus.ids, corpus.counts, len(corpus.vocabulary),
                                collection=collection)
        return cls(core, {t: i for i, t in enumerate(corpus.vocabulary)}, corpus.n_docs)

    @property
    def vocabulary(self) -> dict[str, int]:
        return self._vocabulary

    @property
    def core(self) -> BM25:
        return self._core

    def idf(self) -> dict[str, float]:
        """term → BM25 idf, ln(1 + (N - df + 0.5) / (df + 0.5)), in float64."""
        return dict(zip(self._vocabulary, self._core.idf().tolist(), strict=True))

    def scores(self, weighted_tokens: dict[str, float]) -> np.ndarray:
        """BM25 score of every chunk for a query whose tokens carry weights (expansions weigh less)."""
        vocab = self._vocabulary
        return self._core.weighted_scores((vocab[t], w) for t, w in weighted_tokens.items() if t in vocab)

    def save(self, folder: Path) -> None:
        self._core.save(folder)
        terms = sorted(self._vocabulary, key=self._vocabulary.__getitem__)
        (folder / VOCABULARY).write_text(json.dumps(terms, ensure_ascii=False), encoding="utf-8")

    @classmethod
    def load(cls, folder: Path, size: int, mmap: bool = True) -> LexicalIndex:
        keep_freed_memory()  # a serving process: per-query score vectors are reused, not page-faulted anew
        core = BM25.load(folder, mmap=mmap)
        terms = json.loads((folder / VOCABULARY).read_text(encoding="utf-8"))
        if not isinstance(terms, list) or len(terms) != core.n_terms:
            raise ValueError(f"{folder / VOCABULARY} does not match the BM25 arrays")
        if core.n_docs != size:
            raise ValueError(f"the BM25 index in {folder} has {core.n_docs} documents, the chunk store {size}")
        return cls(core, {t: i for i, t in enumerate(terms)}, size)
