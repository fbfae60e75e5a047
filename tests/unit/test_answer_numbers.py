"""Numbers compared as numbers: Chinese and English scales, percentages, full-width digits, dates, units."""

from __future__ import annotations

import pytest
from reportqa.answer.numbers import (
    Quantity,
    chinese_numeral,
    digit_likeness,
    family,
    magnitude_apart,
    prepare,
    quantities,
)


def values(text: str) -> list[tuple[float, str]]:
    return [(q.value, q.kind) for q in quantities(text)]


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("2.59万亿美元", [(2.59e12, "usd")]),
        ("25,900亿美元", [(2.59e12, "usd")]),
        ("2.59 trillion dollars", [(2.59e12, "usd")]),
        ("USD 15.6 billion", [(1.56e10, "usd")]),
        ("156亿美元", [(1.56e10, "usd")]),
        ("RMB 400 billion", [(4e11, "cny")]),
        ("4000 亿元人民币", [(4e11, "cny")]),
        ("$30B", [(3e10, "usd")]),
        ("１２８亿元", [(1.28e10, "cny")]),  # full-width digits
        ("47%", [(47.0, "percent")]),
        ("百分之四十七", [(47.0, "percent")]),
        ("４７％", [(47.0, "percent")]),
        ("九成", [(90.0, "percent")]),
        ("3.5个百分点", [(3.5, "percent")]),
        ("增长30倍", [(30.0, "times")]),
        ("460太瓦时", [(4.6e11, "energy")]),
        ("1,000 TWh", [(1e12, "energy")]),
        ("1650亿千瓦时", [(1.65e11, "energy")]),
        ("2000万千瓦", [(2e7, "power")]),
        ("39GW", [(3.9e7, "power")]),
        ("总量142.34EB", [(1.4234e20, "data")]),  # a data size, not a model name as 910B is
        ("到2027年的77 ZB", [(2027.0, "year"), (7.7e22, "data")]),
        ("80GB显存", [(8e10, "data")]),
        ("SpaceX已发射了20批星链卫星", [(20.0, "count")]),
        ("一共拿过12轮融资", [(12.0, "count")]),
        ("组件输出功率185.4W", [(0.1854, "power")]),  # watts, in kW as the other power units
        ("能量密度达到每公斤500瓦时", [(0.5, "energy")]),  # watt-hours, in kWh
        ("500 Wh/kg", [(0.5, "energy")]),
        ("采纳了三项6G标准", [(3.0, "count")]),  # 一个 and 两家 are words; 三项 is a figure
        ("the prototype has 72 qubits", [(72.0, "count")]),  # a small English count: a figure, as 72个 is
        ("61 commercial 5G contracts", [(61.0, "count"), (5.0, "")]),
        ("42个", [(42.0, "count")]),
        ("310条航线", [(310.0, "count")]),
        ("2026年", [(2026.0, "year")]),
        ("by 2030", [(2030.0, "year")]),
        ("2022年11月", [(2022.0, "year"), (202211.0, "date"), (11.0, "")]),
        ("四分之三", [(75.0, "percent")]),
        ("占比从1/3升至2/3", [(33.3, "percent"), (66.7, "percent")]),
        ("两百多个场景", [(200.0, "count")]),
        ("1200英里", [(pytest.approx(1931213, rel=1e-6), "length")]),  # a distance, not a year
        ("约30公里", [(30000.0, "length")]),
        ("批准了87种新药", [(87.0, "count")]),
        ("以28天过会", [(28.0, "count")]),
        ("员工不到100人", [(100.0, "count")]),
        ("roughly 6 times China's", [(6.0, "times")]),
        ("about six times China's", [(6.0, "times")]),
        ("two billion dollars", [(2e9, "usd")]),
    ],
)
def test_quantities_scale_to_plain_units(text: str, expected: list[tuple[float, str]]) -> None:
    assert values(text) == [(pytest.approx(v), k) for v, k in expected]


