"""Verdicts on hand-made passages: each verdict, the report's value, and the rules that keep them apart."""

from __future__ import annotations

import pytest
from reportqa.answer.claim_verdict import judge
from reportqa.answer.conflicts import ordinal
from reportqa.answer.numbers import prepare, quantities
from reportqa.answer.verify import CONTRADICTED, SUPPORTED, UNSUPPORTED, Verdict, _context_terms
from reportqa.index.query import analyze

from reportqa.core.types import Chunk, Hit


def hit(text: str, doc: str = "report.txt", n: int = 0, title: str = "t") -> Hit:
    chunk = Chunk(id=f"{doc}#{n}", doc=doc, title=title, section="", text=text, start=0, end=len(text),
                  line_start=1, line_end=1)
    return Hit(chunk, 1.0 - n / 10)


def verdict(claim: str, *passages: str, unknown: tuple[str, ...] = ()) -> Verdict:
    hits = [hit(p, n=i) for i, p in enumerate(passages)]
    return judge(claim, hits, analyze(claim), {}, unknown)


AI = "根据Gartner的预测，2026年全球AI支出预计激增47%至2.59万亿美元，其中基础设施占比超过45%。"
TIMELINE = "关键里程碑：2022年11月：ChatGPT发布，5天破百万用户；2023年3月：GPT-4发布，多模态能力。"
RANKS = "2020年自然指数年度榜单显示，美国依然位于首位，中国居第二位，但差距在不断缩小。"
CITIES = "从统计结果来看，北京硬科技指数为84.04，遥遥领先。上海、深圳为第二梯队，硬科技指数分别为50.48、42.92。"


def test_the_same_figures_in_other_words_are_supported() -> None:
    result = verdict("Gartner预计2026年全球AI支出将大增百分之四十七，达到25,900亿美元。", AI)
    assert (result.verdict, result.report_value) == (SUPPORTED, None)
    assert result.citations[0].chunk.text == AI


def test_a_changed_figure_is_contradicted_with_the_reports_value() -> None:
    result = verdict("2026年全球AI支出预计将达到3.1万亿美元。", AI)
    assert (result.verdict, result.claim_value, result.report_value) == (CONTRADICTED, "3.1万亿美元", "2.59万亿美元")


def test_a_changed_date_is_told_apart_from_the_other_dates_of_a_timeline() -> None:
    result = verdict("ChatGPT于2023年11月发布，上线5天用户即突破百万。", TIMELINE)
    assert (result.verdict, result.report_value) == (CONTRADICTED, "2022年11月")


def test_a_rank_is_compared_for_the_claims_subject() -> None:
    result = verdict("2020年自然指数年度榜单中，中国的高质量科研产出已超越美国位居首位。", RANKS)
    assert (result.verdict, result.claim_value, result.report_value) == (CONTRADICTED, "位居首位", "第二位")


def test_the_same_figure_credited_to_another_name_is_contradicted() -> None:
    result = verdict("城市硬科技创新排名中，上海以84.04的硬科技指数遥遥领先。", CITIES)
    assert (result.verdict, result.claim_value, result.report_value) == (CONTRADICTED, "上海", "北京")


def test_nothing_on_the_subject_is_unsupported() -> None:
    result = verdict("火星殖民地的人口在2025年达到了十万人。", AI, TIMELINE)
    assert (result.verdict, result.report_value) == (UNSUPPORTED, None)


def test_a_passage_about_another_year_with_other_figures_is_unsupported_not_contradicted() -> None:
    passage = "2018年，中国高新技术产品进出口额达到了1.4万亿美元。"
    assert verdict("2024年中国跨境电商进出口额达2.63万亿元，同比增长10.8%。", passage).verdict == UNSUPPORTED


def test_figures_are_paired_one_to_one() -> None:
    passage = "2024年，中国的名义GDP为美国的64%，而IT总支出仅为美国的29%。"
    result = verdict("2024年中国名义GDP相当于美国的64%，但IT总支出约为美国的49%。", passage)
    assert (result.verdict, result.report_value) == (CONTRADICTED, "29%")


