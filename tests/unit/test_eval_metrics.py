"""Pure scoring: relevance, ranking metrics, answer correctness, aggregation, threshold calibration."""

from __future__ import annotations

import math

import pytest
from reportqa.eval.metrics import (
    Gold,
    Outcome,
    answer_ok,
    auc,
    by_type,
    calibrate_threshold,
    cites_answer_first,
    first_relevant_rank,
    floors_missed,
    hit_at,
    holds_answer,
    is_relevant,
    mrr_at,
    ndcg_at,
    percentile,
    shares_substring,
    squash,
    summarize,
)

FLAGS = [False, True, False, True]
GOLD = Gold("d1", ("2,400亿美元",), "全球AI芯片市场规模将在2026年达到约2,400亿美元")
PASSAGE = "报告预计全球AI芯片市场规模将在2026年达到约2,400亿美元。"


def test_squash() -> None:
    assert squash(" ＡＩ 芯片\n市场\u3000规模 ") == "ai芯片市场规模"


def test_shares_substring() -> None:
    assert shares_substring("abcdef", "xxcdeyy", 3) is True
    assert shares_substring("abcdef", "xxcdyy", 3) is False
    assert shares_substring("ab", "abc", 3) is False
    assert shares_substring("a", "b", 0) is True


def test_rank_metrics_literal() -> None:
    assert first_relevant_rank(FLAGS) == 2
    assert first_relevant_rank([False, False]) is None
    assert [hit_at(FLAGS, k) for k in (1, 2, 5)] == [0.0, 1.0, 1.0]
    assert mrr_at(FLAGS, 10) == 0.5
    assert mrr_at(FLAGS, 1) == 0.0
    assert mrr_at([False, False, True]) == pytest.approx(1 / 3)
    assert mrr_at([]) == 0.0


def test_ndcg_literal() -> None:
    assert ndcg_at([True]) == 1.0
    assert ndcg_at([True, True]) == 1.0
    assert ndcg_at([False, True]) == pytest.approx(0.6309297535714575)
    assert ndcg_at(FLAGS) == pytest.approx(0.6509209298071326)
    assert ndcg_at(FLAGS, 2) == pytest.approx(0.6309297535714575)
    assert ndcg_at([False, False]) == 0.0
    assert ndcg_at([]) == 0.0


def test_relevant_passage() -> None:
    assert is_relevant("d1", PASSAGE, GOLD) is True


def test_relevance_ignores_spacing_and_width() -> None:
    assert is_relevant("d1", "报告预计全球 ＡＩ 芯片市场规模将在 2026 年达到约 2,400 亿美元。", GOLD) is True


def test_wrong_document_is_not_relevant() -> None:
    assert is_relevant("d2", PASSAGE, GOLD) is False


def test_passage_without_the_answer_is_not_relevant() -> None:
    assert is_relevant("d1", "全球AI芯片市场规模将在2026年达到新高。", GOLD) is False


def test_answer_without_evidence_overlap_is_not_relevant() -> None:
    assert is_relevant("d1", "另据统计，数据为2,400亿美元。", GOLD) is False


def test_unanswerable_gold_makes_nothing_relevant() -> None:
    assert is_relevant("d1", PASSAGE, Gold("d1", ())) is False


def test_no_evidence_only_needs_doc_and_answer() -> None:
    assert is_relevant("d1", "约2,400亿美元", Gold("d1", ("2,400亿美元",))) is True


def test_passage_id_mode_decides_by_id_alone() -> None:
    gold = Gold(None, (), passage_id="p7")
    assert is_relevant("p7", "任意文本", gold) is True
    assert is_relevant("d1", PASSAGE, gold) is False


def test_a_cmrc_passage_holds_the_answer_only_in_the_chunk_that_writes_it() -> None:
    gold = Gold(None, ("光荣和ω-force",), passage_id="p7")
    assert holds_answer("p7", "由光荣和ω-Force合作开发。", gold) is True
    assert holds_answer("p7", "本作于2008年发售。", gold) is False  # another chunk of the same passage
    assert holds_answer("d1", "由光荣和ω-force合作开发。", gold) is False
    assert cites_answer_first([("p7", "由光荣和ω-Force合作开发。"), ("p7", "本作于2008年发售。")], gold) is True
    assert cites_answer_first([("p7", "本作于2008年发售。"), ("p7", "由光荣和ω-Force合作开发。")], gold) is False
    assert cites_answer_first([], gold) is False


def test_answer_ok() -> None:
    assert answer_ok("约2,400亿美元", False, GOLD) is True
    assert answer_ok("约 2,400 亿美元", False, GOLD) is True
    assert answer_ok("约2,400亿美元", True, GOLD) is False
    assert answer_ok("约2,300亿美元", False, GOLD) is False
    assert answer_ok("约2,400亿美元", False, Gold("d1", ())) is False


