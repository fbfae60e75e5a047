"""The report's value for a contradicted claim: the candidates the rules find, and a learned chooser among them."""

from __future__ import annotations

import numpy as np
import pytest
from reportqa.answer.claim_verdict import (
    ABSENCE_FEATURES,
    CANDIDATE_FEATURES,
    CLAIM_FEATURES,
    VALUE_FEATURE,
    assess,
    candidate_scores,
    chosen_conflict,
    decide,
    value_confidence,
)
from reportqa.answer.verify import (
    ALTERNATIVES_PER_SENTENCE,
    CONTRADICTED,
    SUPPORTED,
    FigureAlternative,
    figure_alternatives,
)
from reportqa.eval.train_claims import ClaimExample, fit_value_chooser, stacked_features, value_rows
from reportqa.index.query import analyze

from reportqa.core.learned import LinearModel
from reportqa.core.types import Chunk, Hit

CLAIM = "2025年国产T300级碳纤维的价格约为12万元/吨。"
IMPORTED = "2025年进口T300级碳纤维的价格约为20万元/吨。"
DOMESTIC = "2025年国产T300级碳纤维的价格已降至约6万元/吨。"


def hit(text: str, n: int) -> Hit:
    chunk = Chunk(id=f"r.txt#{n}", doc="r.txt", title="t", section="", text=text, start=0, end=len(text),
                  line_start=1, line_end=1)
    return Hit(chunk, 1.0 - n / 10)


HITS = [hit(IMPORTED, 0), hit(DOMESTIC, 1)]


def linear(features: tuple[str, ...], weights: dict[str, float], bias: float = 0.0) -> LinearModel:
    n = len(features)
    return LinearModel(features, np.zeros(n), np.ones(n), np.array([weights.get(f, 0.0) for f in features]), bias)


def test_every_differing_figure_of_the_checked_sentences_is_a_candidate() -> None:
    assessment = assess(CLAIM, HITS, analyze(CLAIM), {})
    assert [c.verdict.report_value for c in assessment.candidates] == ["6万元", "20万元"]
    assert [c.features["hit_rank"] for c in assessment.candidates] == [1.0, 0.0]
    assert [c.features["support_rank"] for c in assessment.candidates] == [0.0, 1.0]
    assert all(set(c.features) == set(CANDIDATE_FEATURES) for c in assessment.candidates)


def test_a_sentence_offers_each_differing_figure_of_the_claimed_kind_best_aligned_first() -> None:
    found = figure_alternatives("2024年该市场规模达到50亿元。", "该市场规模2023年为40亿元，2024年为45亿元。",
                                {"市场规模": 3.0})
    assert found == (FigureAlternative("50亿元", "45亿元", 0.0, 0.1, True, 0),
                     FigureAlternative("50亿元", "40亿元", 0.0, 0.2, False, 1))
    assert figure_alternatives("2025年营收128亿元。", "2025年营收128亿元，净利润19亿元。", {"营收": 3.0}) == ()


def test_each_differing_value_of_a_sentence_is_offered_once_and_a_long_claim_is_bounded() -> None:
    found = figure_alternatives("公司利润增长12%，成本增长12%。", "公司利润增长15%，成本增长15%，收入增长9%。",
                                {"利润": 3.0, "成本": 2.0})
    assert found == (FigureAlternative("12%", "15%", 1.0, 0.25, True, 0),
                     FigureAlternative("12%", "9%", 0.0, 0.25, True, 2))
    pasted = "、".join(f"指标{i}为{i * 7 + 1}%" for i in range(40))  # a table pasted in as one claim
    stated = "、".join(f"指标{i}为{i * 7 + 3}%" for i in range(40))
    assert len(figure_alternatives(pasted, stated, {"指标": 1.0})) == ALTERNATIVES_PER_SENTENCE


def test_the_other_figures_of_a_checked_sentence_join_the_rules_pick_as_candidates() -> None:
    both = "2025年国产T300级碳纤维的价格约为6万元/吨，进口约为20万元/吨。"
    assessment = assess(CLAIM, [hit(both, 0)], analyze(CLAIM), {})
    assert assessment.conflict is not None and assessment.conflict.report_value == "6万元"
    assert [(c.verdict.report_value, c.verdict.claim_value, c.features["alternative"], c.features["fit_rank"])
            for c in assessment.candidates] == [("6万元", "12万元", 0.0, 0.0), ("20万元", "12万元", 1.0, 1.0)]
    assert all(set(c.features) == set(CANDIDATE_FEATURES) for c in assessment.candidates)


