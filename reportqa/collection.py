"""The indexed document set: sync it with the corpus, add, replace or remove documents without redoing the rest."""

from __future__ import annotations

import time
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from reportqa.core.progress import SILENT, track
from reportqa.core.settings import Settings
from reportqa.core.types import Chunk, Document
from reportqa.index.build import BuildRequest, Progress, build_index, search_text
from reportqa.index.doccache import DocCache, Prepared, cache_key
from reportqa.index.store import IndexProblem, content_hash, corpus_hash_of, current_version_path, read_manifest
from reportqa.index.text import bigrams, tokens, words
from reportqa.ingest.chunk import ChunkerConfig, chunk_document
from reportqa.ingest.clean import CLEANING_RULES, clean_text
from reportqa.ingest.load import Skipped, load_documents

CACHE_DIR = "doc_cache"


@dataclass(frozen=True, slots=True)
class IngestReport:
    """What one run did to the document set, with reasons for everything it left out."""

    version: Path
    documents: int
    chunks: int
    added: tuple[str, ...] = ()
    updated: tuple[str, ...] = ()
    removed: tuple[str, ...] = ()
    unchanged: tuple[str, ...] = ()
    skipped: tuple[Skipped, ...] = ()
    dropped: dict[str, dict[str, int]] = field(default_factory=dict)

    def as_json(self) -> dict[str, Any]:
        return {"version": str(self.version), "documents": self.documents, "chunks": self.chunks,
                "added": list(self.added), "updated": list(self.updated), "removed": list(self.removed),
                "unchanged": list(self.unchanged),
                "skipped": [{"path": s.path, "reason": s.reason} for s in self.skipped], "dropped": self.dropped}


def chunker_config(settings: Settings) -> ChunkerConfig:
    return ChunkerConfig(max_tokens=settings.chunk_tokens, overlap_tokens=settings.chunk_overlap_tokens)


def chunker_manifest(settings: Settings) -> dict[str, int]:
    return {"max_tokens": settings.chunk_tokens, "overlap_tokens": settings.chunk_overlap_tokens}


def clean_and_chunk(doc: Document, config: ChunkerConfig) -> tuple[tuple[Chunk, ...], dict[str, Any]]:
    """A document's chunks and the facts the manifest keeps about it (title, hash, chunks, pages, noise dropped)."""
    cleaned = clean_text(doc.text)
    chunks = tuple(chunk_document(doc, cleaned, config, words))
    return chunks, {"title": doc.title, "hash": content_hash(doc.text), "chunks": len(chunks),
                    "pages": len(doc.pages) or None, "dropped": cleaned.dropped}


def prepare(doc: Document, settings: Settings, cache: DocCache) -> Prepared:
    """Clean, chunk and tokenise a document, or take all of that from the cache when its content is known."""
    key = cache_key(doc.doc, doc.title, content_hash(doc.text), chunker_manifest(settings) | {"rules": CLEANING_RULES})
    cached = cache.get(key)
    if cached is not None:
        return cached
    chunks, facts = clean_and_chunk(doc, chunker_config(settings))
    facts |= {"key": key, "added": time.strftime("%Y-%m-%dT%H:%M:%S")}
    texts = [search_text(c) for c in chunks]
    prepared = Prepared(key, facts, chunks, tuple(tuple(tokens(t)) for t in texts),
                        tuple(tuple(bigrams(t)) for t in texts))
    cache.put(prepared)
    return prepared


def _current_set(settings: Settings, cache: DocCache) -> dict[str, Prepared]:
    """The documents of the live version, read back from the cache."""
    try:
        manifest = read_manifest(current_version_path(settings.index_dir))
    except IndexProblem:
        return {}
    found: dict[str, Prepared] = {}
    for doc, facts in manifest.get("documents", {}).items():
        prepared = cache.get(str(facts.get("key", "")))
        if prepared is None:
            raise IndexProblem(f"the cached chunks of {doc} are missing; rebuild with reportqa index")
        found[doc] = prepared
    return found


