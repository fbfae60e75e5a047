"""The whole flow, top to bottom: load → clean → chunk → embed/index → retrieve → answer."""

from __future__ import annotations

import json
import logging
from collections.abc import Sequence
from dataclasses import replace
from pathlib import Path
from typing import Any

from reportqa.answer.claims import Claim, split_claims
from reportqa.answer.extract import answer_from_hits
from reportqa.answer.followup import Turn, resolve
from reportqa.answer.grounding import check_markers
from reportqa.answer.llm import Generator
from reportqa.answer.verify import Verdict, judge
from reportqa.collection import (  # noqa: F401 - chunker_config re-exported
    IngestReport,
    chunker_config,
    chunker_manifest,
    clean_and_chunk,
    sync,
)
from reportqa.core.settings import Settings
from reportqa.core.types import Answer, Chunk, Document, Hit
from reportqa.draft import CheckedClaim
from reportqa.index.build import Progress
from reportqa.index.query import analyze, with_context
from reportqa.index.search import SearchIndex, SearchWeights, open_index
from reportqa.ingest.chunk import ChunkerConfig

log = logging.getLogger("reportqa")
CALIBRATION_NAME = "calibration.json"
SHIPPED_CALIBRATION = Path(__file__).parent / CALIBRATION_NAME  # read-only: measured on eval/qa.jsonl
FALLBACK_ABSTAIN_THRESHOLD = 0.2  # used only when no calibration file can be read


def calibration_path(index_dir: Path) -> Path:
    """Where `reportqa eval --calibrate` stores its threshold: with the index, never in the installed package."""
    return Path(index_dir) / CALIBRATION_NAME


def calibrated_threshold(index_dir: Path) -> float:
    """The refusal threshold calibrated for this index, else the one shipped with the package."""
    for path in (calibration_path(index_dir), SHIPPED_CALIBRATION):
        try:
            return float(json.loads(path.read_text(encoding="utf-8"))["abstain_threshold"])
        except (OSError, ValueError, KeyError, TypeError):
            continue
    return FALLBACK_ABSTAIN_THRESHOLD


class QuestionError(ValueError):
    """A question that cannot be asked as given; the message says why."""


def chunk_documents(documents: Sequence[Document], config: ChunkerConfig
                    ) -> tuple[list[Chunk], dict[str, dict[str, Any]]]:
    """Clean and chunk every document; per-document facts (title, hash, chunks, dropped noise) for the manifest."""
    chunks: list[Chunk] = []
    info: dict[str, dict[str, Any]] = {}
    for doc in documents:
        doc_chunks, info[doc.doc] = clean_and_chunk(doc, config)
        chunks.extend(doc_chunks)
    return chunks, info


def build(settings: Settings, progress: Progress | None = None) -> IngestReport:
    """Load the corpus, then clean, chunk and tokenise each new or changed document and publish a new version."""
    return sync(settings, progress)


