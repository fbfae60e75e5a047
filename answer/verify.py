"""Judge a claim against retrieved passages: supported, contradicted (with the report's value) or unsupported."""

from __future__ import annotations

import math
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, replace
from functools import lru_cache

from reportqa.answer.binding import misbound_figures
from reportqa.answer.conflicts import (
    anchored_name_conflict,
    clause_name_conflict,
    clause_span,
    direction_conflict,
    name_conflict,
    rank_conflict,
)
from reportqa.answer.numbers import Quantity, family, prepare, quantities
from reportqa.index.query import Query, english_names, translate_english
from reportqa.index.text import bigrams, is_english, normalize, proper_nouns, without_spaces

from reportqa.core.types import Citation, Hit

SUPPORTED, CONTRADICTED, UNSUPPORTED = "supported", "contradicted", "unsupported"
TOPIC_THRESHOLD = 0.45  # share of the claim's (non-number) terms a passage must hold to be about the same thing
UNKNOWN_SUPPORT = 0.75  # a claim naming what the corpus lacks is unsupported unless a passage covers it this well
LOW_TOPIC = 0.25  # below the topic threshold, an exact figure of three significant digits still counts
CONTEXT_SHARE = 0.3  # share of the words around a claimed figure a stated one must share to contradict it
FIGURES_SETTLE = 2  # a sentence stating two of the claimed figures is on the subject, whatever its wording
_NUMBERISH = re.compile(r"^[\d.%]+$|^\d")


@dataclass(frozen=True, slots=True)
class Verdict:
    claim: str
    verdict: str
    report_value: str | None
    claim_value: str | None
    citations: tuple[Citation, ...]
    support: float  # topical coverage of the best passage sentence


def topical_query(query: Query) -> Query:
    """The claim's terms without its figures: what the passage must be about, whatever numbers it gives."""
    return replace(query, core=tuple(t for t in query.core if not _NUMBERISH.match(t)))


def _context_terms(text: str, figure: Quantity, found: Sequence[Quantity], terms: Iterable[str],
                   reach: int = 24) -> set[str]:
    """The claim's terms written around a figure, up to the neighbouring figures on either side: in
    "2022年11月：ChatGPT发布，…2023年3月：GPT-4发布" each date keeps its own event."""
    end = figure.end
    before = [q.end for q in found if q.end <= figure.start]
    after = [q.start for q in found if q.start >= end]
    english = is_english(text)
    reach = reach * ENGLISH_REACH if english else reach
    low = max([figure.start - reach, *before])
    high = min([end + reach, *after])
    # an English claim's terms are Chinese renderings: its window is read through the same glossary
    window = _rendered(text[max(0, low) : high]) if english else without_spaces(text[max(0, low) : high])
    return {t for t in terms if t in window}


ENGLISH_REACH = 2  # English words are longer than Chinese ones: a figure's surroundings reach twice as far


@lru_cache(maxsize=4096)
def _rendered(english: str) -> str:
    """An English window as the Chinese renderings of its words, beside the words themselves (names, acronyms)."""
    chinese, kept = translate_english(english)
    return without_spaces(" ".join([normalize(english), *chinese, *kept]))


def _year_before(found: Sequence[Quantity], figure: Quantity, reach: int = 24) -> int | None:
    """The year written just before a figure, with no other figure of its kind in between
    (…从2025年的1.74万亿美元飙升至2.59万亿美元 ties 1.74 to 2025 and leaves 2.59 open)."""
    years = [q for q in found if q.kind == "year" and figure.start - reach <= q.start < figure.start]
    if not years:
        return None
    year = max(years, key=lambda q: q.start)
    between = [q for q in found if q.kind == figure.kind and year.start < q.start < figure.start]
    return None if between else int(year.value)


@dataclass(frozen=True, slots=True)
class Alignment:
    """A stated figure read as a claimed one's counterpart: what the rules and the value chooser weigh."""

    stated: Quantity
    year_agrees: bool  # no year written just before it, or one of the claim's years
    share: float  # weight of the words around the claimed figure that the stated one's surroundings share


