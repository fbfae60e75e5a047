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
