"""The indexed document set: sync it with corpus/ and the kept sources, add, replace or remove documents.

Every change is applied to the published set as read under the build lock (two writers cannot both start from the
same set and lose each other's document), and refused when that set cannot be read (it is never applied to an
empty one). Added documents' sources are kept under the index, so `reportqa index` rebuilds all of them.
"""

from __future__ import annotations

import tempfile
import time
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol

from reportqa.core.progress import SILENT, track
from reportqa.core.settings import Settings
from reportqa.core.types import Chunk, Document
from reportqa.index.build import BuildRequest, Progress, publish_version, search_text
from reportqa.index.doccache import DocCache, Prepared, cache_key
from reportqa.index.shard_build import current_shards, publish_sharded, version_chunks
from reportqa.index.sources import KeptSource, SourceStore
from reportqa.index.store import (
    CHUNKS,
    CollectionUnreadable,
    IndexProblem,
    build_lock,
    content_hash,
    corpus_hash_of,
    current_version_path,
    read_manifest,
    verify_files,
)
from reportqa.index.text import bigrams, tokens, words
from reportqa.ingest.chunk import ChunkerConfig, chunk_document
from reportqa.ingest.clean import CLEANING_RULES, clean_text
from reportqa.ingest.decoding import SourceError
from reportqa.ingest.limits import UNLIMITED, IngestLimits
from reportqa.ingest.load import Skipped, Sourced, load_sources

CACHE_DIR = "doc_cache"


class NotIndexed(IndexProblem):
    """A document asked for by name is not in the index."""


class BuildStages(Protocol):
    """Where a change's costly stages run: here (LocalStages), or across a cluster (reportqa.scaleout)."""

    def prepare(self, documents: Sequence[Document], settings: Settings, cache: DocCache
                ) -> list[Prepared | SourceError]:
        """Each document cleaned, chunked and tokenised (or taken from the cache), in order."""
        ...

    def publish(self, settings: Settings, request: BuildRequest, progress: Progress) -> Path:
        """Embed, index and publish a version (the caller holds the build lock)."""
        ...


class LocalStages:
    """Every stage in this process: one version folder, or REPORTQA_SHARDS shards of it."""

    def prepare(self, documents: Sequence[Document], settings: Settings, cache: DocCache
                ) -> list[Prepared | SourceError]:
        out: list[Prepared | SourceError] = []
        for document in documents:
            try:
                out.append(prepare(document, settings, cache))
            except SourceError as exc:
                out.append(exc)
        return out

    def publish(self, settings: Settings, request: BuildRequest, progress: Progress) -> Path:
        shards = shard_count(settings)
        if shards > 1:
            return publish_sharded(settings.index_dir, request, shards, progress=progress)
        return publish_version(settings.index_dir, request, progress=progress)


def shard_count(settings: Settings) -> int:
    """The shards to write: as set, else as many as the current version has (a change keeps the layout)."""
    return settings.shards if settings.shards is not None else current_shards(settings.index_dir)


LOCAL = LocalStages()


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

    def as_json(self, names_only: bool = False) -> dict[str, Any]:
        """The report; `names_only` (for HTTP) gives the version and each skipped file by name, not by path."""
        def shown(path: Path) -> str:
            return path.name if names_only else str(path)

        return {"version": shown(self.version), "documents": self.documents, "chunks": self.chunks,
                "added": list(self.added), "updated": list(self.updated), "removed": list(self.removed),
                "unchanged": list(self.unchanged),
                "skipped": [{"path": shown(Path(s.path)), "reason": s.reason} for s in self.skipped],
                "dropped": self.dropped}


@dataclass(frozen=True, slots=True)
class Change:
    """What to do to the published set: `incoming` documents added or replaced and `remove`d names taken out,
    or (replace_all) the set made exactly `incoming`."""

    incoming: tuple[Sourced, ...] = ()
    remove: frozenset[str] = frozenset()
    replace_all: bool = False
    skipped: tuple[Skipped, ...] = ()


def chunker_config(settings: Settings) -> ChunkerConfig:
    return ChunkerConfig(max_tokens=settings.chunk_tokens, overlap_tokens=settings.chunk_overlap_tokens)


def chunker_manifest(settings: Settings) -> dict[str, int]:
    return {"max_tokens": settings.chunk_tokens, "overlap_tokens": settings.chunk_overlap_tokens}