@dataclass(frozen=True, slots=True)
class _StatedFigure:
    """A sentence's figure with the year written just before it and the claim's words around it, read once."""

    figure: Quantity
    year: int | None
    context: frozenset[str]


def _claim_words(terms: Mapping[str, float], claimed: Sequence[Quantity]) -> dict[str, float]:
    """The claim's terms that are no part of one of its figures (美元 of 亿美元 is the unit, not the subject)."""
    return {t: w for t, w in terms.items() if not any(t in q.text.lower() for q in claimed)}


def _stated_figures(passage: str, found: Sequence[Quantity], figures: Sequence[Quantity],
                    years_from: Sequence[Quantity], words: Mapping[str, float]) -> list[_StatedFigure]:
    """Each of `figures`' year (among `years_from`) and surrounding claim words, so that a sentence is read once;
    `found` is every quantity of the passage as quantities() read it."""
    prepared, marks = prepare(passage), _figures(found)
    return [_StatedFigure(s, None if s.kind in {"year", "date"} else _year_before(years_from, s),
                          frozenset(_context_terms(prepared, s, marks, words))) for s in figures]


def _ranked(claim_q: Quantity, claimed: Sequence[Quantity], prepared_claim: str, stated: Sequence[_StatedFigure],
            words: Mapping[str, float]) -> list[Alignment]:
    """The stated figures of the claimed one's kind, the one it most likely speaks of first: same year, the rarest
    shared nearby words, nearest value (the first of equals stays first)."""
    same_kind = [s for s in stated if family(s.figure.kind) == family(claim_q.kind)]
    if not same_kind:
        return []
    dates = {q.start for q in claimed if q.kind == "date"}
    claim_years = {int(q.value) for q in claimed if q.kind == "year" and q.start not in dates}
    around = _context_terms(prepared_claim, claim_q, _figures(claimed), words)

    def fit(s: _StatedFigure) -> tuple[bool, float, float]:
        shared = math.fsum(words[t] for t in around & s.context)  # fsum: a set's order changes per process
        return (s.year is None or not claim_years or s.year in claim_years, shared,
                -abs(s.figure.value - claim_q.value) / max(abs(claim_q.value), 1e-9))

    total = max(math.fsum(words[t] for t in around), 1e-9)
    ranked = sorted(((s, fit(s)) for s in same_kind), key=lambda pair: pair[1], reverse=True)
    return [Alignment(s.figure, f[0], f[1] / total) for s, f in ranked]


def align(claim_q: Quantity, claimed: Sequence[Quantity], prepared_claim: str, stated: Sequence[Quantity],
          passage: str, terms: Mapping[str, float]) -> Alignment | None:
    """The stated figure the claimed one speaks of; `claimed` is every quantity of the claim, `prepared_claim` the
    claim as quantities() read it."""
    words = _claim_words(terms, claimed)
    same_kind = [s for s in stated if family(s.kind) == family(claim_q.kind)]
    read = _stated_figures(passage, quantities(passage), same_kind, stated, words)
    ranked = _ranked(claim_q, claimed, prepared_claim, read, words)
    return ranked[0] if ranked else None


@dataclass(frozen=True, slots=True)
class FigureAlternative:
    """A figure of a claimed one's kind that a sentence states and the claim does not: a candidate for the report's
    value beside the one the rules align (the value chooser weighs them all)."""

    claimed: str
    stated: str
    share: float  # weight of the words around the claimed figure that the stated one's surroundings share
    gap: float  # |stated - claimed| / |claimed|, at most 1
    year_agrees: bool  # no year written just before the stated figure, or one of the claim's years
    fit_rank: int  # its place among the sentence's figures of that kind in the claimed figure's ranking


ALTERNATIVES_PER_SENTENCE = 6  # a sentence's differing figures offered as the report's value, best aligned first
CLAIMED_FIGURES_ALIGNED = 8  # a claim is one sentence: past this many figures it is a table pasted in


