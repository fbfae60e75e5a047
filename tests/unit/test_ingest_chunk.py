"""Chunking: sentence spans, long-sentence splits, whole table rows with the header, offsets and lines."""

from __future__ import annotations

import re

import pytest
from reportqa.index.text import words
from reportqa.ingest.chunk import ChunkerConfig, chunk_document, render_row, split_long
from reportqa.ingest.clean import clean_text

from reportqa.core.text import split_sentences
from reportqa.core.types import Chunk, Document


def chunk(
    text: str, max_tokens: int = 120, overlap_tokens: int = 20, pages: tuple[int, ...] = ()
) -> list[Chunk]:
    doc = Document("d1", "T", text, pages)
    return chunk_document(doc, clean_text(text), ChunkerConfig(max_tokens, overlap_tokens), words)


def line_of(text: str, offset: int) -> int:
    return text.count("\n", 0, offset) + 1


# --- sentences ---------------------------------------------------------------------------------------


def test_split_sentences_on_cjk_and_latin_ends() -> None:
    text = "第一句。第二句！“第三句？”第四句；English one. Next one. 尾巴"
    spans = split_sentences(text)
    assert [text[a:b] for a, b in spans] == [
        "第一句。",
        "第二句！",
        "“第三句？”",
        "第四句；",
        "English one.",
        " Next one. 尾巴",
    ]
    assert spans == [(0, 4), (4, 8), (8, 14), (14, 18), (18, 30), (30, 43)]


def test_split_sentences_keeps_decimal_points() -> None:
    text = "The model scores 3.5 points. It improves."
    assert [text[a:b] for a, b in split_sentences(text)] == ["The model scores 3.5 points.", " It improves."]


def test_split_sentences_of_blank_text() -> None:
    assert split_sentences("  ") == []


def test_split_long_prefers_comma_and_keeps_words_whole() -> None:
    text = "人工智能产业在过去五年中持续快速发展，市场规模不断扩大。"
    spans = split_long(text, 5, words)
    assert [text[a:b] for a, b in spans] == [
        "人工智能产业在过去五年",
        "中持续快速发展，",
        "市场规模不断扩大。",
    ]


def test_split_long_without_commas_cuts_between_words() -> None:
    text = "全球数据中心建设推动高性能计算芯片需求持续提升并带动先进封装产能扩张"
    spans = split_long(text, 4, words)
    assert [text[a:b] for a, b in spans] == [
        "全球数据中心建设推动",
        "高性能计算芯片需求",
        "持续提升并带动",
        "先进封装产能扩张",
    ]
    boundaries = {0}
    for word in words(text):
        boundaries.add(max(boundaries) + len(word))
    assert all(a in boundaries and b in boundaries for a, b in spans)


def test_render_row_keeps_tabs() -> None:
    assert render_row(("公司", "2023", "2024")) == "公司\t2023\t2024"


# --- prose chunks ------------------------------------------------------------------------------------

PROSE = (
    "第一章 行业概览\n"
    "算力需求保持高速增长。下游应用场景\n"
    "不断丰富；行业竞争格局逐步清晰。\n"
    "\n"
    "大模型技术持续迭代！推理成本快速下降。\n"
)


def test_prose_chunks_literal() -> None:
    chunks = chunk(PROSE, max_tokens=10, overlap_tokens=5, pages=(0, 40))
    assert chunks == [
        Chunk("d1#00000", "d1", "T", "第一章 行业概览", "算力需求保持高速增长。下游应用场景不断丰富；",
              9, 32, 2, 3, "prose", 1, 1),
        Chunk("d1#00001", "d1", "T", "第一章 行业概览", "下游应用场景不断丰富；行业竞争格局逐步清晰。",
              20, 43, 2, 3, "prose", 1, 2),
        Chunk("d1#00002", "d1", "T", "第一章 行业概览", "大模型技术持续迭代！", 45, 55, 5, 5, "prose", 2, 2),
        Chunk("d1#00003", "d1", "T", "第一章 行业概览", "推理成本快速下降。", 55, 64, 5, 5, "prose", 2, 2),
    ]


def test_short_paragraphs_of_one_section_share_a_chunk_separated_by_newline() -> None:
    chunks = chunk(PROSE, max_tokens=120)
    assert [c.text for c in chunks] == [
        "算力需求保持高速增长。下游应用场景不断丰富；行业竞争格局逐步清晰。\n大模型技术持续迭代！推理成本快速下降。"
    ]
    assert (chunks[0].start, chunks[0].end, chunks[0].line_start, chunks[0].line_end) == (9, 64, 2, 5)


@pytest.mark.parametrize(("max_tokens", "overlap"), [(6, 0), (10, 5), (12, 0), (20, 10), (120, 20)])
def test_chunk_offsets_and_lines_match_the_source(max_tokens: int, overlap: int) -> None:
    text = (
        "第一章 行业概览\n"
        "人工智能产业在过去五年中持续快速\n"
        "\n"
        "发展，市场规模不断扩大。算力需求保持高速增长！\n"
        "下游应用场景不断丰富；行业竞争格局逐步清晰。\n"
        "1.1 技术趋势\n"
        "大模型技术持续迭代，推理成本快速下降。\n"
    )
    chunks = chunk(text, max_tokens, overlap)
    assert chunks
    for c in chunks:
        source = re.sub(r"\s+", "", text[c.start : c.end])
        for piece in c.text.split():
            assert piece in source
        assert re.sub(r"\s+", "", c.text) == source
        assert c.line_start == line_of(text, c.start)
        assert c.line_end == line_of(text, c.end - 1)
        assert not text[c.start].isspace() and not text[c.end - 1].isspace()


