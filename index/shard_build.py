"""A collection split into shards: one version folder holding the collection's statistics and N shard folders.

Each shard folder is an index in today's format (chunks, BM25 postings, vectors, manifest.json with checksums)
over whole documents, its BM25 scored from the collection's statistics (index.bm25.CollectionStats) and its
vocabulary the collection's. The version folder keeps what a router needs besides the shards: the vocabularies
(to spot words the collection never uses), the idf, the units' centroid and, for the corpus-fitted model, the
model. The version is published like any other (index.store.publish): the previous one serves until every shard
of the new one is written.
"""

from __future__ import annotations

import json
import shutil
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
from reportqa.index.bm25 import CollectionStats
from reportqa.index.build import (
    IDF_FILE,
    BuildRequest,
    Progress,
    dense_vectors,
    idf_of,
    search_text,
    term_counts,
)
from reportqa.index.dense import DenseIndex
from reportqa.index.embed import Embedder
from reportqa.index.lexical import VOCABULARY, LexicalIndex
from reportqa.index.rank_features import quantitative_share
from reportqa.index.shard import LocalShard, collection_centroid, partition
from reportqa.index.store import (
    BIGRAM_DIR,
    BM25_DIR,
    CHUNKS,
    FAISS_FILE,
    FORMAT_VERSION,
    MANIFEST,
    QUANTITATIVE_SHARE,
    IndexCorrupt,
    IndexProblem,
    build_lock,
    current_version_path,
    file_digest,
    file_digests,
    new_version_dir,
    publish,
    read_chunks,
    read_manifest,
    verify_files,
    write_chunks,
)
from reportqa.index.terms import TermCounts
from reportqa.index.vectors import UnitTable, load_units, save_units

from reportqa.core.types import Chunk

SHARDED = "sharded"  # the manifest's "kind" of a version split into shards
POSITIONS = "positions.npy"  # a shard's chunks' positions in the whole collection
CENTROID = "centroid.npy"
GRAM_VOCABULARY = "bigram_vocabulary.json"


def shard_name(k: int) -> str:
    return f"shard-{k:03d}"


@dataclass(frozen=True, slots=True)
class ShardInput:
    """Everything one shard folder is written from."""

    number: int
    of: int
    positions: np.ndarray
    chunks: list[Chunk]
    words: TermCounts
    grams: TermCounts
    word_stats: CollectionStats
    gram_stats: CollectionStats
    idf: dict[str, float]
    vectors: np.ndarray
    unit_offsets: np.ndarray | None  # the shard's own unit table; None for chunk vectors
    base: dict[str, Any]  # manifest facts shared by every shard (model, dimension, chunker, corpus)


@dataclass(frozen=True, slots=True)
class Collection:
    """A whole collection, tokenised and embedded, ready to be split."""

    chunks: Sequence[Chunk]
    words: TermCounts
    grams: TermCounts
    vectors: np.ndarray
    units: UnitTable | None


def write_shard(folder: Path, part: ShardInput) -> dict[str, Any]:
    """One shard in the index format of today; returns its manifest."""
    folder.mkdir(parents=True, exist_ok=True)
    LexicalIndex.from_counts(part.words, part.word_stats).save(folder / BM25_DIR)
    LexicalIndex.from_counts(part.grams, part.gram_stats).save(folder / BIGRAM_DIR)
    (folder / IDF_FILE).write_text(json.dumps(part.idf, ensure_ascii=False), encoding="utf-8")
    np.save(folder / POSITIONS, part.positions.astype(np.int64))
    if part.unit_offsets is not None:
        save_units(folder, part.vectors, UnitTable(part.unit_offsets))
    dense = DenseIndex.build(part.vectors)
    dense.save(folder / FAISS_FILE)
    write_chunks(folder / CHUNKS, part.chunks)
    manifest = part.base | {
        "files": file_digests(folder),
        "format_version": FORMAT_VERSION,
        "n_chunks": len(part.chunks),
        "dense_unit": "chunk" if part.unit_offsets is None else "unit",
        "dense_index": dense.params,
        "shard": {"number": part.number, "of": part.of},
    }
    (folder / MANIFEST).write_text(json.dumps(manifest, ensure_ascii=False, indent=2), encoding="utf-8")
    return manifest