def figure_alternatives(claim: str, passage: str, terms: Mapping[str, float]) -> tuple[FigureAlternative, ...]:
    """The sentence's figures that differ from every claimed one, each once, as the counterpart of the claimed
    figure (not a year, not stated by the sentence) that ranks it highest; the sentence is read once."""
    claim_found = quantities(claim)
    claimed = [q for q in _figures(claim_found) if q.kind not in {"year", "date"}][:CLAIMED_FIGURES_ALIGNED]
    stated = quantities(passage)
    stated_too = [c for c in claimed if any(s.matches(c) for s in stated)]
    # a claimed figure the sentence gives to another name is open too (中国 206座 against 中国77座、美国206座); the
    # names are tagged only when the sentence states one of the claimed figures
    given_away = misbound_figures(claim, passage) if stated_too else ()
    open_claims = [c for c in claimed if c not in stated_too
                   or any(m.kind == c.kind and m.matches(c) for m in given_away)]
    free = [s for s in stated if s.kind not in {"year", "date"} and _worth_checking(s) and math.isfinite(s.value)
            and not any(s.matches(c) for c in claimed)]
    if not open_claims or not free:
        return ()
    words = _claim_words(terms, claim_found)
    read = _stated_figures(passage, stated, free, stated, words)  # the years are read from every stated figure
    prepared_claim = prepare(claim)
    best: dict[str, FigureAlternative] = {}  # by the stated figure as written: each value offered once
    for claim_q in open_claims:
        for rank, found in enumerate(_ranked(claim_q, claim_found, prepared_claim, read, words)):
            gap = abs(found.stated.value - claim_q.value) / max(abs(claim_q.value), 1e-9)
            alternative = FigureAlternative(claim_q.text, found.stated.text, found.share,
                                            min(gap, 1.0) if math.isfinite(gap) else 1.0, found.year_agrees, rank)
            kept = best.get(found.stated.text)
            if kept is None or (rank, -found.share) < (kept.fit_rank, -kept.share):
                best[found.stated.text] = alternative
    return tuple(sorted(best.values(), key=lambda a: (a.fit_rank, -a.share))[:ALTERNATIVES_PER_SENTENCE])


@dataclass(frozen=True, slots=True)
class Check:
    """What one passage sentence says about a claim."""

    matched: int  # claimed figures (other than years) the sentence states the same
    conflict: tuple[str, str] | None  # (claimed, stated) where they disagree
    distinctive: bool = False  # one of them has three significant digits (655家, 488万美元, 13.1%)
    # a claimed figure whose nearest stated figure of its kind differs, but is written about words the claimed
    # one shares too little of (below CONTEXT_SHARE): not a conflict by the rules; the learned verdict weighs it
    near: NearConflict | None = None
    # of a figure conflict: how much of the words around the claimed figure the stated one's share (0 for a rank,
    # name or direction conflict), and how far apart the two values are (|stated - claimed| / |claimed|, at most 1)
    conflict_share: float = 0.0
    conflict_gap: float = 0.0
    # share of the claim's years the passage (with its chunk) never writes: 48种 in 2024 against 87种 in 2023 is
    # perhaps a year the report does not give
    years_unstated: float = 0.0
    # of the figures the sentence states the same: the least of the words around them the two share, and the
    # share of them another figure of the sentence (a different value) is written closer to (86% matched by CU's
    # 超过70% where 中国移动's 68% sits by the claim's words): measurements for the learned verdict, not a rule
    agreement_share: float = 0.0
    agreement_outranked: float = 0.0


@dataclass(frozen=True, slots=True)
class NearConflict:
    """The stated figure a claimed one might speak of, when the words around them share too little to say so."""

    claimed: str
    stated: str
    share: float  # weight of the words around the claimed figure that the stated one's surroundings share
    relative_gap: float  # |stated - claimed| / |claimed|


def _worth_checking(q: Quantity) -> bool:
    """A bare small integer (5 in 5G, 1日) is not a figure to compare or to bound another's context; a
    decimal (84.04) is."""
    return bool(q.kind) or q.value >= 100 or not float(q.value).is_integer()


