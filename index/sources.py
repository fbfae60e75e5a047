"""The sources of documents added to the index (uploads, `reportqa add`), kept under it by content: the index can
always be rebuilt from corpus/ plus these, whatever happens to its versions or its cache.

sources/blobs/<sha256> holds the bytes as received; sources/registry.json maps each document kept this way to
its blob, the file name it was read under (its suffix picks the reader) and its title.
"""

from __future__ import annotations

import json
import os
import shutil
from dataclasses import asdict, dataclass
from pathlib import Path

from reportqa.index.store import CollectionUnreadable

from reportqa.core.digest import file_sha256

SOURCES = "sources"
BLOBS = "blobs"
REGISTRY = "registry.json"


@dataclass(frozen=True, slots=True)
class KeptSource:
    doc: str  # the document's name in the index
    file: str  # the file it was read from (for a JSONL file, the document is the row with id == doc)
    sha256: str
    title: str


def write_atomically(path: Path, data: bytes) -> None:
    """The file has the old bytes or the new ones, never a part: written beside it, synced, renamed over."""
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    try:
        with tmp.open("wb") as handle:
            handle.write(data)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(tmp, path)
    finally:
        tmp.unlink(missing_ok=True)


class SourceStore:
    """Blobs and the registry; changed only by a writer holding the index's build lock."""

    def __init__(self, index_dir: Path) -> None:
        self.folder = Path(index_dir) / SOURCES

    def registry(self) -> dict[str, KeptSource]:
        path = self.folder / REGISTRY
        if not path.is_file():
            return {}
        try:
            rows = json.loads(path.read_text(encoding="utf-8"))
            return {row["doc"]: KeptSource(**row) for row in rows}
        except (OSError, ValueError, TypeError, KeyError) as exc:
            raise CollectionUnreadable(f"{path} is damaged ({exc}); the kept sources cannot be listed") from exc

    def save(self, registry: dict[str, KeptSource]) -> None:
        self.folder.mkdir(parents=True, exist_ok=True)
        rows = [asdict(registry[doc]) for doc in sorted(registry)]
        write_atomically(self.folder / REGISTRY, json.dumps(rows, ensure_ascii=False, indent=1).encode("utf-8"))
        self._prune({kept.sha256 for kept in registry.values()})

    def keep(self, path: Path) -> str:
        """Copy a file's bytes in (once per content) and return their digest."""
        digest = file_sha256(path)
        blob = self.folder / BLOBS / digest
        if not blob.is_file():
            blob.parent.mkdir(parents=True, exist_ok=True)
            tmp = blob.with_name(f".{digest}.{os.getpid()}.tmp")
            try:
                shutil.copyfile(path, tmp)
                os.replace(tmp, blob)
            finally:
                tmp.unlink(missing_ok=True)
        return digest

    def materialise(self, kept: list[KeptSource], folder: Path) -> list[Path]:
        """Each kept file under its own name (a link to its blob) in a folder of its own, ready for the readers."""
        paths: dict[tuple[str, str], Path] = {}
        for entry in kept:
            if (entry.sha256, entry.file) in paths:
                continue
            target = folder / str(len(paths)) / entry.file
            target.parent.mkdir(parents=True)
            target.symlink_to(self.folder / BLOBS / entry.sha256)
            paths[(entry.sha256, entry.file)] = target
        return list(paths.values())

    def _prune(self, used: set[str]) -> None:
        blobs = self.folder / BLOBS
        if blobs.is_dir():
            for blob in blobs.iterdir():
                if blob.name not in used:
                    blob.unlink(missing_ok=True)
