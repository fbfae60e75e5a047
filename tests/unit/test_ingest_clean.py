"""clean_text: hard-wrap joining, noise removal, tables, heading paths."""

from __future__ import annotations

import pytest
from reportqa.ingest.clean import (
    ONE_LINE_CHARS,
    CleanedText,
    Paragraph,
    Run,
    Table,
    TableRow,
    chinese_number,
    clean_text,
    keeps_paragraphs_whole,
    repeated_lines,
)
from reportqa.ingest.lines import split_lines


def texts(cleaned: CleanedText) -> list[str]:
    return [b.text for b in cleaned.blocks if isinstance(b, Paragraph)]


# --- hard-wrap joining -------------------------------------------------------------------------------


def test_cjk_hard_wrap_joins_without_space() -> None:
    text = "人工智能产业在过去五年中持续快速\n发展，市场规模不断扩大。\n"
    assert clean_text(text) == CleanedText(
        blocks=(
            Paragraph(
                text="人工智能产业在过去五年中持续快速发展，市场规模不断扩大。",
                runs=(Run(clean=0, orig=0, length=16), Run(clean=16, orig=17, length=12)),
                section=(),
            ),
        ),
        dropped={},
    )


def test_cjk_hard_wrap_across_blank_line_joins_without_space() -> None:
    text = "人工智能产业在过去五年中持续快速\n\n发展，市场规模不断扩大。\n"
    cleaned = clean_text(text)
    assert texts(cleaned) == ["人工智能产业在过去五年中持续快速发展，市场规模不断扩大。"]
    assert cleaned.blocks[0].runs == (Run(clean=0, orig=0, length=16), Run(clean=16, orig=18, length=12))


@pytest.mark.parametrize(("text", "joined"), [
    ("算力需求，\n持续增长。\n", "算力需求，持续增长。"),
    ("杆化，以及\n通货紧缩的低迷。\n", "杆化，以及通货紧缩的低迷。"),  # a conjunction never ends a line's sentence
    ("芯片与\n算力需求持续增长。\n", "芯片与算力需求持续增长。"),
])
def test_wrap_after_comma_or_conjunction_in_short_line_joins(text: str, joined: str) -> None:
    assert texts(clean_text(text)) == [joined]


def test_latin_hard_wrap_gets_exactly_one_space() -> None:
    text = "The market for artificial\nintelligence keeps growing.\n"
    cleaned = clean_text(text)
    assert texts(cleaned) == ["The market for artificial intelligence keeps growing."]
    assert cleaned.blocks[0].runs == (Run(clean=0, orig=0, length=25), Run(clean=26, orig=26, length=27))


def test_line_ending_in_full_stop_is_not_joined() -> None:
    cleaned = clean_text("市场规模不断扩大。\n下一段内容继续。\n")
    assert texts(cleaned) == ["市场规模不断扩大。", "下一段内容继续。"]


def test_short_title_line_is_not_joined() -> None:
    cleaned = clean_text("行业概况\n市场规模持续扩大，增速领先。\n")
    assert texts(cleaned) == ["行业概况", "市场规模持续扩大，增速领先。"]


def test_named_section_title_becomes_section_not_text() -> None:
    cleaned = clean_text("核心结论\n市场规模不断扩大。\n")
    assert cleaned.blocks == (Paragraph("市场规模不断扩大。", (Run(0, 5, 9),), ("核心结论",)),)


def test_bullet_starts_new_paragraph() -> None:
    text = "算力需求持续增长，主要来自\n• 大模型训练需求\n• 推理部署需求\n"
    assert texts(clean_text(text)) == ["算力需求持续增长，主要来自", "• 大模型训练需求", "• 推理部署需求"]


def test_paragraph_orig_offsets_map_back_to_file() -> None:
    text = "人工智能产业在过去五年中持续快速\n发展，市场规模不断扩大。\n"
    paragraph = clean_text(text).blocks[0]
    assert isinstance(paragraph, Paragraph)
    assert paragraph.orig_offset(0) == 0
    assert paragraph.orig_offset(16) == 17
    assert paragraph.orig_end(16) == 16
    assert paragraph.orig_end(len(paragraph.text)) == len(text) - 1
    assert text[paragraph.orig_offset(16) : paragraph.orig_end(18)] == "发展"


def test_latin_glue_space_maps_to_next_run() -> None:
    paragraph = clean_text("The market for artificial\nintelligence keeps growing.\n").blocks[0]
    assert isinstance(paragraph, Paragraph)
    assert paragraph.orig_offset(25) == 26  # the glue space
    assert paragraph.orig_end(25) == 25


# --- noise -------------------------------------------------------------------------------------------