def _figures(found: Sequence[Quantity]) -> list[Quantity]:
    return [q for q in found if _worth_checking(q)]


def _names_elsewhere(prepared_claim: str, figure: Quantity, flat_context: str) -> bool:
    """A name in the figure's clause of which the passage holds not even a piece (宇树科技; while 同比增加,
    which jieba may tag as a person, still shares 同比 with 同比增长). In an English claim the names are the
    words no dictionary translates (Llama, Kling), as jieba tags every Latin word a name."""
    start, end = clause_span(prepared_claim, figure.start)
    if is_english(prepared_claim):
        return any(name not in flat_context for name in english_names(prepared_claim[start:end]))
    return any(not any(piece in flat_context for piece in (bigrams(w) or [w]))
               for w, _ in proper_nouns(prepared_claim[start:end]))


def check_unit(claim: str, passage: str, terms: Mapping[str, float], context: str = "", source: str = "") -> Check:
    """Figures compared one to one; then ranks (over the whole passage, for the claim's subject) and names:
    anchored to an agreed figure when there is one, else any lone name of the same kind. `source`: the title of
    the passage's report, whose names (摩根士丹利, SCSP) a claim may cite as its source, not as its subject."""
    claim_found = quantities(claim)
    claimed = _figures(claim_found)[:CLAIMED_FIGURES_ALIGNED]  # bounded work: no real claim has more than 6
    stated = quantities(passage)
    dated = [q for q in claimed if q.kind == "date"]
    claimed = [q for q in claimed if not (q.kind == "year" and any(d.start == q.start for d in dated))]
    matched = 0
    agreed: list[tuple[Quantity, Quantity]] = []
    for claim_q in claimed:
        same = next((s for s in stated if s.matches(claim_q)), None)
        if same is not None:
            matched += claim_q.kind != "year"  # a year alone is common ground, not evidence
            agreed.append((claim_q, same))
    taken = {id(s) for _, s in agreed}
    figures = [q for q in claimed if q.kind not in {"year", "date"}]
    # the passage's words and its report's title: a name the claim cites as its source is not a foreign subject
    flat_context, prepared_claim = normalize(context or passage) + normalize(source), prepare(claim)
    standing = agreement_standing(agreed, claim_found, prepared_claim, stated, passage, terms)
    near: NearConflict | None = None
    years_unstated = _years_unstated(claimed, context or passage)
    # the figures before the years: a differing figure is what a claim gets wrong, its year mostly the setting
    for claim_q in sorted(claimed, key=lambda q: q.kind in {"year", "date"}):
        if any(c is claim_q for c, _ in agreed):
            continue
        if claim_q.kind in {"year", "date"} and figures and not matched:
            continue  # another year and none of the figures: a passage about another year, not a conflict
        if not matched and _names_elsewhere(prepared_claim, claim_q, flat_context):
            continue  # the figure's clause names someone the passage never does (宇树科技's sales are not China's)
        free = [s for s in stated if id(s) not in taken and _worth_checking(s)]  # one stated figure, one claimed
        aligned = align(claim_q, claim_found, prepared_claim, free, passage, terms)
        swapped = aligned is None and claim_q.kind in CURRENCIES
        if swapped:  # 1.5万亿美元 claimed where the report writes 1.5万亿元: the currency is the conflict
            aligned = align(claim_q, claim_found, prepared_claim, _as_claimed_currency(claim_q, free), passage, terms)
        if aligned is None:
            continue
        claim_year = _year_before(claim_found, claim_q) if claim_q.kind not in {"year", "date"} else None
        same_year = claim_year is not None and _year_before(stated, aligned.stated) == claim_year
        gap = 1.0 if swapped else abs(aligned.stated.value - claim_q.value) / max(abs(claim_q.value), 1e-9)
        if aligned.share < CONTEXT_SHARE and not same_year:
            if claim_q.kind not in {"year", "date"} and gap > 0 and (near is None or aligned.share > near.share):
                near = NearConflict(claim_q.text, aligned.stated.text, aligned.share, gap)
            continue  # no figure of the passage is written about what this one is about
        return Check(matched, (claim_q.text, aligned.stated.text), near=near, conflict_share=aligned.share,
                     conflict_gap=min(gap, 1.0), years_unstated=years_unstated, agreement_share=standing[0],
                     agreement_outranked=standing[1])
    conflict = (rank_conflict(claim, passage, context) or anchored_name_conflict(claim, passage, agreed)
                or clause_name_conflict(claim, passage, context))
    if conflict is None and not matched:
        conflict = name_conflict(claim, passage, context)
    if conflict is not None and _abbreviates(conflict[0], conflict[1]):
        conflict = None  # 中电联 for 中国电力企业联合会
    conflict = conflict or direction_conflict(claim, passage)
    return Check(matched, conflict, any(_significant_digits(c) >= 3 for c, _ in agreed if c.kind != "year"), near,
                 years_unstated=years_unstated, agreement_share=standing[0], agreement_outranked=standing[1])


