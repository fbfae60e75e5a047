"""The numeric BM25 core and the lexical index over it: bm25s's scores, by hand and against bm25s itself."""

from __future__ import annotations

import mmap
import random
from pathlib import Path

import numpy as np
import pytest
from reportqa.index.bm25 import BM25, counts_from_ids
from reportqa.index.lexical import LexicalIndex
from reportqa.index.terms import counts_from_lists

# a, b, a | b, c | (nothing): N = 3, lengths 3, 2 and 1 (an empty chunk counts as one token, as in bm25s),
# avgdl = 2; idf(df=1) = ln(1 + 2.5/1.5), idf(df=2) = ln(1 + 1.5/2.5)
TINY = [["a", "b", "a"], ["b", "c"], []]
IDF_1, IDF_2 = 0.9808292530117263, 0.47000362924573563
EXPECTED = {  # idf · tf / (tf + 1.2 · (0.25 + 0.75 · dl / 2))
    "a": [0.5374406865817678, 0.0, 0.0],  # 0.98083 · 2 / (2 + 1.65)
    "b": [0.17735986009273044, 0.21363801329351617, 0.0],  # 0.47 · 1 / 2.65, 0.47 · 1 / 2.2
    "c": [0.0, 0.44583147864169376, 0.0],  # 0.98083 · 1 / 2.2
}


def test_scores_by_hand_on_a_tiny_corpus() -> None:
    index = LexicalIndex.build(TINY)
    assert index.size == 3 and set(index.vocabulary) == {"a", "b", "c"}
    for term, expected in EXPECTED.items():
        np.testing.assert_allclose(index.scores({term: 1.0}), expected, rtol=1e-6)
    np.testing.assert_allclose(index.scores({"a": 1.0, "c": 1.0, "b": 1.0}),
                               np.sum(list(EXPECTED.values()), axis=0), rtol=1e-6)
    np.testing.assert_allclose(index.scores({"a": 0.5, "b": 1.0, "unknown": 1.0}),
                               0.5 * np.array(EXPECTED["a"]) + np.array(EXPECTED["b"]), rtol=1e-6)
    assert not index.scores({"unknown": 1.0}).any() and index.scores({}).dtype == np.float32
    idf = index.idf()
    assert idf["a"] == pytest.approx(IDF_1) and idf["b"] == pytest.approx(IDF_2) and idf["c"] == idf["a"]


def test_core_from_token_ids_with_repeats_equals_core_from_counts() -> None:
    ids = np.array([0, 1, 0, 1, 2], dtype=np.int32)
    indptr = np.array([0, 3, 5, 5], dtype=np.int64)
    doc_indptr, unique, counts = counts_from_ids(indptr, ids)
    assert doc_indptr.tolist() == [0, 2, 4, 4] and unique.tolist() == [0, 1, 1, 2] and counts.tolist() == [2, 1, 1, 1]
    core = BM25.from_ids(indptr, ids, n_terms=3)
    assert core.params["avgdl"] == 2.0 and core.df.tolist() == [1, 2, 1]
    docs, scores = core.postings(1)
    assert docs.tolist() == [0, 1]
    np.testing.assert_allclose(scores, EXPECTED["b"][:2], rtol=1e-6)
    np.testing.assert_allclose(core.weighted_scores([(0, 1.0), (2, 2.0)]),
                               np.array(EXPECTED["a"]) + 2 * np.array(EXPECTED["c"]), rtol=1e-6)


def test_save_and_memory_mapped_load_give_the_same_scores(tmp_path: Path) -> None:
    index = LexicalIndex.build(TINY)
    index.save(tmp_path / "bm25")
    loaded = LexicalIndex.load(tmp_path / "bm25", size=3)
    for array in (loaded.core.scores, loaded.core.docs, loaded.core.indptr):  # views of a file mapping
        assert not array.flags.owndata and isinstance(array.base, np.memmap | mmap.mmap)
    assert loaded.vocabulary == index.vocabulary
    query = {"a": 1.0, "b": 0.6, "c": 1.0}
    np.testing.assert_array_equal(loaded.scores(query), index.scores(query))
    with pytest.raises(ValueError, match="documents"):
        LexicalIndex.load(tmp_path / "bm25", size=4)


def _random_corpus(seed: int, n_docs: int = 400) -> list[list[str]]:
    rng = random.Random(seed)
    words = [f"w{i}" for i in range(300)]
    weights = [1 / (i + 1) for i in range(len(words))]  # Zipf-like: some words in most documents
    docs = [rng.choices(words, weights, k=rng.randint(0, 40)) for _ in range(n_docs)]
    docs[7] = []  # an empty document changes avgdl the way bm25s counts it
    return docs


def test_same_scores_as_bm25s() -> None:
    bm25s = pytest.importorskip("bm25s")
    docs = _random_corpus(1)
    ours = LexicalIndex.build(docs)
    theirs = bm25s.BM25(k1=1.2, b=0.75)  # the defaults: method "lucene"
    theirs.index([d or [""] for d in docs], show_progress=False)
    rng = random.Random(2)
    for _ in range(50):
        query = rng.sample(sorted(ours.vocabulary), rng.randint(1, 8))
        expected = np.asarray(theirs.get_scores(query), dtype=np.float32)
        np.testing.assert_array_equal(ours.scores(dict.fromkeys(query, 1.0)), expected)
        # weighted: equal weights summed first, then scaled (the previous bm25s-based LexicalIndex did this)
        weights = {t: (1.0 if i % 2 else 0.4) for i, t in enumerate(query)}
        by_weight: dict[float, list[str]] = {}
        for t, w in weights.items():
            by_weight.setdefault(w, []).append(t)
        total = np.zeros(len(docs), dtype=np.float32)
        for w, group in by_weight.items():
            total += w * np.asarray(theirs.get_scores(group), dtype=np.float32)
        np.testing.assert_array_equal(ours.scores(weights), total)


def test_counts_keep_first_occurrence_order_and_sort_the_vocabulary() -> None:
    corpus = counts_from_lists([["丙", "甲", "丙"], [], ["乙", "甲"]])
    assert corpus.vocabulary == sorted(["甲", "乙", "丙"])
    assert corpus.n_docs == 3 and corpus.indptr.tolist() == [0, 2, 2, 4]
    assert [corpus.vocabulary[i] for i in corpus.ids] == ["丙", "甲", "乙", "甲"]
    assert corpus.counts.tolist() == [2, 1, 1, 1] and corpus.lengths().tolist() == [3, 0, 2]
    assert corpus.terms_of(0) == {"丙": 2, "甲": 1}
    assert corpus.vocabulary == ["丙", "乙", "甲"] and corpus.document_frequency().tolist() == [1, 1, 2]
