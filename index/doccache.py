"""Per-document cache of chunks and tokens, keyed by content: unchanged documents are never re-processed."""

from __future__ import annotations

import dataclasses
import hashlib
import json
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from reportqa.core.types import Chunk

CACHE_FORMAT = 1


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
        path = self.folder / f"{key}.json"
        try:
            data = json.loads(path.read_text(encoding="utf-8"))
            return Prepared(key, data["facts"], tuple(Chunk(**c) for c in data["chunks"]),
                            tuple(tuple(t) for t in data["tokens"]), tuple(tuple(g) for g in data["grams"]))
        except (OSError, ValueError, KeyError, TypeError):
            return None  # missing or damaged: the document is simply processed again

    def put(self, prepared: Prepared) -> None:
        self.folder.mkdir(parents=True, exist_ok=True)
        data = {"facts": prepared.facts, "chunks": [dataclasses.asdict(c) for c in prepared.chunks],
                "tokens": prepared.tokens, "grams": prepared.grams}
        tmp = self.folder / f".{prepared.key}.{os.getpid()}.tmp"
        tmp.write_text(json.dumps(data, ensure_ascii=False), encoding="utf-8")
        os.replace(tmp, self.folder / f"{prepared.key}.json")

    def prune(self, keep: set[str]) -> None:
        if not self.folder.is_dir():
            return
        for path in self.folder.glob("*.json"):
            if path.stem not in keep:
                path.unlink(missing_ok=True)
