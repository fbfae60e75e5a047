"""The question adapter's stage of training: a linear map of question vectors per fold, fitted on the other folds'
answerable questions against the passages that answer them (eval.query_adapter), one fitted on every question (the
one shipped), and each question's engine switched to its fold's view of the index."""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from pathlib import Path

import numpy as np
from reportqa.eval.metrics import is_relevant
from reportqa.eval.query_adapter import AdapterData, fit_query_adapter
from reportqa.eval.train_data import Example, learns_from
from reportqa.index.search import SearchIndex

from reportqa.core.learned import ModelSet, QueryAdapter
from reportqa.engine import Engine


def adapter_data(examples: Sequence[Example]) -> tuple[AdapterData, list[Example]]:
    """The adapter's data: the answerable questions it learns from that have a passage answering them, asked of
    one index as the encoder reads them (no adapter), and that index's unit vectors."""
    learners = [ex for ex in examples if learns_from("adapter", ex) and ex.item.gold.answerable]
    if not learners:
        return AdapterData(np.zeros((0, 1), np.float32), np.zeros((0, 0), bool), np.zeros((0, 1), np.float32),
                           np.zeros(0, np.int64)), []
    index = learners[0].engine.index.with_query_adapter(None)
    assert isinstance(index, SearchIndex), "training reads an embedded index"
    units, owners = unit_matrix(index)
    kept, vectors, rows = [], [], []
    for ex in learners:
        row = np.array([is_relevant(c.doc, c.text, ex.item.gold) for c in index.chunks])
        if row.any():
            kept.append(ex)
            vectors.append(index.query_vector(ex.query))
            rows.append(row)
    return AdapterData(np.asarray(vectors, np.float32), np.asarray(rows, bool), units, owners), kept


def unit_matrix(index: SearchIndex) -> tuple[np.ndarray, np.ndarray]:
    """(vectors the dense channel searches, the passage each belongs to): units when the index has them."""
    if index.units is not None:
        vectors, table = index.units
        return np.asarray(vectors, np.float32), table.owners(np.arange(table.size))
    flat = index.dense.faiss_index.reconstruct_n(0, index.dense.size)
    return np.asarray(flat, np.float32), np.arange(index.dense.size)


def fit_adapters(examples: Sequence[Example], folds: int, show: Callable[[str], None],
                 in_use: Mapping[int, QueryAdapter | None] | None = None
                 ) -> tuple[dict[int, QueryAdapter | None], QueryAdapter | None]:
    """A question adapter per fold (fitted on the other folds' questions) and one on every question; None where
    there is nothing to learn from. `in_use`: the fold adapters the examples were already asked with, kept as they
    are (a retraining over the same candidates, as the ablation does)."""
    data, kept = adapter_data(examples)
    if not kept:
        return dict(in_use) if in_use is not None else dict.fromkeys(range(folds)), None
    encoder = kept[0].engine.index.encoder_name
    fold_of_row = np.array([ex.fold for ex in kept])
    show(f"fitting the question adapter on {len(kept)} questions")
    by_fold = dict(in_use) if in_use is not None else {
        f: fit_query_adapter(data.subset(np.flatnonzero(fold_of_row != f)), encoder)
        if (fold_of_row != f).any() else None for f in range(folds)}
    return by_fold, fit_query_adapter(data, encoder)


def adapt_examples(examples: Sequence[Example], adapters: Mapping[int, QueryAdapter | None]) -> None:
    """Each question asked of its fold's view of its index: the fold's adapter maps its question vector."""
    views: dict[tuple[int, int], Engine] = {}
    for ex in examples:
        key = (id(ex.engine.index), ex.fold)
        if key not in views:
            view = ex.engine.index.with_query_adapter(adapters.get(ex.fold))
            views[key] = Engine(view, ex.engine.settings, None, ModelSet(Path(), {}, {}))
        ex.engine = views[key]
