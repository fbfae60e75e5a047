"""Headings of a PDF found by type size: short lines set clearly larger than the body become Markdown headings.

A PDF's text layer has no heading marks, and a heading without a number (市场概览) otherwise reads as the start of
the next paragraph. Sizes come from pypdf's text visitor; everything here is pure.
"""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Sequence

from reportqa.ingest.lines import heading_kind
from reportqa.ingest.sources import heading_line

HEADING_RATIO = 1.15  # a line at least this much larger than the body text is a heading
MAX_LEVELS = 3  # sizes beyond the third-largest heading size are all level 3
MAX_HEADING_CHARS = 40
SENTENCE_END = "。；，、,;：:"
Fragment = tuple[str, float]  # text drawn at one type size


def effective_size(font_size: float, text_matrix: Sequence[float], ctm: Sequence[float]) -> float:
    """The size a run is seen at: Tf size scaled by the text and current transformation matrices."""
    scale = math.hypot(text_matrix[0], text_matrix[1]) * math.hypot(ctm[0], ctm[1])
    return round(font_size * (scale or 1.0) * 2) / 2


def line_sizes(lines: Sequence[str], fragments: Sequence[Fragment]) -> list[float | None]:
    """The size most of each line's characters were drawn at; all None when the text does not follow the runs."""
    drawn = [(ch, size) for text, size in fragments for ch in text if not ch.isspace()]
    sizes: list[float | None] = []
    at = 0
    for line in lines:
        chars = [ch for ch in line if not ch.isspace()]
        if [ch for ch, _ in drawn[at : at + len(chars)]] != chars:
            return [None] * len(lines)
        counted = Counter(size for _, size in drawn[at : at + len(chars)])
        sizes.append(counted.most_common(1)[0][0] if counted else None)
        at += len(chars)
    return sizes


def body_size(pages: Sequence[tuple[Sequence[str], Sequence[float | None]]]) -> float | None:
    """The size most characters of the document are set in."""
    counted: Counter[float] = Counter()
    for lines, sizes in pages:
        for line, size in zip(lines, sizes, strict=True):
            if size is not None:
                counted[size] += len(line.strip())
    return counted.most_common(1)[0][0] if counted else None


def could_be_heading(line: str) -> bool:
    """Short, one cell, not ending like a sentence or clause, and not just a number."""
    text = line.strip()
    return (0 < len(text) <= MAX_HEADING_CHARS and "\t" not in text and text[-1] not in SENTENCE_END
            and any(ch.isalpha() for ch in text))


def heading_levels(sizes: Sequence[float], body: float) -> dict[float, int]:
    """Heading sizes, largest first, to levels 1…MAX_LEVELS."""
    large = sorted({s for s in sizes if s >= body * HEADING_RATIO}, reverse=True)
    return {size: min(rank, MAX_LEVELS) for rank, size in enumerate(large, start=1)}


def mark_headings(pages: Sequence[tuple[Sequence[str], Sequence[float | None]]]
                  ) -> tuple[list[list[str]], str | None]:
    """Each page's lines with large short lines as '#' headings, and the title: the first page's largest line.

    Lines the cleaner already reads as headings (第一章, 1.2, 一、) are left as they are.
    """
    body = body_size(pages)
    if body is None:
        return [list(lines) for lines, _ in pages], None
    candidates = [s for lines, sizes in pages for line, s in zip(lines, sizes, strict=True)
                  if s is not None and could_be_heading(line)]
    levels = heading_levels(candidates, body)
    marked: list[list[str]] = []
    title: str | None = None
    for lines, sizes in pages:
        out = []
        for line, size in zip(lines, sizes, strict=True):
            level = levels.get(size) if size is not None and could_be_heading(line) else None
            if level is None:
                out.append(line)
                continue
            if title is None and size == max(levels):
                title = line.strip()
            out.append(line if heading_kind(line.strip()) else heading_line(level, line.strip()))
        marked.append(out)
    return marked, title