def test_two_figures_stated_settle_support_even_for_a_name_the_corpus_lacks() -> None:
    passage = "信息传输、软件和信息技术服务行业的电力需求在2024年达到约1650亿千瓦时，同比增长11.9%。"
    claim = "据中电联数据，2024年信息传输、软件和信息技术服务业用电量约1650亿千瓦时，同比增长11.9%。"
    assert verdict(claim, passage, unknown=("中电联",)).verdict == SUPPORTED


def test_an_english_claim_is_checked_against_chinese_figures() -> None:
    passage = "能耗危机：数据中心电力需求2024年约460太瓦时，2030年预计突破1,000太瓦时。"
    assert verdict("Data-center power demand is forecast to top 1,000 TWh by 2030.", passage).verdict == SUPPORTED


def test_a_swapped_name_in_the_same_clause_is_contradicted() -> None:
    passage = "2017年IBM最早实现了碳纳米管器件制备，将晶体管尺寸缩小到40nm。"
    result = verdict("2017年英特尔最早实现了碳纳米管器件制备，把晶体管尺寸缩小到40nm。", passage)
    assert (result.verdict, result.claim_value, result.report_value) == (CONTRADICTED, "英特尔", "ibm")


def test_an_abbreviation_of_the_reports_name_is_no_conflict() -> None:
    passage = "根据中国电力企业联合会的数据，信息传输行业的电力需求在2024年达到约1650亿千瓦时，同比增长11.9%。"
    claim = "据中电联数据，2024年信息传输行业用电量约1650亿千瓦时，同比增长11.9%。"
    assert verdict(claim, passage).verdict == SUPPORTED


def test_a_paraphrase_held_by_an_exact_three_digit_figure_is_supported() -> None:
    passage = "2018年，共有655个机构和公司对肿瘤免疫药物进行了研发工作，较2017年增加了42%。"
    claim = "2018年从事肿瘤免疫药物研发的机构和公司达到655家，比前一年多出四成以上。"
    assert verdict(claim, passage).verdict == SUPPORTED


def test_a_figure_about_something_else_is_no_contradiction() -> None:
    passage = "2020年上半年，A股共有118家企业完成首发，合计募资1392.7亿元，其中科创板募资总额507.58亿元。"
    assert verdict("2020年上半年，中国量子通信领域获得的融资总额约为50亿元。", passage).verdict == UNSUPPORTED


def test_a_figure_for_a_name_the_passage_never_mentions_is_unsupported() -> None:
    passage = "我们预计当人形机器人2025年在中国销量达到约100万台时，物料成本将下降至1.6万美元。"
    assert verdict("宇树科技2025年的人形机器人销量突破了1万台。", passage).verdict == UNSUPPORTED


def test_a_source_named_in_another_clause_does_not_hide_a_changed_figure() -> None:
    passage = "网络安全态势：全球网络攻击事件2025年同比增长38%（IBM X-Force）。"
    result = verdict("IBM X-Force数据显示，2025年全球网络攻击事件同比增加了28%。", passage)
    assert (result.verdict, result.report_value) == (CONTRADICTED, "38%")


def test_the_reports_own_name_cited_as_source_does_not_hide_a_changed_figure() -> None:
    passage = "3年内实现高端AI芯片国产化率提升至30%，5年内建成跨行业统一数字孪生底座。"
    claim = "CHN Key Ecosystem报告的目标是3年内把高端AI芯片国产化率提升至50%。"
    title = "中国人工智能与数字产业CHN Key Ecosystem战略发展报告"
    cited = judge(claim, [hit(passage, title=title)], analyze(claim), {})
    assert (cited.verdict, cited.claim_value, cited.report_value) == (CONTRADICTED, "50%", "30%")
    other = judge(claim, [hit(passage, title="另一份报告")], analyze(claim), {})  # a name neither passage nor report
    assert other.verdict == UNSUPPORTED                                          # writes: someone else's figure


