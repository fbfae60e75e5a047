"""The answer verifier: trained per fold inside the training pipeline, stored small, served through its int8
export, and read by the answerability model as one more signal.

A tiny slice and one trained layer: this checks the pipeline and the contracts (the stored file, its manifest
entry, the export agreeing with torch), not the quality.
"""

from __future__ import annotations

import shutil
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from reportqa.answer.verifier import pair_ids, pair_texts, pair_tokenizer, read_weights, write_weights
from reportqa.eval.answerability_rows import AnswerabilityData, rows_of, write_into
from reportqa.eval.datasets import item_from_row
from reportqa.eval.train import answerability_weight, train, write_trained
from reportqa.eval.train_data import Example
from reportqa.eval.train_verifier import Pair, VerifierPlan, example_pairs, torch_logits
from reportqa.index.encoder import ensure_e5_folder
from reportqa.index.onnx_encoder import shared_tokenizer

from reportqa.core.learned import UNVERIFIED, VERIFIER_BAND, VERIFIER_FILE, ModelFileError, load_model_set
from reportqa.core.settings import Settings
from reportqa.engine import Engine, open_engine

from ..conftest import MODELS_DIR
from .test_training import items

pytestmark = pytest.mark.integration


class CountingSession:
    """An ONNX Runtime session that counts its runs."""

    def __init__(self, session: Any) -> None:
        self.session, self.calls = session, 0

    def run(self, *args: Any, **kwargs: Any) -> Any:
        self.calls += 1
        return self.session.run(*args, **kwargs)


