"""The reader: how likely each candidate sentence or table row is to answer the question.

Features of a (question, unit) pair: the encoder's cosine of the two (precomputed unit vectors), how much of
the question the unit writes (idf-weighted, aliases counted, the passage's subject discounted), whether it
holds the kind of value asked for and the term the question asks the value of, how the ranker placed its
passage, and how the unit compares with the other candidates and its neighbours in the passage. Learned
gradient-boosted trees (core.trees) turn them into a probability, since the features interact; without a model,
today's hand-weighted sum (extract.score_unit) scores the units.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass

import numpy as np
from reportqa.answer.extract import (
    AnswerTerms,
    Unit,
    _flat,
    focus,
    present,
    type_bonus,
    value_follows,
    weight_share,
    year_conflict,
)
from reportqa.index.query import Query
from reportqa.index.rank_features import COLLECTION
from reportqa.index.text import bigram_overlap, bigrams

from reportqa.core.learned import LearnedModel, matrix
from reportqa.core.types import Hit

# each unit against the other candidates and its neighbours in the passage: a pointwise model sees one unit at a
# time, so how it compares and what stands beside it must be written in (out of fold: CMRC 2018's first citation
# holds the answer 0.908 → 0.920, unanswerable report questions refused 0.660 → 0.709; docs/experiments.md,
# thirty-second session)
CONTEXT_FEATURES = (
    "own_cov_gap", "topic_cov_gap", "bigram_cov", "bigram_cov_gap", "novelty", "prev_own", "next_own",
    "prev_bigram", "prev_sim", "next_sim", "position",
)
NO_NEIGHBOUR = -1.0
UNIT_FEATURES = (
    "sim", "sim_gap", "sim_rank", "own_cov", "topic_cov", "type_match", "value_follows", "year_conflict",
    "chunk_rr", "chunk_gap", "length", "table_row", "focus_in", "focus_topic", "sim_raw", "sim_raw_gap",
    *CONTEXT_FEATURES, COLLECTION,
)
# encoder cosines of the question to a hit's units, in unit order, one row each: the question vector as searched
# (the learned adapter applied) and as the encoder gives it (the adapter, fitted on the reports' questions, finds
# their passages; the encoder's own cosine reads other collections' sentences better)
UnitSimilarities = Callable[[Hit], np.ndarray]
SEARCHED, ENCODED = 0, 1


@dataclass(frozen=True, slots=True)
class ReadUnit:
    """A candidate unit with the reader's features."""

    unit: Unit
    features: dict[str, float]


def unit_features(units: Sequence[Unit], sims: Sequence[float], hits: Sequence[Hit], query: Query,
                  terms: AnswerTerms, encoded: Sequence[float] | None = None) -> list[dict[str, float]]:
    """One feature dict per unit (sims: the cosine of each unit to the question as searched, in the same order;
    encoded: to the question as the encoder gives it, the same as sims when not given)."""
    raw = list(encoded) if encoded is not None else list(sims)
    top_raw = max(raw, default=0.0)
    top_sim = max(sims, default=0.0)
    order = sorted(range(len(sims)), key=lambda j: -sims[j])
    sim_rank = {j: r for r, j in enumerate(order)}
    top_score = hits[0].score if hits else 0.0
    # the term the question asks the value of (出货量 in …出货量是多少): a sentence that writes it answers that
    # question rather than a neighbouring one about the same subject
    asked = (focus(query) or "").lower()
    rows = []
    for j, (unit, sim) in enumerate(zip(units, sims, strict=True)):
        flat = _flat(unit.text)
        lowered = flat.lower()
        own = present(terms, flat)
        with_topic = own | present(terms, _flat(unit.topic)) if unit.topic else own
        hit = hits[unit.hit_rank]
        rows.append({
            "sim": float(sim),
            "sim_gap": float(sim) - top_sim,
            "sim_rank": 1.0 / (1 + sim_rank[j]),
            "own_cov": weight_share(terms, own),
            "topic_cov": weight_share(terms, with_topic),
            "type_match": type_bonus(unit.text, query.wants),
            "value_follows": value_follows(flat, query),
            "year_conflict": year_conflict(flat, query),
            "chunk_rr": 1.0 / (1 + unit.hit_rank),
            "chunk_gap": max(hit.score - top_score, -10.0),
            "length": math.log1p(len(unit.text)),
            "table_row": float(hits[unit.hit_rank].chunk.kind == "table"),
            "focus_in": float(bool(asked) and asked in lowered),
            "focus_topic": float(bool(asked) and (asked in lowered or asked in _flat(unit.topic).lower())),
            "sim_raw": raw[j],
            "sim_raw_gap": raw[j] - top_raw,
            COLLECTION: hit.channel_scores.get(COLLECTION, 0.0),  # what kind of collection (index.rank_features)
        })
    add_context(rows, units, query)
    return rows