def test_noise_lines_are_dropped_and_counted_by_reason() -> None:
    text = (
        "某某证券研究报告\n"
        "人工智能行业的市场规模持续扩大。\n"
        "12\n"
        "35.6%\n"
        "6,560 6,539\n"
        "图\n"
        "德国 中国 新加坡 日本\n"
        "某某证券研究报告\n"
        "算力需求保持高速增长。\n"
        "某某证券研究报告\n"
        "目录.........12\n"
    )
    cleaned = clean_text(text)
    assert texts(cleaned) == ["人工智能行业的市场规模持续扩大。", "算力需求保持高速增长。"]
    assert cleaned.dropped == {
        "axis_ticks": 3,
        "legend": 1,
        "repeated_header": 3,
        "short_fragment": 1,
        "toc_leader": 1,
    }


def test_header_seen_twice_is_kept() -> None:
    text = "证券研究报告\n正文第一句。\n证券研究报告\n"
    cleaned = clean_text(text)
    assert texts(cleaned) == ["证券研究报告", "正文第一句。", "证券研究报告"]
    assert cleaned.dropped == {}


def test_noise_between_wrapped_pieces_does_not_break_the_paragraph() -> None:
    text = "人工智能产业在过去五年中持续快速\n35.6%\n发展，市场规模不断扩大。\n"
    cleaned = clean_text(text)
    assert texts(cleaned) == ["人工智能产业在过去五年中持续快速发展，市场规模不断扩大。"]
    assert cleaned.dropped == {"axis_ticks": 1}


def test_repeated_lines_ignores_headings_and_table_rows() -> None:
    lines = split_lines("页眉\n页眉\n页眉\n目录\n目录\n目录\na\tb\na\tb\na\tb\n")
    assert repeated_lines(lines) == frozenset({"页眉"})


def test_number_with_unit_alone_on_a_line_is_chart_residue_not_a_heading() -> None:
    # "1.5亿元" is an axis value; it must not open a "1.5亿元" section under the chapter
    text = "第一章 行业概览\n1.5亿元\n市场规模持续扩大。\n"
    cleaned = clean_text(text)
    assert cleaned.blocks == (Paragraph("市场规模持续扩大。", (Run(0, 15, 9),), ("第一章 行业概览",)),)
    assert cleaned.dropped == {"axis_ticks": 1}


# --- tables ------------------------------------------------------------------------------------------


def test_tab_rows_become_one_table_with_caption() -> None:
    text = "表1：主要公司营收\n公司\t2023\t2024\n甲公司\t10\t12\n乙公司\t8\t9\n数据来源：公司公告。\n"
    cleaned = clean_text(text)
    assert cleaned.blocks == (
        Table(
            caption="表1：主要公司营收",
            rows=(
                TableRow(cells=("公司", "2023", "2024"), start=10, end=22),
                TableRow(cells=("甲公司", "10", "12"), start=23, end=32),
                TableRow(cells=("乙公司", "8", "9"), start=33, end=40),
            ),
            section=(),
        ),
        Paragraph("数据来源：公司公告。", (Run(0, 41, 10),), ()),
    )


def test_table_rule_rows_are_dropped() -> None:
    text = "公司\t2023\n---\t---\n甲公司\t10\n"
    cleaned = clean_text(text)
    assert cleaned.blocks == (
        Table("", (TableRow(("公司", "2023"), 0, 7), TableRow(("甲公司", "10"), 16, 22)), ()),
    )
    assert cleaned.dropped == {"table_rule": 1}


def test_sentence_before_table_is_not_a_caption_and_prose_is_not_glued_to_table() -> None:
    text = "市场规模持续扩大。\n公司\t2023\n甲公司\t10\n行业集中度持续提升，龙头优势\n明显。\n"
    cleaned = clean_text(text)
    assert cleaned.blocks == (
        Paragraph("市场规模持续扩大。", (Run(0, 0, 9),), ()),
        Table("", (TableRow(("公司", "2023"), 10, 17), TableRow(("甲公司", "10"), 18, 24)), ()),
        Paragraph("行业集中度持续提升，龙头优势明显。", (Run(0, 25, 14), Run(14, 40, 3)), ()),
    )


def test_space_separated_rows_are_paragraphs_of_their_own_between_wrapped_prose() -> None:
    text = ("城市排名如下，北京在各项指数中均遥遥\n领先。\n1 北京 84.04 80.80 1\n\n2 上海 50.48 39.59 5\n"
            "其余城市与前两名之间的差距仍然\n较大。\n")
    assert texts(clean_text(text)) == ["城市排名如下，北京在各项指数中均遥遥领先。", "1 北京 84.04 80.80 1",
                                       "2 上海 50.48 39.59 5", "其余城市与前两名之间的差距仍然较大。"]


