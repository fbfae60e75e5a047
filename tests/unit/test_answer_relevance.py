"""The answerability signal of the top passages: the pointwise relevance model when there is one."""

from __future__ import annotations

import numpy as np
import pytest
from reportqa.answer.respond import relevance_of

from reportqa.core.learned import LinearModel
from reportqa.core.types import Chunk, Hit


def hit(scores: dict[str, float], score: float = 0.7) -> Hit:
    chunk = Chunk(id="r#0", doc="r.txt", title="t", section="", text="2025年全球AI支出为2.59万亿美元。", start=0,
                  end=20, line_start=1, line_end=1)
    return Hit(chunk, score, scores)


RELEVANCE = LinearModel(("bm25", "dense"), np.zeros(2), np.ones(2), np.array([2.0, 4.0]), -3.0)


def test_the_relevance_model_reads_the_rankers_features() -> None:
    top = hit({"bm25": 1.0, "dense": 0.5, "ranker": 40.0})
    assert relevance_of(top, RELEVANCE) == pytest.approx(1 / (1 + np.exp(-(2.0 + 2.0 - 3.0))))


def test_without_a_relevance_model_or_its_features_the_rankers_probability_is_used() -> None:
    assert relevance_of(hit({"bm25": 1.0, "dense": 0.5, "ranker": 0.0}), None) == pytest.approx(0.5)
    assert relevance_of(hit({"ranker": 0.0}), RELEVANCE) == pytest.approx(0.5)  # rule-fused hits lack the features
    assert relevance_of(hit({}, score=0.7), None) == pytest.approx(0.7)
