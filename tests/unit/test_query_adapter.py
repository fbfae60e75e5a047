"""The question adapter: the map on literal vectors, its file in a model set, and fitting it on a made-up corpus."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from reportqa.eval.query_adapter import AdapterData, fit_query_adapter, rank_of_first

from reportqa.core.learned import LinearModel, ModelFileError, QueryAdapter, load_model_set, write_model_set
from reportqa.core.settings import DEFAULT_EMBED_MODEL, load_settings

SWAP = np.array([[0.0, 1.0], [1.0, 0.0]], dtype=np.float32)


def test_the_adapter_maps_a_question_vector_to_a_unit_vector() -> None:
    adapter = QueryAdapter("e5", SWAP * 2)
    assert adapter.apply(np.array([0.6, 0.8])).tolist() == pytest.approx([0.8, 0.6])
    assert adapter.apply(np.zeros(2)).tolist() == [0.0, 0.0]
    assert adapter.fits("e5", 2) and not adapter.fits("e5", 384) and not adapter.fits("minilm", 2)


@pytest.mark.parametrize("matrix", [np.eye(2, 3), np.array([[np.nan, 0.0], [0.0, 1.0]]), np.ones(3)])
def test_an_adapter_is_a_finite_square_matrix(matrix: np.ndarray) -> None:
    with pytest.raises(ValueError, match="finite square matrix"):
        QueryAdapter("e5", matrix)


def test_a_model_set_keeps_its_adapter_and_refuses_a_changed_one(tmp_path: Path) -> None:
    model = LinearModel(("x",), np.array([0.0]), np.array([1.0]), np.array([2.0]), -1.0)
    written = write_model_set(tmp_path, {"ranker": model}, {"threshold": 0.3}, QueryAdapter("e5", SWAP))
    assert written.manifest["query_adapter"]["encoder"] == "e5"
    loaded = load_model_set(tmp_path)
    assert loaded.adapter is not None and loaded.adapter.matrix.tolist() == SWAP.tolist()
    without = write_model_set(tmp_path / "plain", {"ranker": model}, {"threshold": 0.3})
    assert without.adapter is None and without.digest != loaded.digest
    rewritten = write_model_set(tmp_path, {"ranker": model}, dict(loaded.manifest))  # no adapter: the file goes
    assert rewritten.adapter is None and not (tmp_path / "query_adapter.npy").exists()
    write_model_set(tmp_path, {"ranker": model}, {}, QueryAdapter("e5", SWAP))
    np.save(tmp_path / "query_adapter.npy", np.eye(2, dtype=np.float32))
    with pytest.raises(ModelFileError, match="digest"):
        load_model_set(tmp_path)


def made_up_corpus(questions: int, seed: int) -> AdapterData:
    """Three passages of one unit each on the axes; every question leans to passage 1 but is answered by 0."""
    rng = np.random.default_rng(seed)
    units = np.eye(3, dtype=np.float32)
    raw = np.column_stack([np.full(questions, 0.5), np.full(questions, 0.8), rng.uniform(0, 0.3, questions)])
    vectors = (raw / np.linalg.norm(raw, axis=1, keepdims=True)).astype(np.float32)
    relevant = np.zeros((questions, 3), dtype=bool)
    relevant[:, 0] = True
    return AdapterData(vectors, relevant, units, np.arange(3))


def test_the_fitted_adapter_puts_the_answering_passage_first_on_questions_it_never_saw() -> None:
    training, unseen = made_up_corpus(40, seed=1), made_up_corpus(10, seed=2)
    assert rank_of_first(unseen, None).tolist() == [2] * 10
    adapter = fit_query_adapter(training, "made-up", epochs=400)
    assert adapter.encoder == "made-up" and adapter.matrix.shape == (3, 3)
    assert rank_of_first(unseen, adapter).tolist() == [1] * 10


def test_without_questions_the_adapter_is_the_identity() -> None:
    empty = AdapterData(np.zeros((0, 3), np.float32), np.zeros((0, 3), bool), np.eye(3, dtype=np.float32),
                        np.arange(3))
    assert fit_query_adapter(empty, "made-up").matrix.tolist() == np.eye(3).tolist()


def test_adapter_data_needs_an_answering_passage_for_every_question() -> None:
    with pytest.raises(ValueError, match="needs a passage"):
        AdapterData(np.ones((1, 3), np.float32), np.zeros((1, 3), bool), np.eye(3, dtype=np.float32), np.arange(3))


def test_the_shipped_models_load_with_an_adapter_for_the_default_encoder_and_stay_small() -> None:
    folder = load_settings().learned_models
    shipped = load_model_set(folder)  # every digest checked
    assert {"ranker", "relevance", "reader", "answerability", "claim_topic", "claim_conflict"} <= set(shipped.models)
    assert shipped.adapter is not None and shipped.adapter.fits(DEFAULT_EMBED_MODEL, 384)
    assert sum(path.stat().st_size for path in folder.iterdir()) <= 25_000_000
