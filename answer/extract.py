"""Extractive answers: pick the sentence or table row that best answers the question, within 150 characters."""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from functools import lru_cache

from reportqa.index.measures import states
from reportqa.index.query import Query, aliases
from reportqa.index.search import UNKNOWN_WORD_PENALTY
from reportqa.index.text import contains_term, normalize, weighted_coverage, weighted_terms
from reportqa.index.units import chunk_units, passage_topic
from reportqa.index.units import flat as _flat

from reportqa.core.types import Answer, Citation, Hit

MAX_ANSWER_CHARS = 150
STOPS = "。！？；;"  # a sentence ending in one of these needs no separator before the next

OWN_SHARE = 0.5  # a sentence that names the subject itself still ranks above one that only inherits it
UNKNOWN_IDF = 3.0  # within passages already retrieved, an unseen term says little about which sentence
RANK_PRIOR = (0.2, 0.1, 0.05)
VALUE_BONUS = 0.15
SPREAD_DISCOUNT = 0.3  # a term in every candidate sentence keeps 70% of its weight
YEAR_CONFLICT = 0.15  # a sentence about other years than the question names (2025年底 for 截至2024年底)
ANSWER_DEPTH = 3  # hits the best sentence is chosen from
PACKING_DEPTH = 5  # hits further sentences of the same report may join from
# an answer with no value of the kind asked for (多少颗, 哪一年, 谁) is as doubtful as a name the corpus lacks
UNIT_MISSING = UNKNOWN_WORD_PENALTY
EXTRA_UNITS = 3  # sentences that may join the best one: CMRC answer_ok 0.798 (one neighbour) → 0.840
_NUMBER = re.compile(r"\d[\d,.]*\s*(?:%|％|万亿|亿|万|倍|个|家|年|月|gw|gwh|tw|eflops)?", re.IGNORECASE)
_ORG = re.compile(r"公司|集团|科技|银行|研究院|大学|机构|实验室|[A-Z][a-zA-Z]+")
_YEAR = re.compile(r"(?<!\d)(?:19|20)\d\d(?!\d)")
_DATE = re.compile(r"\d{4}\s*年|\d{1,2}\s*月")
_PLACE = re.compile(r"位于|分布于|分布在|产于|坐落|发源于|[省市县区国洋州岛路街镇村]")
_REASON = re.compile(r"因为|由于|因此|所以|导致|为了|原因|因")
_DEFINES = re.compile(r"(?:是指|指的是|即|是一种|是由|定义为|称为|[（(][A-Za-z]|[A-Za-z0-9][（(][\u4e00-\u9fff])")


@dataclass(frozen=True, slots=True)
class Unit:
    """A sentence of a prose passage or a row of a table, rendered so it reads on its own."""

    text: str
    hit_rank: int
    topic: str = ""  # what every sentence of the passage is about: its section and opening sentence


def units_of(hits: Sequence[Hit], depth: int = 3) -> list[Unit]:
    return [u for rank, hit in enumerate(hits[:depth]) for u in passage_units(hit, rank)]


def passage_units(hit: Hit, rank: int) -> list[Unit]:
    topic = hit.chunk.section if hit.chunk.kind == "table" else passage_topic(hit.chunk)
    return [Unit(text, rank, topic) for text in chunk_units(hit.chunk)]


def term_coverage(text: str, query: Query, idf: Mapping[str, float]) -> float:
    return weighted_coverage(query.core, _flat(text), idf, UNKNOWN_IDF)


def type_bonus(text: str, wants: str | None) -> float:
    if wants == "number":
        return 0.15 if _NUMBER.search(text) else -0.1
    if wants == "date":
        return 0.15 if _DATE.search(text) else -0.1
    if wants == "org":
        return 0.1 if _ORG.search(text) else 0.0
    if wants == "place":
        return 0.1 if _PLACE.search(text) else 0.0
    if wants == "reason":
        return 0.1 if _REASON.search(text) else 0.0
    if wants == "definition":
        return 0.15 if _DEFINES.search(text) else 0.0
    return 0.0


def focus(query: Query) -> str | None:
    """What a number question asks the value of: its last content term (营业收入 in …营业收入是多少)."""
    words = content_terms(query.core)
    return words[-1] if words else None


def content_terms(core: Sequence[str]) -> list[str]:
    """The question's terms that are not figures or years, in the question's order."""
    return [t for t in core if not t[:1].isdigit()]


def value_follows(flat: str, query: Query) -> float:
    """A number written right after the asked-for term ("营业收入128亿元", "规模达2.59万亿美元") in a
    whitespace-free normalised text."""
    term = focus(query) if query.wants == "number" else None
    if not term:
        return 0.0
    return VALUE_BONUS if _value_after(term).search(flat) else 0.0


@lru_cache(maxsize=1024)
def _value_after(term: str) -> re.Pattern[str]:
    return re.compile(re.escape(term) + r"[为达到约是超过至突破了：:]{0,3}[约超近]?\d")


