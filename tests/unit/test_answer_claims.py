"""Claim splitting of drafts: prose sentences become claims with exact offsets; Markdown furniture does not."""

from __future__ import annotations

import pytest
from reportqa.answer.claims import Claim, split_claims

# A writer's draft as it would really arrive: headings, a hard-wrapped paragraph, every kind of list,
# a table, a block quote, two fenced code blocks (``` and ~~~) and a trailing fragment.
MARKDOWN_DRAFT = (
    "# 2026年全球AI支出快评\n"
    "\n"
    "## 一、总体规模\n"
    "\n"
    "根据Gartner的最新预测，2026年全球AI支出预计达到2.59万亿美元。较2025年的1.74万亿美元同比增长47%！\n"
    "其中AI基础设施投资占整体AI支出的45%以上，\n"
    "算力竞争已经成为决定性变量。\n"
    "\n"
    "### 1.1 分项\n"
    "\n"
    "- 北美三家云厂商的资本开支合计超过2500亿美元。\n"
    "* AI软件支出预计达到6100亿美元。\n"
    "+ AI服务支出预计达到8100亿美元。\n"
    "1. 星河半导体2025年营业收入128亿元。\n"
    "2) 研发投入为19亿元。\n"
    "3、全球量子计算市场规模约为15亿美元。\n"
    "\n"
    "| 类别 | 2025年 | 2026年 |\n"
    "|------|--------|--------|\n"
    "| AI软件 | 4200亿美元 | 6100亿美元 |\n"
    "\n"
    "> 分析师指出：亚太地区的AI支出增速最快。\n"
    "\n"
    "```python\n"
    "spending = 2.59  # 万亿美元，这行代码不是论断。\n"
    "```\n"
    "\n"
    "~~~\n"
    "新型储能累计装机规模达到95吉瓦。\n"
    "~~~\n"
    "\n"
    "## 二、结论\n"
    "\n"
    "截至2025年底，中国新型储能累计装机规模达到95吉瓦；半固态电池已经量产装车。\n"
    "好的。\n"
)


def assert_offsets_hold(draft: str, claims: list[Claim]) -> None:
    for claim in claims:
        assert draft[claim.start : claim.end] == claim.text
        assert claim.line == draft.count("\n", 0, claim.start) + 1


def test_markdown_draft_gives_only_its_prose_sentences() -> None:
    claims = split_claims(MARKDOWN_DRAFT)
    assert claims == [
        Claim("根据Gartner的最新预测，2026年全球AI支出预计达到2.59万亿美元。", 28, 67, 5),
        Claim("较2025年的1.74万亿美元同比增长47%！", 67, 90, 5),
        # a hard-wrapped sentence is one claim (Markdown joins the lines); it starts on line 6
        Claim("其中AI基础设施投资占整体AI支出的45%以上，\n算力竞争已经成为决定性变量。", 91, 130, 6),
        Claim("截至2025年底，中国新型储能累计装机规模达到95吉瓦；", 462, 490, 34),
        Claim("半固态电池已经量产装车。", 490, 502, 34),
    ]
    assert_offsets_hold(MARKDOWN_DRAFT, claims)


def test_markdown_draft_leaves_out_headings_lists_tables_quotes_and_code() -> None:
    texts = " ".join(c.text for c in split_claims(MARKDOWN_DRAFT))
    for left_out in ("快评", "分项", "结论", "2500亿美元", "6100亿美元", "8100亿美元", "128亿元", "19亿元",
                     "15亿美元", "4200亿美元", "亚太地区", "spending", "这行代码"):
        assert left_out not in texts, left_out
    # the sentence inside the ~~~ block is left out; the same words in the closing prose are a claim
    assert texts.count("新型储能累计装机规模达到95吉瓦") == 1


@pytest.mark.parametrize(
    "furniture",
    [
        "# 全球AI支出预计达到2.59万亿美元",
        "   ### 全球AI支出预计达到2.59万亿美元",
        "- 全球AI支出预计达到2.59万亿美元。",
        "  * 全球AI支出预计达到2.59万亿美元。",
        "+ 全球AI支出预计达到2.59万亿美元。",
        "• 全球AI支出预计达到2.59万亿美元。",
        "12. 全球AI支出预计达到2.59万亿美元。",
        "3) 全球AI支出预计达到2.59万亿美元。",
        "4、全球AI支出预计达到2.59万亿美元。",
        "| 全球AI支出 | 2.59万亿美元 |",
        "> 全球AI支出预计达到2.59万亿美元。",
        ">> 全球AI支出预计达到2.59万亿美元。",
    ],
)
def test_markdown_furniture_is_not_a_claim(furniture: str) -> None:
    draft = f"{furniture}\n\n星河半导体在2025年实现营业收入128亿元。\n"
    start = len(furniture) + 2
    assert split_claims(draft) == [Claim("星河半导体在2025年实现营业收入128亿元。", start, start + 23, 3)]


