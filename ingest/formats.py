"""Readers for PDF, DOCX and HTML sources by file extension: each gives a Document whose text the cleaner
already understands."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from reportqa.ingest.docx_reader import heading_level, read_docx
from reportqa.ingest.html_reader import read_html
from reportqa.ingest.limits import IngestLimits
from reportqa.ingest.pdf_reader import join_pages, read_pdf, strip_running_lines

from reportqa.core.types import Document

Reader = Callable[[Path, str | None, IngestLimits], Document]

READERS: dict[str, Reader] = {
    ".pdf": read_pdf,
    ".docx": read_docx,
    ".html": read_html,
    ".htm": read_html,
}

__all__ = ["READERS", "Reader", "heading_level", "join_pages", "read_docx", "read_html", "read_pdf",
           "strip_running_lines"]
