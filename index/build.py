"""Build an index version from chunks: BM25, corpus-fitted or loaded embedder, FAISS, manifest; then publish."""

from __future__ import annotations

import json
import math
import shutil
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
from reportqa.index.dense import DenseIndex
from reportqa.index.embed import Embedder
from reportqa.index.lexical import LexicalIndex
from reportqa.index.models import CORPUS_STATIC, fit_static_model, load_passage_embedder
from reportqa.index.query import token_aliases
from reportqa.index.rank_features import quantitative_share
from reportqa.index.static_tier import FAST_TIER, load_fast_tier
from reportqa.index.store import (
    BIGRAM_DIR,
    BM25_DIR,
    CHUNKS,
    FAISS_FILE,
    FORMAT_VERSION,
    MANIFEST,
    MODEL_DIR,
    QUANTITATIVE_SHARE,
    build_lock,
    file_digests,
    new_version_dir,
    publish,
    write_chunks,
)
from reportqa.index.terms import TermCounts, counts_from_lists, tokenise_corpus
from reportqa.index.text import bigrams, tokens
from reportqa.index.vectors import VECTOR_CACHE_DIR, UnitTable, embed_units, save_units

from reportqa.core.progress import track
from reportqa.core.types import Chunk

IDF_FILE = "idf.json"
Progress = Callable[[str], None]


def search_text(chunk: Chunk) -> str:
    """What the channels index: the section path gives short passages their context."""
    return f"{chunk.section}\n{chunk.text}" if chunk.section else chunk.text


def inverse_document_frequency(token_lists: Sequence[Sequence[str]]) -> dict[str, float]:
    """term → ln(1 + (N - df + 0.5) / (df + 0.5)): the BM25 idf, which answer code weighs terms by."""
    return idf_of(counts_from_lists(token_lists))


def idf_of(corpus: TermCounts) -> dict[str, float]:
    n = corpus.n_docs
    return {t: math.log(1 + (n - d + 0.5) / (d + 0.5))
            for t, d in zip(corpus.vocabulary, corpus.document_frequency().tolist(), strict=True)}


@dataclass(frozen=True, slots=True)
class BuildRequest:
    chunks: Sequence[Chunk]
    documents: dict[str, dict[str, Any]]
    corpus_hash: str
    embed_model: str
    embed_dim: int
    chunker: dict[str, int]
    extra: dict[str, Any] = field(default_factory=dict)
    tokens: Sequence[Sequence[str]] | None = None  # precomputed per chunk (the document cache); else tokenised here
    grams: Sequence[Sequence[str]] | None = None
    models_dir: Path = Path("var/models")  # where converted encoders live (created offline when missing)


def _quiet(_: str) -> None:
    return None


def _encode(embedder: Embedder, texts: Sequence[str], progress: Progress) -> np.ndarray:
    batch = 512
    starts = range(0, len(texts), batch)
    parts = [embedder.encode(texts[start : start + batch])
             for start in track(progress, starts, len(starts), f"embedding {len(texts)} chunks (batches of {batch})")]
    return np.vstack(parts) if parts else np.zeros((0, embedder.dimension), dtype=np.float32)


def build_index(index_dir: Path, request: BuildRequest, embedder: Embedder | None = None,
                progress: Progress = _quiet) -> Path:
    """Write a complete version beside the current one and switch to it only when it is whole."""
    with build_lock(index_dir):
        return publish_version(index_dir, request, embedder, progress)


def publish_version(index_dir: Path, request: BuildRequest, embedder: Embedder | None = None,
                    progress: Progress = _quiet) -> Path:
    """build_index for a caller that already holds the build lock (it read the current version under it)."""
    if not request.chunks:
        raise ValueError("nothing to index: no chunks were produced from the corpus")
    started = time.perf_counter()
    partial = new_version_dir(index_dir)
    try:
        return _write_version(index_dir, partial, request, embedder, progress, started)
    except BaseException:
        shutil.rmtree(partial, ignore_errors=True)  # a failed build leaves nothing half-written behind
        raise