def shard_inputs(collection: Collection, n_shards: int, base: dict[str, Any]) -> list[ShardInput]:
    """The collection split by document into n_shards parts, each with the collection's statistics."""
    word_stats, gram_stats = collection.words.collection_stats(), collection.grams.collection_stats()
    idf = idf_of(collection.words)
    parts = []
    for number, positions in enumerate(partition(collection.chunks, n_shards)):
        offsets: np.ndarray | None = None
        if collection.units is None:
            vectors = collection.vectors[positions]
        else:
            table = collection.units
            rows = [np.arange(table.offsets[p], table.offsets[p + 1]) for p in positions.tolist()]
            offsets = np.zeros(len(positions) + 1, dtype=np.int64)
            np.cumsum([len(r) for r in rows], out=offsets[1:])
            take = np.concatenate(rows) if rows else np.zeros(0, dtype=np.int64)
            vectors = collection.vectors[take]
        parts.append(ShardInput(number, n_shards, positions, [collection.chunks[p] for p in positions.tolist()],
                                collection.words.rows(positions), collection.grams.rows(positions),
                                word_stats, gram_stats, idf, np.asarray(vectors, dtype=np.float32), offsets, base))
    return parts


ShardWriter = Callable[[Path, Sequence[ShardInput]], list[dict[str, Any]]]


def write_here(version: Path, parts: Sequence[ShardInput]) -> list[dict[str, Any]]:
    """Write every shard in this process, one after another."""
    return [write_shard(version / shard_name(p.number), p) for p in parts]


def write_sharded_version(partial: Path, collection: Collection, n_shards: int, base: dict[str, Any],
                          writer: ShardWriter = write_here) -> dict[str, Any]:
    """The shards and the router's files in `partial`; returns the version's manifest (also written)."""
    if not collection.chunks:
        raise ValueError("nothing to index: no chunks were produced from the corpus")
    started = time.perf_counter()
    (partial / VOCABULARY).write_text(json.dumps(collection.words.vocabulary, ensure_ascii=False),
                                             encoding="utf-8")
    (partial / GRAM_VOCABULARY).write_text(json.dumps(collection.grams.vocabulary, ensure_ascii=False),
                                           encoding="utf-8")
    (partial / IDF_FILE).write_text(json.dumps(idf_of(collection.words), ensure_ascii=False), encoding="utf-8")
    if collection.units is not None:
        np.save(partial / CENTROID, collection_centroid(collection.vectors))
    shards = writer(partial, shard_inputs(collection, n_shards, base))
    manifest = base | {
        "kind": SHARDED,
        "files": {k: v for k, v in file_digests(partial).items() if not k.startswith("shard-")},
        "format_version": FORMAT_VERSION,
        "created": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
        "n_chunks": len(collection.chunks),
        QUANTITATIVE_SHARE: quantitative_share(chunk.text for chunk in collection.chunks),
        "dense_unit": "chunk" if collection.units is None else "unit",
        "shards": [{"name": shard_name(k), "n_chunks": m["n_chunks"],
                    "manifest_sha256": _sha256(partial / shard_name(k) / MANIFEST)} for k, m in enumerate(shards)],
        "shard_seconds": round(time.perf_counter() - started, 2),
    }
    (partial / MANIFEST).write_text(json.dumps(manifest, ensure_ascii=False, indent=2), encoding="utf-8")
    return manifest


def _sha256(path: Path) -> str:
    return str(file_digest(path)["sha256"])


def build_sharded(index_dir: Path, request: BuildRequest, n_shards: int, embedder: Embedder | None = None,
                  progress: Progress = lambda _: None) -> Path:
    """publish_sharded under the build lock."""
    with build_lock(index_dir):
        return publish_sharded(index_dir, request, n_shards, embedder, progress)


