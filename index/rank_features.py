"""What the ranker knows about each candidate passage: every channel's score and rank, coverage, encoder similarity.

Pure: channel scores and per-candidate measurements in, one feature row per candidate out. Scores are scaled
by the best candidate's in each channel so that rows compare across questions.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass

PASSAGE_FEATURES = (
    "bm25", "bigram", "dense", "dense_gap", "unit_max", "unit_gap", "coverage",
    "rr_bm25", "rr_bigram", "rr_dense", "number_match", "table", "english_dense", "english_bm25", "title_named",
)
# what kind of collection the passages come from (quantitative_share: statistical reports ~0.4, encyclopedia prose
# ~0.02): times each passage feature, a linear ranker weighs each feature differently by collection (alone it shifts
# only the pointwise relevance model: it is the same for every candidate of a question). The reports and CMRC 2018
# had pulled the same weights (learned from the reports alone, their hit@1 rose 0.938 -> 0.945, CMRC's answer_ok fell
# 0.90 -> 0.82); with these, out of fold over 36 report sets hit@1 0.9368 -> 0.9418, unanswerable refused 0.7357 ->
# 0.7419, and CMRC's answer_ok 0.904 -> 0.910 (docs/experiments.md, thirty-ninth session)
COLLECTION = "quant"
PRODUCTS = {name: f"{COLLECTION}_{name}" for name in PASSAGE_FEATURES}  # a passage feature → its collection product
CHUNK_FEATURES = (*PASSAGE_FEATURES, COLLECTION, *PRODUCTS.values())
_PRODUCT_NAMES = frozenset(PRODUCTS.values())
NUMBER_WANTS = frozenset({"number", "date"})
_PERCENT = re.compile(r"[%％]")


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


def quantitative_share(texts: Iterable[str]) -> float:
    """The share of passages that write a percentage: what kind of collection they make up (0.0 for none)."""
    counted = [bool(_PERCENT.search(text)) for text in texts]
    return sum(counted) / len(counted) if counted else 0.0


def chunk_features(channels: Mapping[str, Mapping[int, float]], facts: Mapping[int, CandidateFacts],
                   wants: str | None, english: bool, collection: float = 0.0) -> dict[int, dict[str, float]]:
    """One feature dict per candidate in `facts` (the pool: every channel's candidates); `collection`: the
    collection's quantitative_share."""
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
        row = rows[i]
        row[COLLECTION] = collection
        for name, product in PRODUCTS.items():
            row[product] = collection * row[name]
    return rows


def without_interactions(row: Mapping[str, float]) -> dict[str, float]:
    """A candidate's row without the collection's products with its features: what a search result shows."""
    return {k: v for k, v in row.items() if k not in _PRODUCT_NAMES}


def _scaled(scores: Mapping[int, float], best: float, i: int) -> float:
    return scores.get(i, 0.0) / best if best > 0 else 0.0


def pool(channels: Mapping[str, Mapping[int, float]]) -> Sequence[int]:
    """Every candidate any channel proposed, in chunk order."""
    return sorted({i for scores in channels.values() for i in scores})