def test_a_figure_conflict_records_how_much_context_the_figures_share_and_how_far_apart_they_are() -> None:
    from reportqa.answer.verify import Check, check_unit

    def check(claim: str, passage: str = AI) -> Check:
        return check_unit(claim, passage, {t: 1.0 for t in analyze(claim).core if len(t) >= 2})

    shared = check("根据Gartner的预测，全球AI支出中基础设施占比超过55%。")
    assert (shared.conflict, shared.conflict_share) == (("55%", "45%"), 0.5)
    assert shared.conflict_gap == pytest.approx(10 / 55)
    same_year = check("2026年全球AI支出预计将达到3.1万亿美元。")  # settled by the year, not by the words around
    assert (same_year.conflict, same_year.conflict_share) == (("3.1万亿美元", "2.59万亿美元"), 0.0)
    assert same_year.conflict_gap == pytest.approx(0.51 / 3.1)
    agreed = check("2026年全球AI支出预计达到2.59万亿美元。")
    assert (agreed.conflict, agreed.conflict_share, agreed.conflict_gap) == (None, 0.0, 0.0)


def test_no_passages_is_unsupported_without_citations() -> None:
    result = judge("2026年全球AI支出预计达到2.59万亿美元。", [], analyze("AI支出"), {})
    assert (result.verdict, result.citations) == (UNSUPPORTED, ())


@pytest.mark.parametrize(
    ("text", "rank"), [("居第二位", 2), ("位居首位", 1), ("排名第7", 7), ("榜首", 1), ("增长", None)]
)
def test_ordinals(text: str, rank: int | None) -> None:
    assert ordinal(text) == rank


GRANTS = "2018年国家财政科技拨款9518亿元，其中科学技术支出占87.5%。"
PARTLY_WRONG = "2018年国家财政科技拨款为9518亿元，其中用于科研的比例达到百分之九十二点五。"


def test_a_second_figure_written_about_other_words_is_a_near_conflict_not_a_rule_conflict() -> None:
    from reportqa.answer.verify import NearConflict, check_unit

    terms = {t: 1.0 for t in analyze(PARTLY_WRONG).core if len(t) >= 2}
    check = check_unit(PARTLY_WRONG, GRANTS, terms)
    assert (check.matched, check.conflict) == (1, None)
    assert check.near == NearConflict("92.5%", "87.5%", 0.0, pytest.approx(5 / 92.5))
    assert verdict(PARTLY_WRONG, GRANTS).verdict == SUPPORTED  # the rules alone let it pass


def test_the_learned_verdict_decides_whether_a_near_conflict_contradicts() -> None:
    import numpy as np
    from reportqa.answer.claim_verdict import CLAIM_FEATURES, assess, decide

    from reportqa.core.learned import LinearModel

    def model(weights: dict[str, float], bias: float) -> LinearModel:
        n = len(CLAIM_FEATURES)
        return LinearModel(CLAIM_FEATURES, np.zeros(n), np.ones(n),
                           np.array([weights.get(f, 0.0) for f in CLAIM_FEATURES]), bias)

    hits = [hit(GRANTS)]
    assessment = assess(PARTLY_WRONG, hits, analyze(PARTLY_WRONG), {})
    assert assessment.conflict is None and assessment.features["near_any"] == 1.0
    assert assessment.features["near_with_match"] == 1.0
    on_topic = model({}, 5.0)
    trusting = decide(assessment, on_topic, model({"near_with_match": 10.0}, -5.0), hits, 0)
    assert (trusting.verdict, trusting.claim_value, trusting.report_value) == (CONTRADICTED, "92.5%", "87.5%")
    assert trusting.citations[0].chunk.text == GRANTS
    doubting = decide(assessment, on_topic, model({}, -5.0), hits, 0)
    assert (doubting.verdict, doubting.report_value) == (SUPPORTED, None)


