"""The checked draft as Markdown with footnotes, and as JSON results, from hand-built verdicts (no index)."""

from __future__ import annotations

from reportqa.answer.claims import Claim, split_claims
from reportqa.answer.verify import CONTRADICTED, SUPPORTED, UNSUPPORTED, Verdict

from reportqa.core.types import Chunk, Citation
from reportqa.draft import QUOTE_CHARS, CheckedClaim, placed_results, render_markdown

AI_CHUNK = Chunk(
    id="ai_spending.txt#00001", doc="ai_spending.txt", title="全球人工智能支出展望2026",
    section="第一章 全球AI支出总体规模 > 1.1 支出总量",
    text="根据Gartner在2026年5月发布的最新预测，2026年全球AI支出预计达到2.59万亿美元，\n"
         "较2025年的1.74万亿美元同比增长47%。",
    start=40, end=121, line_start=5, line_end=6,
)
CHIP_CHUNK = Chunk(
    id="xinghe_chips.pdf#00000", doc="xinghe_chips.pdf", title="星河半导体公司年度研究", section="",
    text="星河半导体在2025年实现营业收入128亿元，同比增长36%。", start=0, end=30, line_start=4, line_end=4,
    page=3,
)
QUANTUM_CHUNK = Chunk(
    id="quantum_outlook.txt#00002", doc="quantum_outlook.txt", title="量子计算产业发展报告", section="1.2 市场规模",
    text="全球量子计算市场规模在2025年约为15亿美元，预计2030年增长到80亿美元。", start=200, end=238,
    line_start=9, line_end=10,
)

DRAFT = (
    "# 快评\n"
    "\n"
    "2026年全球AI支出预计达到3.1万亿美元。星河半导体2025年营业收入128亿元。\n"
    "\n"
    "- 列表项不是论断。\n"
    "火星殖民地的人口在2025年达到了十万人。\n"
)


def checked_draft() -> list[CheckedClaim]:
    """The draft's three claims: contradicted, supported (cited from a PDF page), unsupported."""
    first, second, third = split_claims(DRAFT)
    return [
        CheckedClaim(first, Verdict(first.text, CONTRADICTED, "2.59万亿美元", "3.1万亿美元",
                                    (Citation(1, AI_CHUNK, 0.91234), Citation(2, QUANTUM_CHUNK, 0.2)), 1.0)),
        CheckedClaim(second, Verdict(second.text, SUPPORTED, None, None,
                                     (Citation(1, CHIP_CHUNK, 0.8), Citation(2, AI_CHUNK, 0.1)), 0.95)),
        CheckedClaim(third, Verdict(third.text, UNSUPPORTED, None, None, (Citation(1, QUANTUM_CHUNK, 0.05),),
                                    0.02)),
    ]


EXPECTED_MARKDOWN = (
    "# 快评\n"
    "\n"
    "2026年全球AI支出预计达到3.1万亿美元。 **[⚠ 与报告不符：报告为 2.59万亿美元]**[^1]"
    "星河半导体2025年营业收入128亿元。[^2]\n"
    "\n"
    "- 列表项不是论断。\n"
    "火星殖民地的人口在2025年达到了十万人。 **[报告未涉及]**\n"
    "\n"
    "---\n"
    "\n"
    "[^1]: 与之不符的原文: *全球人工智能支出展望2026* — 第一章 全球AI支出总体规模 > 1.1 支出总量 "
    "(ai_spending.txt, 第 5–6 行): “根据Gartner在2026年5月发布的最新预测，2026年全球AI支出预计达到2.59万亿美元， "
    "较2025年的1.74万亿美元同比增长47%。”\n"
    "[^2]: 出处: *星河半导体公司年度研究* — — (xinghe_chips.pdf, 第 4–4 行, 第 3 页): "
    "“星河半导体在2025年实现营业收入128亿元，同比增长36%。”\n"
)


def test_markdown_has_a_marker_after_each_claim_and_footnotes_quoting_the_sources() -> None:
    assert render_markdown(DRAFT, checked_draft()) == EXPECTED_MARKDOWN


def test_markdown_is_the_same_whatever_order_the_claims_come_in() -> None:
    assert render_markdown(DRAFT, list(reversed(checked_draft()))) == EXPECTED_MARKDOWN


def test_markdown_leaves_the_draft_unchanged_apart_from_the_markers() -> None:
    rendered = render_markdown(DRAFT, checked_draft())
    body = rendered.split("\n\n---\n\n")[0]
    for marker in (" **[⚠ 与报告不符：报告为 2.59万亿美元]**[^1]", "[^2]", " **[报告未涉及]**"):
        body = body.replace(marker, "", 1)
    assert body + "\n" == DRAFT


def test_supported_claims_are_numbered_in_draft_order() -> None:
    draft = "量子计算市场规模在2025年约为15亿美元。\n\n星河半导体在2025年实现营业收入128亿元。\n"
    first, second = split_claims(draft)
    checked = [CheckedClaim(first, Verdict(first.text, SUPPORTED, None, None, (Citation(1, QUANTUM_CHUNK, 0.7),),
                                           1.0)),
               CheckedClaim(second, Verdict(second.text, SUPPORTED, None, None, (Citation(1, CHIP_CHUNK, 0.6),),
                                            1.0))]
    assert render_markdown(draft, checked) == (
        "量子计算市场规模在2025年约为15亿美元。[^1]\n"
        "\n"
        "星河半导体在2025年实现营业收入128亿元。[^2]\n"
        "\n"
        "---\n"
        "\n"
        "[^1]: 出处: *量子计算产业发展报告* — 1.2 市场规模 (quantum_outlook.txt, 第 9–10 行): "
        "“全球量子计算市场规模在2025年约为15亿美元，预计2030年增长到80亿美元。”\n"
        "[^2]: 出处: *星河半导体公司年度研究* — — (xinghe_chips.pdf, 第 4–4 行, 第 3 页): "
        "“星河半导体在2025年实现营业收入128亿元，同比增长36%。”\n"
    )