def ingest_limits(settings: Settings) -> IngestLimits:
    """What reading one added document may cost (the corpus and kept sources are read without limits)."""
    return IngestLimits(max_expanded_bytes=settings.max_expanded_bytes, max_pdf_pages=settings.max_pdf_pages,
                        max_pdf_content_bytes=settings.max_pdf_content_bytes)


def clean_and_chunk(doc: Document, config: ChunkerConfig) -> tuple[tuple[Chunk, ...], dict[str, Any]]:
    """A document's chunks and the facts the manifest keeps about it (title, hash, chunks, pages, noise dropped)."""
    cleaned = clean_text(doc.text)
    chunks = tuple(chunk_document(doc, cleaned, config, words))
    return chunks, {"title": doc.title, "hash": content_hash(doc.text), "chunks": len(chunks),
                    "pages": len(doc.pages) or None, "dropped": cleaned.dropped}


def _tokenised(key: str, facts: dict[str, Any], chunks: tuple[Chunk, ...]) -> Prepared:
    texts = [search_text(c) for c in chunks]
    return Prepared(key, facts, chunks, tuple(tuple(tokens(t)) for t in texts), tuple(tuple(bigrams(t)) for t in texts))


def _document_key(doc: Document, settings: Settings) -> str:
    return cache_key(doc.doc, doc.title, content_hash(doc.text), chunker_manifest(settings) | {"rules": CLEANING_RULES})


def prepared_from_cache(doc: Document, settings: Settings, cache: DocCache) -> Prepared | None:
    """The document as prepared before with the same content and settings, if the cache has it."""
    return cache.get(_document_key(doc, settings))


def prepare(doc: Document, settings: Settings, cache: DocCache) -> Prepared:
    """Clean, chunk and tokenise a document, or take all of that from the cache when its content is known;
    SourceError when cleaning leaves nothing to index."""
    key = _document_key(doc, settings)
    cached = cache.get(key)
    if cached is not None:
        return cached
    chunks, facts = clean_and_chunk(doc, chunker_config(settings))
    if not chunks:
        raise SourceError("no text left after cleaning (only headers, page numbers, chart labels or blank lines)")
    prepared = _tokenised(key, facts | {"key": key, "added": time.strftime("%Y-%m-%dT%H:%M:%S")}, chunks)
    cache.put(prepared)
    return prepared


def _published(settings: Settings, required: bool) -> tuple[dict[str, dict[str, Any]], Path | None]:
    """The current version's documents (name → manifest facts) and folder. Required (a change to apply to it):
    CollectionUnreadable when it cannot be read, checksums included. Else (a rebuild) an unreadable one is empty."""
    try:
        version = current_version_path(settings.index_dir)
        manifest = read_manifest(version)
        documents = manifest.get("documents")
        if not isinstance(documents, dict):
            raise IndexProblem(f"the manifest of {version.name} lists no documents")
        if required:
            verify_files(version, manifest)
        return documents, version
    except IndexProblem as exc:
        if required:
            raise CollectionUnreadable(f"the current index version cannot be read, so nothing was changed ({exc}). "
                                       "`reportqa index` rebuilds it from corpus/ and every added document") from exc
        return {}, None


def _restore(published: dict[str, dict[str, Any]], names: Iterable[str], version: Path, cache: DocCache
             ) -> dict[str, Prepared]:
    """The prepared documents of published names, from the cache; an entry missing or damaged there is rebuilt
    from the published version's chunks (what the entry held; the tokens are derived from them)."""
    found: dict[str, Prepared] = {}
    missing: list[str] = []
    for name in names:
        prepared = cache.get(str(published[name].get("key", "")))
        if prepared is None:
            missing.append(name)
        else:
            found[name] = prepared
    if missing:
        try:
            chunks = version_chunks(version)
        except (OSError, ValueError, TypeError) as exc:
            raise CollectionUnreadable(f"{CHUNKS} of {version.name} cannot be read ({exc})") from exc
        for name in missing:
            facts = published[name]
            own = tuple(c for c in chunks if c.doc == name)
            if not own or not facts.get("key"):
                raise CollectionUnreadable(f"{version.name} has no chunks for {name}; rebuild with reportqa index")
            found[name] = _tokenised(str(facts["key"]), facts, own)
            cache.put(found[name])
    return found


