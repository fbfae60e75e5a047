"""What the PDF, DOCX and HTML readers share: reading a non-empty file, titles, one-line text, headings."""

from __future__ import annotations

import re
from pathlib import Path

from reportqa.ingest.decoding import SourceError
from reportqa.ingest.lines import heading_kind

CONTROL_CHARS = re.compile(r"[\x00-\x08\x0b-\x1f\x7f]")
_FILE_NAME_TITLE = re.compile(r"(?:^microsoft (?:word|powerpoint) - )|\.(?:docx?|pdf|pptx?|wps|html?)$", re.I)
_CJK = "\u3000-\u303f\u3400-\u9fff\uf900-\ufaff\uff00-\uffef"
_CJK_WRAP = re.compile(rf"(?<=[{_CJK}])[ \t\r\f]*\n\s*(?=[{_CJK}])")


def reason(exc: BaseException) -> str:
    message = str(exc).strip()
    text = f"{type(exc).__name__}: {message}" if message else type(exc).__name__
    return text[:200]


def read_nonempty(path: Path) -> bytes:
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


def one_line(text: str) -> str:
    return " ".join(_CJK_WRAP.sub("", text).split())


def heading_line(level: int, text: str) -> str:
    """A Markdown heading line when the cleaner will read it as one; plain text otherwise."""
    line = f"{'#' * level} {text}"
    return line if heading_kind(line) else text