def test_the_verifier_is_trained_out_of_fold_shipped_and_read(small_index: Settings, tmp_path: Path) -> None:
    engine = open_engine(small_index.model_copy(update={"learned_models": tmp_path / "none"}))
    examples = [Example(item_from_row(row), "tiny", engine, n % 2) for n, row in enumerate(items())]
    base = ensure_e5_folder(MODELS_DIR)
    result = train(examples, 2, lambda _: None, verifier=VerifierPlan(base, tmp_path / "work", trained_layers=1))
    verifiers = result["verifiers"]
    assert set(result["fold_verifiers"]) == {0, 1}
    assert "verifier" in result["models"]["answerability"].features
    # the model asked first reads everything but the verifier, per fold and in the shipped set
    assert result["models"][UNVERIFIED].features == tuple(f for f in result["models"]["answerability"].features
                                                          if f != "verifier")
    assert all(UNVERIFIED in models for models in result["fold_models"].values())
    judged = result["judged"]
    for ex in examples:  # each answer's signal is its own fold's verifier's logit for its chosen sentence
        one = judged[id(ex)]
        expected = result["fold_verifiers"][ex.fold].logit(one.question, one.sentence) if one.sentence else 0.0
        assert one.signals["verifier"] == pytest.approx(expected)
    assert len({round(j.signals["verifier"], 6) for j in judged.values()}) > 2
    assert verifiers.final is result["fold_verifiers"][0]  # the shipped verifier is the first fold's

    folder = tmp_path / "models"
    # a band that holds every probability: the served answer always reads the verifier, as checked below
    write_trained(folder, result, {}, {"threshold": result["threshold"], "verifier_band": [0.0, 1.0]})
    stored = folder / VERIFIER_FILE
    assert load_model_set(folder).manifest["verifier"]["first_layer"] == 11
    assert stored.stat().st_size < 3_000_000  # one layer's int8 matrices and the head
    learned = open_engine(small_index.model_copy(update={"learned_models": folder}))
    assert learned.models.verifier is not None
    trace = learned.run("星河半导体2025年营业收入是多少？")
    best = trace.reading.selection.best
    assert best is not None and trace.reading.signals is not None
    assert trace.reading.signals.verifier == pytest.approx(verifiers.final.logit(trace.question, best.text),
                                                           abs=1e-5)

    # the kept rows refitted into a set: the training's served probabilities, so its threshold, both models and band
    rows = AnswerabilityData(result["models"]["answerability"].features, 2,
                             rows_of(examples, judged, answerability_weight))
    again = tmp_path / "rewritten"
    shutil.copytree(folder, again)
    write_into(again, rows, (stored, 7))
    rewritten = load_model_set(again)
    assert rewritten.manifest["threshold"] == pytest.approx(result["threshold"], abs=1e-12)
    assert rewritten.manifest["verifier_band"] == list(VERIFIER_BAND) and rewritten.manifest["verifier"]["pairs"] == 7
    assert rewritten.models[UNVERIFIED].to_json() == result["models"][UNVERIFIED].to_json()

    # the int8 export agrees with the float32 weights it was made from
    pairs = [Pair(ex.item.question, judged[id(ex)].sentence, 0) for ex in examples if judged[id(ex)].sentence][:6]
    exact = torch_logits(read_weights(stored), base, pairs)
    served = np.array([learned.models.verifier.logit(p.question, p.sentence) for p in pairs])
    assert np.abs(served - exact).max() <= 0.05 + 0.05 * np.abs(exact).max()
    # a pair asked again is remembered, not run again: the same logit, and the session is not called
    verifier = learned.models.verifier
    first = pairs[0]
    counting = CountingSession(verifier._session)
    verifier._session = counting
    assert verifier.logit(first.question, first.sentence) == served[0] and counting.calls == 0
    verifier.logit(first.question, first.sentence + "。")
    assert counting.calls == 1
    verifier.forget()  # a benchmark's cycled question is run again
    assert verifier.logit(first.question, first.sentence) == served[0] and counting.calls == 2

    # an answerability model that reads the verifier refuses to run without it; a damaged file is not loaded
    with pytest.raises(ModelFileError, match="verifier"):
        Engine(learned.index, learned.settings, None, learned.models.with_verifier(None))
    with stored.open("r+b") as handle:
        handle.seek(stored.stat().st_size // 2)
        handle.write(b"\x00\x01\x02")
    with pytest.raises(ModelFileError, match="digest"):
        load_model_set(folder)


def test_a_wrongly_answered_question_teaches_its_gold_evidence_too(small_index: Settings, tmp_path: Path) -> None:
    engine = open_engine(small_index.model_copy(update={"learned_models": tmp_path / "none"}))
    answerable, unanswerable = (Example(item_from_row(items()[n]), "tiny", engine, 0) for n in (0, -1))
    from reportqa.eval.train_data import Judged

    wrong = Judged({}, False, True, "问", "句子")
    assert example_pairs(answerable, wrong) == [Pair("问", "句子", 0),
                                               Pair("问", answerable.item.gold.evidence or "", 1)]
    assert example_pairs(answerable, Judged({}, True, True, "问", "句子")) == [Pair("问", "句子", 1)]
    assert example_pairs(unanswerable, Judged({}, False, False, "问", "句子")) == [Pair("问", "句子", 0)]
    assert example_pairs(unanswerable, Judged({}, False, False, "问", "")) == []


def test_stored_weights_round_trip_within_int8_precision(tmp_path: Path) -> None:
    from reportqa.answer.verifier import VerifierWeights

    rng = np.random.default_rng(0)
    matrix = rng.normal(size=(8, 5)).astype(np.float32)
    weights = VerifierWeights({"encoder.layer.11.output.dense.weight": matrix,
                               "encoder.layer.11.output.dense.bias": rng.normal(size=8).astype(np.float32)},
                              rng.normal(size=384).astype(np.float32), 0.25, 11)
    write_weights(weights, tmp_path / VERIFIER_FILE)
    back = read_weights(tmp_path / VERIFIER_FILE)
    step = np.abs(matrix).max(axis=1, keepdims=True) / 127
    assert np.all(np.abs(back.layers["encoder.layer.11.output.dense.weight"] - matrix) <= step / 2 + 1e-7)
    assert np.array_equal(back.layers["encoder.layer.11.output.dense.bias"],
                          weights.layers["encoder.layer.11.output.dense.bias"])
    assert (back.head_bias, back.first_layer, back.max_tokens) == (0.25, 11, 128)
    (tmp_path / "bad.npz").write_bytes(b"not an archive")
    with pytest.raises(ModelFileError, match="cannot be read"):
        read_weights(tmp_path / "bad.npz")
    copy = tmp_path / "headless.npz"
    shutil.copyfile(tmp_path / VERIFIER_FILE, copy)
    with copy.open("wb") as out:
        np.savez(out, head_weight=np.zeros(3, np.float32), head_bias=np.zeros(1, np.float32),
                 first_layer=np.zeros(1, np.int64), max_tokens=np.ones(1, np.int64))
    with pytest.raises(ModelFileError, match="head"):
        read_weights(copy)


def test_pairs_from_the_shared_tokenizer_match_the_pair_tokenizer() -> None:
    # the served verifier cuts pairs itself from the question encoder's tokenizer; the training's tokenizer cuts
    # them: every case of the longest-first rule (no cut, the longer one cut, both cut, equal lengths) must agree
    folder = ensure_e5_folder(MODELS_DIR)
    shared = shared_tokenizer(folder / "tokenizer.json")
    assert shared_tokenizer(folder / "tokenizer.json") is shared  # one copy a process
    cutting = {n: pair_tokenizer(folder / "tokenizer.json", n) for n in (128, 16, 17)}
    sentence = "星河半导体2025年营业收入为128亿元，同比增长23%，毛利率提升至41%，主要得益于碳化硅器件放量。"
    texts = ["营收？", "星河半导体2025年营业收入是多少？", "What was Xinghe Semiconductor's revenue in 2025?",
             sentence, sentence * 3, sentence * 12, "短", ""]
    for question in texts:
        for answer in texts:
            for n, tokenizer in cutting.items():
                expected = tokenizer.encode(*pair_texts(question, answer)).ids
                assert pair_ids(shared, question, answer, n) == expected, (question[:12], answer[:12], n)
