"""Question vectors: cached per text, least recently used evicted, encoded ahead once and waited for."""

from __future__ import annotations

import threading
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor

import numpy as np
from reportqa.index.query_vectors import QueryVectors


class CountingEmbedder:
    """Vectors made from the text's length; counts what it encodes and can be held back by an event."""

    name = "counting"
    dimension = 3

    def __init__(self, gate: threading.Event | None = None) -> None:
        self.encoded: list[str] = []
        self.gate = gate
        self.lock = threading.Lock()

    def encode(self, texts: Sequence[str]) -> np.ndarray:
        return self.encode_queries(texts)

    def encode_queries(self, texts: Sequence[str]) -> np.ndarray:
        if self.gate is not None:
            assert self.gate.wait(5)
        with self.lock:
            self.encoded.extend(texts)
        return np.array([[len(t), 1.0, 0.0] for t in texts], dtype=np.float32)


def test_a_text_is_encoded_once_and_then_read_from_the_cache() -> None:
    embedder = CountingEmbedder()
    vectors = QueryVectors(embedder)
    first = vectors.vector("台积电")
    again = vectors.vector("台积电")
    assert embedder.encoded == ["台积电"]
    assert again is first
    assert first.tolist() == [3.0, 1.0, 0.0]


def test_the_least_recently_used_text_goes_first() -> None:
    embedder = CountingEmbedder()
    vectors = QueryVectors(embedder, capacity=2)
    vectors.vector("a")
    vectors.vector("bb")
    vectors.vector("a")  # a is now the most recent
    vectors.vector("ccc")  # evicts bb
    assert len(vectors) == 2
    vectors.vector("a")
    vectors.vector("bb")
    assert embedder.encoded == ["a", "bb", "ccc", "bb"]


def test_prime_encodes_each_missing_text_once_and_returns_when_done() -> None:
    embedder = CountingEmbedder()
    vectors = QueryVectors(embedder)
    vectors.vector("已有")
    assert vectors.prime(["甲", "乙", "甲", "已有"]) == 2
    assert sorted(embedder.encoded) == sorted(["已有", "甲", "乙"])
    vectors.vector("甲")
    vectors.vector("乙")
    assert len(embedder.encoded) == 3


def test_asking_for_a_text_on_its_way_waits_for_it_instead_of_encoding_it_again() -> None:
    gate = threading.Event()
    embedder = CountingEmbedder(gate)
    vectors = QueryVectors(embedder)
    with ThreadPoolExecutor(max_workers=1) as pool:
        assert vectors.ahead(["那2027年呢？"], pool) == 1
        assert vectors.ahead(["那2027年呢？"], pool) == 0  # already on its way
        with ThreadPoolExecutor(max_workers=1) as asker:
            asked = asker.submit(vectors.vector, "那2027年呢？")
            assert not asked.done()
            gate.set()
            vector = asked.result(timeout=5)
    assert vector.tolist() == [len("那2027年呢？"), 1.0, 0.0]
    assert embedder.encoded == ["那2027年呢？"]


def test_an_encoder_failure_ahead_reaches_the_asker_and_is_not_kept() -> None:
    class Failing(CountingEmbedder):
        def encode_queries(self, texts: Sequence[str]) -> np.ndarray:
            raise RuntimeError("engine failed")

    vectors = QueryVectors(Failing())
    with ThreadPoolExecutor(max_workers=1) as pool:
        vectors.ahead(["问题"], pool)
    try:
        vectors.vector("问题")
    except RuntimeError as exc:
        assert str(exc) == "engine failed"
    else:
        raise AssertionError("the failure was swallowed")
    assert len(vectors) == 0
