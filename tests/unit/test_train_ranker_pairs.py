"""The ranker's training rows: pairs within a question, and report questions weighted against CMRC 2018."""

from __future__ import annotations

from pathlib import Path
from typing import cast

import pytest
from reportqa.eval.datasets import QAItem
from reportqa.eval.learn import fit_linear
from reportqa.eval.metrics import Gold
from reportqa.eval.train_data import Example
from reportqa.eval.train_folds import ranker_pairs, source_weights

from reportqa.core.learned import matrix
from reportqa.engine import Engine


def example(source: str, candidates: dict[int, dict[str, float]], labels: dict[int, int]) -> Example:
    item = QAItem("q", "2025年全球AI支出是多少？", "numeric", "zh", Gold("r.txt", ("1",)))
    ex = Example(item, source, cast(Engine, None), 0)
    ex.candidates, ex.labels = candidates, labels
    return ex


def test_pairs_are_differences_of_a_relevant_and_an_irrelevant_candidate_both_ways_round() -> None:
    ex = example("eval/qa.jsonl", {0: {"bm25": 0.5, "dense": 0.9}, 1: {"bm25": 1.0, "dense": 0.7},
                                   2: {"bm25": 0.25, "dense": 0.8}}, {0: 1, 1: 0, 2: 0})
    rows, labels = ranker_pairs(ex)
    assert rows == [{"bm25": -0.5, "dense": pytest.approx(0.2)}, {"bm25": 0.5, "dense": pytest.approx(-0.2)},
                    {"bm25": 0.25, "dense": pytest.approx(0.1)}, {"bm25": -0.25, "dense": pytest.approx(-0.1)}]
    assert labels == [1, 0, 1, 0]


def test_a_question_with_no_relevant_or_no_irrelevant_candidate_gives_no_pairs() -> None:
    assert ranker_pairs(example("cmrc", {0: {"bm25": 1.0}}, {0: 1})) == ([], [])
    assert ranker_pairs(example("cmrc", {0: {"bm25": 1.0}, 1: {"bm25": 0.0}}, {0: 0, 1: 0})) == ([], [])


def test_report_questions_weigh_as_much_in_all_as_cmrc_questions() -> None:
    examples = [example("cmrc", {}, {}) for _ in range(6)] + [example("eval/qa.jsonl", {}, {}) for _ in range(2)]
    weight = source_weights(examples)
    assert [weight(ex) for ex in examples] == [1.0] * 6 + [3.0, 3.0]
    only_reports = examples[6:]
    assert [source_weights(only_reports)(ex) for ex in only_reports] == [1.0, 1.0]


def test_a_pairwise_model_orders_the_candidates_the_pairs_prefer() -> None:
    candidates = {i: {"bm25": b, "dense": d} for i, (b, d) in enumerate([(0.2, 0.9), (0.9, 0.5), (0.5, 0.6)])}
    rows, labels = ranker_pairs(example("eval/qa.jsonl", candidates, {0: 1, 1: 0, 2: 0}))
    model = fit_linear(rows, labels, ("bm25", "dense"))
    scores = model.logits(matrix(list(candidates.values()), model.features))
    assert int(scores.argmax()) == 0  # the dense-heavy relevant one, though its bm25 is the lowest


def test_platt_scaling_keeps_the_order_and_makes_the_score_a_probability() -> None:
    from reportqa.eval.learn import platt

    candidates = {i: {"bm25": b, "dense": d} for i, (b, d) in enumerate([(0.2, 0.9), (0.9, 0.5), (0.5, 0.6)])}
    rows, labels = ranker_pairs(example("eval/qa.jsonl", candidates, {0: 1, 1: 0, 2: 0}))
    pairwise = fit_linear(rows, labels, ("bm25", "dense"))
    raw = list(candidates.values())
    scaled = platt(pairwise, raw * 10, [1, 0, 0] * 10)
    before, after = (m.logits(matrix(raw, m.features)) for m in (pairwise, scaled))
    assert list(before.argsort()) == list(after.argsort())
    assert float(scaled.probabilities(matrix(raw, scaled.features)).sum()) == pytest.approx(1.0, abs=0.05)
    with pytest.raises(ValueError, match="single class"):
        platt(pairwise, raw, [0, 0, 0])


