"""The index on disk: versions/<id>/ folders of data plus manifest.json, a CURRENT pointer, and a build lock."""

from __future__ import annotations

import contextlib
import dataclasses
import fcntl
import hashlib
import json
import os
import shutil
import time
from collections.abc import Iterable, Iterator, Sequence
from pathlib import Path
from typing import Any

from reportqa.core.types import Chunk, Document

FORMAT_VERSION = 3  # 3: units without content dropped (index.units); 2: BM25 as numpy arrays, HNSW past the exact limit
MANIFEST = "manifest.json"
QUANTITATIVE_SHARE = "quantitative_share"  # the manifest's record of index.rank_features.quantitative_share
CHUNKS = "chunks.jsonl"
BM25_DIR = "bm25"
BIGRAM_DIR = "bm25_bigram"
FAISS_FILE = "dense.faiss"
MODEL_DIR = "dense_model"
CURRENT = "CURRENT"
VERSIONS = "versions"
LOCK = ".build.lock"
LOCK_POLL_S = 0.05
KEEP_VERSIONS = 2


class IndexProblem(RuntimeError):
    """Base for index problems whose message tells the user what to do."""


class IndexMissing(IndexProblem):
    pass


class IndexCorrupt(IndexProblem):
    pass


class IndexMismatch(IndexProblem):
    pass


class BuildLocked(IndexProblem):
    pass


class CollectionUnreadable(IndexProblem):
    """The current version cannot be read, so no change can be applied to it: refused rather than applied to
    nothing (which would publish a collection without the documents it had)."""


def build_hint(index_dir: Path) -> str:
    return f"build it with: reportqa index --index-dir {index_dir}"