def test_chunks_end_at_sentence_boundaries_when_sentences_fit() -> None:
    for c in chunk(PROSE, max_tokens=10, overlap_tokens=0):
        assert c.text[-1] in "。！？；"


def test_long_sentence_split_never_cuts_a_word() -> None:
    text = "全球数据中心建设推动高性能计算芯片需求持续提升并带动先进封装产能扩张。\n"
    chunks = chunk(text, max_tokens=4, overlap_tokens=0)
    assert [c.text for c in chunks] == [
        "全球数据中心建设推动",
        "高性能计算芯片需求",
        "持续提升并带动",
        "先进封装产能扩张。",
    ]
    boundaries = {0}
    for word in words(text):
        boundaries.add(max(boundaries) + len(word))
    for c in chunks:
        assert c.start in boundaries and c.end in boundaries


def test_sentence_end_mark_is_not_left_as_a_chunk_of_its_own() -> None:
    # the last piece of a split sentence keeps its 。 instead of a separate "。" chunk
    text = "全球数据中心建设推动高性能计算芯片需求持续提升并带动先进封装产能扩张。\n"
    texts = [c.text for c in chunk(text, max_tokens=4, overlap_tokens=0)]
    assert texts[-1].endswith("。")
    assert all(re.search(r"\w", t) for t in texts)


def test_sections_are_not_mixed_in_one_chunk() -> None:
    text = "第一章 概览\n市场规模扩大。\n第二章 趋势\n技术持续迭代。\n"
    assert [(c.section, c.text) for c in chunk(text)] == [
        ("第一章 概览", "市场规模扩大。"),
        ("第二章 趋势", "技术持续迭代。"),
    ]


# --- table chunks ------------------------------------------------------------------------------------

TABLE = (
    "第一章 行业概览\n"
    "市场规模持续扩大。\n"
    "表1：主要公司营收\n"
    "公司\t2023\t2024\n"
    "甲公司\t10\t12\n"
    "乙公司\t8\t9\n"
    "丙公司\t7\t6\n"
    "丁公司\t5\t4\n"
    "数据来源：公司公告。\n"
)


def test_table_is_one_chunk_when_it_fits() -> None:
    chunks = chunk(TABLE)
    assert [(c.kind, c.section, c.text) for c in chunks] == [
        ("prose", "第一章 行业概览", "市场规模持续扩大。"),
        ("table", "第一章 行业概览 > 表1：主要公司营收",
         "公司\t2023\t2024\n甲公司\t10\t12\n乙公司\t8\t9\n丙公司\t7\t6\n丁公司\t5\t4"),
        ("prose", "第一章 行业概览", "数据来源：公司公告。"),
    ]
    table = chunks[1]
    assert (table.start, table.end, table.line_start, table.line_end) == (29, 75, 4, 8)
    assert TABLE[table.start : table.end] == table.text


def test_split_table_repeats_header_and_keeps_rows_whole() -> None:
    chunks = [c for c in chunk(TABLE, max_tokens=11) if c.kind == "table"]
    assert [c.text for c in chunks] == [
        "公司\t2023\t2024\n甲公司\t10\t12\n乙公司\t8\t9",
        "公司\t2023\t2024\n丙公司\t7\t6\n丁公司\t5\t4",
    ]
    assert [(c.start, c.end, c.line_start, c.line_end) for c in chunks] == [(29, 59, 4, 6), (60, 75, 7, 8)]
    assert [c.section for c in chunks] == ["第一章 行业概览 > 表1：主要公司营收"] * 2
    assert [c.id for c in chunks] == ["d1#00001", "d1#00002"]
    assert TABLE[chunks[1].start : chunks[1].end] == "丙公司\t7\t6\n丁公司\t5\t4"


def test_one_row_per_chunk_under_a_tiny_budget() -> None:
    chunks = [c for c in chunk(TABLE, max_tokens=1) if c.kind == "table"]
    assert [c.text.split("\n") for c in chunks] == [
        ["公司\t2023\t2024", "甲公司\t10\t12"],
        ["公司\t2023\t2024", "乙公司\t8\t9"],
        ["公司\t2023\t2024", "丙公司\t7\t6"],
        ["公司\t2023\t2024", "丁公司\t5\t4"],
    ]


def test_table_text_is_never_glued_to_prose() -> None:
    text = "市场规模持续扩大，主要公司营收如下表所示。\n公司\t营收\n甲公司\t10\n行业集中度持续提升。\n"
    chunks = chunk(text)
    assert [(c.kind, c.text) for c in chunks] == [
        ("prose", "市场规模持续扩大，主要公司营收如下表所示。"),
        ("table", "公司\t营收\n甲公司\t10"),
        ("prose", "行业集中度持续提升。"),
    ]