def add_context(rows: list[dict[str, float]], units: Sequence[Unit], query: Query) -> None:
    """CONTEXT_FEATURES into each unit's row: question bigrams written (segmentation-free coverage), gaps to the
    best candidate, the neighbouring units' coverage and cosine, the position in its passage."""
    if not rows:
        return
    asked = set(bigrams(query.asked or query.text))
    for row, unit in zip(rows, units, strict=True):
        row["bigram_cov"], row["novelty"] = bigram_overlap(asked, unit.text)
    for name in ("own_cov", "topic_cov", "bigram_cov"):
        top = max(row[name] for row in rows)
        for row in rows:
            row[f"{name}_gap"] = row[name] - top
    seen: dict[int, int] = {}
    for j, (row, unit) in enumerate(zip(rows, units, strict=True)):
        before = j > 0 and units[j - 1].hit_rank == unit.hit_rank
        after = j + 1 < len(units) and units[j + 1].hit_rank == unit.hit_rank
        row["prev_own"] = rows[j - 1]["own_cov"] if before else NO_NEIGHBOUR
        row["next_own"] = rows[j + 1]["own_cov"] if after else NO_NEIGHBOUR
        row["prev_bigram"] = rows[j - 1]["bigram_cov"] if before else NO_NEIGHBOUR
        row["prev_sim"] = rows[j - 1]["sim"] if before else NO_NEIGHBOUR
        row["next_sim"] = rows[j + 1]["sim"] if after else NO_NEIGHBOUR
        row["position"] = float(seen.get(unit.hit_rank, 0))
        seen[unit.hit_rank] = seen.get(unit.hit_rank, 0) + 1


def similarities_of(units: Sequence[Unit], hits: Sequence[Hit], unit_sims: UnitSimilarities | None,
                    passage_units: Callable[[Hit, int], list[Unit]], row: int = SEARCHED) -> list[float]:
    """The encoder cosine of each unit (`row`: to the question as searched or as encoded), from the index's
    precomputed vectors (0 where there are none)."""
    if unit_sims is None:
        return [0.0] * len(units)
    by_rank: dict[int, Mapping[str, float]] = {}
    for rank in sorted({u.hit_rank for u in units}):
        texts = [u.text for u in passage_units(hits[rank], rank)]
        values = unit_sims(hits[rank])[row].tolist()
        by_rank[rank] = dict(zip(texts, values, strict=False)) if len(values) == len(texts) else {}
    return [float(by_rank[u.hit_rank].get(u.text, 0.0)) for u in units]


def read(units: Sequence[Unit], sims: Sequence[float], hits: Sequence[Hit], query: Query, terms: AnswerTerms,
         reader: LearnedModel, encoded: Sequence[float] | None = None) -> tuple[list[float], list[dict[str, float]]]:
    """(the reader's probability that each unit answers the question, the features it read)."""
    rows = unit_features(units, sims, hits, query, terms, encoded)
    if not rows:
        return [], []
    return reader.probabilities(matrix(rows, reader.features)).tolist(), rows
