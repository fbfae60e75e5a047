"""PDF headings by type size: kept apart from the body as sections, and the title when metadata has none."""

from __future__ import annotations

from pathlib import Path

import pytest
from reportqa.index.text import words
from reportqa.ingest.chunk import ChunkerConfig, chunk_document
from reportqa.ingest.clean import clean_text
from reportqa.ingest.formats import read_pdf
from reportqa.ingest.pdf_headings import body_size, could_be_heading, effective_size, line_sizes, mark_headings

from reportqa.core.types import Chunk, Document

from .test_formats import pdf_of_pages, standard_font_pdf

Run = tuple[float, str]
TITLE = "新型储能产业观察"
PAGES: list[list[Run]] = [
    [(22, TITLE), (11, "华信证券研究所 2026年3月"), (16, "市场概览"),
     (11, "截至2025年底，中国新型储能累计装机规模达到95吉瓦，"), (11, "锂离子电池仍占新型储能装机的九成以上。"),
     (13, "装机结构"), (11, "液流电池和压缩空气储能的份额正在上升。")],
    [(16, "成本趋势"), (11, "储能系统的平均中标单价在2025年降至每瓦时0.6元。"),
     (16, "第三章 新兴技术"), (11, "钠离子电池在2025年实现规模化量产。")],
]


def sized_pdf(pages: list[list[Run]], scaled_by_matrix: bool = False) -> bytes:
    """Standard-font pages with runs at given sizes; `scaled_by_matrix` sets 1-point type enlarged by Tm, as
    word processors often do."""
    contents = []
    for runs in pages:
        ops, y = [], 800
        for size, text in runs:
            y -= int(size * 1.6)
            code = text.encode("utf-16-be").hex()
            place = f"/F1 1 Tf {size} 0 0 {size} 50 {y} Tm" if scaled_by_matrix else f"/F1 {size} Tf 50 {y} Td"
            ops.append(f"BT {place} <{code}> Tj ET")
        contents.append("\n".join(ops))
    return pdf_of_pages(contents)


def chunks_of(doc: Document) -> list[Chunk]:
    return chunk_document(doc, clean_text(doc.text), ChunkerConfig(), words)


@pytest.mark.parametrize("scaled_by_matrix", [False, True])
def test_large_lines_become_sections_and_the_first_largest_the_title(tmp_path: Path, scaled_by_matrix: bool) -> None:
    path = tmp_path / "ess_2026.pdf"
    path.write_bytes(sized_pdf(PAGES, scaled_by_matrix))
    doc = read_pdf(path)
    assert doc.title == TITLE
    by_text = {c.text: c for c in chunks_of(doc)}
    body = next(c for text, c in by_text.items() if "95吉瓦" in text)
    assert body.text.startswith("截至2025年底") and "市场概览" not in body.text
    assert body.section == f"{TITLE} > 市场概览"
    assert next(c for t, c in by_text.items() if "液流电池" in t).section == f"{TITLE} > 市场概览 > 装机结构"
    cost = next(c for t, c in by_text.items() if "0.6元" in t)
    assert cost.section == f"{TITLE} > 成本趋势" and cost.page == 2 and not cost.text.startswith("成本趋势")
    assert "钠离子电池" in next(t for t in by_text if "钠离子" in t)
    assert all("# " not in c.text for c in by_text.values())


def test_metadata_and_manifest_titles_still_win(tmp_path: Path) -> None:
    path = tmp_path / "ess.pdf"
    path.write_bytes(sized_pdf(PAGES))
    assert read_pdf(path, "清单里的标题").title == "清单里的标题"


def test_a_pdf_in_one_size_keeps_its_file_name_as_title_and_its_text(tmp_path: Path) -> None:
    path = tmp_path / "plain_report.pdf"
    path.write_bytes(standard_font_pdf([["第一章 储能市场", "截至2025年底，中国新型储能累计装机规模达到95吉瓦。"]]))
    doc = read_pdf(path)
    assert doc.title == "plain_report" and "#" not in doc.text


def test_line_sizes_follow_the_runs_or_give_up() -> None:
    runs = [("市场", 16.0), ("概览", 16.0), ("截至2025年底，", 11.0), ("规模达到95吉瓦", 11.0)]
    assert line_sizes(["市场概览", "截至2025年底，规模达到95吉瓦"], runs) == [16.0, 11.0]
    assert line_sizes(["市场概览", "别的文字"], runs) == [None, None]


def test_headings_need_a_larger_size_and_a_heading_shape() -> None:
    pages = [(["大标题", "正文第一句话写在这里，而且比较长。", "小节", "结束了。", "2026"],
              [20.0, 11.0, 14.0, 20.0, 20.0])]
    assert body_size(pages) == 11.0
    (lines,), title = mark_headings(pages)
    assert lines == ["# 大标题", "正文第一句话写在这里，而且比较长。", "## 小节", "结束了。", "2026"]
    assert title == "大标题"
    assert not could_be_heading("a\tb") and not could_be_heading("结束了。") and could_be_heading("Outlook 2026")
    assert effective_size(1.0, [20.0, 0, 0, 20.0, 0, 0], [1, 0, 0, 1, 0, 0]) == 20.0