def content_hash(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def corpus_hash_of(entries: Iterable[tuple[str, str, str]]) -> str:
    """One hash for a document set, from (name, title, content hash) triples in any order."""
    digest = hashlib.sha256()
    for name, title, text_hash in sorted(entries):
        digest.update(f"{name}\0{title}\0{text_hash}\n".encode())
    return digest.hexdigest()


def corpus_hash(documents: Sequence[Document]) -> str:
    return corpus_hash_of((d.doc, d.title, content_hash(d.text)) for d in documents)


def write_chunks(path: Path, chunks: Sequence[Chunk]) -> None:
    with path.open("w", encoding="utf-8") as out:
        for chunk in chunks:
            out.write(json.dumps(dataclasses.asdict(chunk), ensure_ascii=False) + "\n")


def read_chunks(path: Path) -> list[Chunk]:
    with path.open(encoding="utf-8") as source:
        return [Chunk(**json.loads(line)) for line in source if line.strip()]


def current_version_path(index_dir: Path) -> Path:
    pointer = index_dir / CURRENT
    if not pointer.is_file():
        raise IndexMissing(f"no index in {index_dir}; {build_hint(index_dir)}")
    try:
        name = pointer.read_text(encoding="utf-8").strip()
    except ValueError as exc:
        raise IndexCorrupt(f"{pointer} is not a version name; {build_hint(index_dir)}") from exc
    path = index_dir / VERSIONS / name
    if not name or "/" in name or name in {".", ".."} or not path.is_dir():
        raise IndexCorrupt(f"{pointer} points to a missing version {name!r}; {build_hint(index_dir)}")
    return path


def read_manifest(version_dir: Path) -> dict[str, Any]:
    path = version_dir / MANIFEST
    try:
        manifest = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError as exc:
        raise IndexCorrupt(f"{path} is missing") from exc
    except json.JSONDecodeError as exc:
        raise IndexCorrupt(f"{path} is not valid JSON ({exc})") from exc
    if not isinstance(manifest, dict) or manifest.get("format_version") != FORMAT_VERSION:
        raise IndexMismatch(
            f"{path} has format {manifest.get('format_version') if isinstance(manifest, dict) else '?'}, "
            f"this reportqa reads format {FORMAT_VERSION}; {build_hint(version_dir.parent.parent)}"
        )
    return manifest


def file_digests(folder: Path) -> dict[str, dict[str, Any]]:
    """Size and SHA-256 of every data file of a version, so that damage is caught when it is loaded."""
    digests = {}
    for path in sorted(p for p in folder.rglob("*") if p.is_file() and p.name != MANIFEST):
        digests[path.relative_to(folder).as_posix()] = file_digest(path)
    return digests


def file_digest(path: Path) -> dict[str, Any]:
    """Size and SHA-256 of one file, read in blocks."""
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return {"size": path.stat().st_size, "sha256": digest.hexdigest()}


def verify_files(version_dir: Path, manifest: dict[str, Any]) -> None:
    """Every file the manifest lists is present with its recorded size and checksum."""
    recorded = manifest.get("files")
    if not isinstance(recorded, dict) or not recorded:
        raise IndexCorrupt(f"{version_dir / MANIFEST} lists no file checksums, so damage could not be detected; "
                           f"{build_hint(version_dir.parent.parent)}")
    for name, facts in recorded.items():  # only the recorded files: a sharded version's shards check their own
        found = file_digest(version_dir / name) if (version_dir / name).is_file() else None
        if found is None:
            raise IndexCorrupt(f"{version_dir / name} is missing; {build_hint(version_dir.parent.parent)}")
        if found != facts:
            raise IndexCorrupt(f"{version_dir / name} is damaged (size or checksum differs from the manifest); "
                               f"{build_hint(version_dir.parent.parent)}")


def check_compatible(manifest: dict[str, Any], embed_model: str, chunker: dict[str, int], where: Path) -> None:
    """Explain, rather than silently mix, an index built with other settings than the ones asked for."""
    problems = []
    if manifest.get("embed_model") != embed_model:
        problems.append(f"embedding model is {manifest.get('embed_model')!r}, settings ask for {embed_model!r}")
    if manifest.get("chunker") != chunker:
        problems.append(f"chunker settings are {manifest.get('chunker')}, settings ask for {chunker}")
    if problems:
        raise IndexMismatch(f"index at {where} does not match: " + "; ".join(problems)
                            + f". Rebuild with: reportqa index --index-dir {where}")


@contextlib.contextmanager
def build_lock(index_dir: Path, wait_s: float = 0.0) -> Iterator[None]:
    """The one writer of an index folder at a time (across processes); waits up to `wait_s` for it."""
    index_dir.mkdir(parents=True, exist_ok=True)
    deadline = time.monotonic() + wait_s
    with (index_dir / LOCK).open("w") as handle:
        while True:
            try:
                fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
                break
            except BlockingIOError as exc:
                if time.monotonic() >= deadline:
                    raise BuildLocked(f"another build of {index_dir} is running; wait for it to finish") from exc
                time.sleep(LOCK_POLL_S)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


def _sequence(name: str) -> int:
    head = name.split("-", 1)[0]
    return int(head[1:]) if head.startswith("v") and head[1:].isdigit() else -1


def new_version_dir(index_dir: Path) -> Path:
    """versions/v000042-20261122T224500.partial: numbered so that names sort in build order."""
    versions = index_dir / VERSIONS
    versions.mkdir(parents=True, exist_ok=True)
    last = max((_sequence(p.name) for p in versions.iterdir()), default=0)
    path = versions / f"v{last + 1:06d}-{time.strftime('%Y%m%dT%H%M%S')}.partial"
    path.mkdir()
    return path


def publish(index_dir: Path, partial: Path) -> Path:
    """Make a finished version current with one atomic rename of the pointer file."""
    final = partial.with_name(partial.name.removesuffix(".partial"))
    for path in sorted(partial.rglob("*")):
        if path.is_file():
            with path.open("rb") as handle:
                os.fsync(handle.fileno())
    partial.rename(final)
    tmp = index_dir / f".{CURRENT}.{os.getpid()}"
    try:
        tmp.write_text(final.name, encoding="utf-8")
        with tmp.open("rb") as handle:
            os.fsync(handle.fileno())
        os.replace(tmp, index_dir / CURRENT)
    finally:
        tmp.unlink(missing_ok=True)
    prune(index_dir, keep=final.name)
    return final


def prune(index_dir: Path, keep: str) -> None:
    """Remove unfinished builds and all but the newest finished versions (the current one always stays)."""
    versions = index_dir / VERSIONS
    finished = sorted((p for p in versions.iterdir() if not p.name.endswith(".partial")),
                      key=lambda p: _sequence(p.name))
    stale = [p for p in finished[:-KEEP_VERSIONS] if p.name != keep]
    stale += [p for p in versions.iterdir() if p.name.endswith(".partial")]
    for path in stale:
        shutil.rmtree(path, ignore_errors=True)
