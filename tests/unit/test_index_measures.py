from __future__ import annotations

import pytest
from reportqa.index.measures import asked_measure, states


@pytest.mark.parametrize(("question", "name"), [
    ("千帆星座已经发射了多少颗卫星？", "颗"),
    ("商汤科技巴黎研发中心有多少名研发人员？", "名"),
    ("合作伙伴数量有多少家？", "家"),
    ("工厂规划产能是多少GWh？", "gwh"),
    ("日本企业有几家？", "家"),
    ("进口总额是多少美元？", "美元"),
    ("联盟计划在哪一年正式成立？", "year"),
    ("In which year was the alliance founded?", "year"),
    ("2023年美国在全球锂精炼产能中所占的比例是多少？", "share"),
    ("What is CXMT's share of the global DRAM market?", "share"),
    ("深度求索2024年的营业收入是多少？", "money"),
    ("算力券总额度是多少？", "money"),
    ("What is the retail price of Unitree's G1 humanoid robot?", "money"),
    ("长猫大模型参数量是多少？", "parameters"),
    ("京张高铁的最高运营时速是多少？", "speed"),
    ("E20 eVTOL的最大航程是多少？", "distance"),
    ("3A6000处理器的主频是多少？", "frequency"),
    ("SCSP报告的主要作者是谁？", "person"),
    ("团队由哪位教授带领？", "person"),
    ("Who founded DeepSeek?", "person"),
])
def test_asked_measure(question: str, name: str) -> None:
    measure = asked_measure(question)
    assert measure is not None and measure.name == name


@pytest.mark.parametrize("question", [
    "垄断全球EDA软件市场的国际三巨头是哪几家？",  # names, not a count
    "营业收入同比增长了多少？",  # a change, not an amount
    "有多大规模？",
    "营收的增长速度是多少？",  # a rate of growth, not a speed
    "What is the production capacity of the new fab?",  # wafers, gigawatt-hours or vehicles
    "报告如何描述碳纳米管的导电性能？",
])
def test_no_measure_asked(question: str) -> None:
    assert asked_measure(question) is None


@pytest.mark.parametrize(("question", "text", "expected"), [
    ("有多少名研发人员？", "吸纳当地150余家科技企业加入生态", False),
    ("有多少家企业加入？", "吸纳当地150余家科技企业加入生态", True),
    ("在香港设有多少家分店？", "现时在香港共有28间分店", True),  # 间 counts shops as 家 does
    ("培养了多少位奥运冠军？", "培养了73人", True),
    ("覆盖全部多少个产业大类？", "具备联合国39大工业门类", True),
    ("已经发射了多少颗卫星？", "预计发射 1.3 万颗卫星", True),
    ("进口总额是多少美元？", "国家大基金三期3,440亿元投向半导体全产业链", False),
    ("有多少家分店？", "家电企业", False),  # a unit with no count before it
    ("在哪一年正式成立？", "3年内实现高端AI芯片国产化率提升至30%", False),  # a span of years, not a year
    ("在哪一年开通？", "2019年，京张高铁开通运营", True),
    ("在哪一年投降？", "大宝二年（551年）六月", True),
    ("营业收入是多少？", "设备销售额495.4亿美元", True),
    ("售价是多少？", "产品性能达美国同类产品80%，但价格仅为70%", False),
    ("所占的比例是多少？", "在锂离子电池组件出货量上占全球 80%", True),
    ("所占的比例是多少？", "长鑫存储的申请增长", False),
    ("参数量是多少？", "美团准备在 2025 年下半年推出 AI 服务", False),
    ("参数量是多少？", "DeepSeek-V3 总参数 671B", True),
    ("最高时速是多少？", "研发时速能够达到400公里以上", True),
    ("核定了多少个人员编制？", "低空安全司正式设立，30人编制", True),  # 个 is any classifier
    ("平均每家公司拥有多少项AI专利？", "4 日本 1,537 41 37.5 JP, US 5 德国 784 18 43.6 欧洲专利局", True),  # cells
    ("有多少名研发人员？", "(1)东南亚:在新加坡布局数字基础设施", False),  # a list marker is no figure
    ("营业收入是多少？", "深度求索-V2；深度求索-V3", False),  # nor is a model's version
    ("营业收入是多少？", "数据中心 1,346 亿元", True),
    ("主要作者是谁？", "2025年美国特别竞争研究项目发布《2025 年差距分析报告》", False),
    ("由谁提出？", "科技部火炬中心主任贾敬敦认为，硬科技是指关键核心技术", True),
    ("由谁负责营运？", "由东日本旅客铁道公司经营", True),
    ("Who leads it?", "The lab is led by Andrew Yao.", True),
])
def test_states(question: str, text: str, expected: bool) -> None:
    measure = asked_measure(question)
    assert measure is not None and states(text, measure) is expected
