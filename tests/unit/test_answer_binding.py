"""Whose figure it is, on literal claim and passage sentences."""

from __future__ import annotations

from reportqa.answer.binding import misbound_share

PATENTS = "中国在 6G 专利数量上领先美国,拥有 6001 项专利,而美国为 3909 项。"
STARTUPS = ("此外,美国的私营部门在量子领域高度活跃,拥有约 300 家量子初创公司和 320 名量子投资者,"
            "远远超过中国的 30 家和 50 。")


def test_a_figure_the_passage_gives_to_another_name_is_misbound() -> None:
    assert misbound_share("SCSP报告显示，中国私营部门已孕育出约300家量子初创公司。", STARTUPS) == 1.0
    assert misbound_share("在6G专利上，美国以6001项领先，中国为3909项。", PATENTS) == 0.5  # 3909 is 美国's


def test_a_figure_after_the_claim_s_own_name_is_not() -> None:
    assert misbound_share("美国私营部门拥有约300家量子初创公司。", STARTUPS) == 0.0
    assert misbound_share("中国在6G专利上以6001项领先美国。", PATENTS) == 0.0  # the 6 of 6G is no figure


def test_nothing_to_compare_is_zero() -> None:
    assert misbound_share("量子初创公司约有300家。", STARTUPS) == 0.0  # the claim names nobody
    assert misbound_share("德国有约300家量子初创公司。", STARTUPS) == 0.0  # nor anybody the passage names
    assert misbound_share("中国的量子初创公司很多。", STARTUPS) == 0.0  # no figure


def test_a_currency_sign_does_not_hide_the_name_before_the_next_figure() -> None:
    sentence = "华为获得US$ 85亿，中兴获得US$ 30亿。"  # the figure's text starts with US$, its offset at 85
    assert misbound_share("中兴获得30亿美元。", sentence) == 0.0
    assert misbound_share("华为获得30亿美元。", sentence) == 1.0