def _prepared_incoming(change: Change, settings: Settings, cache: DocCache, progress: Progress | None = None,
                       stages: BuildStages = LOCAL) -> tuple[list[tuple[Sourced, Prepared]], list[Skipped]]:
    """Clean, chunk and tokenise the incoming documents: the costly part (minutes for a large upload), done before
    the build lock is taken so that it never holds up another change."""
    ready: list[tuple[Sourced, Prepared]] = []
    skipped = list(change.skipped)
    items = list(change.incoming)
    if stages is LOCAL:  # one by one, with progress
        results = [r for item in track(progress or SILENT, items, len(items), "documents (clean, chunk, tokenise)")
                   for r in LOCAL.prepare([item.document], settings, cache)]
    else:
        results = stages.prepare([item.document for item in items], settings, cache)
    for item, result in zip(items, results, strict=True):
        if isinstance(result, SourceError):
            skipped.append(Skipped(str(item.path), str(result)))
        else:
            ready.append((item, result))
    return ready, skipped


def _without_duplicates(ready: Sequence[tuple[Sourced, Prepared]], known: dict[str, Prepared]
                        ) -> tuple[list[tuple[Sourced, Prepared]], list[Skipped]]:
    """A document whose content is already indexed under another name is reported, not indexed twice."""
    by_hash = {p.facts["hash"]: doc for doc, p in known.items()}
    kept, skipped = [], []
    for item, prepared in sorted(ready, key=lambda pair: pair[0].document.doc):
        digest, name = prepared.facts["hash"], item.document.doc
        twin = by_hash.get(digest)
        if twin is not None and twin != name:
            skipped.append(Skipped(str(item.path), f"duplicate of {twin} (same content)"))
            continue
        by_hash[digest] = name
        kept.append((item, prepared))
    return kept, skipped


def _write(settings: Settings, documents: dict[str, Prepared], progress: Progress | None,
           stages: BuildStages = LOCAL) -> Path:
    ordered = [documents[name] for name in sorted(documents)]
    request = BuildRequest(
        chunks=[c for p in ordered for c in p.chunks],
        documents={name: documents[name].facts for name in sorted(documents)},
        corpus_hash=corpus_hash_of((name, str(p.facts["title"]), str(p.facts["hash"]))
                                   for name, p in documents.items()),
        embed_model=settings.embed_model, embed_dim=settings.embed_dim, chunker=chunker_manifest(settings),
        tokens=[t for p in ordered for t in p.tokens], grams=[g for p in ordered for g in p.grams],
        models_dir=settings.models_dir)
    return stages.publish(settings, request, progress or SILENT)


def _kept_after(change: Change, added: Sequence[Sourced], store: SourceStore) -> dict[str, KeptSource]:
    """The registry of kept sources once the change is applied (a rebuild changes nothing in it)."""
    registry = store.registry()
    if change.replace_all:
        return registry
    registry = {doc: kept for doc, kept in registry.items() if doc not in change.remove}
    digests: dict[Path, str] = {}
    for item in added:
        digest = digests.setdefault(item.path, store.keep(item.path))
        registry[item.document.doc] = KeptSource(item.document.doc, item.path.name, digest, item.document.title)
    return registry


def _report(version: Path, new_set: dict[str, Prepared], published: dict[str, dict[str, Any]],
            skipped: list[Skipped]) -> IngestReport:
    changed = {d: p for d, p in new_set.items() if published.get(d, {}).get("key") != p.key}
    return IngestReport(
        version, len(new_set), sum(len(p.chunks) for p in new_set.values()),
        added=tuple(sorted(d for d in changed if d not in published)),
        updated=tuple(sorted(d for d in changed if d in published)),
        removed=tuple(sorted(set(published) - set(new_set))),
        unchanged=tuple(sorted(set(new_set) - set(changed))),
        skipped=tuple(skipped), dropped={d: p.facts["dropped"] for d, p in changed.items()})


def _apply(settings: Settings, change: Change, progress: Progress | None, wait_s: float,
           stages: BuildStages = LOCAL) -> IngestReport:
    cache = DocCache(settings.index_dir / CACHE_DIR)
    ready, skipped = _prepared_incoming(change, settings, cache, progress, stages)
    with build_lock(settings.index_dir, wait_s):
        return _apply_locked(settings, change, ready, skipped, cache, progress, stages)


