"""Fitting per fold: a model on the other folds' rows for each fold and one on every row; the ranker's rows (pairs of
a relevant and an irrelevant candidate of one question), its Platt scaling back to probabilities, and the weights
that make report questions and CMRC 2018 count equally."""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import Protocol, TypeVar

from reportqa.eval.learn import fit_linear, platt
from reportqa.eval.train_data import Example, from_reports

from reportqa.core.learned import LinearModel
from reportqa.core.trees import TreeModel

Rows = tuple[list[dict[str, float]], list[int]]
Model = TypeVar("Model", LinearModel, TreeModel, TreeModel | None)


class Folded(Protocol):
    """What fitting per fold needs of an example: its fold."""

    @property
    def fold(self) -> int: ...


Item = TypeVar("Item", bound=Folded)


def fit_by_fold(examples: Sequence[Example], folds: int, rows_of: Callable[[Example], Rows], features: Sequence[str],
                balanced: bool = False, weight_of: Callable[[Example], float] | None = None
                ) -> tuple[dict[int, LinearModel], LinearModel]:
    """A logistic model per fold (fitted on the other folds) and one on everything; `weight_of`: each example's
    rows' weight."""
    def fit(rows: list[dict[str, float]], labels: list[int], weights: list[float] | None) -> LinearModel:
        return fit_linear(rows, labels, features, balanced=balanced, weights=weights)

    return fit_each_fold(examples, folds, rows_of, fit, weight_of)


def fit_each_fold(examples: Sequence[Item], folds: int, rows_of: Callable[[Item], Rows],
                  fit: Callable[[list[dict[str, float]], list[int], list[float] | None], Model],
                  weight_of: Callable[[Item], float] | None = None) -> tuple[dict[int, Model], Model]:
    """`fit` per fold (on the other folds' rows) and on everything."""
    by_fold: dict[int, tuple[list[dict[str, float]], list[int], list[float]]] = {f: ([], [], []) for f in range(folds)}
    for ex in examples:
        rows, labels = rows_of(ex)
        by_fold[ex.fold][0].extend(rows)
        by_fold[ex.fold][1].extend(labels)
        by_fold[ex.fold][2].extend([weight_of(ex) if weight_of else 1.0] * len(rows))

    def fit_on(kept: Sequence[int]) -> Model:
        rows = [r for g in kept for r in by_fold[g][0]]
        labels = [y for g in kept for y in by_fold[g][1]]
        return fit(rows, labels, [w for g in kept for w in by_fold[g][2]] if weight_of else None)

    models = {f: fit_on([g for g in range(folds) if g != f]) for f in range(folds)}
    return models, fit_on(range(folds))


def pairs_of(rows: Sequence[Mapping[str, float]], labels: Sequence[int]) -> tuple[list[dict[str, float]], list[int]]:
    """Each positive row against each negative one of the same question, both ways round (label: the first is the
    positive one): what matters is the order within a question, not a probability across questions."""
    positives = [r for r, y in zip(rows, labels, strict=True) if y]
    negatives = [r for r, y in zip(rows, labels, strict=True) if not y]
    differences: list[dict[str, float]] = []
    pair_labels: list[int] = []
    for good in positives:
        for bad in negatives:
            difference = {k: good[k] - bad[k] for k in good}
            differences += [difference, {k: -v for k, v in difference.items()}]
            pair_labels += [1, 0]
    return differences, pair_labels


def candidate_rows(ex: Example) -> tuple[list[dict[str, float]], list[int]]:
    ids = list(ex.candidates)
    return [ex.candidates[i] for i in ids], [ex.labels[i] for i in ids]


def ranker_pairs(ex: Example) -> tuple[list[dict[str, float]], list[int]]:
    """The candidate passages' pairs: a relevant one against an irrelevant one."""
    return pairs_of(*candidate_rows(ex))


def calibrated(model: LinearModel, examples: Sequence[Example],
               rows_of: Callable[[Example], tuple[list[dict[str, float]], list[int]]],
               weight_of: Callable[[Example], float]) -> LinearModel:
    """A pairwise model Platt-scaled on the rows it was trained from: the answerability signals read its probability
    (an uncalibrated pairwise score put every top passage at ~1.0, and off-topic questions were answered)."""
    rows: list[dict[str, float]] = []
    labels: list[int] = []
    weights: list[float] = []
    for ex in examples:
        more, more_labels = rows_of(ex)
        rows += more
        labels += more_labels
        weights += [weight_of(ex)] * len(more)
    return platt(model, rows, labels, weights)


def source_weights(examples: Sequence[Example]) -> Callable[[Example], float]:
    """Report questions and CMRC 2018 count equally in the ranker, however many each has."""
    cmrc = sum(ex.source == "cmrc" for ex in examples)
    reports = sum(from_reports(ex) for ex in examples)
    factor = cmrc / reports if cmrc and reports else 1.0
    return lambda ex: 1.0 if ex.source == "cmrc" else factor