@pytest.mark.parametrize("text", ["一个重要方向", "两家公司", "排名第二位", "第7名", "一些企业", "昇腾910B已量产",
                                  "英伟达H100", "GPT-4o", "one of the largest", "中国人工智能"])
def test_words_and_ranks_are_not_quantities(text: str) -> None:
    assert quantities(text) == []


def test_a_range_keeps_both_ends() -> None:
    (q,) = quantities("15-20%")
    assert (q.value, q.high, q.kind) == (15.0, 20.0, "percent")


def test_a_range_whose_high_end_is_below_its_low_end_is_two_figures() -> None:
    found = quantities("China's share jumped from 4.1% in 2020 to 13.9%.")
    assert [(q.value, q.kind, q.high) for q in found] == [(4.1, "percent", None), (2020.0, "year", None),
                                                          (13.9, "percent", None)]


@pytest.mark.parametrize(
    ("text", "value", "kind"),
    [("已部署400多万座基站", 4e6, "count"), ("营收300余亿元", 3e10, "cny"), ("三十多万家", 3e5, "count")],
)
def test_more_before_a_scale_word_is_part_of_the_figure(text: str, value: float, kind: str) -> None:
    (q,) = quantities(text)
    assert (q.value, q.kind, q.qualifier) == (value, kind, "over")


@pytest.mark.parametrize(
    ("text", "qualifier"),
    [("超过2500亿美元", "over"), ("突破1万亿美元", "over"), ("不足40%", "under"), ("约4%", "approx"),
     ("nearly 30%", "approx"), ("2500亿美元以上", "over"), ("三成出头", "over")],
)
def test_qualifiers(text: str, qualifier: str) -> None:
    assert [q.qualifier for q in quantities(text)] == [qualifier]


@pytest.mark.parametrize(
    ("a", "b", "same"),
    [
        ("2.59万亿美元", "2.59 trillion dollars", True),
        ("2.59万亿美元", "25,900亿美元", True),
        ("47%", "百分之四十七", True),
        ("约4%", "4.1%", True),  # an approximate figure allows 5%
        ("3.1万亿美元", "2.59万亿美元", False),
        ("2.59万亿美元", "2.59万亿元", False),  # another currency
        ("2026年", "2027年", False),
        ("91个", "91", True),  # a count and a bare number
        ("15-20%", "18%", True),  # inside a range
        ("超过1000太瓦时", "突破1,050 TWh", True),  # two lower bounds within 10%
        ("四成以上", "42%", True),  # a lower bound and a figure above it
        ("超过40%", "90%", False),  # …but not far above it
        ("不足40%", "38%", True),
        ("三分之二", "67%", True),
    ],
)
def test_matching(a: str, b: str, same: bool) -> None:
    qa, qb = quantities(a)[-1], quantities(b)[-1]
    assert qa.matches(qb) is same
    assert qb.matches(qa) is same


@pytest.mark.parametrize(
    ("text", "value"),
    [("四十七", 47.0), ("一百二十", 120.0), ("两千零二十六", 2026.0), ("二〇二六", 2026.0), ("三点五", 3.5),
     ("十", 10.0), ("万", None)],
)
def test_chinese_numerals(text: str, value: float | None) -> None:
    assert chinese_numeral(text) == value


def test_prepare_rewrites_full_width_separators_and_percent_words() -> None:
    assert prepare("ＡＩ支出２，５９０亿，增长百分之四十七") == "AI支出2590亿,增长47%"


def test_dates_compare_year_and_month() -> None:
    def date(text: str) -> Quantity:
        return next(q for q in quantities(text) if q.kind == "date")

    assert not date("2022年11月").matches(date("2023年11月"))
    assert date("2022年11月").matches(date("2022 年 11 月"))


def test_family_joins_counts_and_bare_numbers() -> None:
    assert [family(k) for k in ("count", "", "usd", "year")] == ["", "", "usd", "year"]


