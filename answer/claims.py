"""Split a draft (Markdown or plain text) into claim sentences, keeping where each one stands."""

from __future__ import annotations

import re
from dataclasses import dataclass

from ingest.chunk import split_sentences

_FENCE = re.compile(r"^\s*(```|~~~)")
_HEADING = re.compile(r"^\s{0,3}#{1,6}\s")
_LIST_ITEM = re.compile(r"^\s*(?:[-*+•]|\d+[.)、])\s+")
_TABLE = re.compile(r"^\s*\|")
_QUOTE = re.compile(r"^\s*>")
_MIN_CLAIM_CHARS = 6


@dataclass(frozen=True, slots=True)
class Claim:
    text: str
    start: int  # offsets into the draft
    end: int
    line: int


def split_claims(draft: str) -> list[Claim]:
    """Sentences of the draft's prose; headings, list items, tables, quotes and code blocks are not claims."""
    claims: list[Claim] = []
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
        for a, b in split_sentences(line):
            text = line[a:b].strip()
            if len(re.sub(r"\W", "", text)) < _MIN_CLAIM_CHARS:
                continue
            lead = len(line[a:b]) - len(line[a:b].lstrip())
            start = line_start + a + lead
            claims.append(Claim(text, start, start + len(text), number))
    return claims
