"""Gradient-boosted trees as data: literal trees, the fitted ones against scikit-learn's own scores, the files."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
from reportqa.eval.learn import SEED, TREE_LEAVES, TREE_RATE, TREES, fit_linear, fit_trees

from reportqa.core.learned import ModelFileError, load_model_set, matrix, model_from_json, write_model_set
from reportqa.core.trees import TreeModel, tree_model

# feature 0 ≤ 0.5 → left leaf -1; else feature 1 ≤ 2 → 0.5, else 2 (missing values go left at the root only)
STUMPS = [[(0, 0.5, 1, 2, 0.0, False, True), (0, 0.0, 0, 0, -1.0, True, False),
           (1, 2.0, 3, 4, 0.0, False, False), (0, 0.0, 0, 0, 0.5, True, False), (0, 0.0, 0, 0, 2.0, True, False)],
          [(0, 0.0, 0, 0, 0.25, True, False)]]


def test_literal_trees_sum_the_leaves_each_row_reaches() -> None:
    model = tree_model(("a", "b"), 0.1, STUMPS)
    rows = np.array([[0.2, 9.0], [0.9, 1.0], [0.9, 3.0], [np.nan, 3.0]])
    assert model.depth == 2 and model.roots.tolist() == [0, 5]
    assert model.logits(rows).tolist() == pytest.approx([0.1 - 1 + 0.25, 0.1 + 0.5 + 0.25, 0.1 + 2 + 0.25,
                                                         0.1 - 1 + 0.25])
    assert model.probabilities(rows[:1])[0] == pytest.approx(1 / (1 + np.exp(0.65)))
    assert model.logits(np.zeros((0, 2))).shape == (0,)


def xor_rows(n: int, seed: int) -> tuple[list[dict[str, float]], list[int]]:
    rng = np.random.default_rng(seed)
    x = rng.random((n, 2))
    return [{"a": float(a), "b": float(b)} for a, b in x], [int((a > 0.5) != (b > 0.5)) for a, b in x]


def test_fitted_trees_score_like_scikit_learn_and_learn_what_a_line_cannot() -> None:
    from sklearn.ensemble import HistGradientBoostingClassifier

    rows, labels = xor_rows(600, 1)
    model = fit_trees(rows, labels, ("a", "b"))
    test_rows, test_labels = xor_rows(300, 2)
    x = matrix(test_rows, ("a", "b"))
    reference = HistGradientBoostingClassifier(max_iter=TREES, max_leaf_nodes=TREE_LEAVES, learning_rate=TREE_RATE,
                                               early_stopping=False, random_state=SEED)
    reference.fit(matrix(rows, ("a", "b")), labels)
    assert model.logits(x) == pytest.approx(reference.decision_function(x), abs=1e-9)
    trees_right = np.mean((model.probabilities(x) > 0.5) == np.array(test_labels))
    line_right = np.mean((fit_linear(rows, labels, ("a", "b")).probabilities(x) > 0.5) == np.array(test_labels))
    assert trees_right > 0.9 and line_right < 0.7


def test_a_trees_file_round_trips_in_a_model_set_and_bad_links_are_refused(tmp_path: Path) -> None:
    model = tree_model(("a", "b"), 0.1, STUMPS)
    loaded = write_model_set(tmp_path, {"reader": model}, {}).get("reader")
    assert isinstance(loaded, TreeModel)
    rows = np.array([[0.9, 3.0], [0.1, 0.0]])
    assert loaded.logits(rows).tolist() == model.logits(rows).tolist()
    data = model.to_json()
    assert isinstance(model_from_json(data), TreeModel)
    with pytest.raises(ValueError, match="does not exist"):
        TreeModel.from_json({**data, "left": [9, *data["left"][1:]]})
    with pytest.raises(ValueError, match="feature"):
        TreeModel.from_json({**data, "feature": [7, *data["feature"][1:]]})
    with pytest.raises(ValueError, match="loops"):
        TreeModel.from_json({**data, "left": [0, *data["left"][1:]]})  # the root its own left child
    bad = {**data, "value": data["value"][:-1]}
    (tmp_path / "reader.json").write_text(json.dumps(bad))
    with pytest.raises(ModelFileError):
        load_model_set(tmp_path)
