"""Real document formats, built on the fly: PDF pages and running headers, DOCX and HTML structure, bad files."""

from __future__ import annotations

import io
import subprocess
import zipfile
from collections.abc import Sequence
from pathlib import Path
from types import SimpleNamespace
from typing import cast

import docx
import pytest
from fpdf import FPDF
from pypdf import PdfWriter
from pypdf.generic import DictionaryObject, NameObject
from reportqa.index.text import words
from reportqa.ingest.chunk import ChunkerConfig, chunk_document
from reportqa.ingest.clean import clean_text
from reportqa.ingest.formats import heading_level, join_pages, read_pdf, strip_running_lines
from reportqa.ingest.load import load_documents

from reportqa.contract import AnswerOut
from reportqa.core.settings import Settings
from reportqa.core.types import Chunk, Document
from reportqa.engine import build, open_engine

from ..conftest import SMALL_EMBED_DIM

HEADER = "华信证券研究所 储能行业深度报告"
PDF_TITLE = "储能行业深度报告2026"
Row = tuple[str, ...]
PageItems = list[str | Row]
TABLE: list[Row] = [("技术路线", "2025年", "2030年"), ("锂离子电池", "90吉瓦", "280吉瓦"),
                    ("液流电池", "3吉瓦", "15吉瓦")]
# The paragraph under 第二章 runs from the foot of page 1 to the top of page 2.
PAGES: list[PageItems] = [
    [HEADER, "第一章 储能市场", "截至2025年底，中国新型储能累计装机规模达到95吉瓦，",
     "锂离子电池仍占新型储能装机的九成以上。", "表1 储能技术路线对比", *TABLE,
     "第二章 成本趋势", "储能系统的平均中标单价在2025年降至每瓦时0.6元，带动工商业", "第 1 页"],
    [HEADER, "储能项目的投资回收期缩短到六年左右。", "第三章 新兴技术",
     "钠离子电池在2025年实现规模化量产，电芯成本比磷酸铁锂电池低约两成，",
     "预计2028年钠离子电池储能装机将达到20吉瓦。", "第 2 页"],
]


# ---------------------------------------------------------------- writing PDFs


def cjk_font() -> tuple[Path, int] | None:
    """A system font with Chinese glyphs (fonts-noto-cjk), and which face of a .ttc collection to use."""
    try:
        listing = subprocess.run(["fc-list", ":lang=zh", "file"], capture_output=True, text=True, timeout=30).stdout
    except (OSError, subprocess.SubprocessError):
        listing = ""
    files = sorted({Path(line.split(":")[0].strip()) for line in listing.splitlines() if line.strip()})
    files += sorted(Path("/usr/share/fonts").glob("**/*CJK*")) if Path("/usr/share/fonts").is_dir() else []
    usable = [f for f in files if f.suffix.lower() in {".ttf", ".otf", ".ttc"} and f.is_file()]
    usable.sort(key=lambda f: ("Sans" not in f.name, "Regular" not in f.name, f.suffix.lower() == ".ttc"))
    return (usable[0], 0) if usable else None


def fpdf_pdf(pages: Sequence[PageItems], font: Path, face: int) -> bytes:
    """A PDF with the font embedded and a ToUnicode map, the way word processors write Chinese text."""
    pdf = FPDF()
    pdf.set_auto_page_break(False)
    pdf.set_title(PDF_TITLE)
    pdf.add_font("cjk", fname=str(font), collection_font_number=face if font.suffix.lower() == ".ttc" else 0)
    pdf.set_font("cjk", size=11)
    for items in pages:
        pdf.add_page()
        for item in items:
            for cell in (item,) if isinstance(item, str) else item:
                pdf.cell(w=0 if isinstance(item, str) else 40, h=8, text=cell)
            pdf.ln(8)
    return with_identity_h(bytes(pdf.output()))


def with_identity_h(raw: bytes) -> bytes:
    """fpdf2 embeds its Identity CMap as a stream, which pypdf reads as one-byte codes; word processors name
    the predefined /Identity-H instead, so the test PDFs do too."""
    writer = PdfWriter(clone_from=io.BytesIO(raw))
    for page in writer.pages:
        resources = cast(DictionaryObject, page["/Resources"].get_object())
        for font_ref in cast(DictionaryObject, resources["/Font"].get_object()).values():
            cast(DictionaryObject, font_ref.get_object())[NameObject("/Encoding")] = NameObject("/Identity-H")
    out = io.BytesIO()
    writer.write(out)
    return out.getvalue()