def test_fenced_code_hides_everything_until_it_closes() -> None:
    draft = (
        "星河半导体的研发人员超过2100人。\n"
        "~~~text\n"
        "全球AI支出预计达到2.59万亿美元。\n"
        "~~~\n"
        "  ```\n"
        "量子计算市场规模约为15亿美元。\n"
        "  ```\n"
        "全固态电池的能量密度有望达到每公斤500瓦时。\n"
        "```\n"
        "这段代码没有闭合，之后的文字都不是论断。\n"
    )
    claims = split_claims(draft)
    assert claims == [
        Claim("星河半导体的研发人员超过2100人。", 0, 18, 1),
        Claim("全固态电池的能量密度有望达到每公斤500瓦时。", 80, 103, 8),
    ]
    assert_offsets_hold(draft, claims)


def test_plain_text_paragraphs() -> None:
    draft = (
        "星河半导体在2025年实现营业收入128亿元，同比增长36%。毛利率提升至41.5%。\n"
        "\n"
        "  截至2025年底，中国新型储能累计装机规模达到95吉瓦。  预计到2030年将突破300吉瓦？\n"
        "全球量子计算市场规模在2025年约为15亿美元"
    )
    claims = split_claims(draft)
    assert claims == [
        Claim("星河半导体在2025年实现营业收入128亿元，同比增长36%。", 0, 31, 1),
        Claim("毛利率提升至41.5%。", 31, 43, 1),
        # leading spaces are not part of the claim; the offsets move past them
        Claim("截至2025年底，中国新型储能累计装机规模达到95吉瓦。", 47, 75, 3),
        Claim("预计到2030年将突破300吉瓦？", 77, 94, 3),
        # the next line of the paragraph: a claim of its own although it has no closing punctuation
        Claim("全球量子计算市场规模在2025年约为15亿美元", 95, 118, 4),
    ]
    assert_offsets_hold(draft, claims)


def test_windows_line_endings_keep_offsets_and_line_numbers() -> None:
    draft = "# 标题\r\n\r\n星河半导体的研发人员超过2100人。\r\n\r\n研发投入为19亿元，占营业收入的14.8%。\r\n"
    claims = split_claims(draft)
    assert claims == [
        Claim("星河半导体的研发人员超过2100人。", 8, 26, 3),
        Claim("研发投入为19亿元，占营业收入的14.8%。", 30, 52, 5),
    ]
    assert_offsets_hold(draft, claims)


def test_mixed_chinese_and_english_draft() -> None:
    draft = (
        "## Summary 摘要\n"
        "Global AI spending is expected to reach US$2.59 trillion in 2026. North America remains the largest "
        "market! 亚太地区的AI支出增速最快。\n"
        "星河半导体的毛利率提升至41.5%; Its R&D headcount exceeds 2,100 people.\n"
        "The model scores 3.5 points, e.g. on the benchmark. OK.\n"
    )
    claims = split_claims(draft)
    assert [c.text for c in claims] == [
        "Global AI spending is expected to reach US$2.59 trillion in 2026.",
        "North America remains the largest market!",
        "亚太地区的AI支出增速最快。",
        "星河半导体的毛利率提升至41.5%;",
        "Its R&D headcount exceeds 2,100 people.",
        # a decimal point and a lower-case word after "e.g." do not end the sentence; "OK." is too short
        "The model scores 3.5 points, e.g. on the benchmark.",
    ]
    assert [c.line for c in claims] == [2, 2, 2, 3, 3, 4]
    assert [c.start for c in claims] == [14, 80, 122, 137, 156, 196]
    assert_offsets_hold(draft, claims)


@pytest.mark.parametrize(
    "draft",
    ["", "\n", "   \n\t\n", "好的。", "# 只有标题\n\n- 只有列表项目而已。\n", "```\n代码里的句子不算论断。\n```"],
)
def test_drafts_without_claims(draft: str) -> None:
    assert split_claims(draft) == []


def test_claims_are_short_fragments_only_when_long_enough() -> None:
    # fewer than six letters or digits is a fragment, not a claim; punctuation does not count
    draft = "是的，没错。增长了百分之五。A–B！！\n"
    assert split_claims(draft) == [Claim("增长了百分之五。", 6, 14, 1)]


def test_decoded_binary_is_not_prose_but_any_draft_language_is() -> None:
    import random

    from reportqa.answer.claims import is_prose

    rng = random.Random(3)
    junk = bytes(rng.randrange(256) for _ in range(400)).decode("latin-1")
    assert not is_prose(junk)
    assert split_claims(junk) == []
    for text in ("2026年全球AI支出预计达到2.59万亿美元。", "Zürich-based Nestlé’s revenue rose 5% in 2024.",
                 "“十五五”规划纲要——正式发布…", "DJI holds more than 90% of the global consumer drone market."):
        assert is_prose(text), text
