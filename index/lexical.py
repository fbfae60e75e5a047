"""The BM25 channel: bm25s's sparse, vectorised scorer over jieba tokens."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import bm25s
import numpy as np


class LexicalIndex:
    def __init__(self, model: bm25s.BM25, size: int) -> None:
        self._model = model
        self.size = size

    @classmethod
    def build(cls, token_lists: Sequence[list[str]]) -> LexicalIndex:
        model = bm25s.BM25(k1=1.2, b=0.75)
        model.index([list(t) or [""] for t in token_lists], show_progress=False)
        return cls(model, len(token_lists))

    @property
    def vocabulary(self) -> dict[str, int]:
        vocab: dict[str, int] = self._model.vocab_dict
        return vocab

    def scores(self, weighted_tokens: dict[str, float]) -> np.ndarray:
        """BM25 score of every chunk for a query whose tokens carry weights (expansions weigh less)."""
        total = np.zeros(self.size, dtype=np.float32)
        by_weight: dict[float, list[str]] = {}
        for token, weight in weighted_tokens.items():
            if token in self._model.vocab_dict:
                by_weight.setdefault(weight, []).append(token)
        for weight, group in by_weight.items():
            total += weight * np.asarray(self._model.get_scores(group), dtype=np.float32)
        return total

    def save(self, folder: Path) -> None:
        self._model.save(str(folder), show_progress=False)

    @classmethod
    def load(cls, folder: Path, size: int, mmap: bool = True) -> LexicalIndex:
        model = bm25s.BM25.load(str(folder), mmap=mmap, show_progress=False, verbosity=0)
        return cls(model, size)