class Engine:
    """A loaded index plus the settings that shape retrieval and answering."""

    def __init__(self, index: SearchIndex, settings: Settings, generator: Generator | None = None) -> None:
        self.index = index
        self.settings = settings
        self.generator = generator
        self.weights = SearchWeights(settings.bm25_weight, settings.dense_weight, settings.rerank,
                                     settings.bigram_weight)
        self.threshold = (settings.abstain_threshold if settings.abstain_threshold is not None
                          else calibrated_threshold(settings.index_dir))

    def check_question(self, question: str) -> str:
        text = question.strip()
        if not text:
            raise QuestionError("the question is empty")
        if len(text) > self.settings.max_question_chars:
            raise QuestionError(f"the question is {len(text)} characters; the limit is "
                                f"{self.settings.max_question_chars}")
        return text

    def clamp_top_k(self, top_k: int | None) -> int:
        k = self.settings.top_k if top_k is None else top_k
        if k < 1:
            raise QuestionError("top_k must be at least 1")
        return min(k, self.settings.max_top_k)

    def search(self, question: str, top_k: int | None = None, weights: SearchWeights | None = None) -> list[Hit]:
        query = analyze(self.check_question(question))
        return self.index.search(query, self.clamp_top_k(top_k), weights or self.weights)

    def ask(self, question: str, top_k: int | None = None, qid: str = "",
            weights: SearchWeights | None = None) -> Answer:
        text = self.check_question(question)
        query = analyze(text)
        hits = self.index.search(query, self.clamp_top_k(top_k), weights or self.weights)
        return answer_from_hits(text, hits, query, self.index.idf, self.threshold, qid)


    def chat(self, turns: Sequence[Turn], top_k: int | None = None) -> Answer:
        """Answer the last user turn of a conversation, follow-ups resolved against the earlier turns."""
        resolved = resolve(turns)
        text = self.check_question(resolved.question)
        query = analyze(text)
        if resolved.context:
            query = with_context(query, analyze(resolved.context))
        hits = self.index.search(query, self.clamp_top_k(top_k), self.weights)
        answer = answer_from_hits(text, hits, query, self.index.idf, self.threshold)
        standalone = f"{text}（上文：{resolved.context}）" if resolved.context else text
        answer = replace(answer, resolved_question=standalone)
        return self._generate(answer, turns) if self.generator and not answer.abstained else answer

    def _generate(self, answer: Answer, turns: Sequence[Turn]) -> Answer:
        """Let the LLM write the answer; keep only the [n] markers their passages back; fall back on failure."""
        assert self.generator is not None
        history = [(t.role, t.content) for t in turns[:-1]]
        try:
            text = self.generator.generate(answer.resolved_question or answer.question, answer.citations, history)
        except Exception as exc:  # the endpoint can fail in many ways; the extractive answer still stands
            log.warning("LLM generation failed, answering extractively: %s", exc)
            return answer
        grounded = check_markers(text, {c.n: c.chunk.text for c in answer.citations})
        return replace(answer, text=grounded.text, generated=True, flagged=grounded.flagged)

    def cite(self, claim: str, top_k: int | None = None) -> Verdict:
        """The passages behind a claim and whether they support, contradict or don't cover it."""
        text = self.check_question(claim)
        query = analyze(text)
        hits = self.index.search(query, self.clamp_top_k(top_k), self.weights)
        return judge(text, hits, query, self.index.idf, self.index.unknown_words(query))


    def draft_claims(self, draft: str) -> list[Claim]:
        """The claim sentences of a draft, held to the claim limits before any is checked; headings, lists and
        code are left alone."""
        if not draft.strip():
            raise QuestionError("the draft is empty")
        claims = split_claims(draft)
        if not claims:
            raise QuestionError("the draft has no claim sentences (only headings, lists, code or fragments)")
        if len(claims) > self.settings.max_claims:
            raise QuestionError(f"the draft has {len(claims)} claims; the limit is {self.settings.max_claims}")
        limit = self.settings.max_question_chars
        for claim in claims:
            if len(claim.text) > limit:
                raise QuestionError(f"the claim on line {claim.line} is {len(claim.text)} characters; "
                                    f"the limit is {limit}")
        return claims

    def cite_draft(self, draft: str) -> list[CheckedClaim]:
        """Every claim sentence of a draft with its verdict."""
        return [CheckedClaim(claim, self.cite(claim.text)) for claim in self.draft_claims(draft)]


def open_engine(settings: Settings) -> Engine:
    expect = {"embed_model": settings.embed_model, "chunker": chunker_manifest(settings)}
    generator = None
    if settings.llm_base_url and settings.llm_model:
        key = settings.llm_api_key.get_secret_value() if settings.llm_api_key else None
        generator = Generator.from_settings(settings.llm_base_url, settings.llm_model, key)
    return Engine(open_index(settings.index_dir, expect=expect), settings, generator)