def _apply_locked(settings: Settings, change: Change, ready: list[tuple[Sourced, Prepared]], skipped: list[Skipped],
                  cache: DocCache, progress: Progress | None, stages: BuildStages = LOCAL) -> IngestReport:
    """The change applied to the published set as read now, under the build lock, and published."""
    published, version = _published(settings, required=not change.replace_all)
    unknown = sorted(change.remove - set(published))
    if unknown:
        raise NotIndexed(f"not in the index: {', '.join(unknown)} (see reportqa docs)")
    incoming_names = {item.document.doc for item, _ in ready}
    keep = [] if change.replace_all else [d for d in published if d not in change.remove | incoming_names]
    new_set = _restore(published, keep, version, cache) if version is not None else {}
    accepted, duplicates = _without_duplicates(ready, new_set)
    skipped = [*skipped, *duplicates]
    new_set |= {item.document.doc: prepared for item, prepared in accepted}
    added = [item for item, _ in accepted]
    if not change.replace_all and not added and not change.remove:
        reasons = "; ".join(f"{Path(s.path).name}: {s.reason}" for s in skipped) or "no documents found"
        raise SourceError(f"nothing added: {reasons}")
    if not new_set:
        raise IndexProblem("nothing to index: no readable documents")
    store = SourceStore(settings.index_dir)
    before, after = store.registry(), _kept_after(change, added, store)
    if after != before:
        store.save(after)  # first: a crash between the two leaves a source that a rebuild restores
    try:
        version_now = _write(settings, new_set, progress, stages)
    except BaseException:
        if after != before:
            store.save(before)
        raise
    cache.prune({p.key for p in new_set.values()} | {str(f.get("key")) for f in published.values()})
    return _report(version_now, new_set, published, skipped)


def _kept_documents(store: SourceStore, folder: Path) -> tuple[list[Sourced], list[Skipped]]:
    """The kept sources read back, each document as it was added (same name, same title)."""
    registry = store.registry()
    paths = store.materialise(list(registry.values()), folder)
    titles = {kept.file: kept.title for kept in registry.values()}
    found, skipped = load_sources(paths, UNLIMITED, titles)
    wanted = {(kept.doc, kept.file) for kept in registry.values()}
    return [s for s in found if (s.document.doc, s.path.name) in wanted], skipped


def sync(settings: Settings, progress: Progress | None = None, wait_s: float = 0.0,
         stages: BuildStages = LOCAL) -> IngestReport:
    """Make the index hold exactly corpus/ plus the kept (added) sources, which win over a corpus file of the same
    name: new and changed documents processed, vanished ones removed. Works whatever state the index is in."""
    corpus, skipped = load_sources(settings.corpus)
    with tempfile.TemporaryDirectory(prefix="reportqa-kept-") as folder:
        kept, kept_skipped = _kept_documents(SourceStore(settings.index_dir), Path(folder))
    by_name = {s.document.doc: s for s in corpus} | {s.document.doc: s for s in kept}
    change = Change(tuple(by_name.values()), replace_all=True, skipped=(*skipped, *kept_skipped))
    return _apply(settings, change, progress, wait_s, stages)


def add(settings: Settings, paths: Sequence[Path], progress: Progress | None = None,
        titles: dict[str, str] | None = None, wait_s: float = 0.0, stages: BuildStages = LOCAL) -> IngestReport:
    """Add documents, replacing any indexed under the same name; their sources are kept under the index."""
    documents, skipped = load_sources(paths, ingest_limits(settings), titles)
    return _apply(settings, Change(tuple(documents), skipped=tuple(skipped)), progress, wait_s, stages)


def remove(settings: Settings, names: Sequence[str], progress: Progress | None = None,
           wait_s: float = 0.0, stages: BuildStages = LOCAL) -> IngestReport:
    return _apply(settings, Change(remove=frozenset(names)), progress, wait_s, stages)


def published_documents(settings: Settings) -> dict[str, dict[str, Any]]:
    """The current version's documents, read for a quick decision (is a change possible, is the name indexed);
    CollectionUnreadable when it cannot be read. The change itself reads the set again, under the build lock."""
    try:
        manifest = read_manifest(current_version_path(settings.index_dir))
    except IndexProblem as exc:
        raise CollectionUnreadable(f"the current index version cannot be read, so no change is accepted ({exc}). "
                                   "`reportqa index` rebuilds it from corpus/ and every added document") from exc
    documents = manifest.get("documents")
    return documents if isinstance(documents, dict) else {}


def listing(settings: Settings) -> list[dict[str, Any]]:
    """What is indexed: name, title, chunks, pages, content hash, when it was added."""
    manifest = read_manifest(current_version_path(settings.index_dir))
    return [{"doc": doc, "title": f.get("title"), "chunks": f.get("chunks"), "pages": f.get("pages"),
             "hash": f.get("hash"), "added": f.get("added"), "dropped": f.get("dropped")}
            for doc, f in sorted(manifest.get("documents", {}).items())]
