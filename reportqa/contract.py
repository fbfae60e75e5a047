"""The JSON contract of answers, searches and claim checks, written once: each pydantic model's model_dump is the
JSON that the CLI, batch files and HTTP all emit (field names and order are fixed: scripts read them)."""

from __future__ import annotations

from itertools import groupby
from operator import itemgetter

from pydantic import BaseModel, ConfigDict, Field

from reportqa.answer.extract import join_pieces, separator
from reportqa.answer.verify import Verdict
from reportqa.core.types import Answer, Chunk, Citation, Hit
from reportqa.index.rank_features import without_interactions

ABSTAINED_TEXT = "报告中没有找到可靠答案。(The reports contain no passage that answers this.)"
# `confidence` is a calibrated probability that the answer is right (expected calibration error <= 0.05 out of
# fold): below this an answer is more often wrong than right, and says so (docs/evaluation.md has the curve)
LOW_CONFIDENCE_BELOW = 0.5


def is_low_confidence(answer: Answer) -> bool:
    """An answer given, but more likely wrong than right."""
    return not answer.abstained and answer.confidence < LOW_CONFIDENCE_BELOW


class Contract(BaseModel):
    """Frozen, and strict about unknown fields: a value of the contract is built from the engine's types only."""

    model_config = ConfigDict(frozen=True, extra="forbid")


class CitationOut(Contract):
    n: int
    doc: str
    title: str
    section: str
    start: int
    end: int
    line_start: int
    line_end: int
    page: int | None
    page_end: int | None = Field(None, description="last page of a passage that crosses a page break")
    text: str
    score: float

    @classmethod
    def of(cls, n: int, chunk: Chunk, score: float) -> CitationOut:
        return cls(n=n, doc=chunk.doc, title=chunk.title, section=chunk.section, start=chunk.start, end=chunk.end,
                   line_start=chunk.line_start, line_end=chunk.line_end, page=chunk.page, page_end=chunk.page_end,
                   text=chunk.text, score=round(float(score), 4))


def citations_out(citations: tuple[Citation, ...]) -> list[CitationOut]:
    return [CitationOut.of(c.n, c.chunk, c.score) for c in citations]


class SearchResultOut(CitationOut):
    channels: dict[str, float] = Field(default_factory=dict)

    @classmethod
    def of_hit(cls, n: int, hit: Hit) -> SearchResultOut:
        channels = {name: float(score) for name, score in without_interactions(hit.channel_scores).items()}
        return cls(**CitationOut.of(n, hit.chunk, hit.score).model_dump(), channels=channels)


class SearchOut(Contract):
    results: list[SearchResultOut]

    @classmethod
    def of(cls, hits: list[Hit]) -> SearchOut:
        return cls(results=[SearchResultOut.of_hit(n, h) for n, h in enumerate(hits, 1)])


class SentenceOut(Contract):
    text: str
    citation: int = Field(description="number of the citation this sentence of the answer was taken from")


class AnswerOut(Contract):
    id: str
    question: str
    answer: str
    abstained: bool
    confidence: float
    low_confidence: bool = Field(False, description=f"answered, but at a confidence below {LOW_CONFIDENCE_BELOW}: "
                                 "more likely wrong than right; check the sources")
    source: int | None = None
    sentences: list[SentenceOut] = Field(default_factory=list)
    citations: list[CitationOut]
    degraded: list[str] = Field(default_factory=list, description="shards that could not be searched for this "
                                "answer (Ray backend): their documents are missing from it")

    @classmethod
    def of(cls, answer: Answer) -> AnswerOut:
        return cls(id=answer.id, question=answer.question, answer=answer.text, abstained=answer.abstained,
                   confidence=round(answer.confidence, 4), low_confidence=is_low_confidence(answer),
                   source=answer.source,
                   sentences=[SentenceOut(text=text, citation=n) for text, n in answer.pieces],
                   citations=citations_out(answer.citations), degraded=list(answer.degraded))