def publish_sharded(index_dir: Path, request: BuildRequest, n_shards: int, embedder: Embedder | None = None,
                    progress: Progress = lambda _: None, writer: ShardWriter = write_here) -> Path:
    """The embedded build's stages in this process, then the collection written as n_shards shards and
    published (for a caller that holds the build lock)."""
    partial = new_version_dir(index_dir)
    try:
        started = time.perf_counter()
        texts = [search_text(c) for c in request.chunks]
        progress(f"tokenising {len(texts)} chunks")
        words, grams = term_counts(request, texts, progress)
        embedder, vectors, units = dense_vectors(partial, request, embedder, texts, words, progress)
        progress(f"writing {n_shards} shards")
        base = base_manifest(request, embedder.name, int(vectors.shape[1]))
        base["embed_seconds"] = round(time.perf_counter() - started, 2)
        write_sharded_version(partial, Collection(request.chunks, words, grams, vectors, units), n_shards, base,
                              writer)
        return publish(index_dir, partial)
    except BaseException:
        shutil.rmtree(partial, ignore_errors=True)  # a failed build leaves nothing half-written behind
        raise


def base_manifest(request: BuildRequest, embedder_name: str, dimension: int) -> dict[str, Any]:
    return {
        "embed_model": request.embed_model,
        "embedder": embedder_name,
        "dimension": dimension,
        "chunker": request.chunker,
        "corpus_hash": request.corpus_hash,
        "documents": request.documents,
        **request.extra,
    }


def open_shard(folder: Path, manifest_sha256: str | None = None) -> LocalShard:
    """Load and verify one shard folder (what a shard server does at start): its files against its manifest,
    and its manifest against the digest the version's manifest recorded for it, when given."""
    if manifest_sha256 is not None and _sha256(folder / MANIFEST) != manifest_sha256:
        raise IndexCorrupt(f"shard {folder} does not match its version's manifest; rebuild with reportqa index")
    manifest = read_manifest(folder)
    verify_files(folder, manifest)
    try:
        chunks = read_chunks(folder / CHUNKS)
        n = len(chunks)
        shard = LocalShard(chunks, LexicalIndex.load(folder / BM25_DIR, n), LexicalIndex.load(folder / BIGRAM_DIR, n),
                           DenseIndex.load(folder / FAISS_FILE), load_units(folder, n),
                           json.loads((folder / IDF_FILE).read_text(encoding="utf-8")),
                           np.load(folder / POSITIONS, allow_pickle=False))
    except (OSError, ValueError, KeyError, TypeError) as exc:
        raise IndexCorrupt(f"shard {folder} cannot be read ({exc}); rebuild with reportqa index") from exc
    if len(shard.positions) != n or manifest.get("n_chunks") != n:
        raise IndexCorrupt(f"shard {folder} is inconsistent: {len(shard.positions)} positions, {n} chunks, "
                           f"manifest {manifest.get('n_chunks')}")
    return shard


def current_shards(index_dir: Path) -> int:
    """How many shards the current version has (1 when it is not sharded, or there is none)."""
    try:
        manifest = read_manifest(current_version_path(index_dir))
    except IndexProblem:
        return 1
    return len(manifest["shards"]) if manifest.get("kind") == SHARDED else 1


def recorded_shard_digest(version: Path, name: str) -> str | None:
    """The digest of a shard's manifest as its version's manifest records it."""
    for shard in read_manifest(version).get("shards", []):
        if shard.get("name") == name:
            return str(shard["manifest_sha256"])
    return None


def version_chunks(version: Path) -> list[Chunk]:
    """Every chunk of a version in collection order, whether it is one folder or shards."""
    manifest = read_manifest(version)
    if manifest.get("kind") != SHARDED:
        return read_chunks(version / CHUNKS)
    placed: list[tuple[int, Chunk]] = []
    for shard in manifest["shards"]:
        folder = version / str(shard["name"])
        positions = np.load(folder / POSITIONS, allow_pickle=False).tolist()
        placed.extend(zip(positions, read_chunks(folder / CHUNKS), strict=True))
    return [c for _, c in sorted(placed, key=lambda pair: pair[0])]


def read_vocabulary(path: Path) -> dict[str, int]:
    terms = json.loads(path.read_text(encoding="utf-8"))
    if not isinstance(terms, list):
        raise IndexCorrupt(f"{path} is not a list of terms")
    return {t: i for i, t in enumerate(terms)}

