"""What a passage is read as: sentences and header-rendered table rows, with PDF debris left out."""

from __future__ import annotations

from reportqa.index.units import chunk_units, table_row_units

from reportqa.core.types import Chunk


def prose(text: str) -> Chunk:
    return Chunk(id="d.txt#00000", doc="d.txt", title="报告", section="第一章 概览", text=text, start=0,
                 end=len(text), line_start=1, line_end=text.count("\n") + 1)


def test_prose_is_read_sentence_by_sentence() -> None:
    units = chunk_units(prose("储能装机达到95吉瓦。锂电池占九成以上。"))
    assert units == ("储能装机达到95吉瓦。", "锂电池占九成以上。")


def test_units_without_content_are_left_out() -> None:
    # a lone full stop, a bullet, a list number and one letter: what PDF extraction leaves between paragraphs
    text = "储能装机达到95吉瓦。\n。\n*\n1.\nA\n• ……\nAI芯片需求旺盛。"
    assert chunk_units(prose(text)) == ("储能装机达到95吉瓦。", "AI芯片需求旺盛。")


def test_two_characters_are_content() -> None:
    assert chunk_units(prose("效能。\nAI")) == ("效能。", "AI")


def test_table_rows_are_rendered_with_their_header() -> None:
    assert table_row_units("品类\t2026年预测\tCAGR\nAI芯片\t约2,400亿美元\t23%\nHBM\t-\t30%") == [
        "AI芯片：2026年预测 约2,400亿美元；CAGR 23%", "HBM：CAGR 30%"]


def test_a_space_separated_row_is_read_with_the_caption_above_it_else_its_section() -> None:
    text = ("北京领先。\n8 合肥 29.77 33.91 7 45.64\n展品 158：中国 AI 60 估值表\n"
            "腾讯 0700.HK OW 494.60 630.00 27%\n其后是一句话。")
    assert chunk_units(prose(text)) == (
        "北京领先。", "第一章 概览：8 合肥 29.77 33.91 7 45.64",
        "展品 158：中国 AI 60 估值表：腾讯 0700.HK OW 494.60 630.00 27%", "其后是一句话。")


def test_a_row_of_a_chunk_without_section_is_read_alone() -> None:
    chunk = Chunk(id="d.txt#00000", doc="d.txt", title="报告", section="", text="中国 438.1 56.5 186.6 24.1", start=0,
                  end=26, line_start=1, line_end=1)
    assert chunk_units(chunk) == ("中国 438.1 56.5 186.6 24.1",)
