"""The small learned parts on literal inputs: linear models as data, rank features, Q4 dequantisation, the cache."""

from __future__ import annotations

import json
import struct
from pathlib import Path

import numpy as np
import pytest
from reportqa.index.e5_weights import dequantize_q4
from reportqa.index.rank_features import (
    CHUNK_FEATURES,
    CandidateFacts,
    chunk_features,
    quantitative_share,
    reciprocal_ranks,
    without_interactions,
)
from reportqa.index.vector_cache import VectorCache

from reportqa.core.learned import LinearModel, ModelFileError, load_model_set, matrix, write_model_set


def test_linear_model_scores_standardised_features() -> None:
    model = LinearModel(("a", "b"), np.array([1.0, 0.0]), np.array([2.0, 1.0]), np.array([1.0, -1.0]), 0.5)
    rows = matrix([{"a": 3.0, "b": 1.0}, {"b": 2.0}], model.features)
    assert rows.tolist() == [[3.0, 1.0], [0.0, 2.0]]
    assert model.logits(rows).tolist() == pytest.approx([0.5 + 1.0 - 1.0, 0.5 - 0.5 - 2.0])
    assert model.probabilities(rows)[0] == pytest.approx(1 / (1 + np.exp(-0.5)))


def test_model_set_round_trips_and_refuses_a_changed_file(tmp_path: Path) -> None:
    model = LinearModel(("x",), np.array([0.0]), np.array([1.0]), np.array([2.0]), -1.0)
    written = write_model_set(tmp_path, {"reader": model}, {"threshold": 0.3})
    assert written.manifest["threshold"] == 0.3 and written.get("ranker") is None
    assert load_model_set(tmp_path).get("reader").weights.tolist() == [2.0]  # type: ignore[union-attr]
    data = json.loads((tmp_path / "reader.json").read_text())
    data["bias"] = 5.0
    (tmp_path / "reader.json").write_text(json.dumps(data))
    with pytest.raises(ModelFileError, match="digest"):
        load_model_set(tmp_path)
    assert load_model_set(tmp_path / "absent").models == {}


def test_q4_blocks_dequantise_to_nibble_minus_eight_times_scale() -> None:
    scale = struct.pack("<e", 0.5)
    nibbles = bytes((j % 16) | (((15 - j) % 16) << 4) for j in range(16))  # low: 0..15, high: 15..0
    values = dequantize_q4(scale + nibbles, 0, 32)
    assert values[:16].tolist() == [(j - 8) * 0.5 for j in range(16)]
    assert values[16:].tolist() == [(15 - j - 8) * 0.5 for j in range(16)]


def test_rank_features_scale_each_channel_by_its_best_candidate() -> None:
    channels = {"bm25": {1: 8.0, 2: 4.0}, "dense": {2: 0.9, 3: 0.8}}
    facts = {i: CandidateFacts(dense=d, unit_max=u, coverage=c, has_number=n, is_table=t)
             for i, d, u, c, n, t in ((1, 0.5, 0.6, 1.0, True, False), (2, 0.9, 0.95, 0.5, False, True),
                                      (3, 0.8, 0.7, 0.0, False, False))}
    rows = chunk_features(channels, facts, "number", english=True)
    assert set(rows) == {1, 2, 3} and set(rows[1]) == set(CHUNK_FEATURES)
    assert (rows[1]["bm25"], rows[2]["bm25"], rows[3]["bm25"]) == (1.0, 0.5, 0.0)
    assert (rows[1]["rr_bm25"], rows[2]["rr_bm25"], rows[3]["rr_dense"]) == (1.0, 0.5, 0.5)
    assert rows[2]["unit_gap"] == 0.0 and rows[1]["unit_gap"] == pytest.approx(0.6 - 0.95)
    assert (rows[1]["number_match"], rows[2]["number_match"], rows[2]["table"]) == (1.0, 0.0, 1.0)
    assert rows[1]["english_bm25"] == 1.0 and rows[3]["english_dense"] == pytest.approx(0.8)
    assert rows[1]["title_named"] == 0.0  # no report named unless the facts say so
    named = {1: CandidateFacts(dense=0.5, unit_max=0.6, coverage=1.0, has_number=True, is_table=False, title_named=0.7)}
    assert chunk_features(channels, named, None, english=False)[1]["title_named"] == 0.7


def test_quantitative_share_counts_passages_that_write_a_percentage() -> None:
    assert quantitative_share(["增长12%", "占比３０％", "规模达725.3EFLOPS", "北京是首都"]) == 0.5
    assert quantitative_share([]) == 0.0


def test_each_passage_feature_is_also_weighed_by_the_collection() -> None:
    channels = {"bm25": {1: 8.0, 2: 4.0}}
    facts = {i: CandidateFacts(dense=0.5, unit_max=0.6, coverage=c, has_number=False, is_table=False)
             for i, c in ((1, 1.0), (2, 0.25))}
    rows = chunk_features(channels, facts, None, english=False, collection=0.4)
    assert rows[2]["quant"] == 0.4 and rows[2]["quant_bm25"] == pytest.approx(0.4 * 0.5)
    assert rows[2]["quant_coverage"] == pytest.approx(0.1) and rows[1]["quant_dense"] == pytest.approx(0.2)
    plain = chunk_features(channels, facts, None, english=False)  # no collection given: every product is 0
    assert all(plain[2][f"quant_{k}"] == 0.0 for k in ("bm25", "coverage", "dense"))
    shown = without_interactions(rows[2])
    assert shown["quant"] == 0.4 and shown["bm25"] == 0.5 and not any(k.startswith("quant_") for k in shown)


def test_reciprocal_ranks_break_ties_by_chunk_index() -> None:
    assert reciprocal_ranks({5: 1.0, 2: 1.0, 9: 3.0}) == {9: 1.0, 2: 0.5, 5: 1 / 3}


def test_vector_cache_embeds_each_new_text_once(tmp_path: Path) -> None:
    calls: list[list[str]] = []

    def encode(texts: list[str]) -> np.ndarray:
        calls.append(list(texts))
        return np.array([[len(t), 1.0] for t in texts], dtype=np.float32)

    cache = VectorCache(tmp_path, "model/a b")
    first = cache.vectors(["一", "二二", "一"], encode, 2)  # type: ignore[arg-type]
    assert first.tolist() == [[1, 1], [2, 1], [1, 1]] and calls == [["一", "二二"]]
    cache.save()
    again = VectorCache(tmp_path, "model/a b").vectors(["二二", "三三三"], encode, 2)  # type: ignore[arg-type]
    assert again.tolist() == [[2, 1], [3, 1]] and calls[-1] == ["三三三"]
    (tmp_path / cache.path.name).write_bytes(b"damaged")
    assert VectorCache(tmp_path, "model/a b").vectors(["一"], encode, 2).tolist() == [[1, 1]]  # type: ignore[arg-type]
    shortest_first = VectorCache(tmp_path / "other", "m").vectors(["三三三", "一", "二二"], encode, 2)  # type: ignore[arg-type]
    assert shortest_first.tolist() == [[3, 1], [1, 1], [2, 1]] and calls[-1] == ["一", "二二", "三三三"]
