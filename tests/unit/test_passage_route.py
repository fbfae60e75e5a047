"""The bundled encoder's two build routes give vectors that differ in the third decimal, so a corpus's vectors must
follow from the corpus alone: the route by the collection's size, each route with its own cache."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import numpy as np
import pytest
from reportqa.index import models
from reportqa.index.models import E5Passages
from reportqa.index.vectors import embed_units

from reportqa.core.types import Chunk


class _Route:
    """A route's encoder: every vector filled with its mark (1 the engine, 2 the export); counts what it embeds."""

    def __init__(self, mark: float, embedded: list[str]) -> None:
        self.mark, self.embedded = mark, embedded

    def encode(self, texts: Sequence[str]) -> np.ndarray:
        self.embedded.extend(texts)
        return np.full((len(texts), 4), self.mark, dtype=np.float32)


class _Passages(E5Passages):
    dimension = 4

    def __init__(self, loads: list[str]) -> None:
        super().__init__(Path("unused"))
        self.loads: list[str] = loads
        self.embedded: list[str] = []

    def encoder_for(self, count: int) -> _Route:  # type: ignore[override]
        self.loads.append(self.route(count))
        return _Route(1.0 if self.route(count) == "engine" else 2.0, self.embedded)


def _chunks(*texts: str) -> list[Chunk]:
    return [Chunk(f"d#{i}", "d", "T", "一", t, 0, len(t), 1, 1) for i, t in enumerate(texts)]


def test_route_follows_the_collection_size(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(models, "ENGINE_TEXTS", 3)
    assert [E5Passages.route(n) for n in (1, 3, 4)] == ["engine", "engine", "onnx-fp32"]


def test_vectors_of_a_corpus_do_not_depend_on_what_the_cache_held(monkeypatch: pytest.MonkeyPatch,
                                                                   tmp_path: Path) -> None:
    monkeypatch.setattr(models, "ENGINE_TEXTS", 3)
    texts = tuple(f"{name}公司营收{n}亿元。" for name, n in zip("甲乙丙丁戊", "十五三一八", strict=True))
    loads: list[str] = []
    embed_units(_chunks(*texts[:2]), _Passages(loads), tmp_path, lambda _: None)  # a small build first: the engine
    large = _Passages(loads)
    vectors, _ = embed_units(_chunks(*texts), large, tmp_path, lambda _: None)
    alone, _ = embed_units(_chunks(*texts), _Passages(loads), tmp_path / "fresh", lambda _: None)
    assert vectors[:, 0].tolist() == [2.0] * 5 == alone[:, 0].tolist()  # none of the small build's vectors reused
    assert sorted(large.embedded) == sorted(texts)
    assert loads == ["engine", "onnx-fp32", "onnx-fp32"]


def test_a_build_whose_texts_are_all_cached_loads_no_encoder(tmp_path: Path) -> None:
    loads: list[str] = []
    first, _ = embed_units(_chunks("甲公司营收十亿元。"), _Passages(loads), tmp_path, lambda _: None)
    again, _ = embed_units(_chunks("甲公司营收十亿元。"), _Passages(loads), tmp_path, lambda _: None)
    assert loads == ["engine"] and again.tolist() == first.tolist()
