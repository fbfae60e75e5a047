"""The answer stage: choose the sentences, measure the signals, decide whether to answer, number the citations.

The same path serves the rules-only baseline (no learned models: hand-weighted sentence scores and coverage as
confidence) and the learned system (the reader scores sentences, the answerability model gives the
probability that the answer is right). The answer is chosen from a fixed pool of hits; `top_k` only limits how
many citations are listed.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass, replace

from reportqa.answer.answerability import (
    Signals,
    absences,
    measure_missing,
    probability_correct,
    rule_confidence,
    sigmoid,
)
from reportqa.answer.extract import (
    AnswerTerms,
    Selection,
    Unit,
    UnitScorer,
    _flat,
    answer_coverage,
    answer_terms,
    choose_units,
    join_pieces,
    passage_units,
    rule_scorer,
)
from reportqa.answer.reader import ENCODED, UnitSimilarities, read, similarities_of
from reportqa.index.query import Query

from reportqa.core.learned import UNVERIFIED, LearnedModel, ModelSet, matrix, needs_verifier
from reportqa.core.types import Answer, Citation, Hit


@dataclass(frozen=True, slots=True)
class Reading:
    """What the answer stage decided and why."""

    answer: Answer
    selection: Selection
    signals: Signals | None


def learned_scorer(reader_model: object, hits: Sequence[Hit], query: Query,
                   unit_sims: UnitSimilarities | None) -> UnitScorer:
    def score(units: Sequence[Unit], terms: AnswerTerms) -> list[float]:
        sims = similarities_of(units, hits, unit_sims, passage_units)
        encoded = similarities_of(units, hits, unit_sims, passage_units, ENCODED)
        probabilities, _ = read(units, sims, hits, query, terms, reader_model, encoded)  # type: ignore[arg-type]
        return probabilities

    return score


def relevance_of(hit: Hit, relevance: LearnedModel | None) -> float:
    """How likely a passage is relevant at all: the pointwise relevance model over the ranker's features when there
    is one (the pairwise ranker only orders a question's passages), else the ranker's own probability."""
    scores = hit.channel_scores
    if relevance is not None and all(f in scores for f in relevance.features):
        return float(relevance.probabilities(matrix([scores], relevance.features))[0])
    return sigmoid(scores["ranker"]) if "ranker" in scores else hit.score


def measure_signals(question: str, query: Query, hits: Sequence[Hit], selection: Selection, text: str,
                    idf: Mapping[str, float], unit_sims: UnitSimilarities | None, unknown_names: int,
                    unknown_idf: float, centroid_lift: float = 0.0, relevance: LearnedModel | None = None) -> Signals:
    ranker_top = relevance_of(hits[0], relevance)
    # with nothing to compare against (one passage, one sentence) a margin says nothing: 0, not the whole score,
    # which no training question ever had (a one-document index answered right got probability 1e-6)
    ranker_next = relevance_of(hits[1], relevance) if len(hits) > 1 else ranker_top
    top = hits[0].channel_scores
    best = selection.best
    unit_sim = similarities_of([best], hits, unit_sims, passage_units)[0] if best else 0.0
    sims = [h.channel_scores.get("dense", 0.0) for h in hits]
    answer_flat = _flat(f"{best.text} {best.topic}").lower() if best else ""
    source = hits[selection.source or 0].chunk
    missing = absences(question, query.words, query.core, answer_flat,
                       _flat(f"{source.section} {source.text}").lower(), idf, unknown_idf)
    return Signals(
        ranker_top=ranker_top, ranker_margin=ranker_top - ranker_next,
        reader_top=selection.best_score,
        reader_margin=selection.best_score - selection.runner_up if selection.runner_up is not None else 0.0,
        unit_sim=unit_sim, chunk_sim=sims[0], chunk_sim_margin=sims[0] - max(sims[1:], default=sims[0]),
        coverage=top.get("coverage", 0.0),
        unit_coverage=answer_coverage(answer_terms(query, idf), _flat(best.text)) if best else 0.0,
        unknown_names=unknown_names, measure_missing=measure_missing(query.measure, text), english=query.english,
        wants_number=query.wants in {"number", "date"}, wants_entity=query.wants in {"org", "place"},
        centroid_lift=centroid_lift, **asdict(missing))


def respond(question: str, query: Query, hits: Sequence[Hit], idf: Mapping[str, float], models: ModelSet,
            threshold: float, unit_sims: UnitSimilarities | None, unknown_names: int, top_k: int,
            qid: str = "", unknown_idf: float = 10.0, centroid_lift: float = 0.0) -> Reading:
    """Answer from the pool of hits, or refuse when the answer is unlikely to be right."""
    if not hits:
        return Reading(_refusal(question, qid, 0.0), Selection([], None), None)
    reader_model = models.get("reader")
    scorer = (learned_scorer(reader_model, hits, query, unit_sims) if reader_model is not None
              else rule_scorer(query))
    selection = choose_units(hits, query, idf, scorer)
    text = join_pieces([p for p, _ in selection.pieces])
    signals = measure_signals(question, query, hits, selection, text, idf, unit_sims, unknown_names, unknown_idf,
                              centroid_lift, models.get("relevance"))
    confidence, signals = judged(question, selection, signals, models)
    if confidence < threshold or not selection.pieces:
        return Reading(_refusal(question, qid, confidence), selection, signals)
    ordered = listed(hits, selection, top_k)
    number = {id(hit): n for n, hit in enumerate(ordered, start=1)}
    citations = tuple(Citation(n, hit.chunk, hit.score) for n, hit in enumerate(ordered, start=1))
    answer = Answer(question=question, text=text, abstained=False, citations=citations, id=qid,
                    confidence=confidence, source=1,
                    pieces=tuple((p, number[id(hits[h])]) for p, h in selection.pieces))
    return Reading(answer, selection, signals)


def judged(question: str, selection: Selection, signals: Signals, models: ModelSet) -> tuple[float, Signals]:
    """The probability that the answer is right, and the signals it read. With a verifier, the model without it is
    asked first, and the verifier only where that one is unsure (ModelSet.verifier_band)."""
    judge = models.get("answerability")
    if judge is None:
        return rule_confidence(signals), signals
    if models.verifier is None:
        return probability_correct(signals, judge), signals
    unverified = models.get(UNVERIFIED)
    if unverified is not None:
        first = probability_correct(signals, unverified)
        if not needs_verifier(first, models.verifier_band):
            return first, signals
    if selection.best is not None:
        signals = replace(signals, verifier=models.verifier.logit(question, selection.best.text))
    return probability_correct(signals, judge), signals


def listed(hits: Sequence[Hit], selection: Selection, top_k: int) -> list[Hit]:
    """The passage of the best sentence first, the rest in ranked order (the sentence that answers is better
    evidence of relevance than the passage score), cut to top_k but never dropping a passage the answer quotes."""
    source = selection.source or 0
    ordered = [source, *(i for i in range(len(hits)) if i != source)]
    shown = ordered[:top_k]
    shown += [i for i in dict.fromkeys(h for _, h in selection.pieces) if i not in shown]
    return [hits[i] for i in shown]


def _refusal(question: str, qid: str, confidence: float) -> Answer:
    return Answer(question=question, text="", abstained=True, citations=(), id=qid, confidence=confidence)