def test_unsupported_claims_only_give_no_footnote_section() -> None:
    draft = "火星殖民地的人口在2025年达到了十万人。Zorblax公司的估值是500亿美元。"
    first, second = split_claims(draft)
    checked = [CheckedClaim(c, Verdict(c.text, UNSUPPORTED, None, None, (), 0.0)) for c in (first, second)]
    assert render_markdown(draft, checked) == (
        "火星殖民地的人口在2025年达到了十万人。 **[报告未涉及]**Zorblax公司的估值是500亿美元。 **[报告未涉及]**\n"
    )


def test_a_contradiction_with_no_aligned_value_is_marked_without_one() -> None:
    draft = "Quantum computing revenue was US$15 billion in 2025."
    (claim,) = split_claims(draft)
    checked = [CheckedClaim(claim, Verdict(claim.text, CONTRADICTED, None, None, (Citation(1, QUANTUM_CHUNK, 0.4),),
                                           0.6))]
    assert render_markdown(draft, checked) == (
        "Quantum computing revenue was US$15 billion in 2025. **[⚠ contradicted by the report]**[^1]\n\n---\n\n"
        "[^1]: Contradicted by: *量子计算产业发展报告* — 1.2 市场规模 (quantum_outlook.txt, lines 9–10): "
        "“全球量子计算市场规模在2025年约为15亿美元，预计2030年增长到80亿美元。”\n"
    )


def test_long_passages_are_quoted_up_to_the_limit() -> None:
    long_chunk = Chunk(id="long.txt#0", doc="long.txt", title="长报告", section="第三章", text="储能" * 200,
                       start=0, end=400, line_start=1, line_end=1)
    draft = "截至2025年底，中国新型储能累计装机规模达到95吉瓦。"
    (claim,) = split_claims(draft)
    rendered = render_markdown(draft, [CheckedClaim(claim, Verdict(claim.text, SUPPORTED, None, None,
                                                                   (Citation(1, long_chunk, 0.5),), 1.0))])
    quote = "储能" * 109 + "储…"
    assert len(quote) == QUOTE_CHARS
    assert rendered == f"{draft}[^1]\n\n---\n\n[^1]: 出处: *长报告* — 第三章 (long.txt, 第 1–1 行): “{quote}”\n"


def test_placed_results_number_the_claims_and_keep_their_place_in_the_draft() -> None:
    results = [r.model_dump() for r in placed_results(checked_draft())]
    assert [(r["id"], r["verdict"], r["report_value"], r["claim_value"]) for r in results] == [
        ("claim-1", "contradicted", "2.59万亿美元", "3.1万亿美元"),
        ("claim-2", "supported", None, None),
        ("claim-3", "unsupported", None, None),
    ]
    assert [(r["start"], r["end"], r["line"]) for r in results] == [(6, 29, 3), (29, 49, 3), (62, 83, 6)]
    for result in results:
        assert DRAFT[result["start"] : result["end"]] == result["claim"]
    assert results[0] == {
        "id": "claim-1", "claim": "2026年全球AI支出预计达到3.1万亿美元。", "verdict": "contradicted",
        "report_value": "2.59万亿美元", "claim_value": "3.1万亿美元", "support": 1.0,
        "citations": [
            {"n": 1, "doc": "ai_spending.txt", "title": "全球人工智能支出展望2026",
             "section": "第一章 全球AI支出总体规模 > 1.1 支出总量", "start": 40, "end": 121, "line_start": 5,
             "line_end": 6, "page": None, "page_end": None, "text": AI_CHUNK.text, "score": 0.9123},
            {"n": 2, "doc": "quantum_outlook.txt", "title": "量子计算产业发展报告", "section": "1.2 市场规模",
             "start": 200, "end": 238, "line_start": 9, "line_end": 10, "page": None, "page_end": None,
             "text": QUANTUM_CHUNK.text,
             "score": 0.2},
        ],
        "start": 6, "end": 29, "line": 3,
    }
    assert results[1]["citations"][0]["page"] == 3 and results[1]["support"] == 0.95


def test_a_hand_built_claim_renders_at_its_offsets() -> None:
    draft = "前言。星河半导体的研发人员超过2000人，之后的文字不变。"
    claim = Claim("星河半导体的研发人员超过2000人，", 3, 21, 1)
    assert draft[claim.start : claim.end] == claim.text
    checked = [CheckedClaim(claim, Verdict(claim.text, CONTRADICTED, "2100人", "2000人",
                                           (Citation(1, CHIP_CHUNK, 0.5),), 0.9))]
    assert render_markdown(draft, checked).split("\n")[0] == (
        "前言。星河半导体的研发人员超过2000人， **[⚠ 与报告不符：报告为 2100人]**[^1]之后的文字不变。"
    )
