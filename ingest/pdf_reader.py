"""PDF sources: the text layer page by page, running headers and footers dropped, layout tables tabulated."""

from __future__ import annotations

import io
import math
import re
from collections import Counter
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Any

from pypdf import PageObject, PasswordType, PdfReader
from pypdf.errors import DependencyError
from pypdf.generic import ArrayObject, StreamObject
from reportqa.ingest.decoding import SourceError
from reportqa.ingest.limits import UNLIMITED, IngestLimits
from reportqa.ingest.pdf_headings import Fragment, effective_size, line_sizes, mark_headings
from reportqa.ingest.sources import CONTROL_CHARS, read_nonempty, reason, usable_title

from reportqa.core.types import Document

PDF_MAGIC = b"%PDF-"
PDF_HEADER_WINDOW = 1024  # viewers accept a few bytes of junk before the header
MIN_PAGE_CHARS = 20  # a page with fewer non-space characters carries no real text layer
EDGE_LINES = 3  # running headers/footers are looked for among a page's first and last lines
EDGE_MAX_CHARS = 80
CELL_GAP = re.compile(r" {3,}")  # columns apart in pypdf's layout rendering
MAX_CELL_CHARS = 24


def read_pdf(path: Path, title: str | None = None, limits: IngestLimits = UNLIMITED) -> Document:
    """The text layer page by page; running headers/footers removed; `pages` holds every page's start."""
    data = read_nonempty(path)
    if PDF_MAGIC not in data[:PDF_HEADER_WINDOW]:
        raise SourceError("not a PDF (content does not match the extension)")
    reader = _open_pdf(data)
    check_cost(reader, limits)
    pages = [_page_text(page, number) for number, page in enumerate(reader.pages, start=1)]
    texts = [text for text, _ in pages]
    if is_scanned(texts):
        with_text = text_pages(texts)
        layer = f"only {with_text} of {len(texts)} pages have a text layer" if with_text else "no text layer"
        raise SourceError(f"scanned PDF: {layer} (OCR it first)")
    split = [text.split("\n") for text in texts]
    marked, first_heading = mark_headings([(lines, line_sizes(lines, runs))
                                           for lines, (_, runs) in zip(split, pages, strict=True)])
    text, starts = join_pages(strip_running_lines(["\n".join(lines) for lines in marked]))
    own_title = _pdf_title(reader) or first_heading
    return Document(doc=path.name, title=title or own_title or path.stem, text=text, pages=starts)


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
        raise SourceError(f"encrypted PDF that pypdf cannot open here ({reason(exc)})") from exc
    except Exception as exc:  # pypdf raises many types on damaged files; each is just "unreadable" here
        raise SourceError(f"broken PDF: {reason(exc)}") from exc
    return reader


def _streams(value: Any) -> list[Any]:
    """The stream objects a /Contents entry names: one stream, or an array of them."""
    value = value.get_object() if value is not None else None
    if isinstance(value, ArrayObject):
        return [item.get_object() for item in value]
    return [value] if isinstance(value, StreamObject) else []


def _drawn(page: PageObject) -> list[Any]:
    """What text extraction parses for a page: its content streams and the form XObjects its resources hold."""
    streams = _streams(page.get("/Contents"))
    resources = page.get("/Resources")
    xobjects = resources.get_object().get("/XObject") if resources is not None else None
    for ref in (xobjects.get_object().values() if xobjects is not None else ()):
        form = ref.get_object()
        if isinstance(form, StreamObject) and form.get("/Subtype") == "/Form":
            streams.append(form)
    return streams


def check_cost(reader: PdfReader, limits: IngestLimits) -> None:
    """Refuse a PDF whose text would cost too much to extract: too many pages, or page content (each stream's
    decoded size, counted once for every page that draws it) over the limit. Pages that share one huge content
    stream are the known bomb: 31 KB of file, minutes of extraction per page."""
    pages = len(reader.pages)
    if limits.max_pdf_pages is not None and pages > limits.max_pdf_pages:
        raise SourceError(f"the PDF has {pages} pages; the limit is {limits.max_pdf_pages} (REPORTQA_MAX_PDF_PAGES)")
    limit = limits.max_pdf_content_bytes
    if limit is None:
        return
    sizes: dict[object, int] = {}  # decoded size of each stream, decoded once however many pages share it
    total = 0
    try:
        for page in reader.pages:
            for stream in _drawn(page):
                ref = stream.indirect_reference
                key = (ref.idnum, ref.generation) if ref is not None else id(stream)
                if key not in sizes:
                    sizes[key] = len(stream.get_data())  # pypdf stops decoding one stream at 75 MB
                total += sizes[key]
                if total > limit:
                    raise SourceError(f"the PDF's pages draw more than {limit:,} bytes of content, too much to "
                                      "extract (REPORTQA_MAX_PDF_CONTENT_BYTES)")
    except SourceError:
        raise
    except Exception as exc:  # pypdf raises many types on damaged or over-limit streams
        raise SourceError(f"broken PDF: {reason(exc)}") from exc


def _page_text(page: PageObject, number: int) -> tuple[str, list[Fragment]]:
    """The page's text, and its runs with the size each was drawn at (for headings)."""
    runs: list[Fragment] = []

    def visit(text: str, ctm: Sequence[float], matrix: Sequence[float], _font: object, size: float) -> None:
        if text.strip():
            runs.append((CONTROL_CHARS.sub("", text), effective_size(size, matrix, ctm)))

    try:
        raw = page.extract_text(visitor_text=visit) or ""
    except Exception as exc:  # a damaged content stream: say which page, rather than index a gap
        raise SourceError(f"broken PDF: page {number}: {reason(exc)}") from exc
    lines = [line.strip() for line in CONTROL_CHARS.sub("", raw.replace("\r\n", "\n").replace("\r", "\n")).split("\n")]
    return _tabulate(page, "\n".join(lines).strip("\n")), runs


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
