"""One shard's side of a search, and the merge that makes any number of shards rank like one index.

A shard holds some documents' chunks with their BM25 postings (scored from the whole collection's statistics),
their vectors and each chunk's position in the whole collection. Asked with an analysed question and its vector,
it returns its best candidates per channel by raw score; raw scores compare across shards, so the merge of the
shards' lists, ordered by (-score, position), is the list one index over every chunk would give. The embedded
index is the one-shard case of the same code (index.search), so the two cannot drift apart.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

import numpy as np
from reportqa.index.build import search_text
from reportqa.index.dense import DenseIndex
from reportqa.index.lexical import LexicalIndex
from reportqa.index.query import Query
from reportqa.index.text import covered_share, weighted_terms, without_spaces
from reportqa.index.vectors import UnitTable

from reportqa.core.types import Chunk

CANDIDATES = 60  # per channel, the pool a question's answer is chosen from
UNITS_PER_CANDIDATE = 4  # unit neighbours fetched per candidate passage wanted (several units share a passage)
NORMALIZED_CACHE = 50_000  # chunks whose comparison form is kept between queries
CENTROID_SAMPLE = 8192  # unit vectors averaged for the collection's centroid


@dataclass(frozen=True, slots=True)
class ChannelTops:
    """A shard's best candidates: per lexical channel (position, score) pairs; the dense channel's best units as
    (similarity, position, unit's row within its chunk), or (similarity, position, 0) for chunk vectors."""

    lexical: dict[str, list[tuple[int, float]]]
    dense: list[tuple[float, int, int]]
    unit_level: bool


@dataclass(frozen=True, slots=True)
class CandidateRecord:
    """What a shard measures of one of its candidates for the ranker and the answer."""

    position: int
    chunk: Chunk
    coverage: float  # idf-weighted share of the question's own terms in the passage
    chunk_similarity: float  # the question's cosine to the chunk vector (0 when the shard searches units)
    unit_similarities: np.ndarray  # the question's cosine to each unit of the chunk (index.units order)


@dataclass
class LocalShard:
    """Searchable data of one shard (or of a whole embedded index, whose positions are 0..n-1)."""

    chunks: list[Chunk]
    lexical: LexicalIndex
    bigram: LexicalIndex
    dense: DenseIndex
    units: tuple[np.ndarray, UnitTable] | None
    idf: dict[str, float]
    positions: np.ndarray  # int64, ascending: each local chunk's position in the whole collection
    _normalized: dict[int, str] = field(default_factory=dict)

    def __post_init__(self) -> None:
        self.unknown_idf = unknown_idf_of(self.idf)

    def local(self, position: int) -> int:
        i = int(np.searchsorted(self.positions, position))
        if i >= len(self.positions) or self.positions[i] != position:
            raise KeyError(f"position {position} is not in this shard")
        return i

    def normalized_text(self, i: int) -> str:
        text = self._normalized.get(i)
        if text is None:
            text = without_spaces(search_text(self.chunks[i]))
            if len(self._normalized) >= NORMALIZED_CACHE:
                self._normalized.clear()  # bounded: at a million chunks it would otherwise grow to all of them
            self._normalized[i] = text
        return text

    def top(self, query: Query, vector: np.ndarray, channels: Sequence[str]) -> ChannelTops:
        """This shard's best candidates of each channel asked for ("bm25", "bigram", "dense")."""
        lexical: dict[str, list[tuple[int, float]]] = {}
        for name, index, terms in (("bm25", self.lexical, query.terms), ("bigram", self.bigram, query.grams)):
            if name in channels:
                scores = index.scores(terms)
                best = top_positive(scores, CANDIDATES)
                lexical[name] = list(zip(self.positions[best].tolist(), scores[best].tolist(), strict=True))
        dense: list[tuple[float, int, int]] = []
        if "dense" in channels:
            dense = self._dense_top(vector)
        return ChannelTops(lexical, dense, self.units is not None)

    def _dense_top(self, vector: np.ndarray) -> list[tuple[float, int, int]]:
        if self.units is None:
            sims, ids = self.dense.search(vector, CANDIDATES)
            keep = ids >= 0
            return [(s, p, 0) for s, p in zip(sims[keep].tolist(), self.positions[ids[keep]].tolist(), strict=True)]
        sims, ids = self.dense.search(vector, CANDIDATES * UNITS_PER_CANDIDATE)
        keep = ids >= 0
        ids = ids[keep]
        table = self.units[1]
        owners = table.owners(ids)
        rows = ids - table.offsets[owners]
        return list(zip(sims[keep].tolist(), self.positions[owners].tolist(), rows.tolist(), strict=True))

    def records(self, query: Query, vector: np.ndarray, positions: Sequence[int]) -> list[CandidateRecord]:
        """The ranker's measurements of the given candidates (positions in the whole collection)."""
        weighted = weighted_terms(query.core, self.idf, self.unknown_idf)
        local = [self.local(p) for p in positions]
        chunk_level = self.units is None
        chunk_sims = (self.dense.similarities(vector, local) if chunk_level and local
                      else np.zeros(len(local), dtype=np.float32))
        out = []
        for position, i, sim in zip(positions, local, chunk_sims.tolist(), strict=True):
            out.append(CandidateRecord(int(position), self.chunks[i],
                                       covered_share(weighted, self.normalized_text(i)),
                                       float(sim), self.unit_similarities(vector, i)))
        return out

    def unit_similarities(self, vector: np.ndarray, i: int) -> np.ndarray:
        """Cosine of the question to each unit of local chunk i; empty without unit vectors."""
        if self.units is None:
            return np.zeros(0, dtype=np.float32)
        vectors, table = self.units
        rows = table.rows(i)
        return np.asarray(vectors[rows.start : rows.stop] @ vector, dtype=np.float32)

    def document_chunks(self, doc: str) -> list[Chunk]:
        return [c for c in self.chunks if c.doc == doc]


def unknown_idf_of(idf: Mapping[str, float]) -> float:
    """The weight of a question term the collection never uses: the rarest of all, so its absence weighs most."""
    return max(idf.values(), default=1.0) + 1.0


def top_positive(scores: np.ndarray, k: int) -> np.ndarray:
    """Indices of the k highest positive scores, ties at the cut broken by the lower index (so that a shard's
    list and the whole collection's agree on which of equal scores make it)."""
    positive = np.flatnonzero(scores > 0)
    if len(positive) <= k:
        return positive
    values = scores[positive]
    kth = np.partition(values, len(values) - k)[len(values) - k]
    above = positive[values > kth]
    tied = positive[values == kth][: k - len(above)]
    return np.concatenate([above, tied])


def merge_tops(tops: Sequence[ChannelTops], channels: Sequence[str]) -> dict[str, dict[int, float]]:
    """Channel → position → raw score over every shard: each channel's CANDIDATES best by (-score, position)."""
    merged: dict[str, dict[int, float]] = {}
    for name in channels:
        if name == "dense":
            merged[name] = _merge_dense(tops)
            continue
        pairs = [pair for top in tops for pair in top.lexical.get(name, [])]
        pairs.sort(key=lambda pair: (-pair[1], pair[0]))
        merged[name] = dict(pairs[:CANDIDATES])
    return merged


def _merge_dense(tops: Sequence[ChannelTops]) -> dict[int, float]:
    """The CANDIDATES chunks nearest the question: by their own vectors, or by their best unit's among the
    collection's CANDIDATES × UNITS_PER_CANDIDATE nearest units."""
    units = [entry for top in tops for entry in top.dense]
    units.sort(key=lambda entry: (-entry[0], entry[1], entry[2]))
    unit_level = any(top.unit_level for top in tops)
    best: dict[int, float] = {}
    for sim, position, _ in units[: CANDIDATES * UNITS_PER_CANDIDATE] if unit_level else units:
        if position not in best:  # best first
            best[position] = sim
            if len(best) == CANDIDATES:
                break
    return best


def partition(chunks: Sequence[Chunk], n_shards: int) -> list[np.ndarray]:
    """Positions of each shard's chunks, whole documents to a shard: the largest documents first, each to the
    shard holding fewest chunks so far (ties to the lower shard), so shards come out balanced."""
    if n_shards < 1:
        raise ValueError("the number of shards must be at least 1")
    by_doc: dict[str, list[int]] = {}
    for position, chunk in enumerate(chunks):
        by_doc.setdefault(chunk.doc, []).append(position)
    loads = [0] * n_shards
    owned: list[list[int]] = [[] for _ in range(n_shards)]
    for doc in sorted(by_doc, key=lambda d: (-len(by_doc[d]), d)):
        shard = min(range(n_shards), key=lambda s: (loads[s], s))
        owned[shard].extend(by_doc[doc])
        loads[shard] += len(by_doc[doc])
    return [np.array(sorted(positions), dtype=np.int64) for positions in owned]


def collection_centroid(vectors: np.ndarray) -> np.ndarray:
    """The mean of an evenly spaced sample of at most about CENTROID_SAMPLE unit vectors (a million need not be
    read); the sharded build computes it from the whole collection's vectors in the same order."""
    step = max(1, len(vectors) // CENTROID_SAMPLE)
    return np.asarray(np.asarray(vectors[::step], dtype=np.float32).mean(axis=0), dtype=np.float32)