STANDARD_FONT = ("<< /Type /Font /Subtype /Type0 /BaseFont /STSong-Light /Encoding /UniGB-UCS2-H /DescendantFonts "
                 "[<< /Type /Font /Subtype /CIDFontType0 /BaseFont /STSong-Light /DW 1000 /CIDSystemInfo "
                 "<< /Registry (Adobe) /Ordering (GB1) /Supplement 4 >> /FontDescriptor << /Type /FontDescriptor "
                 "/FontName /STSong-Light /Flags 6 /FontBBox [-25 -254 1000 880] /ItalicAngle 0 /Ascent 880 "
                 "/Descent -120 /CapHeight 880 /StemV 93 >> >>] >>")


def standard_font_pdf(pages: Sequence[PageItems]) -> bytes:
    """A PDF naming Adobe's standard STSong-Light (not embedded, UCS-2 codes), as many Chinese PDFs do."""
    contents = []
    for items in pages:
        ops = []
        for i, item in enumerate(items):
            for j, cell in enumerate((item,) if isinstance(item, str) else item):
                ops.append(f"BT /F1 11 Tf {50 + 130 * j} {800 - 24 * i} Td <{cell.encode('utf-16-be').hex()}> Tj ET")
        contents.append("\n".join(ops))
    return pdf_of_pages(contents)


def pdf_of_pages(contents: Sequence[str], font: str = STANDARD_FONT) -> bytes:
    """One A4 page per content stream, all with font /F1."""
    objects = ["<< /Type /Catalog /Pages 2 0 R >>", "", font]
    kids = []
    for content in contents:
        objects.append(f"<< /Length {len(content)} >>\nstream\n{content}\nendstream")
        objects.append(f"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 595 842] /Contents {len(objects)} 0 R "
                       "/Resources << /Font << /F1 3 0 R >> >> >>")
        kids.append(f"{len(objects)} 0 R")
    objects[1] = f"<< /Type /Pages /Kids [{' '.join(kids)}] /Count {len(kids)} >>"
    return serialize_pdf(objects)


def serialize_pdf(objects: Sequence[str]) -> bytes:
    body = b"%PDF-1.7\n"
    offsets = []
    for number, obj in enumerate(objects, start=1):
        offsets.append(len(body))
        body += f"{number} 0 obj\n{obj}\nendobj\n".encode("latin-1")
    xref = len(body)
    body += f"xref\n0 {len(objects) + 1}\n0000000000 65535 f \n".encode()
    body += "".join(f"{offset:010d} 00000 n \n" for offset in offsets).encode()
    body += f"trailer\n<< /Size {len(objects) + 1} /Root 1 0 R >>\nstartxref\n{xref}\n%%EOF\n".encode()
    return body


def report_pdf(pages: Sequence[PageItems] = PAGES) -> bytes:
    """With an embedded CJK font where the system has one, else with the standard font: never skipped."""
    found = cjk_font()
    return fpdf_pdf(pages, *found) if found else standard_font_pdf(pages)


def chunks_of(doc: Document) -> list[Chunk]:
    return chunk_document(doc, clean_text(doc.text), ChunkerConfig(), words)


def containing(chunks: Sequence[Chunk], text: str) -> Chunk:
    return next(c for c in chunks if text in c.text)


# ---------------------------------------------------------------- PDF


@pytest.fixture(scope="module")
def pdf_bytes() -> bytes:
    return report_pdf()


def test_pdf_pages_sections_and_running_header(pdf_bytes: bytes, tmp_path: Path) -> None:
    path = tmp_path / "storage.pdf"
    path.write_bytes(pdf_bytes)
    doc = read_pdf(path)
    assert doc.pages[0] == 0 and len(doc.pages) == 2
    assert HEADER not in doc.text and "第 1 页" not in doc.text and "第 2 页" not in doc.text
    chunks = chunks_of(doc)
    assert chunks and all(HEADER not in c.text and "华信证券" not in c.text for c in chunks)
    sodium = containing(chunks, "钠离子电池储能装机将达到20吉瓦")
    assert (sodium.page, sodium.page_end) == (2, 2)
    assert sodium.section == "第三章 新兴技术"
    first = containing(chunks, "95吉瓦")
    assert (first.page, first.section) == (1, "第一章 储能市场")
    for chunk in chunks:
        assert doc.text[chunk.start : chunk.end].replace("\n", "").startswith(chunk.text.split("\n")[0][:6])