def agreement_standing(agreed: Sequence[tuple[Quantity, Quantity]], claim_found: Sequence[Quantity],
                       prepared_claim: str, stated: Sequence[Quantity], passage: str, terms: Mapping[str, float]
                       ) -> tuple[float, float]:
    """How well the sentence's agreeing figures are anchored (Check.agreement_share, agreement_outranked): each
    agreed figure ranked among the sentence's figures of its kind by the words around it, as a conflict is."""
    pairs = [(c, s) for c, s in agreed if c.kind not in {"year", "date"}]
    if not pairs:
        return 0.0, 0.0
    words = _claim_words(terms, claim_found)
    read = _stated_figures(passage, stated, [s for s in stated if s.kind not in {"year", "date"}], stated, words)
    shares, outranked = [], 0
    for claim_q, same in pairs:
        ranked = _ranked(claim_q, claim_found, prepared_claim, read, words)
        own = next((a.share for a in ranked if a.stated is same), 0.0)
        shares.append(own)
        outranked += any(a.share > own and not a.stated.matches(claim_q) for a in ranked)
    return min(shares), outranked / len(pairs)


def _years_unstated(claimed: Sequence[Quantity], text: str) -> float:
    """The share of the claim's years that the text never writes."""
    years = {int(q.value) for q in claimed if q.kind == "year"}
    if not years:
        return 0.0
    written = {int(q.value) for q in quantities(text) if q.kind == "year"}
    return len(years - written) / len(years)


CURRENCIES = frozenset({"usd", "cny", "eur"})


def _as_claimed_currency(claimed: Quantity, stated: Sequence[Quantity]) -> list[Quantity]:
    """The stated sums of the claimed value in another currency, relabelled as the claimed one so that align
    weighs their surroundings like any figure's; each keeps its own text (1.5万亿元) for the report's value."""
    return [relabelled for s in stated if s.kind in CURRENCIES and s.kind != claimed.kind
            for relabelled in [replace(s, kind=claimed.kind)] if relabelled.matches(claimed)]


def _significant_digits(q: Quantity) -> int:
    digits = f"{q.value:.6g}".replace(".", "").replace("-", "").split("e")[0]
    return len(digits.strip("0"))


def _abbreviates(short: str, long: str) -> bool:
    """Every character of the shorter name in order in the longer one."""
    short, long = sorted((short, long), key=len)
    rest = iter(long)
    return len(short) >= 2 and all(ch in rest for ch in short)


def _verdict(claim: str, verdict: str, check: Check, hits: Sequence[Hit], rank: int, support: float) -> Verdict:
    conflict = check.conflict or (None, None)
    return Verdict(claim, verdict, conflict[1], conflict[0], _cite(hits, [rank]), support)


def _cite(hits: Sequence[Hit], first: list[int]) -> tuple[Citation, ...]:
    order = first + [i for i in range(len(hits)) if i not in first]
    return tuple(Citation(n, hits[i].chunk, hits[i].score) for n, i in enumerate(order, start=1))
