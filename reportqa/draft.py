"""A draft with its claims checked: JSON results, or the draft back with footnotes that quote the sources."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from reportqa.answer.claims import Claim
from reportqa.answer.verify import CONTRADICTED, UNSUPPORTED, Verdict
from reportqa.contract import PlacedVerdictOut
from reportqa.core.types import Chunk
from reportqa.index.text import is_english

QUOTE_CHARS = 220


@dataclass(frozen=True, slots=True)
class CheckedClaim:
    claim: Claim
    verdict: Verdict


def placed_results(checked: Sequence[CheckedClaim]) -> list[PlacedVerdictOut]:
    """Each claim's verdict with its place in the draft, numbered claim-1, claim-2, … in draft order."""
    return [PlacedVerdictOut.placed(c.verdict, f"claim-{i}", c.claim.start, c.claim.end, c.claim.line)
            for i, c in enumerate(checked, start=1)]


@dataclass(frozen=True, slots=True)
class Labels:
    """The words a checked draft is marked with, in the draft's language."""

    contradicted: str  # takes the report's value
    unsupported: str
    contradicted_by: str
    source: str
    lines: str  # takes the line range
    page: str  # takes the page, or the page range of a passage that crosses a break
    contradicted_no_value: str  # when no differing figure was aligned: the passage says otherwise

    def pages(self, chunk: Chunk) -> str:
        if chunk.page_end is None or chunk.page_end == chunk.page:
            return self.page.format(page=chunk.page)
        return self.page.format(page=f"{chunk.page}–{chunk.page_end}")


CHINESE = Labels("⚠ 与报告不符：报告为 {value}", "报告未涉及", "与之不符的原文", "出处", "第 {lines} 行",
                 "第 {page} 页", "⚠ 与报告不符")
ENGLISH = Labels("⚠ contradicted: the report says {value}", "unsupported", "Contradicted by", "Source",
                 "lines {lines}", "p. {page}", "⚠ contradicted by the report")


def labels_for(draft: str) -> Labels:
    """Chinese labels for a Chinese draft, English ones for an English draft."""
    return ENGLISH if is_english(draft[:2000]) else CHINESE


def _marker(n: int, verdict: Verdict, labels: Labels) -> str:
    if verdict.verdict == CONTRADICTED:
        label = labels.contradicted.format(value=verdict.report_value) if verdict.report_value \
            else labels.contradicted_no_value
        return f" **[{label}]**[^{n}]"
    if verdict.verdict == UNSUPPORTED:
        return f" **[{labels.unsupported}]**"
    return f"[^{n}]"


def _footnote(n: int, verdict: Verdict, labels: Labels) -> str:
    chunk = verdict.citations[0].chunk
    quote = chunk.text.replace("\n", " ")
    quote = quote if len(quote) <= QUOTE_CHARS else quote[: QUOTE_CHARS - 1] + "…"
    where = f"{chunk.doc}, {labels.lines.format(lines=f'{chunk.line_start}–{chunk.line_end}')}"
    if chunk.page is not None:
        where += f", {labels.pages(chunk)}"
    label = labels.contradicted_by if verdict.verdict == CONTRADICTED else labels.source
    return f"[^{n}]: {label}: *{chunk.title}* — {chunk.section or '—'} ({where}): “{quote}”"


def render_markdown(draft: str, checked: Sequence[CheckedClaim]) -> str:
    """The draft unchanged except for a marker after each claim, and a footnote section at the end."""
    pieces: list[str] = []
    notes: list[str] = []
    cursor = 0
    labels = labels_for(draft)
    for claim_check in sorted(checked, key=lambda c: c.claim.start):
        verdict = claim_check.verdict
        has_source = verdict.verdict != UNSUPPORTED and verdict.citations
        n = len(notes) + 1
        pieces.append(draft[cursor : claim_check.claim.end])
        pieces.append(_marker(n, verdict, labels))
        if has_source:
            notes.append(_footnote(n, verdict, labels))
        cursor = claim_check.claim.end
    pieces.append(draft[cursor:])
    body = "".join(pieces).rstrip("\n")
    return body + ("\n\n---\n\n" + "\n".join(notes) + "\n" if notes else "\n")