def test_caption_from_other_section_is_not_taken() -> None:
    text = "图表说明\n1.1 市场规模\n公司\t2023\n甲公司\t10\n"
    cleaned = clean_text(text)
    assert cleaned.blocks[0] == Paragraph("图表说明", (Run(0, 0, 4),), ())
    assert cleaned.blocks[1] == Table(
        "", (TableRow(("公司", "2023"), 14, 21), TableRow(("甲公司", "10"), 22, 28)), ("1.1 市场规模",)
    )


# --- heading paths -----------------------------------------------------------------------------------


def test_heading_stack_nests_and_resets() -> None:
    text = (
        "第一章 行业概览\n"
        "1.1 市场规模\n"
        "1.1.1 全球市场\n"
        "全球市场规模持续扩大。\n"
        "1.2 竞争格局\n"
        "一、国内市场\n"
        "（一）东部地区\n"
        "东部地区需求旺盛。\n"
        "（二）西部地区\n"
        "西部地区增长较快。\n"
        "第二章 技术趋势\n"
        "技术持续迭代。\n"
    )
    sections = [" > ".join(b.section) for b in clean_text(text).blocks]
    assert sections == [
        "第一章 行业概览 > 1.1 市场规模 > 1.1.1 全球市场",
        "第一章 行业概览 > 1.2 竞争格局 > 一、国内市场 > （一）东部地区",
        "第一章 行业概览 > 1.2 竞争格局 > 一、国内市场 > （二）西部地区",
        "第二章 技术趋势",
    ]


def test_bare_chapter_takes_next_short_line_as_title() -> None:
    text = "第三章\n产业链分析\n上游材料供应稳定。\n"
    assert clean_text(text).blocks == (
        Paragraph("上游材料供应稳定。", (Run(0, 10, 9),), ("第三章 产业链分析",)),
    )


def test_numbered_heading_of_another_chapter_drops_stale_chapter() -> None:
    text = "第三章 产业链分析\n3.1 上游\n上游材料供应稳定。\n4.1 下游应用\n下游应用不断拓展。\n"
    assert [b.section for b in clean_text(text).blocks] == [
        ("第三章 产业链分析", "3.1 上游"),
        ("4.1 下游应用",),
    ]


def test_numbered_heading_of_same_chapter_keeps_chapter() -> None:
    text = "第十二章 展望\n12.1 机遇\n机遇大于挑战。\n"
    assert clean_text(text).blocks[0].section == ("第十二章 展望", "12.1 机遇")


def test_markdown_headings_strip_hashes() -> None:
    text = "# 总览\n## 细分\n内容在这里。\n"
    assert clean_text(text).blocks[0].section == ("总览", "细分")


def test_chinese_number() -> None:
    assert [chinese_number(t) for t in ["三", "十", "十九", "二十", "二十三", "19", "百", "壹"]] == [
        3, 10, 19, 20, 23, 19, None, None,
    ]


# --- extractions that keep each paragraph on one line ---------------------------------------------------

ONE_LINE = ("“东数西算”工程自2022年启动，已形成八大国家算力枢纽节点战略布局，"
            "京津冀、长三角、粤港澳大湾区、成渝领先，中西部地区算力设施快速提升。")
RACKS, CLUSTERS = "全国在用数据中心机架总规模超211万架", "10个国家数据中心集群算力总规模超146万标准机架"
ITEMS = "全国在用数据中心机架总规模超211万架\n\n10个国家数据中心集群算力总规模超146万标准机架\n"


def test_a_line_without_a_full_stop_is_an_item_where_the_extraction_keeps_paragraphs_whole() -> None:
    assert len(ONE_LINE) > ONE_LINE_CHARS
    cleaned = clean_text(ONE_LINE + "\n\n" + ITEMS)
    assert texts(cleaned) == [ONE_LINE, RACKS, CLUSTERS]


def test_the_same_lines_are_a_hard_wrap_where_the_page_wraps_them() -> None:
    assert texts(clean_text(ITEMS)) == [RACKS + CLUSTERS]


def test_a_line_cut_after_a_conjunction_joins_even_where_paragraphs_are_whole() -> None:
    cleaned = clean_text(ONE_LINE + "\n\n去杠杆化，以及\n\n通货紧缩的低迷。\n")
    assert texts(cleaned) == [ONE_LINE, "去杠杆化，以及通货紧缩的低迷。"]


@pytest.mark.parametrize(("lines", "whole"), [
    ([ONE_LINE] + ["短行"] * 9, True),  # one line in ten runs past ONE_LINE_CHARS
    ([ONE_LINE] + ["短行"] * 10, False),
    (["", ""], False),
])
def test_an_extraction_keeps_paragraphs_whole_when_a_tenth_of_its_lines_are_longer_than_a_column(
        lines: list[str], whole: bool) -> None:
    assert keeps_paragraphs_whole(split_lines("\n".join(lines))) is whole
