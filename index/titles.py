"""Which report a question names: its terms found in each document's title, weighted by how few titles write them.

A question that says whose report it asks about (摩根士丹利, SCSP, the whitepaper) points at one document; the
ranker reads how distinctly it does (`title_named`) and learns what that is worth.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from reportqa.index.text import without_spaces

MIN_TERM_CHARS = 2
CACHED_TERMS = 20_000  # terms whose holders are remembered (a collection of thousands of titles is scanned once a term)


@dataclass(frozen=True, slots=True)
class TitleTerms:
    """The documents' titles, whitespace-free and lower-cased, by document."""

    titles: Mapping[str, str]
    _holders: dict[str, tuple[str, ...]] = field(default_factory=dict, compare=False, repr=False)

    @classmethod
    def of(cls, documents: Mapping[str, Mapping[str, Any]]) -> TitleTerms:
        """From an index manifest's `documents` (document → {"title": ...})."""
        return cls({doc: without_spaces(str(info.get("title") or "")).lower() for doc, info in documents.items()})

    def named(self, terms: Iterable[str]) -> dict[str, float]:
        """document → log(N / df) / log(N) of the rarest-among-titles term the question shares with its title
        (1: no other title writes it; 0: every title does, or only one document); documents named by none absent."""
        n = len(self.titles)
        if n < 2:
            return {}
        scores: dict[str, float] = {}
        for term in {t.lower() for t in terms if _worth_matching(t)}:
            holders = self._holders_of(term)
            if not holders:
                continue
            weight = math.log(n / len(holders)) / math.log(n)
            for doc in holders:
                scores[doc] = max(scores.get(doc, 0.0), weight)
        return {doc: score for doc, score in scores.items() if score > 0}

    def _holders_of(self, term: str) -> tuple[str, ...]:
        """The documents whose title writes `term`."""
        holders = self._holders.get(term)
        if holders is None:
            if len(self._holders) >= CACHED_TERMS:
                self._holders.clear()
            holders = self._holders[term] = tuple(doc for doc, title in self.titles.items() if term in title)
        return holders


def _worth_matching(term: str) -> bool:
    """A word or name, not a year or a figure (titles carry years that say nothing of the question's)."""
    return len(term) >= MIN_TERM_CHARS and any(ch.isalpha() for ch in term)
