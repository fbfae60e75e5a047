"""The streamed build: parallel tokenisation, the vectorised embedding fit and corpus embedding, sampling."""

from __future__ import annotations

import json
import math
import shutil
from pathlib import Path

import numpy as np
import pytest
import reportqa.index.terms
from reportqa.index.build import inverse_document_frequency
from reportqa.index.lexical import LexicalIndex
from reportqa.index.models import STATIC_CONFIG, UNK, fit_static_model, tfidf_matrix
from reportqa.index.store import FORMAT_VERSION, MANIFEST, IndexMismatch, current_version_path
from reportqa.index.terms import counts_from_lists, tokenise_corpus
from reportqa.index.text import bigrams, tokens
from scipy.sparse import csr_matrix

from reportqa.core.settings import Settings
from reportqa.engine import open_engine

from ..conftest import SMALL_DOCS

SENTENCES = [s for _, text in SMALL_DOCS.values() for s in text.replace("\n", "").split("。") if s]


def _texts(n: int, seed: int = 0) -> list[str]:
    rng = np.random.default_rng(seed)
    return ["。".join(SENTENCES[i] for i in rng.integers(0, len(SENTENCES), rng.integers(1, 4))) for _ in range(n)]


def _reference_tfidf(docs: list[list[str]], min_df: int = 2) -> tuple[csr_matrix, dict[str, int], np.ndarray]:
    """The list-based construction fit_static_model used before it was vectorised (kept here as the oracle)."""
    df: dict[str, int] = {}
    for doc in docs:
        for token in set(doc):
            df[token] = df.get(token, 0) + 1
    vocab = {UNK: 0}
    min_df = min_df if len(docs) >= 50 else 1
    for token in sorted(t for t, n in df.items() if n >= min_df):
        vocab[token] = len(vocab)
    idf = np.zeros(len(vocab), dtype=np.float32)
    for token, i in vocab.items():
        if token != UNK:
            idf[i] = np.log((1 + len(docs)) / (1 + df[token])) + 1.0
    rows, cols, vals = [], [], []
    for r, doc in enumerate(docs):
        counts: dict[int, int] = {}
        for token in doc:
            column = vocab.get(token)
            if column is not None:
                counts[column] = counts.get(column, 0) + 1
        for i, c in counts.items():
            rows.append(r)
            cols.append(i)
            vals.append((1.0 + np.log(c)) * idf[i])
    return csr_matrix((vals, (rows, cols)), shape=(len(docs), len(vocab)), dtype=np.float32), vocab, idf


def test_parallel_tokenisation_equals_in_process(monkeypatch: pytest.MonkeyPatch) -> None:
    texts = _texts(1200)
    monkeypatch.setattr(reportqa.index.terms, "BATCH", 100)
    serial = tokenise_corpus(texts, processes=1)
    monkeypatch.setattr(reportqa.index.terms, "PARALLEL_MIN", 1000)
    parallel = tokenise_corpus(texts, processes=2)
    for ours, theirs, tokenise in zip(parallel, serial, (tokens, bigrams), strict=True):
        assert ours.vocabulary == theirs.vocabulary
        for name in ("indptr", "ids", "counts"):
            np.testing.assert_array_equal(getattr(ours, name), getattr(theirs, name))
        expected = counts_from_lists([tokenise(t) for t in texts])
        assert expected.vocabulary == ours.vocabulary
        np.testing.assert_array_equal(expected.ids, ours.ids)
        np.testing.assert_array_equal(expected.counts, ours.counts)


@pytest.mark.parametrize("n", [30, 400])  # under 50 chunks every word is kept, from 50 on min_df applies
def test_tfidf_matrix_is_identical_to_the_list_based_one(n: int) -> None:
    docs = [tokens(t) for t in _texts(n, seed=n)]
    docs[3] = []
    matrix, vocab, idf = tfidf_matrix(counts_from_lists(docs))
    expected, expected_vocab, expected_idf = _reference_tfidf(docs)
    assert vocab == expected_vocab
    np.testing.assert_array_equal(idf, expected_idf)
    for name in ("indptr", "indices", "data"):
        np.testing.assert_array_equal(getattr(matrix, name), getattr(expected, name))


