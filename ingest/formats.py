"""Readers for PDF, DOCX and HTML sources: each gives a Document whose text the cleaner already understands."""

from __future__ import annotations

import io
import math
import re
import zipfile
from collections import Counter
from collections.abc import Callable, Iterable, Sequence
from html.parser import HTMLParser
from pathlib import Path
from typing import Any

import docx
from docx.table import Table as DocxTable
from pypdf import PageObject, PasswordType, PdfReader
from pypdf.errors import DependencyError

from ingest.lines import heading_kind
from ingest.load import SourceError, decode
from reportqa.types import Document

Reader = Callable[[Path, str | None], Document]

PDF_MAGIC = b"%PDF-"
PDF_HEADER_WINDOW = 1024  # viewers accept a few bytes of junk before the header
MIN_PAGE_CHARS = 20  # a page with fewer non-space characters carries no real text layer
EDGE_LINES = 3  # running headers/footers are looked for among a page's first and last lines
EDGE_MAX_CHARS = 80
CELL_GAP = re.compile(r" {3,}")  # columns apart in pypdf's layout rendering
MAX_CELL_CHARS = 24
_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f]")
_FILE_NAME_TITLE = re.compile(r"(?:^microsoft (?:word|powerpoint) - )|\.(?:docx?|pdf|pptx?|wps|html?)$", re.I)
_CJK = "\u3000-\u303f\u3400-\u9fff\uf900-\ufaff\uff00-\uffef"
_CJK_WRAP = re.compile(rf"(?<=[{_CJK}])[ \t\r\f]*\n\s*(?=[{_CJK}])")


def _reason(exc: BaseException) -> str:
    message = str(exc).strip()
    text = f"{type(exc).__name__}: {message}" if message else type(exc).__name__
    return text[:200]


def _read_nonempty(path: Path) -> bytes:
    data = path.read_bytes()
    if not data.strip():
        raise SourceError("empty file")
    return data


def usable_title(raw: object) -> str | None:
    """A metadata title worth showing: not blank and not just the name of the file it was saved from."""
    if not isinstance(raw, str):
        return None
    title = " ".join(raw.split())
    return title if title and not _FILE_NAME_TITLE.search(title) and title.lower() != "untitled" else None


def _one_line(text: str) -> str:
    return " ".join(_CJK_WRAP.sub("", text).split())


# ---------------------------------------------------------------- PDF


def read_pdf(path: Path, title: str | None = None) -> Document:
    """The text layer page by page; running headers/footers removed; `pages` holds every page's start."""
    data = _read_nonempty(path)
    if PDF_MAGIC not in data[:PDF_HEADER_WINDOW]:
        raise SourceError("not a PDF (content does not match the extension)")
    reader = _open_pdf(data)
    texts = [_page_text(page, number) for number, page in enumerate(reader.pages, start=1)]
    if is_scanned(texts):
        with_text = text_pages(texts)
        layer = f"only {with_text} of {len(texts)} pages have a text layer" if with_text else "no text layer"
        raise SourceError(f"scanned PDF: {layer} (OCR it first)")
    text, starts = join_pages(strip_running_lines(texts))
    return Document(doc=path.name, title=title or _pdf_title(reader) or path.stem, text=text, pages=starts)


def _open_pdf(data: bytes) -> PdfReader:
    """A PdfReader past its encryption; any parser failure becomes a SourceError naming it."""
    try:
        reader = PdfReader(io.BytesIO(data))
        if reader.is_encrypted and reader.decrypt("") == PasswordType.NOT_DECRYPTED:
            raise SourceError("password-protected PDF")
        if len(reader.pages) == 0:
            raise SourceError("broken PDF: no pages")
    except SourceError:
        raise
    except DependencyError as exc:
        raise SourceError(f"encrypted PDF that pypdf cannot open here ({_reason(exc)})") from exc
    except Exception as exc:  # pypdf raises many types on damaged files; each is just "unreadable" here
        raise SourceError(f"broken PDF: {_reason(exc)}") from exc
    return reader


def _page_text(page: PageObject, number: int) -> str:
    try:
        raw = page.extract_text() or ""
    except Exception as exc:  # a damaged content stream: say which page, rather than index a gap
        raise SourceError(f"broken PDF: page {number}: {_reason(exc)}") from exc
    lines = [line.strip() for line in _CONTROL.sub("", raw.replace("\r\n", "\n").replace("\r", "\n")).split("\n")]
    return _tabulate(page, "\n".join(lines).strip("\n"))


