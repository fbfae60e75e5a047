from __future__ import annotations

import pytest

from answer.units import asked_unit, states_count


@pytest.mark.parametrize(("question", "unit"), [
    ("千帆星座已经发射了多少颗卫星？", "颗"),
    ("商汤科技巴黎研发中心有多少名研发人员？", "名"),
    ("合作伙伴数量有多少家？", "家"),
    ("工厂规划产能是多少GWh？", "gwh"),
    ("最大航程是多少公里？", "公里"),
    ("日本企业有几家？", "家"),
    ("进口总额是多少美元？", "美元"),
    ("联盟计划在哪一年正式成立？", "year"),
    ("In which year was the alliance founded?", "year"),
    ("深度求索2024年的营业收入是多少？", "money"),
    ("超节点的售价是多少？", "money"),
    ("What is the retail price of Unitree's G1 humanoid robot?", "money"),
])
def test_asked_unit(question: str, unit: str) -> None:
    assert asked_unit(question) == unit


@pytest.mark.parametrize("question", [
    "垄断全球EDA软件市场的国际三巨头是哪几家？",  # names, not a count
    "微软Azure占多少份额？",  # a share
    "我国基础研究在R&D支出中所占的比例是多少？",  # a share of spending, not an amount
    "营业收入同比增长了多少？",
    "有多大规模？",
])
def test_no_unit_asked(question: str) -> None:
    assert asked_unit(question) is None


@pytest.mark.parametrize(("text", "unit", "expected"), [
    ("吸纳当地150余家科技企业加入生态", "名", False),
    ("吸纳当地150余家科技企业加入生态", "家", True),
    ("现时在香港共有28间分店", "家", True),  # 间 counts shops as 家 does
    ("培养了73人", "位", True),
    ("具备联合国39大工业门类", "个", True),
    ("全国风电累计并网容量达2.1亿千瓦", "千瓦", True),
    ("预计发射 1.3 万颗卫星", "颗", True),
    ("国家大基金三期3,440亿元投向半导体全产业链", "美元", False),
    ("共有十二 名 队员", "名", True),
    ("家电企业", "家", False),  # a unit with no count before it
    ("3年内实现高端AI芯片国产化率提升至30%", "year", False),  # a span of years, not a year
    ("2019年，京张高铁开通运营", "year", True),
    ("大宝二年（551年）六月", "year", True),
    ("设备销售额495.4亿美元", "money", True),
    ("成本节约360亿元人民币", "money", True),
    ("产品性能达美国同类产品80%，但价格仅为70%", "money", False),
])
def test_states_count(text: str, unit: str, expected: bool) -> None:
    assert states_count(text, unit) is expected