class ChatOut(AnswerOut):
    """An answer in a conversation: the text carries [n] markers; a follow-up shows the question it stood for."""

    resolved_question: str | None = None
    generated: bool = False
    flagged: list[str] = Field(default_factory=list, description="generated sentences whose passage didn't back them")

    @classmethod
    def of(cls, answer: Answer) -> ChatOut:
        base = AnswerOut.of(answer).model_dump()
        return cls(**base | {"answer": "" if answer.abstained else marked_text(answer)},
                   resolved_question=answer.resolved_question, generated=answer.generated,
                   flagged=list(answer.flagged))


class AnswerErrorOut(Contract):
    """A batch line that could not be answered, in the answer's shape so that readers need no special case."""

    id: str
    question: str
    answer: str = ""
    abstained: bool = True
    citations: list[CitationOut] = Field(default_factory=list)
    error: str


class VerdictOut(Contract):
    """One claim's result: supported, contradicted or unsupported, with the passages behind it."""

    id: str
    claim: str
    verdict: str
    report_value: str | None
    claim_value: str | None
    support: float
    citations: list[CitationOut]

    @classmethod
    def of(cls, verdict: Verdict, qid: str = "") -> VerdictOut:
        return cls.model_validate(_verdict_fields(verdict, qid))


class PlacedVerdictOut(VerdictOut):
    """A claim's result with where it stands in a draft; statements sent one by one have no place (null)."""

    start: int | None = None
    end: int | None = None
    line: int | None = None

    @classmethod
    def placed(cls, verdict: Verdict, qid: str, start: int | None = None, end: int | None = None,
               line: int | None = None) -> PlacedVerdictOut:
        return cls.model_validate(_verdict_fields(verdict, qid) | {"start": start, "end": end, "line": line})


def _verdict_fields(verdict: Verdict, qid: str) -> dict[str, object]:
    return {"id": qid, "claim": verdict.claim, "verdict": verdict.verdict, "report_value": verdict.report_value,
            "claim_value": verdict.claim_value, "support": round(verdict.support, 4),
            "citations": citations_out(verdict.citations)}


class CiteErrorOut(Contract):
    id: str
    claim: str
    verdict: None = None
    report_value: None = None
    citations: list[CitationOut] = Field(default_factory=list)
    error: str


class CiteOut(Contract):
    results: list[PlacedVerdictOut]
    markdown: str | None = None


def marked_text(answer: Answer) -> str:
    """The answer with [n] markers naming the passages it was taken from (chat and OpenAI responses)."""
    if answer.abstained:
        return ABSTAINED_TEXT
    if answer.generated:
        return answer.text
    if len({n for _, n in answer.pieces}) > 1:
        groups = [(n, join_pieces([piece for piece, _ in run])) for n, run in groupby(answer.pieces, key=itemgetter(1))]
        last = len(groups) - 1
        return "".join(f"{text}{'' if k == last else separator(text)}[{n}]" for k, (n, text) in enumerate(groups))
    return f"{answer.text}[{answer.source}]" if answer.source else answer.text


def format_answer(answer: Answer) -> str:
    """The human-readable form of an answer for a terminal."""
    if answer.abstained:
        return "未在报告中找到可靠答案 (no passage in the reports answers this)."
    lines = [marked_text(answer), ""]
    for c in answer.citations:
        where = f"{c.chunk.doc}:{c.chunk.line_start}-{c.chunk.line_end}"
        if c.chunk.page is not None:
            where += f" ({pages_label(c.chunk)})"
        lines.append(f"[{c.n}] {c.chunk.title} · {c.chunk.section or '—'} · {where}")
        snippet = c.chunk.text.replace("\n", " ")
        lines.append(f"    {snippet[:160]}{'…' if len(snippet) > 160 else ''}")
    return "\n".join(lines)


def pages_label(chunk: Chunk) -> str:
    """"page 3", "pages 3–4" for a passage that crosses a page break, "" when the source has no pages."""
    if chunk.page is None:
        return ""
    if chunk.page_end is None or chunk.page_end == chunk.page:
        return f"page {chunk.page}"
    return f"pages {chunk.page}–{chunk.page_end}"
