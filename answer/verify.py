"""Judge a claim against retrieved passages: supported, contradicted (with the report's value) or unsupported."""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from answer.extract import term_coverage, units_of
from answer.numbers import Quantity, prepare, quantities
from index.query import Query
from index.text import normalize, proper_nouns
from reportqa.types import Citation, Hit

SUPPORTED, CONTRADICTED, UNSUPPORTED = "supported", "contradicted", "unsupported"
TOPIC_THRESHOLD = 0.45  # share of the claim's (non-number) terms a passage must hold to be about the same thing
UNKNOWN_SUPPORT = 0.75  # a claim naming what the corpus lacks is unsupported unless a passage covers it this well
_ORDINAL = re.compile(r"第([一二三四五六七八九十\d]+)(?:位|名|大)?|首位|榜首|居首|位居首位|排名第一")
_CN_ORDINALS = {"一": 1, "二": 2, "三": 3, "四": 4, "五": 5, "六": 6, "七": 7, "八": 8, "九": 9, "十": 10}
_NUMBERISH = re.compile(r"^[\d.%]+$|^\d")


@dataclass(frozen=True, slots=True)
class Verdict:
    claim: str
    verdict: str
    report_value: str | None
    claim_value: str | None
    citations: tuple[Citation, ...]
    support: float  # topical coverage of the best passage sentence


def ordinal(text: str) -> int | None:
    match = _ORDINAL.search(text)
    if not match:
        return None
    if match.group(1) is None:
        return 1
    value = match.group(1)
    return int(value) if value.isdigit() else _CN_ORDINALS.get(value)


def topical_query(query: Query) -> Query:
    """The claim's terms without its figures: what the passage must be about, whatever numbers it gives."""
    from dataclasses import replace

    return replace(query, core=tuple(t for t in query.core if not _NUMBERISH.match(t)))


def _context_terms(text: str, position: int, terms: Sequence[str], radius: int = 14) -> set[str]:
    window = normalize(text[max(0, position - radius) : position + radius]).replace(" ", "")
    return {t for t in terms if t in window}


def _year_before(found: Sequence[Quantity], figure: Quantity, reach: int = 24) -> int | None:
    """The year written just before a figure, with no other figure of its kind in between
    (…从2025年的1.74万亿美元飙升至2.59万亿美元 ties 1.74 to 2025 and leaves 2.59 open)."""
    years = [q for q in found if q.kind == "year" and figure.start - reach <= q.start < figure.start]
    if not years:
        return None
    year = max(years, key=lambda q: q.start)
    between = [q for q in found if q.kind == figure.kind and year.start < q.start < figure.start]
    return None if between else int(year.value)


def align(claim_q: Quantity, claim: str, stated: Sequence[Quantity], passage: str, terms: Sequence[str]
          ) -> Quantity | None:
    """The stated figure the claimed one speaks of: same kind, same year, most shared nearby words, nearest value."""
    same_kind = [s for s in stated if s.kind == claim_q.kind]
    if not same_kind:
        return None
    claim_years = {int(q.value) for q in quantities(claim) if q.kind == "year"}
    around = _context_terms(prepare(claim), claim_q.start, terms)
    prepared = prepare(passage)

    def fit(s: Quantity) -> tuple[bool, int, float]:
        year = _year_before(stated, s)
        return (year is None or not claim_years or year in claim_years,
                len(around & _context_terms(prepared, s.start, terms)),
                -abs(s.value - claim_q.value) / max(abs(claim_q.value), 1e-9))

    return max(same_kind, key=fit)


@dataclass(frozen=True, slots=True)
class Check:
    """What one passage sentence says about a claim."""

    matched: int  # claimed figures (other than years) the sentence states the same
    conflict: tuple[str, str] | None  # (claimed, stated) where they disagree