SIX_G = "中国在 6G 专利数量上领先美国,拥有 6001 项专利,而美国为 3909 项。"


@pytest.mark.parametrize(
    ("claim", "passage", "values"),
    [
        ("在6G专利数量上，中国目前落后于美国。", SIX_G, ("落后", "领先")),
        ("在6G专利数量上，美国领先中国。", SIX_G, ("领先", "领先")),  # the same word, the pair swapped
        ("中国超大规模云厂商的云资本支出同比增速慢于美国同行。",
         "中国超大规模云厂商的云资本支出增长速度更快，为 60%同比，而美国为 42%同比。", ("慢于", "更快")),
        ("中国5G网络的总体下载速度低于美国。", "中国 5G 网络的总体下载速度为 139Mbps,高于美国的 123Mbps。",
         ("低于", "高于")),  # Mbps after a figure is a unit, not a name compared
    ],
)
def test_a_comparison_the_other_way_round_is_contradicted(claim: str, passage: str,
                                                           values: tuple[str, str]) -> None:
    result = verdict(claim, passage)
    assert (result.verdict, result.claim_value, result.report_value) == (CONTRADICTED, *values)


@pytest.mark.parametrize(
    "claim",
    ["在6G专利数量上，中国领先美国。", "在6G专利数量上，美国落后于中国。",
     "截至2026年5月，被美国列入实体清单的中国实体数量已超过1200家。"],  # 超过 before a figure qualifies it
)
def test_a_comparison_the_same_way_round_is_no_contradiction(claim: str) -> None:
    from reportqa.answer.conflicts import direction_conflict

    assert direction_conflict(claim, SIX_G + "截至2026年5月，已有超过1,200家中国实体被列入实体清单。") is None


def test_comparisons_name_the_direction_and_both_sides() -> None:
    from reportqa.answer.conflicts import Comparison, comparisons

    assert comparisons("在6G专利数量上，中国目前落后于美国。") == [Comparison("落后", False, "中国", "美国")]
    assert comparisons("中国的资本支出增长速度更快，为 60%同比") == [Comparison("更快", True, "中国", None)]
    assert comparisons("市占率超过85%，科大讯飞超过七成") == []


def test_an_english_claims_figure_is_read_against_the_chinese_words_around_the_stated_one() -> None:
    from reportqa.answer.verify import check_unit

    claim = "DJI holds roughly 90% of the US commercial drone market."
    terms = {t: 1.0 for t in analyze(claim).core if len(t) >= 2}
    check = check_unit(claim, "在美国商用无人机市场，大疆也有近 80% 的占有率。", terms)
    assert (check.matched, check.conflict) == (0, ("90%", "80%"))
    unrelated = check_unit(claim, "2025年全国数据中心机架的平均利用率约为 80%。", terms)
    assert unrelated.conflict is None


def test_a_sum_claimed_in_another_currency_is_a_conflict_of_the_whole_figure() -> None:
    from reportqa.answer.verify import check_unit

    passage = "民航局预测，到2025年中国低空经济市场规模将达到1.5万亿元，2035年有望达到3.5万亿元。"
    claim = "民航局预测，到2025年中国低空经济的市场规模可达1.5万亿美元。"
    terms = {t: 1.0 for t in analyze(claim).core if len(t) >= 2}
    swapped = check_unit(claim, passage, terms)
    assert (swapped.conflict, swapped.conflict_gap) == (("1.5万亿美元", "1.5万亿元"), 1.0)
    same = check_unit(claim.replace("美元", "元"), passage, terms)
    assert (same.matched, same.conflict) == (1, None)
    other_value = check_unit(claim.replace("1.5", "4.2"), passage, terms)  # no sum of that value: nothing to say
    assert other_value.conflict is None