def term_counts(request: BuildRequest, texts: Sequence[str], progress: Progress) -> tuple[TermCounts, TermCounts]:
    """Word and bigram counts of every chunk: from the document cache's tokens, else tokenised here."""
    step = max(len(texts) // 20, 50_000)
    shown = [0]

    def report(done: int) -> None:
        if done - shown[0] >= step:
            shown[0] = done
            progress(f"tokenised {done}/{len(texts)} chunks")

    if request.tokens is None and request.grams is None:
        return tokenise_corpus(texts, progress=report)
    words = counts_from_lists(request.tokens if request.tokens is not None else (tokens(t) for t in texts))
    grams = counts_from_lists(request.grams if request.grams is not None else (bigrams(t) for t in texts))
    return words, grams


def dense_vectors(partial: Path, request: BuildRequest, embedder: Embedder | None, texts: Sequence[str],
                  words: TermCounts, progress: Progress) -> tuple[Embedder, np.ndarray, UnitTable | None]:
    """(the embedder, the dense channel's vectors, which rows are whose units: None for chunk vectors)."""
    if embedder is None and request.embed_model == CORPUS_STATIC:
        progress("fitting the corpus embedding model")
        static = fit_static_model(words, partial / MODEL_DIR, dimension=request.embed_dim,
                                  synonyms=token_aliases(words.vocabulary))
        progress("embedding chunks")
        return static, static.encode_counts(words), None  # jieba ran once, before
    if embedder is None and request.embed_model == FAST_TIER:
        progress("loading the fast tier (distilling it from the encoder on first use)")
        fast = load_fast_tier(request.models_dir)
        return fast, _encode(fast, texts, progress), None
    if embedder is None:
        progress(f"loading embedding model {request.embed_model}")
        embedder = load_passage_embedder(request.embed_model, request.models_dir)
    progress("embedding the sentences and table rows of every chunk")
    vectors, unit_table = embed_units(request.chunks, embedder, request.models_dir / VECTOR_CACHE_DIR, progress)
    return embedder, vectors, unit_table


def _write_version(index_dir: Path, partial: Path, request: BuildRequest, embedder: Embedder | None,
                   progress: Progress, started: float) -> Path:
    texts = [search_text(c) for c in request.chunks]
    progress(f"tokenising {len(texts)} chunks")
    words, grams = term_counts(request, texts, progress)
    timings: dict[str, float] = {"tokenise": time.perf_counter() - started}
    progress("indexing bigrams")
    LexicalIndex.from_counts(grams).save(partial / BIGRAM_DIR)
    del grams
    progress("indexing words")
    LexicalIndex.from_counts(words).save(partial / BM25_DIR)
    (partial / IDF_FILE).write_text(json.dumps(idf_of(words), ensure_ascii=False), encoding="utf-8")
    timings["bm25"] = time.perf_counter() - started - sum(timings.values())
    embedder, vectors, unit_table = dense_vectors(partial, request, embedder, texts, words, progress)
    if unit_table is not None:
        save_units(partial, vectors, unit_table)
    del words
    timings["embed"] = time.perf_counter() - started - sum(timings.values())
    progress(f"building the dense index over {len(vectors)} vectors")
    dense = DenseIndex.build(vectors)
    dense.save(partial / FAISS_FILE)
    dimension = int(vectors.shape[1])
    del vectors
    timings["dense"] = time.perf_counter() - started - sum(timings.values())
    write_chunks(partial / CHUNKS, request.chunks)
    manifest = {
        "files": file_digests(partial),
        "format_version": FORMAT_VERSION,
        "created": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
        "embed_model": request.embed_model,
        "embedder": embedder.name,
        "dimension": dimension,
        "dense_unit": "chunk" if unit_table is None else "unit",
        "dense_index": dense.params,
        "chunker": request.chunker,
        "corpus_hash": request.corpus_hash,
        "n_chunks": len(request.chunks),
        QUANTITATIVE_SHARE: quantitative_share(chunk.text for chunk in request.chunks),
        "documents": request.documents,
        "build_seconds": round(time.perf_counter() - started, 2),
        "stage_seconds": {k: round(v, 2) for k, v in timings.items()},
        **request.extra,
    }
    (partial / MANIFEST).write_text(json.dumps(manifest, ensure_ascii=False, indent=2), encoding="utf-8")
    return publish(index_dir, partial)
