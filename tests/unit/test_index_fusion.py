"""Score fusion: min-max scaling, weighted sum, reciprocal-rank fusion."""

from __future__ import annotations

import pytest
from reportqa.index.fusion import fuse, minmax, reciprocal_rank

BM25 = {1: 2.0, 2: 4.0, 3: 3.0}
DENSE = {2: 0.5, 4: 0.9}


def test_minmax_scales_to_unit_range() -> None:
    assert minmax(BM25) == {1: 0.0, 2: 1.0, 3: 0.5}


def test_minmax_empty() -> None:
    assert minmax({}) == {}


def test_minmax_constant_positive_scores_are_all_one() -> None:
    assert minmax({1: 5.0, 2: 5.0}) == {1: 1.0, 2: 1.0}


def test_minmax_constant_zero_scores_are_all_zero() -> None:
    assert minmax({1: 0.0, 2: 0.0}) == {1: 0.0, 2: 0.0}
    assert minmax({7: -1.0}) == {7: 0.0}


def test_fuse_candidate_missing_from_a_channel_gets_zero_there() -> None:
    fused = fuse({"bm25": BM25, "dense": DENSE}, {"bm25": 0.6, "dense": 0.4})
    assert fused == pytest.approx({1: 0.0, 2: 0.6, 3: 0.3, 4: 0.4})
    assert set(fused) == {1, 2, 3, 4}


def test_fuse_channel_without_weight_contributes_nothing() -> None:
    assert fuse({"bm25": {1: 1.0}, "other": {1: 3.0, 2: 1.0}}, {"bm25": 1.0}) == {1: 1.0, 2: 0.0}


def test_fuse_empty() -> None:
    assert fuse({}, {"bm25": 1.0}) == {}


def test_reciprocal_rank_with_k_zero() -> None:
    fused = reciprocal_rank({"bm25": {1: 2.0, 2: 4.0}, "dense": DENSE}, {"bm25": 1.0, "dense": 1.0}, k=0)
    assert fused == {2: 1.5, 1: 0.5, 4: 1.0}


def test_reciprocal_rank_default_k() -> None:
    fused = reciprocal_rank({"bm25": {1: 2.0, 2: 4.0}, "dense": DENSE}, {"bm25": 1.0, "dense": 0.5})
    assert fused == pytest.approx({2: 1 / 61 + 0.5 / 62, 1: 1 / 62, 4: 0.5 / 61})