def _without_duplicates(documents: Sequence[Document], known: dict[str, Prepared]
                        ) -> tuple[list[Document], list[Skipped]]:
    """A document whose content is already indexed under another name is reported, not indexed twice."""
    by_hash = {p.facts["hash"]: doc for doc, p in known.items()}
    kept, skipped = [], []
    for doc in sorted(documents, key=lambda d: d.doc):
        digest = content_hash(doc.text)
        twin = by_hash.get(digest)
        if twin is not None and twin != doc.doc:
            skipped.append(Skipped(doc.doc, f"duplicate of {twin} (same content)"))
            continue
        by_hash[digest] = doc.doc
        kept.append(doc)
    return kept, skipped


def _write(settings: Settings, documents: dict[str, Prepared], progress: Progress | None) -> Path:
    ordered = [documents[name] for name in sorted(documents)]
    chunks = [c for p in ordered for c in p.chunks]
    request = BuildRequest(
        chunks=chunks, documents={name: documents[name].facts for name in sorted(documents)},
        corpus_hash=corpus_hash_of((name, str(p.facts["title"]), str(p.facts["hash"]))
                                   for name, p in documents.items()),
        embed_model=settings.embed_model,
        embed_dim=settings.embed_dim, chunker=chunker_manifest(settings),
        tokens=[t for p in ordered for t in p.tokens], grams=[g for p in ordered for g in p.grams],
        models_dir=settings.models_dir)
    return build_index(settings.index_dir, request, progress=progress or SILENT)


def _apply(settings: Settings, incoming: Sequence[Document], remove: Iterable[str], replace_all: bool,
           skipped: list[Skipped], progress: Progress | None) -> IngestReport:
    cache = DocCache(settings.index_dir / CACHE_DIR)
    current = _current_set(settings, cache)
    base = {} if replace_all else {k: v for k, v in current.items() if k not in set(remove)}
    documents, duplicates = _without_duplicates(incoming, {k: v for k, v in base.items()
                                                           if k not in {d.doc for d in incoming}})
    new_set = dict(base)
    for doc in track(progress or SILENT, documents, len(documents), "documents (clean, chunk, tokenise)"):
        new_set[doc.doc] = prepare(doc, settings, cache)
    if not new_set:
        raise IndexProblem("nothing to index: no readable documents")
    version = _write(settings, new_set, progress)
    cache.prune({p.key for p in new_set.values()} | {p.key for p in current.values()})
    changed = {d: p for d, p in new_set.items() if d not in current or current[d].key != p.key}
    return IngestReport(
        version, len(new_set), sum(len(p.chunks) for p in new_set.values()),
        added=tuple(sorted(d for d in changed if d not in current)),
        updated=tuple(sorted(d for d in changed if d in current)),
        removed=tuple(sorted(set(current) - set(new_set))),
        unchanged=tuple(sorted(set(new_set) - set(changed))),
        skipped=tuple(skipped + duplicates), dropped={d: p.facts["dropped"] for d, p in changed.items()})


def sync(settings: Settings, progress: Progress | None = None) -> IngestReport:
    """Make the index hold exactly the corpus: new and changed documents processed, vanished ones removed."""
    documents, skipped = load_documents(settings.corpus)
    return _apply(settings, documents, (), True, list(skipped), progress)


def add(settings: Settings, paths: Sequence[Path], progress: Progress | None = None) -> IngestReport:
    """Add documents, replacing any indexed under the same name."""
    documents, skipped = load_documents(paths)
    if not documents and skipped:
        raise IndexProblem("nothing added: " + "; ".join(f"{s.path}: {s.reason}" for s in skipped))
    return _apply(settings, documents, (), False, list(skipped), progress)


def remove(settings: Settings, names: Sequence[str], progress: Progress | None = None) -> IngestReport:
    cache = DocCache(settings.index_dir / CACHE_DIR)
    missing = [n for n in names if n not in _current_set(settings, cache)]
    if missing:
        raise IndexProblem(f"not in the index: {', '.join(missing)} (see reportqa docs)")
    return _apply(settings, [], names, False, [], progress)


def listing(settings: Settings) -> list[dict[str, Any]]:
    """What is indexed: name, title, chunks, pages, content hash, when it was added."""
    manifest = read_manifest(current_version_path(settings.index_dir))
    return [{"doc": doc, "title": f.get("title"), "chunks": f.get("chunks"), "pages": f.get("pages"),
             "hash": f.get("hash"), "added": f.get("added"), "dropped": f.get("dropped")}
            for doc, f in sorted(manifest.get("documents", {}).items())]
