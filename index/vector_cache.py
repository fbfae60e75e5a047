"""Vectors kept by content: a rebuild embeds only texts it has not embedded before with the same model.

One file per model fingerprint in the models folder (`vector_cache/<fingerprint>.npz`), shared by every index
built with that model: the SHA-1 of each text and its vector. A damaged or missing file only costs
re-embedding, never a wrong vector: keys are checked against the vectors' count when read. Delete the folder
to reclaim its space; the next build embeds again.
"""

from __future__ import annotations

import hashlib
import os
import re
from collections.abc import Callable, Iterable, Sequence
from pathlib import Path

import numpy as np

Encode = Callable[[Sequence[str]], np.ndarray]
Batches = Callable[[Sequence[int], int], Iterable[int]]  # wraps the batch starts, e.g. with a progress bar
BATCH = 64


def text_key(text: str) -> bytes:
    return hashlib.sha1(text.encode("utf-8")).digest()


class VectorCache:
    def __init__(self, folder: Path, fingerprint: str) -> None:
        safe = re.sub(r"[^A-Za-z0-9_.-]", "_", fingerprint)[:120]
        self.path = folder / f"{safe}.npz"
        self._rows: dict[bytes, np.ndarray] = {}
        self._read()

    def _read(self) -> None:
        try:
            with np.load(self.path) as data:
                keys, vectors = data["keys"], data["vectors"]
        except (OSError, ValueError, KeyError):
            return
        if keys.ndim != 2 or keys.shape[1] != 20 or len(keys) != len(vectors):
            return
        self._rows = {bytes(k): v for k, v in zip(keys, vectors, strict=True)}

    def missing(self, texts: Sequence[str]) -> int:
        """How many distinct texts are not in the cache (what a build would embed)."""
        return len({k for k in map(text_key, texts) if k not in self._rows})

    def missing_texts(self, texts: Sequence[str]) -> list[str]:
        """The distinct texts not in the cache, in first-seen order."""
        return [t for t in dict.fromkeys(texts) if text_key(t) not in self._rows]

    def vectors(self, texts: Sequence[str], encode: Encode, dimension: int, batches: Batches | None = None
                ) -> np.ndarray:
        """One unit row per text, from the cache where it has the text, else embedded now (in batches)."""
        keys = [text_key(t) for t in texts]
        by_key = {k: t for k, t in zip(keys, texts, strict=True)}
        missing = list(dict.fromkeys(k for k in keys if k not in self._rows))
        missing.sort(key=lambda k: len(by_key[k]))  # batches of similar length: less padding to run
        starts = list(range(0, len(missing), BATCH))
        for start in batches(starts, len(starts)) if batches else starts:
            batch = missing[start : start + BATCH]
            for key, vector in zip(batch, encode([by_key[k] for k in batch]), strict=True):
                self._rows[key] = np.asarray(vector, dtype=np.float32)
        if not keys:
            return np.zeros((0, dimension), dtype=np.float32)
        return np.stack([self._rows[k] for k in keys]).astype(np.float32)

    def save(self) -> None:
        """Write every row, atomically (a build that runs beside this one may lose its new rows: only time)."""
        keys = list(self._rows)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        tmp = self.path.with_name(f".{self.path.stem}.{os.getpid()}.tmp.npz")
        key_array = np.frombuffer(b"".join(keys), dtype=np.uint8).reshape(len(keys), 20)
        vectors = np.stack([self._rows[k] for k in keys]) if keys else np.zeros((0, 0), dtype=np.float32)
        np.savez(tmp, keys=key_array, vectors=vectors)
        os.replace(tmp, self.path)
