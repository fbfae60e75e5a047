"""Normalisation and jieba tokenisation shared by chunking, BM25 and query analysis."""

from __future__ import annotations

import pytest
from reportqa.index.text import (
    cjk_share,
    contains_term,
    is_content,
    is_english,
    normalize,
    query_tokens,
    strip_space,
    tokens,
    without_spaces,
    words,
)


def test_normalize_width_case_invisible_and_thousands() -> None:
    text = "ＡＩ芯片\u200b市场规模达1,234,567亿元，增速１２％"
    assert normalize(text) == "ai芯片市场规模达1234567亿元,增速12%"


def test_normalize_keeps_commas_that_are_not_thousands_separators() -> None:
    assert normalize("1,2 和 12,3456") == "1,2 和 12,3456"


def test_words_cover_the_whole_text() -> None:
    text = "算力需求，持续增长 AI"
    assert words(text) == ["算力", "需求", "，", "持续增长", " ", "AI"]
    assert "".join(words(text)) == text


def test_tokens_drop_stopwords_and_punctuation() -> None:
    assert tokens("人工智能的市场规模是多少？") == ["人工", "智能", "人工智能", "市场", "规模", "多少"]


def test_tokens_normalise_numbers_and_latin() -> None:
    assert tokens("英伟达H100的出货量达到1,200万片") == [
        "英", "伟达", "h100", "出货", "出货量", "达到", "1200", "万片",
    ]


@pytest.mark.parametrize(
    ("question", "expected"),
    [
        ("人工智能的市场规模是多少？", ["人工", "智能", "人工智能", "市场", "规模"]),
        ("哪些公司布局了AI芯片？", ["公司", "布局", "ai", "芯片"]),
        ("大模型是什么？", ["大", "模型"]),
    ],
)
def test_query_tokens_remove_question_words(question: str, expected: list[str]) -> None:
    assert query_tokens(question) == expected


def test_is_content() -> None:
    assert [is_content(t) for t in ["的", "，", "ai", "芯片", "2024"]] == [False, False, True, True, True]


def test_strip_space() -> None:
    assert strip_space(" A I\t芯片\n市场\u3000规模 ") == "ai芯片市场规模"


def test_without_spaces_keeps_line_breaks_and_tabs() -> None:
    assert without_spaces(" A I\t芯片\n市场\u3000规模 1,590 EFLOPS") == "ai\t芯片\n市场规模1590eflops"


def test_cjk_share() -> None:
    assert cjk_share("AI芯片") == 0.5
    assert cjk_share("半导体") == 1.0
    assert cjk_share("semiconductor") == 0.0
    assert cjk_share("2024，%") == 0.0


def test_tokenizer_fingerprint_follows_the_stopwords(monkeypatch: pytest.MonkeyPatch) -> None:
    import reportqa.index.text

    before = reportqa.index.text.tokenizer_fingerprint()
    assert before == reportqa.index.text.tokenizer_fingerprint()
    monkeypatch.setattr(reportqa.index.text, "STOPWORDS", reportqa.index.text.STOPWORDS | {"报告"})
    assert reportqa.index.text.tokenizer_fingerprint() != before


@pytest.mark.parametrize(("text", "english"), [
    ("What share of the global EDA market does North America hold?", True),
    ("DeepSeek开源的FlashMLA是什么？", False),  # two Latin names, six CJK characters
    ("How big is the AI chip market in 2026?", True),
    ("2026年AI芯片市场多大？", False),
    ("？", False),
])
def test_is_english(text: str, english: bool) -> None:
    assert is_english(text) is english


@pytest.mark.parametrize(
    ("text", "term", "found"),
    [
        ("营业收入128亿元", "28", False),
        ("增长2.28倍", "28", False),
        ("28.5亿元", "28", False),
        ("28nm成熟制程", "28", True),
        ("2021-2025年复合增速", "2025", True),
        ("营业收入128亿元", "营业收入", True),
        ("营业收入128亿元", "利润", False),
    ],
)
def test_contains_term_finds_numbers_whole(text: str, term: str, found: bool) -> None:
    assert contains_term(text, term) is found


def test_without_invisible_drops_zero_width_bidi_and_byte_order_marks_only() -> None:
    from reportqa.index.text import without_invisible

    assert without_invisible("\ufeff2\u200b0\u200d26年\u202e全球ＡＩ\u200f支出？\u2060") == "2026年全球ＡＩ支出？"
    assert without_invisible("2026年 全球") == "2026年 全球"