def check_unit(claim: str, passage: str, terms: Sequence[str], context: str = "") -> Check:
    claimed = [q for q in quantities(claim) if q.kind or q.value >= 100]
    stated = quantities(passage)
    matched = 0
    for claim_q in claimed:
        if any(s.matches(claim_q) for s in stated):
            matched += claim_q.kind != "year"  # a year alone is common ground, not evidence
            continue
        partner = align(claim_q, claim, stated, passage, terms)
        if partner is None:
            continue
        several_years = claim_q.kind == "year" and sum(1 for s in stated if s.kind == "year") > 1
        if several_years and not _context_terms(prepare(passage), partner.start, terms):
            continue  # a passage spanning several years, none of them tied to the claim's subject
        return Check(matched, (claim_q.text, partner.text))
    conflict = _rank_conflict(claim, passage) or _name_conflict(claim, passage, context)
    return Check(matched, conflict)


def judge(claim: str, hits: Sequence[Hit], query: Query, idf: Mapping[str, float],
          unknown: Sequence[str] = ()) -> Verdict:
    """Supported when a passage sentence on the same subject agrees; contradicted when its figure, date,
    rank or name differs; unsupported when no passage is about the subject or the claim names something
    the corpus never mentions."""
    units = units_of(hits, depth=len(hits))
    if not units:
        return Verdict(claim, UNSUPPORTED, None, None, (), 0.0)
    topic = topical_query(query)
    support = [term_coverage(u.text, topic, idf) for u in units]
    order = sorted(range(len(units)), key=lambda i: (-support[i], units[i].hit_rank))
    best = order[0]
    if support[best] < TOPIC_THRESHOLD or (unknown and support[best] < UNKNOWN_SUPPORT):
        return Verdict(claim, UNSUPPORTED, None, None, _cite(hits, []), support[best])
    terms = [t for t in topic.core if len(t) >= 2]
    checks = {i: check_unit(claim, units[i].text, terms, hits[units[i].hit_rank].chunk.text)
              for i in order[:4] if support[i] >= support[best] - 0.1}
    for i, check in checks.items():  # a close sentence stating the same figure settles it
        if check.matched and check.conflict is None:
            return Verdict(claim, SUPPORTED, None, None, _cite(hits, [units[i].hit_rank]), support[i])
    conflict = checks[best].conflict
    if conflict is not None:
        return Verdict(claim, CONTRADICTED, conflict[1], conflict[0], _cite(hits, [units[best].hit_rank]),
                       support[best])
    return Verdict(claim, SUPPORTED, None, None, _cite(hits, [units[best].hit_rank]), support[best])


def _rank_conflict(claim: str, passage: str) -> tuple[str, str] | None:
    """(claimed rank, stated rank) when both name a rank and they differ: 第二 vs 首位."""
    claimed, stated = _ORDINAL.search(claim), _ORDINAL.search(passage)
    if claimed and stated and ordinal(claimed.group(0)) != ordinal(stated.group(0)):
        return claimed.group(0), stated.group(0)
    return None


def _name_conflict(claim: str, passage: str, context: str = "") -> tuple[str, str] | None:
    """A name in the claim the passage replaces with another of the same kind (上海 vs 北京).

    A place must be absent from the whole passage (context), not just the sentence: sentences often
    leave the country implied.
    """
    flat_claim, flat_passage, flat_context = normalize(claim), normalize(passage), normalize(context)
    claimed = [(w, k) for w, k in proper_nouns(claim)
               if w not in flat_passage and not (k == "ns" and w in flat_context)]
    stated = [(w, k) for w, k in proper_nouns(passage) if w not in flat_claim]
    for word, kind in claimed:
        others = [w for w, k in stated if k == kind]
        if len(others) == 1:
            return word, others[0]
    return None


def _cite(hits: Sequence[Hit], first: list[int]) -> tuple[Citation, ...]:
    order = first + [i for i in range(len(hits)) if i not in first]
    return tuple(Citation(n, hits[i].chunk, hits[i].score) for n, i in enumerate(order, start=1))