def test_the_chooser_picks_the_value_and_its_citation_without_it_the_rules_do() -> None:
    assessment = assess(CLAIM, HITS, analyze(CLAIM), {})
    assert chosen_conflict(assessment, candidate_scores(assessment, None)) == assessment.conflict
    assert assessment.conflict is not None and assessment.conflict.report_value == "6万元"
    first_hit = linear(CANDIDATE_FEATURES, {"hit_rank": -3.0})
    picked = chosen_conflict(assessment, candidate_scores(assessment, first_hit))
    assert picked is not None and (picked.report_value, picked.citations[0].chunk.text) == ("20万元", IMPORTED)
    contradicting = decide(assessment, linear(CLAIM_FEATURES, {}, 5.0), linear(CLAIM_FEATURES, {}, 5.0), HITS, 0,
                           first_hit)
    assert (contradicting.verdict, contradicting.report_value, contradicting.claim_value) == \
        (CONTRADICTED, "20万元", "12万元")


def example(report_value: str, verdict: str = "contradicted") -> ClaimExample:
    row = {"id": "c", "claim": CLAIM, "verdict": verdict, "report_value": report_value}
    return ClaimExample(row, "claims.jsonl", 0, assess(CLAIM, HITS, analyze(CLAIM), {}))


def test_the_chooser_learns_from_contradicted_claims_whose_value_is_among_the_candidates() -> None:
    rows, labels = value_rows([example("约6万元/吨"), example("3万元"), example("", "supported")])
    assert labels == [1, 0] and [r["hit_rank"] for r in rows] == [1.0, 0.0]
    chooser = fit_value_chooser([example("约6万元/吨"), example("20万元")] * 3)
    assert chooser is not None and chooser.features == CANDIDATE_FEATURES
    assert fit_value_chooser([example("3万元")]) is None  # no candidate is right: nothing to learn, rules choose


@pytest.mark.parametrize("value", ["6万元", "20万元"])
def test_a_chooser_fitted_on_one_kind_of_choice_makes_it(value: str) -> None:
    right = example(value)
    others = [ex for ex in [example("6万元"), example("20万元")] if ex.row["report_value"] != value]
    assert others
    chooser = fit_value_chooser([right] * 20 + others * 5)  # trees need 20 rows a leaf
    assert chooser is not None
    picked = chosen_conflict(right.assessment, candidate_scores(right.assessment, chooser))
    assert picked is not None and picked.report_value == value


def test_the_chooser_never_finds_a_contradiction_the_rules_did_not() -> None:
    from dataclasses import replace

    found = assess(CLAIM, HITS, analyze(CLAIM), {})
    none_by_rules = replace(found, conflict=None, near=None)  # candidates only in sentences the rules do not weigh
    assert none_by_rules.candidates
    first_hit = linear(CANDIDATE_FEATURES, {"hit_rank": -3.0})
    assert chosen_conflict(none_by_rules, candidate_scores(none_by_rules, first_hit)) is None


def test_the_verdict_reads_how_sure_the_chooser_is() -> None:
    assessment = assess(CLAIM, HITS, analyze(CLAIM), {})
    sure = linear(CANDIDATE_FEATURES, {}, 6.0)  # every candidate looks like the report's value
    assert value_confidence(candidate_scores(assessment, sure)) == pytest.approx(1 / (1 + np.exp(-6.0)))
    assert value_confidence(candidate_scores(assessment, None)) == 0.0
    on_topic, trusting = linear(CLAIM_FEATURES, {}, 5.0), linear(CLAIM_FEATURES, {VALUE_FEATURE: 10.0}, -5.0)
    assert decide(assessment, on_topic, trusting, HITS, 0, sure).verdict == CONTRADICTED
    assert decide(assessment, on_topic, trusting, HITS, 0, None).verdict == SUPPORTED


def test_training_reads_the_confidence_of_a_chooser_that_never_saw_the_claims_fold() -> None:
    from dataclasses import replace

    taught = [replace(example("20万元"), fold=0) for _ in range(20)] + [replace(example("6万元"), fold=0)] * 5
    unteaching = [replace(example("3万元"), fold=1)] * 3  # no candidate is its value: no chooser from fold 1 alone
    rows = stacked_features(taught + unteaching)
    assert all(row[VALUE_FEATURE] == 0.0 for row in rows[:25])  # fold 0 is read by a chooser fitted on fold 1: none
    assert all(row[VALUE_FEATURE] > 0.5 for row in rows[25:])