@dataclass(frozen=True, slots=True)
class AnswerTerms:
    """The question's terms, built once per question: each term's forms (itself, then its aliases) and weight."""

    forms: tuple[tuple[str, ...], ...]
    weights: tuple[float, ...]
    total: float
    shares: dict[int, float] = field(default_factory=dict, compare=False, hash=False, repr=False)  # mask → share
    masks: dict[str, int] = field(default_factory=dict, compare=False, hash=False, repr=False)  # text → present


def answer_terms(query: Query, idf: Mapping[str, float]) -> AnswerTerms:
    """An alias counts as the term: a sentence that writes 市占率 answers a question about 份额
    (eval/: hit@1 0.862 → 0.875, answer_ok 0.842 → 0.868)."""
    table = aliases()
    pairs, total = weighted_terms(query.core, idf, UNKNOWN_IDF)
    forms = tuple((term, *(a.replace(" ", "") for a in table.get(term, ()))) for term, _ in pairs)
    return AnswerTerms(forms, tuple(w for _, w in pairs), total)


def discriminating(terms: AnswerTerms, units: Sequence[Unit]) -> AnswerTerms:
    """Terms written in most candidate sentences (the subject) tell them apart less than the rest."""
    masks = [present(terms, _flat(u.text)) for u in units]
    n = len(masks) or 1
    weights = tuple(w * (1 - SPREAD_DISCOUNT * sum(m >> k & 1 for m in masks) / n)
                    for k, w in enumerate(terms.weights))
    return AnswerTerms(terms.forms, weights, sum(weights), masks=terms.masks)  # same forms: same presence


def present(terms: AnswerTerms, flat: str) -> int:
    """Bit k set when term k is written, in any form, in a whitespace-free normalised text (looked up once per
    text: a passage's topic is shared by all its sentences, and every sentence is scored after weighing)."""
    mask = terms.masks.get(flat)
    if mask is None:
        mask = 0
        for k, forms in enumerate(terms.forms):
            if any(contains_term(flat, form) for form in forms):
                mask |= 1 << k
        terms.masks[flat] = mask
    return mask


def weight_share(terms: AnswerTerms, mask: int) -> float:
    share = terms.shares.get(mask)
    if share is None:
        got = sum(w for k, w in enumerate(terms.weights) if mask >> k & 1)
        share = terms.shares[mask] = got / terms.total if terms.total > 0 else 0.0
    return share


def answer_coverage(terms: AnswerTerms, flat: str) -> float:
    return weight_share(terms, present(terms, flat))


def score_unit(unit: Unit, query: Query, terms: AnswerTerms) -> float:
    prior = RANK_PRIOR[unit.hit_rank] if unit.hit_rank < len(RANK_PRIOR) else 0.0
    flat = _flat(unit.text)
    own = present(terms, flat)
    with_topic = own | present(terms, _flat(unit.topic)) if unit.topic else own
    return (OWN_SHARE * weight_share(terms, own) + (1 - OWN_SHARE) * weight_share(terms, with_topic)
            + type_bonus(unit.text, query.wants) + value_follows(flat, query) + prior
            - year_conflict(flat, query))


def year_conflict(flat: str, query: Query) -> float:
    asked = {t for t in query.core if _YEAR.fullmatch(t)}
    if not asked:
        return 0.0
    stated = set(_YEAR.findall(flat))
    return YEAR_CONFLICT if stated and not stated & asked else 0.0