def test_answer_ok_length_limit() -> None:
    at_limit = "约2,400亿美元" + "很" * 141
    assert len(at_limit) == 150
    assert answer_ok(at_limit, False, GOLD) is True
    assert answer_ok(at_limit + "很", False, GOLD) is False


def test_percentile() -> None:
    assert percentile([4, 1, 3, 2], 0.5) == 2.5
    assert percentile([10, 20, 30], 0.95) == pytest.approx(29.0)
    assert percentile([10, 20, 30], 0.0) == 10
    assert percentile([10, 20, 30], 1.0) == 30
    assert percentile([], 0.5) == 0.0


def test_calibrate_threshold_backs_off_to_midway_above_refused_unanswerable() -> None:
    assert calibrate_threshold([0.9, 0.8, 0.7, 0.6, 0.5], [0.1, 0.55, 0.2]) == 0.35


def test_calibrate_threshold_without_refusable_unanswerable_is_lowest_answerable() -> None:
    assert calibrate_threshold([0.4, 0.6], [0.7]) == 0.4
    assert calibrate_threshold([0.4, 0.6], []) == 0.4


def test_calibrate_threshold_allows_five_percent_wrongly_refused() -> None:
    answerable = [0.3] + [0.5 + i * 0.01 for i in range(19)]
    assert calibrate_threshold(answerable, [0.45, 0.1]) == 0.475
    assert calibrate_threshold(answerable, [0.2]) == 0.35
    assert calibrate_threshold(answerable, [0.2], max_wrongly_refused=0.0) == 0.25


def test_calibrate_threshold_without_answerable() -> None:
    assert calibrate_threshold([], [0.1]) == 0.0


def outcome(qid: str, qtype: str, answerable: bool, flags: tuple[bool, ...], cited: tuple[bool, ...],
            ok: bool, abstained: bool, seconds: float, first_cited_holds: bool = False) -> Outcome:
    return Outcome(qid, qtype, answerable, flags, cited, ok, abstained, seconds, {}, first_cited_holds)


OUTCOMES = [
    outcome("q1", "fact", True, (True, False), (True, False), True, False, 0.1, first_cited_holds=True),
    outcome("q2", "fact", True, (False, True), (True,), False, False, 0.2),
    outcome("q3", "none", False, (False,), (), False, True, 0.3),
    outcome("q4", "list", True, (False, False), (), False, True, 0.4),
]


def test_summarize_literal() -> None:
    assert summarize(OUTCOMES) == {
        "questions": 4.0,
        "hit@1": 0.3333,
        "hit@5": 0.6667,
        "mrr@10": 0.5,
        "ndcg@10": 0.5436,
        "answer_ok": 0.3333,
        "citation_precision": 0.75,
        "first_citation_holds_answer": 0.3333,
        "answerable_refused": 0.3333,
        "latency_p50_ms": 250.0,
        "latency_p95_ms": 385.0,
        "unanswerable_refused": 1.0,
    }


def test_summarize_without_unanswerable_has_no_refusal_rate_for_them() -> None:
    assert "unanswerable_refused" not in summarize(OUTCOMES[:2])


def test_by_type_groups_sorted() -> None:
    groups = by_type(OUTCOMES)
    assert list(groups) == ["fact", "list", "none"]
    assert groups["fact"]["questions"] == 2.0
    assert groups["fact"]["mrr@10"] == 0.75


def test_floors_missed() -> None:
    summary = {"hit@5": 0.8, "mrr@10": 0.6, "latency_p95_ms": 120.0, "answerable_refused": 0.1}
    floors = {
        "hit@5": 0.85,
        "mrr@10": 0.5,
        "latency_p95_ms": 100.0,
        "answerable_refused": 0.2,
        "ndcg@10": 0.5,
    }
    assert floors_missed(summary, floors) == [
        "hit@5: 0.8 < 0.85",
        "latency_p95_ms: 120.0 > 100.0",
        "ndcg@10: missing",
    ]


@pytest.mark.parametrize(("positive", "negative", "expected"), [
    ([0.9, 0.8], [0.1], 1.0),
    ([0.1], [0.9, 0.8], 0.0),
    ([0.2, 0.9], [0.5], 0.5),
    ([0.5], [0.5], 0.5),  # a tie counts half
])
def test_auc(positive: list[float], negative: list[float], expected: float) -> None:
    assert auc(positive, negative) == expected


def test_auc_needs_both_sides() -> None:
    assert math.isnan(auc([0.3], []))