def test_on_a_tie_the_chooser_keeps_the_rules_pick() -> None:
    from dataclasses import replace

    assessment = assess(CLAIM, HITS, analyze(CLAIM), {})
    imported = assessment.candidates[1].verdict  # not the first candidate
    rules_picked_it = replace(assessment, conflict=imported)
    undecided = linear(CANDIDATE_FEATURES, {}, 0.0)  # every candidate 0.5
    assert chosen_conflict(rules_picked_it, candidate_scores(rules_picked_it, undecided)) == imported


def test_a_contradiction_with_no_aligned_figure_has_no_value_and_cites_the_rules_passage() -> None:
    from dataclasses import replace

    supported_claim = "2025年进口T300级碳纤维的价格约为20万元/吨。"
    assessment = assess(supported_claim, HITS, analyze(supported_claim), {})
    assert assessment.rule.verdict == SUPPORTED
    no_candidates = replace(assessment, conflict=None, near=None, candidates=())
    on_topic, contradicting = linear(CLAIM_FEATURES, {}, 5.0), linear(CLAIM_FEATURES, {}, 5.0)
    verdict = decide(no_candidates, on_topic, contradicting, HITS, 1)
    assert (verdict.verdict, verdict.report_value, verdict.claim_value) == (CONTRADICTED, None, None)
    assert verdict.citations[0].chunk.text == IMPORTED  # the passage whose figures the rules matched
    agreeing = linear(CLAIM_FEATURES, {}, -5.0)
    assert decide(no_candidates, on_topic, agreeing, HITS, 1).verdict == SUPPORTED
    no_figure = "进口T300级碳纤维比国产的贵。"
    plain = assess(no_figure, HITS, analyze(no_figure), {})
    assert plain.features["figures"] == 0 and not plain.candidates
    assert decide(plain, on_topic, contradicting, HITS, 1).verdict == SUPPORTED  # nothing differing to point at


def test_the_verdict_reads_what_of_the_claim_its_best_sentence_does_not_write() -> None:
    stated = assess(CLAIM, HITS, analyze(CLAIM), {}).features
    elsewhere = "2025年东丽公司在墨西哥工厂生产的T300级碳纤维价格约为12万元/吨。"
    missing = assess(elsewhere, HITS, analyze(elsewhere), {}).features
    assert set(ABSENCE_FEATURES) <= set(stated) and set(ABSENCE_FEATURES) <= set(CLAIM_FEATURES)
    assert stated["abs_pairs"] < missing["abs_pairs"] and stated["abs_names"] < missing["abs_names"]


def test_a_claimed_figure_the_sentence_gives_to_another_name_is_open_to_the_sentences_other_figures() -> None:
    claim = "美国的5G基站密度是每10万人206座。"
    terms = {"美国": 5.0, "基站": 3.0, "密度": 3.0}
    given_away = "中国每10万人拥有5G基站206座，美国为77座。"
    assert [a.stated for a in figure_alternatives(claim, given_away, terms)] == ["77座"]
    assert figure_alternatives(claim, "美国每10万人拥有5G基站206座，中国为77座。", terms) == ()


def test_the_verdict_reads_whether_one_agreeing_sentence_states_every_claimed_figure() -> None:
    restated = "2025年进口T300级碳纤维的价格约为20万元/吨。"
    one_of_two = "2025年进口T300级碳纤维的价格约为20万元/吨，国产的约为8万元/吨。"
    features = {claim: assess(claim, HITS, analyze(claim), {}).features for claim in (restated, one_of_two, CLAIM)}
    assert "agreement_full" in CLAIM_FEATURES
    assert features[restated]["agreement_full"] == 1.0
    assert features[one_of_two]["agreement_full"] == 0.0  # 8万元 is stated nowhere
    assert features[CLAIM]["agreement_full"] == 0.0  # 12万元 differs from both sentences


def test_a_contradiction_the_rules_did_not_align_takes_the_value_the_chooser_is_sure_of() -> None:
    from dataclasses import replace

    unaligned = replace(assess(CLAIM, HITS, analyze(CLAIM), {}), conflict=None, near=None)
    on_topic, contradicting = linear(CLAIM_FEATURES, {}, 5.0), linear(CLAIM_FEATURES, {}, 5.0)
    sure = linear(CANDIDATE_FEATURES, {"hit_rank": -10.0}, 5.0)  # the first passage's figure: 0.99, the second's 0.01
    verdict = decide(unaligned, on_topic, contradicting, HITS, 1, sure)
    assert (verdict.verdict, verdict.report_value, verdict.claim_value) == (CONTRADICTED, "20万元", "12万元")
    unsure = linear(CANDIDATE_FEATURES, {}, -1.0)  # every candidate 0.27
    assert decide(unaligned, on_topic, contradicting, HITS, 1, unsure).report_value is None
