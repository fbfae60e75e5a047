"""The whole flow, top to bottom: load → clean → chunk → embed/index → retrieve → answer."""

from __future__ import annotations

import json
import logging
from collections.abc import Callable, Sequence
from concurrent.futures import Executor
from dataclasses import dataclass, replace
from functools import cached_property
from pathlib import Path
from typing import Any

import numpy as np

from reportqa.answer.claim_verdict import Assessment, assess, decide
from reportqa.answer.claims import Claim, is_prose, split_claims
from reportqa.answer.extract import passage_units, units_of
from reportqa.answer.followup import FollowUp, Resolved, Turn, accept_rewrite, follow_up_of, resolve
from reportqa.answer.grounding import check_markers
from reportqa.answer.llm import Generator
from reportqa.answer.reader import UnitSimilarities, similarities_of
from reportqa.answer.respond import Reading, respond
from reportqa.answer.verifier import with_verifier
from reportqa.answer.verify import Verdict
from reportqa.collection import (  # noqa: F401 - chunker_config re-exported
    IngestReport,
    chunker_config,
    chunker_manifest,
    clean_and_chunk,
    sync,
)
from reportqa.core.learned import ModelSet, load_model_set, matrix
from reportqa.core.settings import Settings
from reportqa.core.types import Answer, Chunk, Document, Hit
from reportqa.draft import CheckedClaim
from reportqa.index.build import Progress
from reportqa.index.follow_up_rank import follow_up_rows
from reportqa.index.query import Query, analyze, with_context
from reportqa.index.search import Retrieval, SearchWeights, ShardOpener, open_index
from reportqa.index.text import without_invisible
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


def refusal_thresholds(settings: Settings, models: ModelSet) -> tuple[float, float]:
    """The thresholds for a question asked alone and for a conversation's later turn: the setting when given; else
    a calibration made for this index (`reportqa eval --calibrate`); else those the learned models were trained
    with (each refuses at most 5% of its answerable kind out of fold); else the one shipped with the package. Only
    learned models carry a follow-up threshold of their own: a set or calibrated threshold stands for both."""
    if settings.abstain_threshold is not None:
        return settings.abstain_threshold, settings.abstain_threshold
    try:
        calibrated = float(json.loads(calibration_path(settings.index_dir).read_text(encoding="utf-8"))
                           ["abstain_threshold"])
        return calibrated, calibrated
    except (OSError, ValueError, KeyError, TypeError):
        pass
    learned = models.manifest.get("threshold") if models.get("answerability") else None
    if learned is None:
        shipped = calibrated_threshold(settings.index_dir)
        return shipped, shipped
    follow_up = models.manifest.get("follow_up_threshold")
    return float(learned), float(follow_up if follow_up is not None else learned)


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


ANSWER_POOL = 10  # hits the answer is chosen from, whatever top_k asks to list


@dataclass(frozen=True, slots=True)
class Trace:
    """One question's way through the system: what was asked, what was found, what was measured, what was said."""

    question: str
    query: Query
    hits: tuple[Hit, ...]
    reading: Reading

    @property
    def answer(self) -> Answer:
        return self.reading.answer


