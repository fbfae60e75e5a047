"""Split a draft (Markdown or plain text) into claim sentences, keeping where each one stands."""

from __future__ import annotations

import re
from dataclasses import dataclass

from reportqa.core.text import split_sentences

_FENCE = re.compile(r"^\s*(```|~~~)")
_HEADING = re.compile(r"^\s{0,3}#{1,6}\s")
_LIST_ITEM = re.compile(r"^\s*(?:[-*+•]\s+|\d+[.)]\s+|\d+、)")  # 1、 needs no space after it
_TABLE = re.compile(r"^\s*\|")
_QUOTE = re.compile(r"^\s*>")
_MIN_CLAIM_CHARS = 6
# a sentence is prose when most of it is written in the drafts' scripts: CJK, ASCII, CJK and full-width punctuation;
# decoded binary (random bytes read as Latin-1) is not, and a learned verdict has never seen such text
_DRAFT_SCRIPT = re.compile(r"[\u0020-\u007e\u3000-\u303f\u4e00-\u9fff\uff00-\uffef\u2010-\u2027\u00b7]")
_MIN_DRAFT_SCRIPT_SHARE = 0.6


@dataclass(frozen=True, slots=True)
class Claim:
    text: str
    start: int  # offsets into the draft
    end: int
    line: int


def _paragraphs(draft: str) -> list[tuple[int, int, int]]:
    """(start, end, first line) of each run of consecutive prose lines: a hard-wrapped sentence stays whole."""
    paragraphs: list[tuple[int, int, int]] = []
    in_code = False
    offset = 0
    for number, line in enumerate(draft.split("\n"), start=1):
        line_start = offset
        offset += len(line) + 1
        if _FENCE.match(line):
            in_code = not in_code
            continue
        if in_code or not line.strip() or _HEADING.match(line) or _LIST_ITEM.match(line) or _TABLE.match(line) \
                or _QUOTE.match(line):
            continue
        last = paragraphs[-1] if paragraphs else None
        if last is not None and last[1] == line_start - 1:  # the previous line was prose too
            paragraphs[-1] = (last[0], line_start + len(line), last[2])
        else:
            paragraphs.append((line_start, line_start + len(line), number))
    return paragraphs


def split_claims(draft: str) -> list[Claim]:
    """Sentences of the draft's prose; headings, list items, tables, quotes and code blocks are not claims."""
    claims: list[Claim] = []
    for para_start, para_end, first_line in _paragraphs(draft):
        paragraph = draft[para_start:para_end]
        for a, b in split_sentences(paragraph):
            text = paragraph[a:b].strip()
            if len(re.sub(r"\W", "", text)) < _MIN_CLAIM_CHARS or not is_prose(text):
                continue
            lead = len(paragraph[a:b]) - len(paragraph[a:b].lstrip())
            line = first_line + paragraph.count("\n", 0, a + lead)
            start = para_start + a + lead
            claims.append(Claim(text, start, start + len(text), line))
    return claims


def is_prose(text: str) -> bool:
    """Most of the text is in the scripts drafts are written in (not decoded binary)."""
    visible = [ch for ch in text if not ch.isspace()]
    return bool(visible) and len(_DRAFT_SCRIPT.findall("".join(visible))) >= _MIN_DRAFT_SCRIPT_SHARE * len(visible)
