"""Fitting the small learned models (scikit-learn's logistic regression and gradient-boosted trees) and choosing
folds and thresholds."""

from __future__ import annotations

import hashlib
from collections.abc import Mapping, Sequence

import numpy as np

from reportqa.core.learned import LinearModel, matrix
from reportqa.core.trees import TreeModel, tree_model

DEFAULT_C = 1.0
SEED = 0
# the trees of the answerability and claim models (docs/experiments.md, twentieth session: 100–300 trees of 7–31
# leaves within ±0.01 of these on the reader of then)
TREES, TREE_LEAVES, TREE_RATE = 200, 15, 0.05
# the reader's: ~200,000 candidate units, and with its context features more trees of more leaves pay (CMRC 2018 out
# of fold, the first pick in a chunk holding the answer: 200×15 0.916, 500×31 0.922, 500×63 0.927, 1000×63 0.926)
READER_TREES, READER_LEAVES = 500, 63


def fit_linear(rows: Sequence[Mapping[str, float]], labels: Sequence[int], features: Sequence[str],
               c: float = DEFAULT_C, balanced: bool = False, seed: int = SEED,
               weights: Sequence[float] | None = None) -> LinearModel:
    """A standardised L2 logistic regression; a feature with no spread gets scale 1 (and learns ~nothing);
    `weights`: one per row (sources balanced), else every row counts once."""
    from sklearn.linear_model import LogisticRegression

    x = matrix(rows, features)
    y = np.asarray(labels, dtype=np.int64)
    if len(set(y.tolist())) < 2:
        raise ValueError(f"cannot fit on {len(y)} examples of a single class")
    mean = x.mean(axis=0)
    scale = x.std(axis=0)
    scale[scale < 1e-9] = 1.0
    model = LogisticRegression(C=c, class_weight="balanced" if balanced else None, max_iter=2000,
                               random_state=seed)
    model.fit((x - mean) / scale, y, sample_weight=None if weights is None else np.asarray(weights, dtype=np.float64))
    return LinearModel(tuple(features), mean, scale, model.coef_[0].astype(np.float64), float(model.intercept_[0]))


def fit_trees(rows: Sequence[Mapping[str, float]], labels: Sequence[int], features: Sequence[str],
              weights: Sequence[float] | None = None, seed: int = SEED, trees: int = TREES,
              leaves: int = TREE_LEAVES) -> TreeModel:
    """Gradient-boosted trees (log loss) whose features may interact, exported node by node so that serving
    needs numpy only."""
    from sklearn.ensemble import HistGradientBoostingClassifier

    x = matrix(rows, features)
    y = np.asarray(labels, dtype=np.int64)
    if len(set(y.tolist())) < 2:
        raise ValueError(f"cannot fit on {len(y)} examples of a single class")
    model = HistGradientBoostingClassifier(max_iter=trees, max_leaf_nodes=leaves, learning_rate=TREE_RATE,
                                           early_stopping=False, random_state=seed)
    model.fit(x, y, sample_weight=None if weights is None else np.asarray(weights, dtype=np.float64))
    fitted = [[(int(n["feature_idx"]), float(n["num_threshold"]), int(n["left"]), int(n["right"]), float(n["value"]),
                bool(n["is_leaf"]), bool(n["missing_go_to_left"])) for n in predictors[0].nodes]
              for predictors in model._predictors]  # the fitted trees: sklearn keeps them only here
    return tree_model(features, float(np.ravel(model._baseline_prediction)[0]), fitted)


def platt(model: LinearModel, rows: Sequence[Mapping[str, float]], labels: Sequence[int],
          weights: Sequence[float] | None = None) -> LinearModel:
    """The same ordering with probabilities that mean something: a pairwise model's score only orders a question's
    candidates, so a one-feature logistic regression (Platt scaling) maps it onto the rows' own labels."""
    from sklearn.linear_model import LogisticRegression

    scores = model.logits(matrix(rows, model.features)).reshape(-1, 1)
    y = np.asarray(labels, dtype=np.int64)
    if len(set(y.tolist())) < 2:
        raise ValueError(f"cannot calibrate on {len(y)} examples of a single class")
    fit = LogisticRegression(C=1e6, max_iter=2000)
    fit.fit(scores, y, sample_weight=None if weights is None else np.asarray(weights, dtype=np.float64))
    slope, intercept = float(fit.coef_[0][0]), float(fit.intercept_[0])
    if slope <= 0:
        raise ValueError("the scores do not order the labels: nothing to calibrate")
    return LinearModel(model.features, model.mean, model.scale, model.weights * slope, model.bias * slope + intercept)


def fold_of(key: str, folds: int) -> int:
    """A stable fold for a group key (question id, or passage id for passage benchmarks)."""
    return int(hashlib.sha256(key.encode("utf-8")).hexdigest(), 16) % folds


def refusal_threshold(answerable: Sequence[float], max_refused: float = 0.05) -> float:
    """The highest threshold that refuses at most `max_refused` of the answerable questions' probabilities."""
    if not answerable:
        return 0.0
    ordered = sorted(answerable)
    allowed = int(np.floor(max_refused * len(ordered)))  # this many may fall below the threshold
    return float(ordered[allowed]) if allowed < len(ordered) else float(ordered[-1])


def calibration_error(probabilities: Sequence[float], outcomes: Sequence[bool], bins: int = 10
                      ) -> tuple[float, list[dict[str, float]]]:
    """Expected calibration error over equal-count bins, and the reliability curve (predicted vs observed)."""
    if not probabilities:
        return 0.0, []
    order = np.argsort(np.asarray(probabilities))
    p = np.asarray(probabilities)[order]
    o = np.asarray(outcomes, dtype=np.float64)[order]
    curve, error = [], 0.0
    for part in np.array_split(np.arange(len(p)), bins):
        if not len(part):
            continue
        predicted, observed = float(p[part].mean()), float(o[part].mean())
        error += len(part) / len(p) * abs(predicted - observed)
        curve.append({"predicted": round(predicted, 4), "observed": round(observed, 4), "n": len(part)})
    return error, curve


def auc(positive: Sequence[float], negative: Sequence[float]) -> float:
    """Probability that a random positive scores above a random negative (ties count half)."""
    if not positive or not negative:
        return float("nan")
    pos, neg = np.asarray(positive), np.asarray(negative)
    greater = (pos[:, None] > neg[None, :]).sum()
    ties = (pos[:, None] == neg[None, :]).sum()
    return float((greater + 0.5 * ties) / (len(pos) * len(neg)))
