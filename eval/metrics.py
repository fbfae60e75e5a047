"""Pure scoring: relevance of a passage, ranking metrics, answer correctness, aggregation."""

from __future__ import annotations

import math
import re
import unicodedata
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field

MAX_ANSWER_CHARS = 150


def squash(text: str) -> str:
    """NFKC, lower case, all whitespace removed: the form in which passages and answers are compared."""
    return re.sub(r"\s+", "", unicodedata.normalize("NFKC", text)).lower()


def shares_substring(a: str, b: str, length: int) -> bool:
    """Whether a and b (already squashed) have a common substring of at least `length` characters."""
    if length <= 0:
        return True
    if len(a) < length or len(b) < length:
        return False
    return any(a[i : i + length] in b for i in range(len(a) - length + 1))


@dataclass(frozen=True, slots=True)
class Gold:
    """What makes a passage relevant: its document, an answer inside it, overlap with the evidence."""

    doc: str | None
    answers: tuple[str, ...]
    evidence: str | None = None
    passage_id: str | None = None  # passage benchmarks decide by id alone

    @property
    def answerable(self) -> bool:
        return bool(self.answers)


def is_relevant(doc: str, text: str, gold: Gold) -> bool:
    if gold.passage_id is not None:
        return doc == gold.passage_id
    if not gold.answerable or doc != gold.doc:
        return False
    passage = squash(text)
    if not any(squash(a) in passage for a in gold.answers):
        return False
    evidence = squash(gold.evidence or "")
    return shares_substring(evidence, passage, min(len(evidence) // 2, 20))


def holds_answer(doc: str, text: str, gold: Gold) -> bool:
    """A relevant passage that writes a reference answer itself (CMRC 2018: the passage, not another chunk of it)."""
    return is_relevant(doc, text, gold) and any(squash(a) and squash(a) in squash(text) for a in gold.answers)


def cites_answer_first(cited: Sequence[tuple[str, str]], gold: Gold) -> bool:
    """Whether the first citation (doc, text) holds a reference answer: issue #16's rule for CMRC 2018."""
    return bool(cited) and holds_answer(*cited[0], gold)


def first_relevant_rank(flags: Sequence[bool]) -> int | None:
    """1-based rank of the first relevant passage, or None."""
    for rank, flag in enumerate(flags, start=1):
        if flag:
            return rank
    return None


def hit_at(flags: Sequence[bool], k: int) -> float:
    return 1.0 if any(flags[:k]) else 0.0


def mrr_at(flags: Sequence[bool], k: int = 10) -> float:
    rank = first_relevant_rank(flags[:k])
    return 1.0 / rank if rank else 0.0


def ndcg_at(flags: Sequence[bool], k: int = 10) -> float:
    """Binary-gain nDCG with the ideal ranking placing one relevant passage first."""
    dcg = sum(1.0 / math.log2(i + 2) for i, flag in enumerate(flags[:k]) if flag)
    n_relevant = min(sum(1 for f in flags[:k] if f), k)
    ideal = sum(1.0 / math.log2(i + 2) for i in range(max(n_relevant, 1)))
    return dcg / ideal if n_relevant else 0.0


def answer_ok(answer: str, abstained: bool, gold: Gold) -> bool:
    if abstained or not gold.answerable or len(answer) > MAX_ANSWER_CHARS:
        return False
    flat = squash(answer)
    return any(squash(a) in flat for a in gold.answers)


def percentile(values: Sequence[float], q: float) -> float:
    if not values:
        return 0.0
    ordered = sorted(values)
    position = (len(ordered) - 1) * q
    low, high = math.floor(position), math.ceil(position)
    return ordered[low] + (ordered[high] - ordered[low]) * (position - low)


@dataclass(frozen=True, slots=True)
class Outcome:
    """One question's result under one variant."""

    qid: str
    qtype: str
    answerable: bool
    flags: tuple[bool, ...]  # relevance of the ranked passages
    cited: tuple[bool, ...]  # relevance of the passages the answer cites
    answer_ok: bool
    abstained: bool
    seconds: float
    extra: dict[str, object] = field(default_factory=dict)
    first_cited_holds: bool = False  # the first citation is relevant and writes a reference answer (issue #16)


def _mean(values: Iterable[float]) -> float:
    items = list(values)
    return round(sum(items) / len(items), 4) if items else 0.0


def summarize(outcomes: Sequence[Outcome]) -> dict[str, float]:
    answerable = [o for o in outcomes if o.answerable]
    unanswerable = [o for o in outcomes if not o.answerable]
    cited = [o for o in answerable if o.cited]
    latencies = [o.seconds * 1000 for o in outcomes]
    summary = {
        "questions": float(len(outcomes)),
        "hit@1": _mean(hit_at(o.flags, 1) for o in answerable),
        "hit@5": _mean(hit_at(o.flags, 5) for o in answerable),
        "mrr@10": _mean(mrr_at(o.flags, 10) for o in answerable),
        "ndcg@10": _mean(ndcg_at(o.flags, 10) for o in answerable),
        "answer_ok": _mean(float(o.answer_ok) for o in answerable),
        "citation_precision": _mean(sum(o.cited) / len(o.cited) for o in cited),
        "first_citation_holds_answer": _mean(float(o.first_cited_holds) for o in answerable),
        "answerable_refused": _mean(float(o.abstained) for o in answerable),
        "latency_p50_ms": round(percentile(latencies, 0.5), 2),
        "latency_p95_ms": round(percentile(latencies, 0.95), 2),
    }
    if unanswerable:
        summary["unanswerable_refused"] = _mean(float(o.abstained) for o in unanswerable)
    return summary


def by_type(outcomes: Sequence[Outcome]) -> dict[str, dict[str, float]]:
    groups: dict[str, list[Outcome]] = {}
    for o in outcomes:
        groups.setdefault(o.qtype, []).append(o)
    return {t: summarize(group) for t, group in sorted(groups.items())}


def calibrate_threshold(answerable: Sequence[float], unanswerable: Sequence[float],
                        max_wrongly_refused: float = 0.05) -> float:
    """Highest refusal threshold that refuses at most `max_wrongly_refused` of answerable questions."""
    if not answerable:
        return 0.0
    ordered = sorted(answerable)
    allowed = math.floor(max_wrongly_refused * len(ordered))
    # refusing strictly below the (allowed+1)-th lowest answerable confidence refuses at most `allowed` of them;
    # then back off to midway above the last unanswerable it still refuses, for a margin on unseen questions
    ceiling = ordered[allowed]
    refused = [c for c in unanswerable if c < ceiling]
    return round((max(refused) + ceiling) / 2 if refused else ceiling, 4)


def auc(positive: Sequence[float], negative: Sequence[float]) -> float:
    """Chance that a positive scores above a negative (ties count half): how well a signal separates them."""
    if not positive or not negative:
        return float("nan")
    wins = sum(1.0 if p > n else 0.5 if p == n else 0.0 for p in positive for n in negative)
    return wins / (len(positive) * len(negative))


def floors_missed(summary: Mapping[str, float], floors: Mapping[str, float]) -> list[str]:
    """Names of metrics below their committed floor (latency floors are ceilings)."""
    missed = []
    for name, floor in floors.items():
        if name.startswith("_"):
            continue
        value = summary.get(name)
        if value is None:
            missed.append(f"{name}: missing")
        elif name.startswith("latency") or name == "answerable_refused":
            if value > floor:
                missed.append(f"{name}: {value} > {floor}")
        elif value < floor:
            missed.append(f"{name}: {value} < {floor}")
    return missed
