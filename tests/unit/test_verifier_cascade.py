"""The answer verifier is asked only where the answerability model without it is unsure, in serving and in the
training's out-of-fold probabilities alike."""

from __future__ import annotations

from dataclasses import fields
from pathlib import Path

import numpy as np
import pytest
from reportqa.answer.answerability import Signals
from reportqa.answer.extract import Selection, Unit
from reportqa.answer.respond import judged
from reportqa.eval.train import served_probability

from reportqa.core.learned import UNVERIFIED, VERIFIER_BAND, LinearModel, ModelSet, needs_verifier


class CountingVerifier:
    def __init__(self, logit: float) -> None:
        self.value, self.calls = logit, 0

    def logit(self, question: str, sentence: str) -> float:
        self.calls += 1
        return self.value


def model(features: tuple[str, ...], weights: list[float], bias: float = 0.0) -> LinearModel:
    n = len(features)
    return LinearModel(features, np.zeros(n), np.ones(n), np.asarray(weights, dtype=np.float64), bias)


def signals(coverage: float) -> Signals:
    return Signals(**{f.name: 0.0 for f in fields(Signals)} | {"coverage": coverage})  # type: ignore[arg-type]


# without the verifier: sigmoid(coverage); with it: sigmoid(verifier)
UNSURE, SURE = 0.0, 5.0  # sigmoid 0.5 (inside the band) and 0.993 (above it)
MODELS = {"answerability": model(("verifier",), [1.0]), UNVERIFIED: model(("coverage",), [1.0])}
SELECTION = Selection([], 0, best=Unit("星河半导体2025年营业收入为128亿元。", 0))


def test_the_band_is_where_the_model_without_the_verifier_is_unsure() -> None:
    low, high = VERIFIER_BAND
    assert needs_verifier(low) and needs_verifier(high) and needs_verifier(0.5)
    assert not needs_verifier(low - 1e-6) and not needs_verifier(high + 1e-6)
    assert needs_verifier(0.95, (0.0, 1.0)) and not needs_verifier(0.5, (0.6, 0.7))


def test_a_sure_answer_skips_the_verifier_and_an_unsure_one_reads_it() -> None:
    verifier = CountingVerifier(-3.0)
    models = ModelSet(Path(), {}, dict(MODELS), verifier=verifier)
    sure, read = judged("星河半导体的营收？", SELECTION, signals(SURE), models)
    assert verifier.calls == 0 and sure == pytest.approx(1 / (1 + np.exp(-SURE))) and read.verifier == 0.0
    unsure, read = judged("星河半导体的营收？", SELECTION, signals(UNSURE), models)
    assert verifier.calls == 1 and read.verifier == -3.0 and unsure == pytest.approx(1 / (1 + np.exp(3.0)))
    # the set's own band decides: one that holds every probability asks the verifier every time
    wide = ModelSet(Path(), {"verifier_band": [0.0, 1.0]}, dict(MODELS), verifier=verifier)
    judged("星河半导体的营收？", SELECTION, signals(SURE), wide)
    assert verifier.calls == 2


def test_without_a_model_to_ask_first_the_verifier_is_always_read() -> None:
    verifier = CountingVerifier(2.0)
    models = ModelSet(Path(), {}, {"answerability": MODELS["answerability"]}, verifier=verifier)
    confidence, read = judged("星河半导体的营收？", SELECTION, signals(SURE), models)
    assert verifier.calls == 1 and read.verifier == 2.0 and confidence == pytest.approx(1 / (1 + np.exp(-2.0)))
    # no sentence chosen: nothing to verify, the logit stays 0
    none_chosen = Selection([], None)
    _, read = judged("星河半导体的营收？", none_chosen, signals(UNSURE), ModelSet(Path(), {}, dict(MODELS),
                                                                        verifier=verifier))
    assert verifier.calls == 1 and read.verifier == 0.0


def test_the_training_gives_the_probability_the_engine_gives() -> None:
    verifier = CountingVerifier(-3.0)
    models = ModelSet(Path(), {}, dict(MODELS), verifier=verifier)
    for coverage in (SURE, UNSURE, -SURE):
        served, _ = judged("星河半导体的营收？", SELECTION, signals(coverage), models)
        row = signals(coverage).row() | {"verifier": -3.0}
        assert served_probability(row, MODELS["answerability"], MODELS[UNVERIFIED]) == pytest.approx(served)
    assert served_probability(signals(SURE).row(), MODELS["answerability"], None) == pytest.approx(0.5)
