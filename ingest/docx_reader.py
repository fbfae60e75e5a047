"""DOCX sources: paragraphs in order, heading styles as Markdown headings, tables as tab-separated rows."""

from __future__ import annotations

import io
import re
import zipfile
from pathlib import Path
from typing import Any

import docx
from docx.table import Table as DocxTable
from reportqa.ingest.decoding import SourceError
from reportqa.ingest.limits import UNLIMITED, IngestLimits
from reportqa.ingest.sources import heading_line, one_line, read_nonempty, reason, usable_title

from reportqa.core.types import Document

_HEADING_STYLE = re.compile(r"^(?:heading|标题)\s*([1-6])$", re.IGNORECASE)


def is_docx(data: bytes) -> bool:
    if not data.startswith(b"PK\x03\x04"):
        return False
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            return "word/document.xml" in archive.namelist()
    except (zipfile.BadZipFile, ValueError):
        return False


def check_expanded_size(data: bytes, limit: int | None) -> None:
    """Refuse an archive that unpacks to more than `limit` bytes, read from its directory before unpacking
    anything (zipfile stops at each member's declared size and checks its CRC, so the declared sizes hold)."""
    if limit is None:
        return
    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        expanded = sum(info.file_size for info in archive.infolist())
    if expanded > limit:
        raise SourceError(f"the DOCX unpacks to {expanded:,} bytes; the limit is {limit:,} "
                          "(REPORTQA_MAX_EXPANDED_BYTES)")


def read_docx(path: Path, title: str | None = None, limits: IngestLimits = UNLIMITED) -> Document:
    """Body paragraphs and tables in order: headings as Markdown '#' lines, table rows tab-separated."""
    data = read_nonempty(path)
    if not is_docx(data):
        raise SourceError("not a DOCX (content does not match the extension)")
    check_expanded_size(data, limits.max_expanded_bytes)
    try:
        document = docx.Document(io.BytesIO(data))
        lines, first_heading = docx_lines(document)
        own_title = usable_title(document.core_properties.title)
    except Exception as exc:  # python-docx/lxml failures on a damaged package
        raise SourceError(f"broken DOCX: {reason(exc)}") from exc
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
            text = one_line(block.text)
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
            cells.append(one_line(cell.text))
        if any(cells):
            rows.append("\t".join(cells))
    return rows
