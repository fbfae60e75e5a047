"""The answer JSON contract shared by the CLI, batch files and HTTP: field names here are fixed."""

from __future__ import annotations

from itertools import groupby
from operator import itemgetter
from typing import Any

from reportqa.answer.extract import join_pieces, separator
from reportqa.answer.verify import Verdict
from reportqa.core.types import Answer, Chunk, Citation, Hit


def citation_json(n: int, chunk: Chunk, score: float) -> dict[str, Any]:
    return {
        "n": n,
        "doc": chunk.doc,
        "title": chunk.title,
        "section": chunk.section,
        "start": chunk.start,
        "end": chunk.end,
        "line_start": chunk.line_start,
        "line_end": chunk.line_end,
        "page": chunk.page,
        "page_end": chunk.page_end,
        "text": chunk.text,
        "score": round(float(score), 4),
    }


def citations_json(citations: tuple[Citation, ...]) -> list[dict[str, Any]]:
    return [citation_json(c.n, c.chunk, c.score) for c in citations]


def hits_json(hits: list[Hit]) -> list[dict[str, Any]]:
    return [citation_json(n, h.chunk, h.score) | {"channels": h.channel_scores} for n, h in enumerate(hits, 1)]


def answer_json(answer: Answer) -> dict[str, Any]:
    return {
        "id": answer.id,
        "question": answer.question,
        "answer": answer.text,
        "abstained": answer.abstained,
        "confidence": round(answer.confidence, 4),
        "source": answer.source,
        "sentences": [{"text": text, "citation": n} for text, n in answer.pieces],
        "citations": citations_json(answer.citations),
    }


def marked_text(answer: Answer) -> str:
    """The answer with [n] markers naming the passages it was taken from (chat and OpenAI responses)."""
    if answer.abstained:
        return "报告中没有找到可靠答案。(The reports contain no passage that answers this.)"
    if answer.generated:
        return answer.text
    if len({n for _, n in answer.pieces}) > 1:
        groups = [(n, join_pieces([piece for piece, _ in run])) for n, run in groupby(answer.pieces, key=itemgetter(1))]
        last = len(groups) - 1
        return "".join(f"{text}{'' if k == last else separator(text)}[{n}]" for k, (n, text) in enumerate(groups))
    return f"{answer.text}[{answer.source}]" if answer.source else answer.text


def chat_json(answer: Answer) -> dict[str, Any]:
    return answer_json(answer) | {"answer": "" if answer.abstained else marked_text(answer),
                                  "resolved_question": answer.resolved_question,
                                  "generated": answer.generated, "flagged": list(answer.flagged)}


def error_json(qid: str, question: str, message: str) -> dict[str, Any]:
    return {"id": qid, "question": question, "answer": "", "abstained": True, "citations": [], "error": message}


def pages_label(chunk: Chunk) -> str:
    """"page 3", "pages 3–4" for a passage that crosses a page break, "" when the source has no pages."""
    if chunk.page is None:
        return ""
    if chunk.page_end is None or chunk.page_end == chunk.page:
        return f"page {chunk.page}"
    return f"pages {chunk.page}–{chunk.page_end}"


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


def verdict_json(verdict: Verdict, qid: str = "", **position: int) -> dict[str, Any]:
    """One claim's result: the /cite and `reportqa cite` contract."""
    return {"id": qid, "claim": verdict.claim, "verdict": verdict.verdict, "report_value": verdict.report_value,
            "claim_value": verdict.claim_value, "support": round(verdict.support, 4),
            "citations": citations_json(verdict.citations), **position}


def cite_error_json(qid: str, claim: str, message: str) -> dict[str, Any]:
    return {"id": qid, "claim": claim, "verdict": None, "report_value": None, "citations": [], "error": message}
