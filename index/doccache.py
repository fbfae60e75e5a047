"""Per-document cache of chunks and tokens, keyed by content: unchanged documents are never re-processed."""

from __future__ import annotations

import contextlib
import dataclasses
import hashlib
import json
import os
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from reportqa.core.types import Chunk

CACHE_FORMAT = 2  # 2: a checksum line before the JSON
TMP_SUFFIX = ".tmp"
STALE_TMP_S = 3600


@dataclass(frozen=True, slots=True)
class Prepared:
    """One document ready to index: its chunks with their word and bigram tokens, and manifest facts."""

    key: str
    facts: dict[str, Any]
    chunks: tuple[Chunk, ...]
    tokens: tuple[tuple[str, ...], ...]
    grams: tuple[tuple[str, ...], ...]


def cache_key(doc: str, title: str, text_hash: str, chunker: dict[str, int]) -> str:
    from reportqa.index.text import tokenizer_fingerprint

    material = json.dumps([CACHE_FORMAT, doc, title, text_hash, chunker, tokenizer_fingerprint()],
                          ensure_ascii=False, sort_keys=True)
    return hashlib.sha256(material.encode("utf-8")).hexdigest()[:32]


class DocCache:
    """A folder of <key>.json files beside the index versions."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder

    def get(self, key: str) -> Prepared | None:
        """The entry, or None when it is missing or damaged (its checksum differs): then it is simply redone."""
        path = self.folder / f"{key}.json"
        try:
            digest, _, payload = path.read_bytes().partition(b"\n")
            if hashlib.sha256(payload).hexdigest().encode() != digest:
                return None
            data = json.loads(payload)
            return Prepared(key, data["facts"], tuple(Chunk(**c) for c in data["chunks"]),
                            tuple(tuple(t) for t in data["tokens"]), tuple(tuple(g) for g in data["grams"]))
        except (OSError, ValueError, KeyError, TypeError):
            return None

    def put(self, prepared: Prepared) -> None:
        """Written whole or not at all: a temporary file renamed into place, removed when the write fails."""
        self.folder.mkdir(parents=True, exist_ok=True)
        data = {"facts": prepared.facts, "chunks": [dataclasses.asdict(c) for c in prepared.chunks],
                "tokens": prepared.tokens, "grams": prepared.grams}
        payload = json.dumps(data, ensure_ascii=False).encode("utf-8")
        tmp = self.folder / f".{prepared.key}.{os.getpid()}{TMP_SUFFIX}"
        try:
            tmp.write_bytes(hashlib.sha256(payload).hexdigest().encode() + b"\n" + payload)
            os.replace(tmp, self.folder / f"{prepared.key}.json")
        finally:
            tmp.unlink(missing_ok=True)

    def prune(self, keep: set[str]) -> None:
        """Drop entries no version uses, and temporary files a killed writer left behind (old ones only: entries
        are written outside the build lock, and a younger one may be another writer's, in progress)."""
        if not self.folder.is_dir():
            return
        for path in self.folder.glob("*.json"):
            if path.stem not in keep:
                path.unlink(missing_ok=True)
        stale = time.time() - STALE_TMP_S
        for path in self.folder.glob(f".*{TMP_SUFFIX}"):
            with contextlib.suppress(OSError):
                if path.stat().st_mtime < stale:
                    path.unlink()
