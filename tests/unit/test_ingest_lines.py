"""Line classification: offsets, headings, table rows, noise, sentence ends and hard-wrap glue."""

from __future__ import annotations

import random
import re
import time

import pytest
from reportqa.ingest.clean import clean_text
from reportqa.ingest.lines import (
    Line,
    ends_in_toc_leader,
    ends_sentence,
    glue,
    heading_kind,
    is_bullet,
    is_table_row,
    noise_reason,
    split_lines,
)

from reportqa.core.text import is_spaced_row


def test_split_lines_offsets_point_at_stripped_content() -> None:
    text = "ab\n  cd  \r\n\nef\ufffd"
    assert split_lines(text) == [
        Line(number=1, start=0, end=2, text="ab"),
        Line(number=2, start=5, end=7, text="cd"),
        Line(number=3, start=11, end=11, text=""),
        Line(number=4, start=12, end=14, text="ef"),
    ]
    for line in split_lines(text):
        assert text[line.start : line.end] == line.text


@pytest.mark.parametrize(
    ("text", "kind"),
    [
        ("第一章 行业概览", "chapter"),
        ("第三章", "chapter"),
        ("第二节 市场", "section"),
        ("1.1 市场规模", "num2"),
        ("1.1.1 全球市场", "num3"),
        ("4.1下游", "num2"),
        ("一、国内市场", "cn"),
        ("（一）东部地区", "cnparen"),
        ("1) 算力", "numparen"),
        ("1、算力", "num1"),
        ("3 市场规模", "numbare"),
        ("## 标题", "md2"),
        ("目录", "chapter"),
        ("核心结论", "named"),
    ],
)
def test_heading_kind_families(text: str, kind: str) -> None:
    assert heading_kind(text) == kind


@pytest.mark.parametrize(
    "text",
    [
        "",
        "市场规模持续扩大。",
        "一、市场规模持续扩大，",
        "2.3%",
        "2023年",
        "1.1 " + "很" * 30,
        "第一章" + "很" * 40,
    ],
)
def test_heading_kind_rejects_body_text(text: str) -> None:
    assert heading_kind(text) is None


def test_is_table_row_needs_two_non_empty_tab_cells() -> None:
    assert is_table_row("公司\t2023") is True
    assert is_table_row("公司\t") is False
    assert is_table_row("公司 2023") is False


@pytest.mark.parametrize(("text", "expected"), [
    ("8 合肥 29.77 33.91 7 45.64 5 38.96", True),  # rank, city, values
    ("中国 438.1 56.5 186.6 24.1", True),
    ("6% 1,388 1,774 2,161 2,547", True),
    ("腾讯 0700.HK OW 494.60 630.00 27% NA", True),
    ("2025年 全球 AI 支出 1.5万亿美元", False),  # figures inside words: a sentence, not cells
    ("从 2010 - 2022 年,美国各州政府购买的无人机中,平均 85% 为中国生产。", False),  # a long label is prose
    ("甲 1 2", False),  # too few cells
    ("北京 上海 1 2 3 广州", True),  # half the cells are values
    ("北京 上海 深圳 广州 1 2 3", False),  # values under half the cells
    ("甲\t1\t2\t3", False),  # a tab row is a table row, not this
])
def test_is_spaced_row(text: str, expected: bool) -> None:
    assert is_spaced_row(text) is expected


@pytest.mark.parametrize(
    ("text", "reason"),
    [
        ("12", "axis_ticks"),
        ("35.6%", "axis_ticks"),
        ("6,560 6,539", "axis_ticks"),
        ("2023 2024 2025E", "axis_ticks"),
        ("目录.........12", "toc_leader"),
        ("图", "short_fragment"),
        ("亿元", "short_fragment"),
        ("(a)", "short_fragment"),
        ("德国 中国 新加坡 日本", "legend"),
        ("市场规模", None),
        ("是。", None),
        ("AI芯片 GPU CPU", None),
        ("算力需求保持高速增长。", None),
    ],
)
def test_noise_reason(text: str, reason: str | None) -> None:
    assert noise_reason(text) == reason


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("增长。", True),
        ("增长。”", True),
        ("原因如下：", True),
        ("增长，", False),
        ("持续快速", False),
        ("", False),
    ],
)
def test_ends_sentence(text: str, expected: bool) -> None:
    assert ends_sentence(text) is expected


@pytest.mark.parametrize(
    ("previous", "following", "sep"),
    [
        ("持续快速", "发展", ""),
        ("artificial", "intelligence", " "),
        ("AI", "芯片", ""),
        ("增长", "GPU", ""),
        ("份额（", "GPU", ""),
        ("", "x", ""),
        ("x", "", ""),
    ],
)
def test_glue(previous: str, following: str, sep: str) -> None:
    assert glue(previous, following) == sep


def test_is_bullet() -> None:
    assert [is_bullet(t) for t in ["• 要点", "① 要点", "- 要点", "要点"]] == [True, True, True, False]


_OLD_TOC_LEADER = re.compile(r"[.…·．]{4,}\s*\d+$")  # what ends_in_toc_leader replaces


def test_the_contents_leader_check_agrees_with_the_pattern_it_replaces() -> None:
    rng = random.Random(7)
    alphabet = "..…·．  \t12３x第章\n"
    for _ in range(20_000):
        line = "".join(rng.choice(alphabet) for _ in range(rng.randrange(0, 14)))
        assert ends_in_toc_leader(line) == bool(_OLD_TOC_LEADER.search(line)), repr(line)
    assert ends_in_toc_leader("第一章 总论……………… 12")
    assert not ends_in_toc_leader("增长率为3.5%")


def test_a_line_of_dots_is_cleaned_in_linear_time() -> None:
    """The pattern backtracked over every run of dots: 40,000 dots took 22 s."""
    started = time.perf_counter()
    clean_text("." * 200_000 + "x\n" + "…" * 200_000 + " \n")
    assert time.perf_counter() - started < 1.0