def trim(text: str, query: Query, limit: int = MAX_ANSWER_CHARS) -> str:
    """Cut a long sentence to the window of `limit` characters holding the most question terms."""
    if len(text) <= limit:
        return text
    flat = normalize(text)
    positions = sorted(p for t in query.core for p in _find_all(flat, t))
    if not positions:
        return text[: limit - 1] + "…"
    best_start, best_count = 0, -1
    for p in positions:
        start = max(0, min(p - limit // 3, len(text) - (limit - 2)))
        count = sum(1 for q in positions if start <= q < start + limit - 2)
        if count > best_count:
            best_start, best_count = start, count
    piece = text[best_start : best_start + limit - 2]
    return ("…" if best_start > 0 else "") + piece + ("…" if best_start + limit - 2 < len(text) else "")


def _find_all(text: str, term: str) -> list[int]:
    found, start = [], text.find(term)
    while start >= 0:
        found.append(start)
        start = text.find(term, start + 1)
    return found


Piece = tuple[str, int]  # a sentence of the answer and the index of the hit it was taken from


UnitScorer = Callable[[Sequence[Unit], AnswerTerms], list[float]]  # a score per candidate unit, higher is better


@dataclass(frozen=True, slots=True)
class Selection:
    """The answer's sentences in reading order with the hit each came from, and how the best one scored."""

    pieces: list[Piece]
    source: int | None  # index of the hit the best sentence came from
    best_score: float = 0.0
    runner_up: float | None = None  # the next best unit's score, for how clearly the best one won
    best: Unit | None = None


def rule_scorer(query: Query) -> UnitScorer:
    """Today's hand-weighted sum (score_unit): the rules-only baseline."""
    def score(units: Sequence[Unit], terms: AnswerTerms) -> list[float]:
        return [score_unit(u, query, terms) for u in units]

    return score


def select_answer(hits: Sequence[Hit], query: Query, idf: Mapping[str, float]) -> tuple[list[Piece], int | None]:
    """(the answer's sentences in reading order, index of the hit the best one came from), by the rules."""
    chosen = choose_units(hits, query, idf, rule_scorer(query))
    return chosen.pieces, chosen.source


def choose_units(hits: Sequence[Hit], query: Query, idf: Mapping[str, float], scorer: UnitScorer) -> Selection:
    """The best unit of the top hits, joined by the next best of the same report that share a question term
    themselves, while they fit in 150 characters: a long passage is often split over several hits."""
    units = units_of(hits, ANSWER_DEPTH)
    if not units:
        return Selection([], None)
    terms = answer_terms(query, idf)
    if query.wants != "definition":  # there the term in every sentence is the one asked about
        terms = discriminating(terms, units)
    scores = scorer(units, terms)
    best = max(range(len(units)), key=lambda i: (scores[i], -i))
    runner_up = max((scores[i] for i in range(len(units)) if i != best), default=None)
    source = units[best].hit_rank
    more = [u for rank in range(ANSWER_DEPTH, min(PACKING_DEPTH, len(hits)))
            if hits[rank].chunk.doc == hits[source].chunk.doc for u in passage_units(hits[rank], rank)]
    if more:
        units, scores = [*units, *more], [*scores, *scorer(more, terms)]
    chosen = {best: trim(units[best].text, query)}
    length = len(chosen[best])
    for i in sorted(range(len(scores)), key=lambda i: (-scores[i], i)):
        if len(chosen) > EXTRA_UNITS:
            break
        text = units[i].text
        if i in chosen or text in chosen.values():
            continue
        same_report = hits[units[i].hit_rank].chunk.doc == hits[source].chunk.doc
        if same_report and length + len(text) + 1 <= MAX_ANSWER_CHARS and answer_coverage(terms, _flat(text)) > 0:
            chosen[i] = text
            length += len(text) + 1
    order = sorted(chosen, key=lambda i: (hits[units[i].hit_rank].chunk.start, i))
    pieces = [(chosen[i].rstrip("；;，,"), units[i].hit_rank) for i in order]  # no dangling clause mark
    return Selection(pieces, source, scores[best], runner_up, units[best])


def separator(before: str) -> str:
    """What goes between a sentence and the next: nothing after a full stop or semicolon, else "；"."""
    return "" if not before or before[-1] in STOPS else "；"


def join_pieces(pieces: Sequence[str]) -> str:
    text = ""
    for piece in pieces:
        text += separator(text) + piece
    return text


def answer_from_hits(question: str, hits: Sequence[Hit], query: Query, idf: Mapping[str, float],
                     threshold: float, qid: str = "") -> Answer:
    """Answer with numbered citations, or abstain when the best passage covers too little of the question."""
    confidence = hits[0].channel_scores.get("confidence", 0.0) if hits else 0.0
    if not hits or confidence < threshold:
        return _refusal(question, qid, confidence)
    pieces, source = select_answer(hits, query, idf)
    text = join_pieces([p for p, _ in pieces])
    measure = query.measure
    if measure and not states(text, measure):
        confidence *= UNIT_MISSING  # unanswerable refused: eval/ 0.444 → 0.833, fresh 0 → 0.5, fresh2 0.06 → 0.17
        if confidence < threshold:
            return _refusal(question, qid, confidence)
    ordered = answer_first(hits, source)
    number = {id(hit): n for n, hit in enumerate(ordered, start=1)}
    citations = tuple(Citation(n, hit.chunk, hit.score) for n, hit in enumerate(ordered, start=1))
    return Answer(question=question, text=text, abstained=False, citations=citations, id=qid,
                  confidence=confidence, source=None if source is None else 1,
                  pieces=tuple((p, number[id(hits[h])]) for p, h in pieces))


def _refusal(question: str, qid: str, confidence: float) -> Answer:
    return Answer(question=question, text="", abstained=True, citations=(), id=qid, confidence=confidence)


def answer_first(hits: Sequence[Hit], source: int | None) -> list[Hit]:
    """The passage the answer was taken from (index `source`) leads, the others keep their order: the sentence
    that answers is better evidence of relevance than the passage score (eval/: hit@1 0.816 → 0.862)."""
    if source is None or source == 0:
        return list(hits)
    return [hits[source], *hits[:source], *hits[source + 1 :]]