def test_offsets_point_into_the_prepared_text() -> None:
    text = "营收128亿元，增长36%"
    found = quantities(text)
    assert [prepare(text)[q.start : q.start + len(q.text)] for q in found] == ["128亿元", "36%"]
    assert all(isinstance(q, Quantity) for q in found)


@pytest.mark.parametrize(("text", "value", "kind"), [
    ("两万五千九百亿美元", 2.59e12, "usd"),
    ("2.59万亿美元", 2.59e12, "usd"),
    ("25,900亿美元", 2.59e12, "usd"),
    ("2.59 trillion dollars", 2.59e12, "usd"),
    ("一亿两千万", 1.2e8, ""),
    ("千万美元", 1e7, "usd"),
    ("两百多个", 200.0, "count"),
])
def test_chinese_and_mixed_numerals_read_as_one_value(text: str, value: float, kind: str) -> None:
    found = quantities(text)
    assert [(q.value, q.kind) for q in found] == [(pytest.approx(value), kind)]


def test_the_same_sum_in_four_scripts_matches() -> None:
    forms = ["2.59万亿美元", "25,900亿美元", "2.59 trillion dollars", "两万五千九百亿美元"]
    values = [quantities(f)[0] for f in forms]
    assert all(a.matches(b) for a in values for b in values)


@pytest.mark.parametrize(("text", "expected"), [
    ("电价0.3元/千瓦时", [(0.3, "cny")]),  # 千 of 千瓦时 is the unit's
    ("单位投资约3500元/千瓦", [(3500.0, "cny")]),
    ("Tier 1 suppliers delivered 300 robots", [(300.0, "count")]),  # a label's number is no count
    ("Phase 3 trials enrolled 1,200 patients", [(1200.0, "")]),
    ("Llama 3 models ran for 24 hours", []),
    ("销量突破10W台", []),  # W for 万, not watts
])
def test_labels_unit_words_and_shorthand_are_not_figures(text: str, expected: list[tuple[float, str]]) -> None:
    from reportqa.answer.verify import _figures

    assert [(q.value, q.kind) for q in _figures(quantities(text))] == [(pytest.approx(v), k) for v, k in expected]


@pytest.mark.parametrize(("stated", "claimed", "likeness"), [
    ("3706亿美元", "4706亿美元", 0.75),  # one digit changed
    ("206 座", "260座", 2 / 3),  # two neighbours swapped: one edit
    ("1,305亿美元", "$13.05 billion", 1.0),  # the same digits in another unit
    ("58.5%", "8.5%", 2 / 3),  # one digit dropped
    ("北京", "上海", 0.0),  # no digit
    ("12%", None, 0.0),
])
def test_digit_likeness_reads_how_close_two_figures_are_written(stated: str, claimed: str | None,
                                                                likeness: float) -> None:
    assert digit_likeness(stated, claimed) == pytest.approx(likeness)


@pytest.mark.parametrize(("stated", "claimed", "apart"), [
    ("50万家", "30万家", 0.0739),  # log10(5/3) / 3
    ("3706亿美元", "$470.6 billion", 0.0346),  # across units and scripts
    ("15个", "30万家", 1.0),  # more than a thousand times off
    ("北京", "上海", 1.0),  # not figures
])
def test_magnitude_apart_reads_powers_of_ten_between_two_figures(stated: str, claimed: str, apart: float) -> None:
    assert magnitude_apart(stated, claimed) == pytest.approx(apart, abs=1e-4)


def test_quantities_are_read_once_per_text_and_handed_out_as_a_new_list() -> None:
    """A claim check reads the same sentences again and again, so they are cached; a caller changing its list must
    not change what the next caller gets."""
    first = quantities("营收2.59万亿美元，同比增长47%")
    first.append(first[0])
    again = quantities("营收2.59万亿美元，同比增长47%")
    assert [(q.value, q.kind) for q in again] == [(2.59e12, "usd"), (47.0, "percent")]
    assert again is not first
