"""Text primitives every stage shares: where sentences end and which lines are figure or table captions."""

from __future__ import annotations

import re

CLOSERS = "”’\"'）)》"
_SENTENCE_END = re.compile(rf"(?:[。！？!?；;]|\.(?=\s+[A-Z]))[{re.escape(CLOSERS)}]*")
_CAPTION = re.compile(r"^(?:图|表|展品|exhibit|figure|table)\s*[\dA-Za-z]+(?:[-–.]\d+)?", re.IGNORECASE)


def split_sentences(text: str) -> list[tuple[int, int]]:
    """Sentence spans in text, ending after 。！？；!? (with closing quotes) or a Latin full stop."""
    spans: list[tuple[int, int]] = []
    start = 0
    for match in _SENTENCE_END.finditer(text):
        if match.end() > start and text[start : match.end()].strip():
            spans.append((start, match.end()))
        start = match.end()
    if text[start:].strip():
        spans.append((start, len(text)))
    return spans


def is_caption(text: str) -> bool:
    """Figure and table titles (图0-1 …, 表3-2 …, 展品 5：…): labels, never part of the next sentence."""
    return bool(_CAPTION.match(text))


_SPACED_VALUE = re.compile(r"[-+(]?\d[\d,]*(?:\.\d+)?[%)]?|NA|NM|n/?a|-|–")
SPACED_ROW_MAX_CHARS = 200
SPACED_LABEL_MAX_CHARS = 16


def is_spaced_row(text: str) -> bool:
    """A table row the PDF left space-separated ("8 合肥 29.77 33.91 7 45.64"): three or more values, at least
    half the cells, every other cell a short label. Such a line is a row of its own, not a hard-wrapped sentence."""
    if "\t" in text or len(text) > SPACED_ROW_MAX_CHARS:
        return False
    cells = text.split()
    labels = [cell for cell in cells if not _SPACED_VALUE.fullmatch(cell)]
    values = len(cells) - len(labels)
    labels_short = all(len(cell) <= SPACED_LABEL_MAX_CHARS for cell in labels)
    return len(cells) >= 4 and values >= 3 and 2 * values >= len(cells) and labels_short
