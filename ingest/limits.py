"""What reading one source may cost; the values come from Settings (uploads) or are unlimited (the corpus)."""

from __future__ import annotations

import re
from dataclasses import dataclass

from reportqa.ingest.decoding import SourceError

_SAFE_NAME = re.compile(r"^[\w\-.()（）\u3400-\u9fff ]{1,200}$")


@dataclass(frozen=True, slots=True)
class IngestLimits:
    """None means no limit."""

    max_expanded_bytes: int | None = None  # a DOCX (a ZIP archive) unpacked
    max_pdf_pages: int | None = None
    max_pdf_content_bytes: int | None = None  # page content streams summed over the pages that draw them


UNLIMITED = IngestLimits()


def checked_doc_name(name: str) -> str:
    """A document name is a plain file name (no folders, not hidden, at most 200 characters), whether it came
    from an upload or from the id of a JSONL row: names are what citations and DELETE /documents/{doc} use."""
    if not _SAFE_NAME.match(name) or name.startswith(".") or name.strip() != name:
        raise SourceError(f"{name[:80]!r} is not a usable document name: use a plain file name such as report.pdf "
                          "(letters, digits, CJK, spaces and -_.() only; no folders)")
    return name
