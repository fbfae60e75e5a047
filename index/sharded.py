"""The router's side of a sharded collection: ask every shard, merge raw scores, then rank and answer as one.

The question is analysed and encoded once, here; each shard returns its best candidates per channel
(index.shard), the merge keeps the collection's best, and the ranker's measurements of the pool come from the
shards that own them. A shard that cannot answer is left out of that question's candidates and named in
`degraded`, never dropped silently.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol

import numpy as np
from reportqa.index.build import IDF_FILE
from reportqa.index.embed import Embedder
from reportqa.index.lexical import VOCABULARY
from reportqa.index.models import CORPUS_STATIC, load_embedder
from reportqa.index.query import Query
from reportqa.index.query_vectors import QueryVectors
from reportqa.index.rank_features import pool
from reportqa.index.search import Retrieval, SearchWeights
from reportqa.index.shard import CandidateRecord, ChannelTops, LocalShard, merge_tops, unknown_idf_of
from reportqa.index.shard_build import CENTROID, GRAM_VOCABULARY, open_shard, read_vocabulary
from reportqa.index.store import MODEL_DIR, IndexCorrupt, verify_files

from reportqa.core.types import Chunk


class ShardSet(Protocol):
    """The shards of one collection, wherever they run; a shard that fails answers None."""

    names: tuple[str, ...]

    def tops(self, query: Query, vector: np.ndarray, channels: Sequence[str]) -> list[ChannelTops | None]: ...

    def records(self, query: Query, vector: np.ndarray, wanted: Mapping[int, Sequence[int]]
                ) -> dict[int, list[CandidateRecord] | None]: ...

    def document_chunks(self, doc: str) -> list[Chunk]: ...

    def unavailable(self) -> list[str]:
        """Names of the shards that do not answer now."""
        ...


@dataclass
class LocalShards:
    """Every shard loaded in this process (tests, and `reportqa ask` over a sharded index without Ray)."""

    shards: list[LocalShard]
    names: tuple[str, ...]

    @classmethod
    def open(cls, version: Path, manifest: Mapping[str, Any]) -> LocalShards:
        names = tuple(str(s["name"]) for s in manifest["shards"])
        digests = [str(s["manifest_sha256"]) for s in manifest["shards"]]
        return cls([open_shard(version / name, digest) for name, digest in zip(names, digests, strict=True)], names)

    def tops(self, query: Query, vector: np.ndarray, channels: Sequence[str]) -> list[ChannelTops | None]:
        return [shard.top(query, vector, channels) for shard in self.shards]

    def records(self, query: Query, vector: np.ndarray, wanted: Mapping[int, Sequence[int]]
                ) -> dict[int, list[CandidateRecord] | None]:
        return {k: self.shards[k].records(query, vector, positions) for k, positions in wanted.items()}

    def document_chunks(self, doc: str) -> list[Chunk]:
        return [c for shard in self.shards for c in shard.document_chunks(doc)]

    def unavailable(self) -> list[str]:
        return []


@dataclass
class ShardedIndex(Retrieval):
    """A sharded version: its router files (vocabularies, idf, centroid, model) and its shards."""

    version: Path
    manifest: dict[str, Any]
    shards: ShardSet
    embedder: Embedder
    idf: dict[str, float]
    word_vocabulary: Mapping[str, int]
    gram_vocabulary: Mapping[str, int]
    stored_centroid: np.ndarray | None
    query_vectors: QueryVectors = field(init=False)
    # the latest search's candidates, per thread: the answer step that follows a search in the same thread reads
    # their unit similarities (a shared cache was cleared under one request by another's)
    _latest: threading.local = field(default_factory=threading.local)

    def __post_init__(self) -> None:
        self.query_vectors = QueryVectors(self.embedder)
        self.unknown_idf = unknown_idf_of(self.idf)
        self.has_units = self.manifest.get("dense_unit") == "unit"
        self.remote = not isinstance(self.shards, LocalShards)

    def degraded(self) -> list[str]:
        """Shards the latest search in this thread could not reach (another request's failures are its own)."""
        return sorted(getattr(self._latest, "failed", ()))

    def check(self) -> list[str]:
        return sorted(self.shards.unavailable())

    def gather(self, query: Query, weights: SearchWeights
               ) -> tuple[dict[str, dict[int, float]], dict[int, CandidateRecord]]:
        vector = self.query_vector(query)
        channels = weights.active()
        tops = self.shards.tops(query, vector, channels)
        failed = {self.shards.names[k] for k, top in enumerate(tops) if top is None}
        owner = {}
        for k, top in enumerate(tops):
            if top is not None:
                owner.update({p: k for pairs in top.lexical.values() for p, _ in pairs})
                owner.update({p: k for _, p, _ in top.dense})
        merged = merge_tops([t for t in tops if t is not None], channels)
        wanted: dict[int, list[int]] = {}
        for position in pool(merged):
            wanted.setdefault(owner[position], []).append(position)
        found = self.shards.records(query, vector, wanted)
        records: dict[int, CandidateRecord] = {}
        for k, recs in found.items():
            if recs is None:
                failed.add(self.shards.names[k])
                continue
            records.update((r.position, r) for r in recs)
        if len(records) < sum(len(v) for v in wanted.values()):  # a shard failed between the two calls
            merged = {name: {p: s for p, s in scores.items() if p in records} for name, scores in merged.items()}
        self._remember(query, records, failed)
        return merged, records

    def _remember(self, query: Query, records: dict[int, CandidateRecord], failed: set[str]) -> None:
        self._latest.failed = failed
        self._latest.key = self._vector_key(query)
        self._latest.records = records
        self._latest.positions = {r.chunk.id: p for p, r in records.items()}

    def _vector_key(self, query: Query) -> tuple[str, int]:
        """The question and the adapter that mapped its vector: a view without the adapter (the reader's second
        cosine) shares the latest search's records but not their cosines."""
        return query.asked or query.text, id(self.query_adapter)

    def position(self, chunk_id: str) -> int:
        """The collection position of a chunk the latest search in this thread found."""
        return int(self._latest.positions[chunk_id])

    def unit_similarities(self, query: Query, position: int) -> np.ndarray:
        records = getattr(self._latest, "records", {})
        if getattr(self._latest, "key", None) == self._vector_key(query) and position in records:
            return records[position].unit_similarities
        vector = self.query_vector(query)  # not from this thread's latest search: ask every shard, the owner answers
        for k in range(len(self.shards.names)):
            try:
                found = self.shards.records(query, vector, {k: [position]}).get(k)
            except KeyError:
                continue
            if found:
                return found[0].unit_similarities
        return np.zeros(0, dtype=np.float32)

    def centroid(self) -> np.ndarray | None:
        return self.stored_centroid

    def document_chunks(self, doc: str) -> list[Chunk]:
        return self.shards.document_chunks(doc)


def open_sharded(version: Path, manifest: dict[str, Any], shards: ShardSet | None = None,
                 embedder: Embedder | None = None, models_dir: Path = Path("var/models")) -> ShardedIndex:
    """The router over a sharded version; its shards in this process unless a shard set is given."""
    verify_files(version, manifest)
    try:
        idf = json.loads((version / IDF_FILE).read_text(encoding="utf-8"))
        words = read_vocabulary(version / VOCABULARY)
        grams = read_vocabulary(version / GRAM_VOCABULARY)
        centroid = np.load(version / CENTROID) if (version / CENTROID).is_file() else None
    except (OSError, ValueError) as exc:
        raise IndexCorrupt(f"sharded version {version} cannot be read ({exc}); rebuild with reportqa index") from exc
    if embedder is None:
        name = str(manifest["embed_model"])
        embedder = load_embedder(name, version / MODEL_DIR if name == CORPUS_STATIC else None, models_dir)
    if shards is None:
        shards = LocalShards.open(version, manifest)
    return ShardedIndex(version, manifest, shards, embedder, idf, words, grams, centroid)