def test_a_cmrc_question_asked_of_the_reports_is_an_unanswerable_off_topic_example() -> None:
    from reportqa.eval.train import CMRC_WEIGHT, answerability_weight
    from reportqa.eval.train_data import OFF_TOPIC, from_reports, learns_from, off_topic, rows_for

    cmrc = QAItem("DEV_1_QUERY_0", "《战国无双3》是由哪两个公司合作开发的？", "span", "zh",
                  Gold(None, ("光荣和ω-force",), None, "DEV_1"))
    item = off_topic(cmrc)
    assert (item.id, item.question, item.gold.answerable) == ("off-topic:DEV_1_QUERY_0", cmrc.question, False)
    stray = example(OFF_TOPIC, {0: {"bm25": 1.0}, 1: {"bm25": 0.0}}, {0: 0, 1: 0})
    report = example("eval/qa.jsonl", {0: {"bm25": 1.0}, 1: {"bm25": 0.0}}, {0: 1, 1: 0})
    assert rows_for("ranker", ranker_pairs)(stray) == ([], [])  # no passage of the reports is relevant to it
    assert rows_for("ranker", ranker_pairs)(report) == ranker_pairs(report)
    cmrc_example = example("cmrc", {}, {})
    assert [from_reports(ex) for ex in (stray, report, cmrc_example)] == [False, True, False]
    # the answerability model learns from the report sets, the off-topic questions and CMRC itself, CMRC at a fifth
    assert [learns_from("answerability", ex) for ex in (stray, report, cmrc_example)] == [True, True, True]
    assert [answerability_weight(ex) for ex in (stray, report, cmrc_example)] == [1.0, 1.0, CMRC_WEIGHT]
    assert CMRC_WEIGHT < 1.0
    assert [learns_from("reader", ex) for ex in (stray, report, cmrc_example)] == [False, True, True]
    weight = source_weights([stray, report, example("cmrc", {}, {}), example("cmrc", {}, {})])
    assert weight(report) == 2.0  # two CMRC questions against one report question; the off-topic one not counted


def test_written_off_topic_questions_are_scored_and_never_learned_from(tmp_path: Path) -> None:
    from reportqa.eval.train_data import WRITTEN_OFF_TOPIC, from_reports, learns_from, load_examples, off_topic_file

    path = tmp_path / "offtopic.jsonl"
    path.write_text('{"id": "ot-1", "question": "红烧肉怎么做？", "answers": [], "type": "unanswerable",'
                    ' "lang": "zh"}\n{"id": "ot-2", "question": "Who painted the Mona Lisa?", "answers": [],'
                    ' "type": "unanswerable", "lang": "en"}\n', encoding="utf-8")
    examples = load_examples(cast(Engine, None), [], 5, None, None, path)
    assert [(ex.item.id, ex.source, ex.item.gold.answerable) for ex in examples] == [
        ("ot-1", WRITTEN_OFF_TOPIC, False), ("ot-2", WRITTEN_OFF_TOPIC, False)]
    assert [(from_reports(ex), learns_from("answerability", ex), learns_from("ranker", ex),
             learns_from("reader", ex)) for ex in examples] == [(False, False, False, False)] * 2
    assert load_examples(cast(Engine, None), [], 5, None, None, off_topic_file(Path(""))) == []


def test_off_topic_figures_are_per_source_and_rendered_for_readers() -> None:
    from reportqa.eval.report import experiment_markdown
    from reportqa.eval.train import off_topic_refused
    from reportqa.eval.train_data import OFF_TOPIC, WRITTEN_OFF_TOPIC

    strays = [example(OFF_TOPIC, {}, {}), example(WRITTEN_OFF_TOPIC, {}, {}), example(WRITTEN_OFF_TOPIC, {}, {})]
    report = example("eval/qa.jsonl", {}, {})
    oof = {id(strays[0]): 0.05, id(strays[1]): 0.3, id(strays[2]): 0.01, id(report): 0.02}
    figures = off_topic_refused([*strays, report], oof, threshold=0.1)
    assert figures == {OFF_TOPIC: {"questions": 1, "refused": 1.0}, WRITTEN_OFF_TOPIC: {"questions": 2, "refused": 0.5}}
    page = experiment_markdown({"sets": {}, "off_topic": figures})
    assert "| eval/offtopic/qa.jsonl | 2 | 0.5 |" in page.splitlines()
    assert "Off-topic" not in experiment_markdown({"sets": {}, "off_topic": {}})
