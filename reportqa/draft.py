"""A draft with its claims checked: JSON results, or the draft back with footnotes that quote the sources."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from reportqa.answer.claims import Claim
from reportqa.answer.verify import CONTRADICTED, UNSUPPORTED, Verdict
from reportqa.contract import PlacedVerdictOut, pages_label

QUOTE_CHARS = 220


@dataclass(frozen=True, slots=True)
class CheckedClaim:
    claim: Claim
    verdict: Verdict


def placed_results(checked: Sequence[CheckedClaim]) -> list[PlacedVerdictOut]:
    """Each claim's verdict with its place in the draft, numbered claim-1, claim-2, … in draft order."""
    return [PlacedVerdictOut.placed(c.verdict, f"claim-{i}", c.claim.start, c.claim.end, c.claim.line)
            for i, c in enumerate(checked, start=1)]


def _marker(n: int, verdict: Verdict) -> str:
    if verdict.verdict == CONTRADICTED:
        return f" **[⚠ contradicted: the report says {verdict.report_value}]**[^{n}]"
    if verdict.verdict == UNSUPPORTED:
        return " **[unsupported]**"
    return f"[^{n}]"


def _footnote(n: int, verdict: Verdict) -> str:
    chunk = verdict.citations[0].chunk
    quote = chunk.text.replace("\n", " ")
    quote = quote if len(quote) <= QUOTE_CHARS else quote[: QUOTE_CHARS - 1] + "…"
    where = f"{chunk.doc}, lines {chunk.line_start}–{chunk.line_end}"
    if chunk.page is not None:
        where += f", {pages_label(chunk)}"
    label = "Contradicted by" if verdict.verdict == CONTRADICTED else "Source"
    return f"[^{n}]: {label}: *{chunk.title}* — {chunk.section or '—'} ({where}): “{quote}”"


def render_markdown(draft: str, checked: Sequence[CheckedClaim]) -> str:
    """The draft unchanged except for a marker after each claim, and a footnote section at the end."""
    pieces: list[str] = []
    notes: list[str] = []
    cursor = 0
    for claim_check in sorted(checked, key=lambda c: c.claim.start):
        verdict = claim_check.verdict
        has_source = verdict.verdict != UNSUPPORTED and verdict.citations
        n = len(notes) + 1
        pieces.append(draft[cursor : claim_check.claim.end])
        pieces.append(_marker(n, verdict))
        if has_source:
            notes.append(_footnote(n, verdict))
        cursor = claim_check.claim.end
    pieces.append(draft[cursor:])
    body = "".join(pieces).rstrip("\n")
    return body + ("\n\n---\n\n" + "\n".join(notes) + "\n" if notes else "\n")
