"""Check generated text against its sources: a [n] marker stays only where passage n states the sentence's
figures and names."""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass

from reportqa.answer.numbers import quantities
from reportqa.index.text import proper_nouns, without_spaces

_MARKER = re.compile(r"\[(\d+)\]")
_SENTENCE = re.compile(r"[^。！？!?\n]+[。！？!?]?(?:\s*\[\d+\])*")


@dataclass(frozen=True, slots=True)
class Grounded:
    text: str
    flagged: tuple[str, ...]  # sentences whose markers were removed because the passage doesn't back them


def sentence_backed(sentence: str, passage: str) -> bool:
    """Every figure and every name of the sentence occurs in the passage (figures compared as numbers)."""
    stated = quantities(passage)
    for claimed in quantities(sentence):
        if claimed.kind == "" and claimed.value < 10:
            continue
        if not any(s.matches(claimed) for s in stated):
            return False
    flat = without_spaces(passage)
    return all(word.replace(" ", "") in flat for word, _ in proper_nouns(sentence))


def check_markers(text: str, passages: Mapping[int, str]) -> Grounded:
    """Drop each [n] whose passage doesn't back its sentence, and flag that sentence."""
    pieces: list[str] = []
    flagged: list[str] = []
    for match in _SENTENCE.finditer(text):
        sentence = match.group(0)
        bare = _MARKER.sub("", sentence).strip()
        markers = [int(n) for n in _MARKER.findall(sentence)]
        kept = [n for n in markers if n in passages and sentence_backed(bare, passages[n])]
        if markers and len(kept) < len(markers):
            flagged.append(bare)
        pieces.append(bare.rstrip() + "".join(f"[{n}]" for n in kept))
    return Grounded("".join(pieces), tuple(flagged))
