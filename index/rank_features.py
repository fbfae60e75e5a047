"""What the ranker knows about each candidate passage: every channel's score and rank, coverage, encoder similarity.

Pure: channel scores and per-candidate measurements in, one feature row per candidate out. Scores are scaled
by the best candidate's in each channel so that rows compare across questions.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

CHUNK_FEATURES = (
    "bm25", "bigram", "dense", "dense_gap", "unit_max", "unit_gap", "coverage",
    "rr_bm25", "rr_bigram", "rr_dense", "number_match", "table", "english_dense", "english_bm25", "title_named",
)
NUMBER_WANTS = frozenset({"number", "date"})


@dataclass(frozen=True, slots=True)
class CandidateFacts:
    """Measurements of one candidate that do not come from a channel's ranking."""

    dense: float  # encoder cosine of the question and the passage
    unit_max: float  # best encoder cosine of the question and one of the passage's sentences or rows
    coverage: float  # idf-weighted share of the question's terms the passage writes
    has_number: bool
    is_table: bool
    title_named: float = 0.0  # how distinctly the question names this passage's report (index.titles)


def reciprocal_ranks(scores: Mapping[int, float]) -> dict[int, float]:
    """1 / (1 + rank) within one channel, best first (ties broken by chunk index)."""
    ordered = sorted(scores, key=lambda i: (-scores[i], i))
    return {i: 1.0 / (1 + rank) for rank, i in enumerate(ordered)}


def chunk_features(channels: Mapping[str, Mapping[int, float]], facts: Mapping[int, CandidateFacts],
                   wants: str | None, english: bool) -> dict[int, dict[str, float]]:
    """One feature dict per candidate in `facts` (the pool: every channel's candidates)."""
    best = {name: max(scores.values(), default=0.0) for name, scores in channels.items()}
    ranks = {name: reciprocal_ranks(scores) for name, scores in channels.items()}
    top_dense = max((f.dense for f in facts.values()), default=0.0)
    top_unit = max((f.unit_max for f in facts.values()), default=0.0)
    rows = {}
    for i, f in facts.items():
        bm25 = _scaled(channels.get("bm25", {}), best.get("bm25", 0.0), i)
        rows[i] = {
            "bm25": bm25,
            "bigram": _scaled(channels.get("bigram", {}), best.get("bigram", 0.0), i),
            "dense": f.dense,
            "dense_gap": f.dense - top_dense,
            "unit_max": f.unit_max,
            "unit_gap": f.unit_max - top_unit,
            "coverage": f.coverage,
            "rr_bm25": ranks.get("bm25", {}).get(i, 0.0),
            "rr_bigram": ranks.get("bigram", {}).get(i, 0.0),
            "rr_dense": ranks.get("dense", {}).get(i, 0.0),
            "number_match": float(wants in NUMBER_WANTS and f.has_number),
            "table": float(f.is_table),
            "english_dense": float(english) * f.dense,
            "english_bm25": float(english) * bm25,
            "title_named": f.title_named,
        }
    return rows


def _scaled(scores: Mapping[int, float], best: float, i: int) -> float:
    return scores.get(i, 0.0) / best if best > 0 else 0.0


def pool(channels: Mapping[str, Mapping[int, float]]) -> Sequence[int]:
    """Every candidate any channel proposed, in chunk order."""
    return sorted({i for scores in channels.values() for i in scores})
