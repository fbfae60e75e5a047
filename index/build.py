"""Build an index version from chunks: BM25, corpus-fitted or loaded embedder, FAISS, manifest; then publish."""

from __future__ import annotations

import json
import math
import shutil
import sys
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from index.dense import DenseIndex
from index.embed import Embedder
from index.lexical import LexicalIndex
from index.models import CORPUS_STATIC, fit_static_model, load_embedder
from index.store import (
    BIGRAM_DIR,
    BM25_DIR,
    CHUNKS,
    FAISS_FILE,
    FORMAT_VERSION,
    MANIFEST,
    MODEL_DIR,
    build_lock,
    file_digests,
    new_version_dir,
    publish,
    write_chunks,
)
from index.text import bigrams, tokens
from reportqa.types import Chunk

IDF_FILE = "idf.json"
Progress = Callable[[str], None]


def search_text(chunk: Chunk) -> str:
    """What the channels index: the section path gives short passages their context."""
    return f"{chunk.section}\n{chunk.text}" if chunk.section else chunk.text


def inverse_document_frequency(token_lists: Sequence[list[str]]) -> dict[str, float]:
    df: dict[str, int] = {}
    for toks in token_lists:
        for token in set(toks):
            df[token] = df.get(token, 0) + 1
    n = len(token_lists)
    return {t: math.log(1 + (n - d + 0.5) / (d + 0.5)) for t, d in df.items()}


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


def _quiet(_: str) -> None:
    return None


def default_progress() -> Progress:
    if not sys.stderr.isatty():
        return _quiet

    def show(stage: str) -> None:
        print(f"  {stage}", file=sys.stderr, flush=True)

    return show


def _encode(embedder: Embedder, texts: Sequence[str], progress: Progress) -> np.ndarray:
    batch = 512
    parts = []
    show_bar = progress is not _quiet and len(texts) > batch
    iterator: Any = range(0, len(texts), batch)
    if show_bar:
        from tqdm import tqdm

        iterator = tqdm(iterator, desc="embedding", unit="batch", file=sys.stderr)
    for start in iterator:
        parts.append(embedder.encode(texts[start : start + batch]))
    return np.vstack(parts) if parts else np.zeros((0, embedder.dimension), dtype=np.float32)


def build_index(index_dir: Path, request: BuildRequest, embedder: Embedder | None = None,
                progress: Progress = _quiet) -> Path:
    """Write a complete version beside the current one and switch to it only when it is whole."""
    if not request.chunks:
        raise ValueError("nothing to index: no chunks were produced from the corpus")
    started = time.perf_counter()
    with build_lock(index_dir):
        partial = new_version_dir(index_dir)
        try:
            return _write_version(index_dir, partial, request, embedder, progress, started)
        except BaseException:
            shutil.rmtree(partial, ignore_errors=True)  # a failed build leaves nothing half-written behind
            raise


def _write_version(index_dir: Path, partial: Path, request: BuildRequest, embedder: Embedder | None,
                   progress: Progress, started: float) -> Path:
    texts = [search_text(c) for c in request.chunks]
    progress(f"tokenising {len(texts)} chunks")
    token_lists = [list(t) for t in request.tokens] if request.tokens is not None else [tokens(t) for t in texts]
    gram_lists = [list(g) for g in request.grams] if request.grams is not None else [bigrams(t) for t in texts]
    LexicalIndex.build(token_lists).save(partial / BM25_DIR)
    LexicalIndex.build(gram_lists).save(partial / BIGRAM_DIR)
    idf = inverse_document_frequency(token_lists)
    (partial / IDF_FILE).write_text(json.dumps(idf, ensure_ascii=False), encoding="utf-8")
    if embedder is None and request.embed_model == CORPUS_STATIC:
        progress("fitting the corpus embedding model")
        static = fit_static_model(token_lists, partial / MODEL_DIR, dimension=request.embed_dim)
        embedder = static
        vectors = static.encode_prepared([" ".join(t) for t in token_lists])  # jieba ran once, above
    else:
        if embedder is None:
            progress(f"loading embedding model {request.embed_model}")
            embedder = load_embedder(request.embed_model)
        progress("embedding chunks")
        vectors = _encode(embedder, texts, progress)
    DenseIndex.build(vectors).save(partial / FAISS_FILE)
    write_chunks(partial / CHUNKS, request.chunks)
    manifest = {
        "files": file_digests(partial),
        "format_version": FORMAT_VERSION,
        "created": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
        "embed_model": request.embed_model,
        "embedder": embedder.name,
        "dimension": int(vectors.shape[1]),
        "chunker": request.chunker,
        "corpus_hash": request.corpus_hash,
        "n_chunks": len(request.chunks),
        "documents": request.documents,
        "build_seconds": round(time.perf_counter() - started, 2),
        **request.extra,
    }
    (partial / MANIFEST).write_text(json.dumps(manifest, ensure_ascii=False, indent=2), encoding="utf-8")
    return publish(index_dir, partial)