class Engine:
    """A loaded index, the learned models and the settings that shape retrieval and answering."""

    def __init__(self, index: Retrieval, settings: Settings, generator: Generator | None = None,
                 models: ModelSet | None = None) -> None:
        self.settings = settings
        self.generator = generator
        self.models = models if models is not None else ModelSet(Path(), {}, {})
        self.models.check_verifier()
        # the set's question adapter, if it has one (a set without one leaves the index's own, as training sets it)
        self.index = index.with_query_adapter(self.models.adapter) if self.models.adapter is not None else index
        self.weights = SearchWeights(settings.bm25_weight, settings.dense_weight, settings.rerank,
                                     settings.bigram_weight)
        self.threshold, self.follow_up_threshold = refusal_thresholds(settings, self.models)

    @property
    def waits(self) -> bool:
        """Whether answering waits on other processes (an LLM endpoint, shards on a cluster): callers on an event
        loop run it in a thread rather than inline."""
        return self.generator is not None or self.index.remote

    def retrieve(self, query: Query, k: int, weights: SearchWeights | None = None) -> list[Hit]:
        """The ranked hits: the learned ranker over the channels' pool when there is one, else the fused rules."""
        ranker = self.models.get("ranker")
        if ranker is not None:
            return self.index.ranked(query, k, weights or self.weights, ranker)
        return self.index.search(query, k, weights or self.weights)

    def refuse_below(self, threshold: float, follow_up_threshold: float | None = None) -> None:
        """Refuse below these thresholds from now on (training's fold engines, calibration's never-refuse); a
        conversation's later turns use `threshold` too unless given their own."""
        self.threshold = threshold
        self.follow_up_threshold = threshold if follow_up_threshold is None else follow_up_threshold

    def run(self, question: str, top_k: int | None = None, qid: str = "",
            weights: SearchWeights | None = None, context: str | None = None, thread: str | None = None,
            follow_up: FollowUp | None = None) -> Trace:
        """Analyse, retrieve a fixed pool, answer from it (or refuse); top_k only limits the citations listed.
        `context`: an earlier question whose terms help at a lower weight (a follow-up in a conversation);
        `thread`: the same for retrieval alone, the answer read against the question as asked; `follow_up`: a
        conversation's later turn (as written, and the answer before it), its pool reordered by the follow-up
        ranker when the models have one and refused below the follow-up threshold."""
        text = self.check_question(question)
        query = plain = analyze(text)
        if context:
            query = with_context(query, analyze(context))
        searched = query
        if thread and not context:
            searched = with_context(query, analyze(thread))
        turn = self._turn_query(follow_up, text, plain)
        encoded = [searched]
        for more in (query, turn):
            if more is not None and all(more is not seen for seen in encoded):
                encoded.append(more)
        if len(encoded) > 1:
            self.index.encode_together(encoded)
        k = self.clamp_top_k(top_k)
        hits = self.retrieve(searched, max(k, ANSWER_POOL), weights)
        if follow_up is not None and turn is not None:
            hits = self._follow_up_order(hits, turn, follow_up, max(k, ANSWER_POOL), weights)
        threshold = self.follow_up_threshold if follow_up is not None else self.threshold
        reading = respond(text, query, hits, self.index.idf, self.models, threshold, self.unit_sims(query),
                          len(self.index.unknown_names(query)), k, qid, self.index.unknown_idf,
                          self.index.centroid_lift(query))
        degraded = self.index.degraded()
        if degraded:
            reading = replace(reading, answer=replace(reading.answer, degraded=tuple(degraded)))
        return Trace(text, query, tuple(hits), reading)

    def _turn_query(self, follow_up: FollowUp | None, text: str, plain: Query) -> Query | None:
        """The turn as written, analysed alone, when a follow-up ranker will read it (`plain`, the question
        without context, when the resolver left the turn as written)."""
        if follow_up is None or self.models.get("follow_up_ranker") is None:
            return None
        asked = without_invisible(follow_up.asked).strip()
        if not asked:
            return None
        return plain if asked == text else analyze(asked)

    def follow_up_candidates(self, hits: Sequence[Hit], follow_up: FollowUp, turn: Query | None = None,
                             weights: SearchWeights | None = None) -> list[tuple[Hit, dict[str, float]]]:
        """The thread's hits and the turn's own (`turn`: the turn as written, analysed; else analysed here), with
        the follow-up ranker's features (index.follow_up_rank)."""
        turn = turn if turn is not None else analyze(follow_up.asked)
        return follow_up_rows(hits, self.retrieve(turn, ANSWER_POOL, weights), follow_up.previous_answer)

    def _follow_up_order(self, hits: list[Hit], turn: Query, follow_up: FollowUp, k: int,
                         weights: SearchWeights | None) -> list[Hit]:
        """The two readings' pool ordered by the follow-up ranker; a hit's score is its logit."""
        model = self.models.get("follow_up_ranker")
        if model is None:
            return hits
        rows = self.follow_up_candidates(hits, follow_up, turn, weights)
        if not rows:
            return hits
        scores = model.logits(matrix([row for _, row in rows], model.features)).tolist()
        order = sorted(range(len(rows)), key=lambda j: -scores[j])[:k]
        return [Hit(rows[j][0].chunk, float(scores[j]), rows[j][0].channel_scores | {"follow_up": float(scores[j])})
                for j in order]

    def unit_sims(self, query: Query) -> UnitSimilarities | None:
        """A hit's unit cosines to the question as searched and as the encoder gives it (answer.reader)."""
        if not self.index.has_units:
            return None
        index, encoded = self.index, self.encoded_index
        known: dict[str, np.ndarray] = {}  # per hit: the reader reads each row, the signals the first, once each

        def cosines(hit: Hit) -> np.ndarray:
            if hit.chunk.id in known:
                return known[hit.chunk.id]
            position = index.position(hit.chunk.id)
            searched = index.unit_similarities(query, position)
            raw = searched if encoded is index else encoded.unit_similarities(query, position)
            # a shard can fail between the two reads: the searched cosines stand for both rather than fail the answer
            known[hit.chunk.id] = np.stack([searched, raw if raw.shape == searched.shape else searched])
            return known[hit.chunk.id]

        return cosines

    @cached_property
    def encoded_index(self) -> Retrieval:
        """The index with question vectors as the encoder gives them (itself when no adapter maps them)."""
        return self.index if self.index.query_adapter is None else self.index.with_query_adapter(None)

    def prime(self, texts: Sequence[str], pool: Executor | None = None) -> int:
        """Encode the vectors of questions or claims about to be asked, in parallel: on `pool` in the background
        (a batch's look-ahead) or now (a draft's claims); text that would be refused is skipped. Answers do not
        change, only when their work is done."""
        questions = []
        for text in texts:
            try:
                questions.append(self.check_question(text))
            except QuestionError:
                continue
        return self.index.prime(questions, pool)

    def check_question(self, question: str) -> str:
        text = without_invisible(question).strip()
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
        return self.retrieve(query, self.clamp_top_k(top_k), weights)

    def ask(self, question: str, top_k: int | None = None, qid: str = "",
            weights: SearchWeights | None = None) -> Answer:
        return self.run(question, top_k, qid, weights).answer


    def chat(self, turns: Sequence[Turn], top_k: int | None = None) -> Answer:
        """Answer the last user turn of a conversation, follow-ups resolved against the earlier turns."""
        _, trace = self.chat_trace(turns, top_k)
        return self._generate(trace.answer, turns) if self.generator and not trace.answer.abstained else trace.answer

    def chat_trace(self, turns: Sequence[Turn], top_k: int | None = None,
                   resolver: Callable[[Sequence[Turn]], Resolved] = resolve) -> tuple[Resolved, Trace]:
        """The resolved question and its trace; the answer carries the resolved question for the page."""
        resolved = self._rewritten(turns, resolver(turns))
        # a later turn, rewritten by the resolver or by an LLM: its threshold was chosen on the resolver's rewrites
        trace = self.run(resolved.question, top_k, context=resolved.context, thread=resolved.thread,
                         follow_up=follow_up_of(turns))
        answer = replace(trace.answer, resolved_question=resolved.question)
        return resolved, replace(trace, reading=replace(trace.reading, answer=answer))

    def _rewritten(self, turns: Sequence[Turn], resolved: Resolved) -> Resolved:
        """With an LLM configured, a follow-up is rewritten by the model first, kept only if it agrees with the
        resolver's names; any failure leaves the resolver's question."""
        if self.generator is None or resolved.kind in {"first", "new"}:
            return resolved
        turn = next(t.content for t in reversed(turns) if t.role == "user")
        try:
            rewrite = self.generator.rewrite(turn, [(t.role, t.content) for t in turns[:-1]])
        except Exception as exc:  # the endpoint can fail in many ways; the resolver's question stands
            log.warning("LLM rewrite failed, keeping the resolver's question: %s", exc)
            return resolved
        if not accept_rewrite(rewrite, turn, resolved):
            return resolved
        return replace(resolved, question=rewrite, context=None, thread=None)

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
        return self.assess(claim, top_k)[1]

    def assess(self, claim: str, top_k: int | None = None) -> tuple[Assessment, Verdict]:
        """The rules' measurements of a claim and the verdict: learned when the claim models are there."""
        text = self.check_question(claim)
        query = analyze(text)
        hits = self.retrieve(query, self.clamp_top_k(top_k))
        units = units_of(hits, depth=len(hits))
        sims = similarities_of(units, hits, self.unit_sims(query), passage_units)
        assessment = assess(text, hits, query, self.index.idf, self.index.unknown_words(query), sims)
        best_sim = units[max(range(len(units)), key=lambda i: sims[i])].hit_rank if units else None
        if not is_prose(text):  # decoded binary: the learned verdict never saw such text; the rules judge it
            return assessment, assessment.rule
        verdict = decide(assessment, self.models.get("claim_topic"), self.models.get("claim_conflict"), hits,
                         best_sim, self.models.get("claim_value"))
        return assessment, verdict


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
        claims = self.draft_claims(draft)
        self.prime([claim.text for claim in claims])
        return [CheckedClaim(claim, self.cite(claim.text)) for claim in claims]


def prepare_models(settings: Settings) -> None:
    """The learned models' derived files (the answer verifier's int8 export) made now, by a build, rather than by
    the first worker that loads them."""
    with_verifier(load_model_set(settings.learned_models), settings.models_dir)


def open_engine(settings: Settings, shards: ShardOpener | None = None) -> Engine:
    """The engine over the current index version; a sharded version's shards are reached through `shards` when
    given (reportqa.scaleout), else loaded in this process."""
    expect = {"embed_model": settings.embed_model, "chunker": chunker_manifest(settings)}
    generator = None
    if settings.llm_base_url and settings.llm_model:
        key = settings.llm_api_key.get_secret_value() if settings.llm_api_key else None
        generator = Generator.from_settings(settings.llm_base_url, settings.llm_model, key)
    index = open_index(settings.index_dir, expect=expect, models_dir=settings.models_dir, shards=shards)
    models = with_verifier(load_model_set(settings.learned_models), settings.models_dir)
    return Engine(index, settings, generator, models)