def test_a_paragraph_across_the_page_break_keeps_both_pages(pdf_bytes: bytes, tmp_path: Path) -> None:
    path = tmp_path / "storage.pdf"
    path.write_bytes(pdf_bytes)
    chunks = chunks_of(read_pdf(path))
    crossing = containing(chunks, "带动工商业储能项目的投资回收期缩短到六年左右。")
    assert (crossing.page, crossing.page_end) == (1, 2)
    assert crossing.section == "第二章 成本趋势"


def test_a_pdf_table_stays_a_table(pdf_bytes: bytes, tmp_path: Path) -> None:
    path = tmp_path / "storage.pdf"
    path.write_bytes(pdf_bytes)
    doc = read_pdf(path)
    table = next(c for c in chunks_of(doc) if c.kind == "table")
    assert table.text.split("\n") == ["\t".join(row) for row in TABLE]
    assert table.page == 1


def test_the_metadata_title_names_the_pdf_unless_the_manifest_does(pdf_bytes: bytes, tmp_path: Path) -> None:
    path = tmp_path / "storage.pdf"
    path.write_bytes(pdf_bytes)
    if cjk_font() is not None:  # the standard-font writer records no metadata
        assert read_pdf(path).title == PDF_TITLE
    assert read_pdf(path, "清单标题").title == "清单标题"


def test_a_pdf_with_the_standard_chinese_font_reads_too(tmp_path: Path) -> None:
    path = tmp_path / "standard.pdf"
    path.write_bytes(standard_font_pdf(PAGES))
    chunks = chunks_of(read_pdf(path))
    assert containing(chunks, "钠离子电池储能装机").page == 2
    assert containing(chunks, "投资回收期").page_end == 2
    assert all(HEADER not in c.text for c in chunks)
    assert [c.text.split("\n") for c in chunks if c.kind == "table"] == [["\t".join(row) for row in TABLE]]


def test_running_lines_go_whatever_the_page_number_looks_like() -> None:
    bodies = ["营收增长12%。", "营收增长30%。", "营收增长7%。"]
    pages = [f"华信证券 行业报告\n{body}\n- {n} -" for n, body in enumerate(bodies, start=1)]
    assert strip_running_lines(pages) == bodies  # masked alike, but the growth figures don't track the page
    covered = [f"华信证券 行业报告\n{body}\n{n}" for n, body in enumerate(bodies, start=5)]  # an excerpt
    assert strip_running_lines(covered) == bodies
    assert strip_running_lines(["第 1 页\n甲。", "第 2 页\n乙。"]) == ["甲。", "乙。"]
    assert strip_running_lines(["标题\n正文。\n1"]) == ["标题\n正文。\n1"]  # one page: nothing repeats
    once = ["第一章 概述\n正文。\n3", "另一段。\n4", "再一段。\n5"]
    assert strip_running_lines(once) == ["第一章 概述\n正文。", "另一段。", "再一段。"]
    assert join_pages(["甲乙", "", "丙"]) == ("甲乙\n\n丙", (0, 3, 4))