def _squeeze(line: str) -> str:
    return "".join(line.split())


def _tabulate(page: PageObject, text: str) -> str:
    """Rows that the layout rendering shows as columns apart become tab-separated, so tables stay tables."""
    lines = text.split("\n")
    if not any(" " in line for line in lines):
        return text
    try:
        layout = page.extract_text(extraction_mode="layout")
    except Exception:  # the table pass only refines rows; the plain text still stands without it
        return text
    rows: dict[str, str] = {}
    for raw in layout.split("\n"):
        cells = [cell for cell in CELL_GAP.split(raw.strip()) if cell]
        if len(cells) >= 2 and all(len(cell) <= MAX_CELL_CHARS for cell in cells):
            rows[_squeeze(raw)] = "\t".join(cells)
    return "\n".join(rows.get(_squeeze(line), line) if " " in line else line for line in lines)


def text_pages(texts: Sequence[str]) -> int:
    return sum(1 for text in texts if len(_squeeze(text)) >= MIN_PAGE_CHARS)


def is_scanned(texts: Sequence[str]) -> bool:
    """Fewer than a quarter of the pages carry text: they are images, nothing to index without OCR."""
    return text_pages(texts) < max(1, len(texts) // 4)


def _edge_marks(line: str, page: int) -> set[str]:
    """Exact text, plus masked text with each number's distance from the page index: page numbers match."""
    # "第 3 页" on page 3 and "第 4 页" on page 4 share a mark, as do "- 2 -" and "- 3 -" on the pages after;
    # "增长 12%" and "增长 30%" on consecutive pages share none.
    text = " ".join(line.split())
    masked = re.sub(r"\d+", "#", text)
    return {f"={text}"} | {f"{masked}@{int(n) - page}" for n in re.findall(r"\d{1,6}", text)[:3]}


def _edge_lines(lines: Sequence[str]) -> tuple[list[str], list[str]]:
    content = [line for line in lines if line and "\t" not in line and len(line) <= EDGE_MAX_CHARS]
    return content[:EDGE_LINES], content[-EDGE_LINES:]


def running_marks(pages: Sequence[Sequence[str]]) -> tuple[frozenset[str], frozenset[str]]:
    """Marks of lines opening (closing) at least half the pages, and at least two: headers and footers."""
    heads: Counter[str] = Counter()
    feet: Counter[str] = Counter()
    for page, lines in enumerate(pages):
        top, bottom = _edge_lines(lines)
        heads.update(set().union(*(_edge_marks(line, page) for line in top)))
        feet.update(set().union(*(_edge_marks(line, page) for line in bottom)))
    need = max(2, math.ceil(len(pages) / 2))
    return (frozenset(k for k, n in heads.items() if n >= need), frozenset(k for k, n in feet.items() if n >= need))


def _trim(lines: list[str], page: int, marks: frozenset[str], indices: Iterable[int]) -> None:
    removed = 0
    for i in indices:
        if removed == EDGE_LINES or "\t" in lines[i] or (lines[i] and not _edge_marks(lines[i], page) & marks):
            return
        if lines[i]:
            lines[i] = ""
            removed += 1


def strip_running_lines(texts: Sequence[str]) -> list[str]:
    """Each page without the running header and footer lines it shares with the other pages."""
    pages = [text.split("\n") for text in texts]
    heads, feet = running_marks(pages)
    result: list[str] = []
    for page, lines in enumerate(pages):
        _trim(lines, page, heads, range(len(lines)))
        _trim(lines, page, feet, range(len(lines) - 1, -1, -1))
        result.append("\n".join(line for line in lines if line))
    return result


def join_pages(texts: Sequence[str]) -> tuple[str, tuple[int, ...]]:
    """Pages joined by one newline; the start offset of every page, page 1 at 0 (what `_page_of` bisects)."""
    starts: list[int] = []
    offset = 0
    for text in texts:
        starts.append(offset)
        offset += len(text) + 1
    return "\n".join(texts), tuple(starts)


def _pdf_title(reader: PdfReader) -> str | None:
    try:
        return usable_title(reader.metadata.title if reader.metadata else None)
    except Exception:  # a damaged info dictionary costs only the title
        return None


# ---------------------------------------------------------------- DOCX

_HEADING_STYLE = re.compile(r"^(?:heading|标题)\s*([1-6])$", re.IGNORECASE)


def is_docx(data: bytes) -> bool:
    if not data.startswith(b"PK\x03\x04"):
        return False
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            return "word/document.xml" in archive.namelist()
    except (zipfile.BadZipFile, ValueError):
        return False


def read_docx(path: Path, title: str | None = None) -> Document:
    """Body paragraphs and tables in order: headings as Markdown '#' lines, table rows tab-separated."""
    data = _read_nonempty(path)
    if not is_docx(data):
        raise SourceError("not a DOCX (content does not match the extension)")
    try:
        document = docx.Document(io.BytesIO(data))
        lines, first_heading = docx_lines(document)
        own_title = usable_title(document.core_properties.title)
    except Exception as exc:  # python-docx/lxml failures on a damaged package
        raise SourceError(f"broken DOCX: {_reason(exc)}") from exc
    text = "\n".join(lines)
    if not text.strip():
        raise SourceError("no text in the DOCX body")
    return Document(doc=path.name, title=title or own_title or first_heading or path.stem, text=text)


def heading_level(style: Any) -> int | None:
    """1-6 for Title/Heading N/标题 N styles, or styles based on them; None for body text."""
    for _ in range(4):
        if style is None:
            return None
        name = " ".join(str(style.name or "").split())
        if name.lower() == "title" or name == "标题":
            return 1
        match = _HEADING_STYLE.match(name)
        if match:
            return int(match.group(1))
        style = style.base_style
    return None


def heading_line(level: int, text: str) -> str:
    """A Markdown heading line when the cleaner will read it as one; plain text otherwise."""
    line = f"{'#' * level} {text}"
    return line if heading_kind(line) else text


def docx_lines(document: Any) -> tuple[list[str], str | None]:
    """Lines of the body and the first heading's text."""
    lines: list[str] = []
    first_heading: str | None = None
    for block in document.iter_inner_content():
        if isinstance(block, DocxTable):
            lines.extend(docx_table_rows(block))
            continue
        level = heading_level(block.style)
        if level:
            text = _one_line(block.text)
            if text:
                first_heading = first_heading or text
                lines.append(heading_line(level, text))
            continue
        # a tab inside prose (after a list number, say) must not turn the line into a table row
        lines.extend(line for line in (" ".join(x.split()) for x in block.text.split("\n")) if line)
    return lines, first_heading


def docx_table_rows(table: Any) -> list[str]:
    """One tab-separated line per row; a cell merged across columns counts once."""
    rows: list[str] = []
    for row in table.rows:
        cells: list[str] = []
        previous = None
        for cell in row.cells:
            if cell._tc is previous:  # python-docx repeats a merged cell; its XML element is its identity
                continue
            previous = cell._tc
            cells.append(_one_line(cell.text))
        if any(cells):
            rows.append("\t".join(cells))
    return rows


# ---------------------------------------------------------------- HTML

_SKIP_TAGS = frozenset({"script", "style", "nav", "footer", "noscript", "template", "svg", "iframe"})
_BLOCK_TAGS = frozenset({
    "address", "article", "aside", "blockquote", "body", "br", "caption", "dd", "div", "dl", "dt", "figcaption",
    "figure", "form", "header", "hr", "li", "main", "ol", "p", "pre", "section", "ul",
})
_HEADINGS = {f"h{n}": n for n in range(1, 7)}
_ROW_TAGS = frozenset({"tr", "td", "th"})
_META_CHARSET = re.compile(rb"""<meta[^>]*charset\s*=\s*["']?\s*([A-Za-z0-9_.:-]+)""", re.IGNORECASE)
_GB_CHARSETS = frozenset({"gb2312", "gbk", "gb_2312-80", "x-gbk", "cp936", "gb18030", "euc-cn"})


def decode_html(data: bytes) -> str:
    """The charset a meta tag declares (GB names read as their superset GB18030), else `decode`'s guess."""
    match = None if data.startswith((b"\xef\xbb\xbf", b"\xff\xfe", b"\xfe\xff")) else _META_CHARSET.search(data[:4096])
    if match:
        name = match.group(1).decode("ascii").lower()
        try:
            return data.decode("gb18030" if name in _GB_CHARSETS else name)
        except (LookupError, UnicodeDecodeError):
            pass
    return decode(data)


class _HtmlText(HTMLParser):
    """Visible text as lines: headings '#'-prefixed, table rows tab-separated, chrome and scripts dropped."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.lines: list[str] = []
        self.title = ""
        self.first_heading: str | None = None
        self._buffer: list[str] = []
        self._skip = 0
        self._heading = 0
        self._in_title = False
        self._pre = 0
        self._tables = 0
        self._row: list[str] | None = None
        self._cell: list[str] | None = None
        self._span = 1

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in _SKIP_TAGS:
            self._skip += 1
        elif self._skip:
            return
        elif tag == "title":
            self._in_title = True
        elif tag == "table":
            self._table_start()
        elif self._tables == 1 and tag in _ROW_TAGS:
            self._row_start(tag, attrs)
        elif self._cell is not None:
            self._cell.append(" ")  # any other block inside a cell (a nested table too): a space
        elif tag in _HEADINGS:
            self._end_line()
            self._heading = _HEADINGS[tag]
        elif tag in _BLOCK_TAGS:
            self._end_line()
            self._pre += tag == "pre"

    def handle_endtag(self, tag: str) -> None:
        if tag in _SKIP_TAGS:
            self._skip = max(0, self._skip - 1)
        elif self._skip:
            return
        elif tag == "title":
            self._in_title = False
        elif tag == "table":
            self._table_end()
        elif self._tables == 1 and tag == "tr":
            self._end_row()
        elif self._tables == 1 and tag in _ROW_TAGS:
            self._end_cell()
        elif self._cell is not None:
            self._cell.append(" ")
        elif tag in _HEADINGS or tag in _BLOCK_TAGS:
            self._end_line()
            self._heading = 0 if tag in _HEADINGS else self._heading
            self._pre = max(0, self._pre - (tag == "pre"))

    def handle_data(self, data: str) -> None:
        if self._skip:
            return
        if self._in_title:
            self.title += data
        elif self._cell is not None:
            self._cell.append(data)
        elif self._pre:
            first, *rest = data.split("\n")
            self._buffer.append(first)
            for part in rest:
                self._end_line()
                self._buffer.append(part)
        else:
            self._buffer.append(data)

    def close(self) -> None:
        super().close()
        self._end_row()
        self._end_line()

    def _table_start(self) -> None:
        if self._tables == 0:
            self._end_line()
        elif self._cell is not None:
            self._cell.append(" ")
        self._tables += 1

    def _table_end(self) -> None:
        if self._tables == 1:
            self._end_row()
        elif self._cell is not None:
            self._cell.append(" ")
        self._tables = max(0, self._tables - 1)

    def _row_start(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag == "tr":
            self._end_row()
            self._row = []
            return
        self._end_cell()
        self._cell = []
        span = dict(attrs).get("colspan") or "1"
        self._span = min(int(span), 50) if span.isdigit() and int(span) > 0 else 1

    def _end_cell(self) -> None:
        if self._cell is None:
            return
        if self._row is None:
            self._row = []
        self._row.extend([_one_line("".join(self._cell))] + [""] * (self._span - 1))
        self._cell, self._span = None, 1

    def _end_row(self) -> None:
        self._end_cell()
        if self._row and any(self._row):
            self._end_line()  # a caption or loose text before the row keeps its place
            self.lines.append("\t".join(self._row))
        self._row = None

    def _end_line(self) -> None:
        text = _one_line("".join(self._buffer))
        self._buffer.clear()
        if not text:
            return
        if self._heading:
            self.first_heading = self.first_heading or text
            self.lines.append(heading_line(self._heading, text))
        else:
            self.lines.append(text)


def read_html(path: Path, title: str | None = None) -> Document:
    """Visible text of a saved web page in reading order, headings and tables kept for the cleaner."""
    parser = _HtmlText()
    parser.feed(decode_html(_read_nonempty(path)).replace("\r\n", "\n"))
    parser.close()
    text = "\n".join(parser.lines)
    if not text.strip():
        raise SourceError("no visible text in the HTML")
    own_title = usable_title(parser.title)
    return Document(doc=path.name, title=title or own_title or parser.first_heading or path.stem, text=text)


READERS: dict[str, Reader] = {
    ".pdf": read_pdf,
    ".docx": read_docx,
    ".html": read_html,
    ".htm": read_html,
}