def test_an_english_claims_common_words_are_not_names_that_conflict_with_the_passages() -> None:
    from reportqa.answer.conflicts import names_in

    claim = "The SCSP gap analysis says US private investment in AI in 2023 was about six times China's."
    assert names_in(claim) == [("scsp", "eng")]
    passage = "2023 年,美国私人对人工智能的投资约为中国的九倍,OpenAI 等公司"
    assert verdict(claim, passage).claim_value not in {"the", "in"}


def test_a_differing_figure_is_the_conflict_before_a_differing_year() -> None:
    from reportqa.answer.verify import check_unit

    claim = "数据中心新订单预计从2024年的2.1GW增加到2025—27年每年3.7GW，相当于2025年增长约67%。"
    passage = "新订单预计从 2024 年的 2.1GW 增加到 2025-27 年每年 3.7GW，相当于 2025 年预计增长 76%。"
    check = check_unit(claim, passage, {t: 1.0 for t in analyze(claim).core if len(t) >= 2})
    assert check.conflict == ("67%", "76%")  # not the years 2025—27 and 2025-27, read apart


def test_a_check_measures_the_share_of_the_claims_years_its_passage_never_writes() -> None:
    from reportqa.answer.verify import check_unit

    passage = "2023年国家药监局批准了87种新药，其中5种是首创药物。"
    claim = "2024年国家药监局共批准了48种创新药。"
    terms = {t: 1.0 for t in analyze(claim).core if len(t) >= 2}
    assert check_unit(claim, passage, terms).years_unstated == 1.0
    assert check_unit(claim.replace("2024", "2023"), passage, terms).years_unstated == 0.0
    assert check_unit("国家药监局共批准了48种创新药。", passage, terms).years_unstated == 0.0


def test_a_figures_words_reach_back_to_where_the_previous_figure_ends_not_past_its_currency_sign() -> None:
    text = prepare("营收达到US$8.5 billion，利润为US$2 billion")
    found = quantities(text)
    assert [q.text for q in found] == ["US$8.5 billion", "US$2 billion"]
    assert _context_terms(text, found[1], found, {"利润", "营收"}) == {"利润"}


def test_an_agreed_figure_records_how_well_its_words_anchor_it_and_whether_another_figure_sits_closer() -> None:
    from reportqa.answer.verify import check_unit

    passage = "中国移动的GPU利用率上升到68%，联通的带宽利用率超过70%。"

    def check(claim: str) -> tuple[int, float, float]:
        found = check_unit(claim, passage, {t: 1.0 for t in analyze(claim).core if len(t) >= 2})
        return found.matched, found.agreement_share, found.agreement_outranked

    # 86% agrees with 联通's 超过70%, but 中国移动's 68% is written by the claim's words
    assert check("中国移动的GPU利用率上升到86%。") == (1, 0.375, 1.0)
    assert check("中国移动的GPU利用率上升到68%。") == (1, 1.0, 0.0)
    assert check("联通的带宽利用率达到86%。") == (1, 1.0, 0.0)
    assert check("中国移动的GPU集群有一万张卡。")[1:] == (0.0, 0.0)  # nothing agreed: nothing to anchor


SHARES_PROBE = """
from reportqa.answer.verify import check_unit
terms = {"华为": 0.1, "海外": 0.2, "营业收入": 0.3, "同比": 0.7}
check = check_unit("华为海外营业收入同比增长为120亿元。", "华为海外营业收入同比增长为150亿元。", terms)
print(repr(check.conflict_share))
"""


def test_a_claims_measurements_are_the_same_in_every_process() -> None:
    """The words around a figure are a set, whose order changes with the hash seed of each process: summed in that
    order their weights differed in the last bits, and the trees split on such bits (claim figures moved ±0.005
    between identical runs)."""
    import os
    import subprocess
    import sys

    shares = {subprocess.run([sys.executable, "-c", SHARES_PROBE], check=True, capture_output=True, text=True,
                             env=os.environ | {"PYTHONHASHSEED": str(seed)}).stdout.strip() for seed in range(8)}
    assert shares == {"1.0"}