def test_corpus_vectors_equal_encode_of_the_text(tmp_path: Path) -> None:
    texts = [*_texts(300), "", "的了", "全新的词语组合没有出现过"]
    words = counts_from_lists([tokens(t) for t in texts])
    model = fit_static_model(words, tmp_path / "model", dimension=16)
    from_counts = model.encode_counts(words)
    from_text = model.encode(texts)
    np.testing.assert_allclose(from_counts, from_text, atol=1e-6)
    assert not from_counts[300].any()  # no words at all: a zero vector, as encode gives
    config = json.loads((tmp_path / "model" / STATIC_CONFIG).read_text(encoding="utf-8"))
    assert config["documents"] == config["fitted_on"] == len(texts)


def test_a_large_corpus_is_fitted_on_a_sample(tmp_path: Path) -> None:
    texts = _texts(600, seed=5)
    words = counts_from_lists([tokens(t) for t in texts])
    model = fit_static_model(words, tmp_path / "model", dimension=16, sample=200)
    config = json.loads((tmp_path / "model" / STATIC_CONFIG).read_text(encoding="utf-8"))
    assert config["documents"] == 600 and config["fitted_on"] == 200
    vectors = model.encode_counts(words)
    np.testing.assert_allclose(vectors, model.encode(texts), atol=1e-6)
    assert (np.abs(np.linalg.norm(vectors, axis=1) - 1) < 1e-5).mean() > 0.95


def test_synonyms_counted_into_the_fit_land_next_to_their_word(tmp_path: Path) -> None:
    texts = [*_texts(200, seed=7), *["算力资源闲置率超30%", "数据中心闲置机柜增多"] * 5]
    words = counts_from_lists([tokens(t) for t in texts])
    assert "空置" not in words.vocabulary
    plain = fit_static_model(words, tmp_path / "plain", dimension=16)
    assert not plain.encode(["空置"]).any()  # a word the corpus never writes has no vector
    model = fit_static_model(words, tmp_path / "model", dimension=16, synonyms={"闲置": ("空置",)})
    near, other = model.encode(["空置", "闲置"]), model.encode(["芯片"])[0]
    assert float(near[0] @ near[1]) > 0.99 and float(near[0] @ other) < 0.9
    config = json.loads((tmp_path / "model" / STATIC_CONFIG).read_text(encoding="utf-8"))
    assert config["synonym_words"] == 1


def test_idf_file_holds_the_bm25_idf_of_the_word_channel() -> None:
    docs = [tokens(t) for t in _texts(120, seed=3)]
    idf = inverse_document_frequency(docs)
    n = len(docs)
    for word in list(idf)[:50]:
        df = sum(word in d for d in docs)
        assert idf[word] == math.log(1 + (n - df + 0.5) / (df + 0.5))
    assert idf == pytest.approx(LexicalIndex.build(docs).idf())


def test_an_index_of_the_previous_format_asks_for_a_rebuild(small_index: Settings, tmp_path: Path) -> None:
    copy = tmp_path / "old"
    shutil.copytree(small_index.index_dir, copy)
    version = current_version_path(copy)
    manifest = json.loads((version / MANIFEST).read_text(encoding="utf-8"))
    assert manifest["format_version"] == FORMAT_VERSION and manifest["dense_index"]["kind"] == "flat"
    manifest["format_version"] = 1  # the bm25s-based layout
    (version / MANIFEST).write_text(json.dumps(manifest), encoding="utf-8")
    with pytest.raises(IndexMismatch, match=rf"format 1, this reportqa reads format {FORMAT_VERSION}"):
        open_engine(small_index.model_copy(update={"index_dir": copy}))