@pytest.fixture(scope="module")
def report_folder(pdf_bytes: bytes, tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("formats")
    (folder / "storage.pdf").write_bytes(pdf_bytes)
    write_docx(folder / "chips.docx")
    (folder / "quantum.html").write_bytes(HTML.encode("gbk"))
    return folder


def test_a_question_answered_from_page_2_cites_page_2(report_folder: Path, tmp_path: Path) -> None:
    settings = Settings(index_dir=tmp_path / "index", corpus=[report_folder], embed_dim=SMALL_EMBED_DIM)
    report = build(settings)
    assert report.documents == 3 and report.skipped == ()
    answer = AnswerOut.of(open_engine(settings).ask("2028年钠离子电池储能装机预计达到多少？")).model_dump()
    assert answer["abstained"] is False and "20吉瓦" in answer["answer"]
    source = answer["citations"][answer["source"] - 1]
    assert (source["doc"], source["page"]) == ("storage.pdf", 2)


# ---------------------------------------------------------------- DOCX

DOCX_TABLE: list[Row] = [("主要客户", "采购占比", "合作年限"), ("比亚迪", "22%", "6年"), ("蔚来汽车", "9%", "4年")]


def write_docx(path: Path) -> None:
    document = docx.Document()
    document.core_properties.title = "星河半导体年度研究"
    document.add_heading("第一章 公司概况", level=1)
    document.add_paragraph("星河半导体在2025年实现营业收入128亿元，同比增长36%。")
    document.add_heading("1.1 客户结构", level=2)
    document.add_paragraph("1.\t车规级产品收入占比达到58%，毛利率提升至41.5%。")
    table = document.add_table(rows=len(DOCX_TABLE), cols=3)
    for row, values in zip(table.rows, DOCX_TABLE, strict=True):
        for cell, value in zip(row.cells, values, strict=True):
            cell.text = value
    document.add_heading("第二章 技术路线", level=1)
    document.add_paragraph("公司推进8英寸碳化硅产线建设，预计2027年实现满产。")
    document.save(str(path))


def test_docx_headings_become_sections_and_tables_stay_tables(tmp_path: Path) -> None:
    write_docx(tmp_path / "chips.docx")
    (documents, skipped) = load_documents([tmp_path])
    assert skipped == [] and len(documents) == 1
    doc = documents[0]
    assert doc.title == "星河半导体年度研究" and doc.pages == ()
    chunks = chunks_of(doc)
    assert containing(chunks, "营业收入128亿元").section == "第一章 公司概况"
    assert containing(chunks, "毛利率提升至41.5%").section == "第一章 公司概况 > 1.1 客户结构"
    assert containing(chunks, "碳化硅产线").section == "第二章 技术路线"
    table = next(c for c in chunks if c.kind == "table")
    assert table.text.split("\n") == ["\t".join(row) for row in DOCX_TABLE]
    assert table.section.startswith("第一章 公司概况 > 1.1 客户结构")
    assert all(c.kind == "prose" for c in chunks if "毛利率" in c.text)  # the tab after "1." is no table


def test_docx_heading_styles_by_name_and_by_base_style() -> None:
    heading = SimpleNamespace(name="Heading 2", base_style=None)
    assert heading_level(heading) == 2
    assert heading_level(SimpleNamespace(name="标题 3", base_style=None)) == 3
    assert heading_level(SimpleNamespace(name="报告小标题", base_style=heading)) == 2
    assert heading_level(SimpleNamespace(name="Title", base_style=None)) == 1
    assert heading_level(SimpleNamespace(name="Normal", base_style=None)) is None


# ---------------------------------------------------------------- HTML

HTML = """<!DOCTYPE html>
<html><head><meta charset="gbk"><title>量子计算产业发展报告</title>
<style>body { font-family: sans-serif; }</style>
<script>var tracker = "脚本内容不应出现";</script></head>
<body><nav><a href="/">导航首页</a></nav>
<h1>第一章 量子计算概述</h1>
<p>超导量子比特、离子阱和光量子是三条主要技术路线，
其中超导路线的量子比特数量在2025年已经超过1000个。</p>
<h2>1.2 市场规模</h2>
<p>全球量子计算市场规模在2025年约为15亿美元，<br>预计2030年增长到80亿美元。</p>
<table><caption>表2 市场规模预测</caption>
<tr><th>年份</th><th>市场规模</th><th>增速</th></tr>
<tr><td>2025年</td><td>15亿美元</td><td>30%</td></tr>
<tr><td>2030年</td><td>80亿美元</td><td>40%</td></tr></table>
<footer>版权所有 页脚文字</footer></body></html>
"""


def test_html_sections_tables_and_no_script(tmp_path: Path) -> None:
    (tmp_path / "quantum.html").write_bytes(HTML.encode("gbk"))
    (documents, skipped) = load_documents([tmp_path])
    assert skipped == []
    doc = documents[0]
    assert doc.title == "量子计算产业发展报告"
    for hidden in ("脚本内容", "tracker", "font-family", "导航首页", "页脚文字"):
        assert hidden not in doc.text
    chunks = chunks_of(doc)
    assert containing(chunks, "超导路线的量子比特数量").section == "第一章 量子计算概述"
    assert "技术路线，其中超导" in containing(chunks, "超导路线").text  # the source's line break inside <p> goes
    assert containing(chunks, "15亿美元，预计").section == "第一章 量子计算概述 > 1.2 市场规模"
    table = next(c for c in chunks if c.kind == "table")
    assert table.text.split("\n") == ["年份\t市场规模\t增速", "2025年\t15亿美元\t30%", "2030年\t80亿美元\t40%"]
    assert table.section.endswith("表2 市场规模预测")


# ---------------------------------------------------------------- bad files, encodings


def encrypted(pdf: bytes, user_password: str) -> bytes:
    writer = PdfWriter(clone_from=io.BytesIO(pdf))
    writer.encrypt(user_password, owner_password="owner-secret", algorithm="AES-256")
    out = io.BytesIO()
    writer.write(out)
    return out.getvalue()


def blank_pdf() -> bytes:
    writer = PdfWriter()
    writer.add_blank_page(595, 842)
    out = io.BytesIO()
    writer.write(out)
    return out.getvalue()


def not_a_docx() -> bytes:
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as archive:
        archive.writestr("content.xml", "<office:document/>")
    return out.getvalue()


def test_bad_files_are_skipped_with_their_reason_and_good_ones_still_load(pdf_bytes: bytes, tmp_path: Path) -> None:
    bad = {
        "junk.pdf": (b"\x89PNG\r\n\x1a\n" + bytes(range(256)) * 8, "not a PDF (content does not match"),
        "zero.pdf": (b"", "empty file"),
        "locked.pdf": (encrypted(pdf_bytes, "user-secret"), "password-protected PDF"),
        "scan.pdf": (blank_pdf(), "scanned PDF: no text layer (OCR it first)"),
        "cut.pdf": (b"%PDF-1.7\n1 0 obj\n<< /Type /Catalog >>\nendobj\n", "PDF"),
        "fake.docx": (b"PK\x03\x04 not really a zip", "not a DOCX (content does not match"),
        "odt.docx": (not_a_docx(), "not a DOCX"),
        "old.doc": (b"\xd0\xcf\x11\xe0", "unsupported type .doc (save it as .docx)"),
        "empty.html": (b"<html><script>x()</script></html>", "no visible text"),
    }
    for name, (data, _) in bad.items():
        (tmp_path / name).write_bytes(data)
    (tmp_path / "good.pdf").write_bytes(pdf_bytes)
    (tmp_path / "owner_only.pdf").write_bytes(encrypted(pdf_bytes, ""))  # opens without a password: readable
    documents, skipped = load_documents([tmp_path])
    assert sorted(d.doc for d in documents) == ["good.pdf", "owner_only.pdf"]
    assert "钠离子电池" in next(d for d in documents if d.doc == "owner_only.pdf").text
    reasons = {Path(s.path).name: s.reason for s in skipped}
    assert set(reasons) == set(bad)
    for name, (_, reason) in bad.items():
        assert reason in reasons[name], (name, reasons[name])


ENCODED = {
    "gbk.txt": ("第一章 储能\n朱镕基时期的碳化硅产业政策。\n", "gbk"),  # 镕 is GBK, not GB2312
    "four_byte.txt": ("第一章 罕用字\n𠀀字与€符号只在GB18030中有四字节编码。\n", "gb18030"),
    "utf16.md": ("# 量子计算\n超导量子比特数量超过1000个。\n", "utf-16"),
    "utf16.html": ("<h1>储能报告</h1><p>新型储能装机达到95吉瓦。</p>", "utf-16"),
    "gb2312.html": ('<meta http-equiv="Content-Type" content="text/html; charset=gb2312">'
                    "<p>朱镕基时期的碳化硅产业政策。</p>", "gbk"),
}


@pytest.mark.parametrize("name", sorted(ENCODED))
def test_chinese_encodings_read_correctly(name: str, tmp_path: Path) -> None:
    text, encoding = ENCODED[name]
    (tmp_path / name).write_bytes(text.encode(encoding))
    documents, skipped = load_documents([tmp_path / name])
    assert skipped == []
    loaded = documents[0].text
    if name.endswith(".html"):
        assert loaded.split("\n")[-1] in text and "<" not in loaded
    else:
        assert loaded == text
