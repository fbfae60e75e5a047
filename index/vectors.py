"""Chunk and unit vectors for a build: every text embedded once per model, kept by content between builds.

With an encoder, a version's dense channel searches the units of every chunk (sentences and table rows,
index.units): `dense.faiss` holds their vectors, `units.npy` the same rows for slicing by chunk, and `units.json`
says which rows belong to which chunk. A passage scores as its best unit: on the five reports that finds the
right passage first for 0.79 of eval/qa.jsonl's questions where passage vectors found 0.61 (hit@5 0.93 vs 0.86),
and embedding only the units halves the build. Answer choice reads the same vectors.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from reportqa.index.embed import Embedder
from reportqa.index.models import passage_encoding
from reportqa.index.units import chunk_units
from reportqa.index.vector_cache import BATCH, VectorCache

from reportqa.core.progress import track
from reportqa.core.types import Chunk

UNIT_VECTORS = "units.npy"
UNIT_TABLE = "units.json"
VECTOR_CACHE_DIR = "vector_cache"


@dataclass(frozen=True, slots=True)
class UnitTable:
    """Row ranges of each chunk's units in the unit matrix: chunk i owns rows offsets[i]:offsets[i + 1]."""

    offsets: np.ndarray  # int64, n_chunks + 1

    def owners(self, unit_ids: np.ndarray) -> np.ndarray:
        """The chunk each unit belongs to."""
        return np.searchsorted(self.offsets, unit_ids, side="right") - 1

    def rows(self, chunk_index: int) -> range:
        return range(int(self.offsets[chunk_index]), int(self.offsets[chunk_index + 1]))

    @property
    def size(self) -> int:
        return int(self.offsets[-1]) if len(self.offsets) else 0


def embed_units(chunks: Sequence[Chunk], embedder: Embedder, cache_dir: Path,
                progress: Callable[[str], None]) -> tuple[np.ndarray, UnitTable]:
    """(unit vectors, unit table); texts already in the cache are not embedded again."""
    units = [chunk_units(c) for c in chunks]
    offsets = np.zeros(len(chunks) + 1, dtype=np.int64)
    np.cumsum([len(u) for u in units], out=offsets[1:])
    flat_units = [u for group in units for u in group]
    fingerprint, encode = passage_encoding(embedder, len(set(flat_units)))
    cache = VectorCache(cache_dir, fingerprint)
    new = cache.missing(flat_units)
    what = f"embedding {new} new sentences and rows of {len(flat_units)} (batches of {BATCH})"
    vectors = cache.vectors(flat_units, encode, embedder.dimension, lambda starts, n: track(progress, starts, n, what))
    cache.save()
    return vectors, UnitTable(offsets)


def save_units(folder: Path, vectors: np.ndarray, table: UnitTable) -> None:
    np.save(folder / UNIT_VECTORS, np.ascontiguousarray(vectors, dtype=np.float32))
    (folder / UNIT_TABLE).write_text(json.dumps({"offsets": table.offsets.tolist()}), encoding="utf-8")


def load_units(folder: Path, n_chunks: int) -> tuple[np.ndarray, UnitTable] | None:
    """The version's unit vectors (memory-mapped) and table; None for a version built without them."""
    if not (folder / UNIT_TABLE).is_file():
        return None
    offsets = np.asarray(json.loads((folder / UNIT_TABLE).read_text(encoding="utf-8"))["offsets"], dtype=np.int64)
    # a plain ndarray view of the map: np.memmap's slicing costs ~3 µs a chunk, ~0.3 ms a question over the pool
    vectors = np.asarray(np.load(folder / UNIT_VECTORS, mmap_mode="r"))
    if len(offsets) != n_chunks + 1 or int(offsets[-1]) != len(vectors):
        raise ValueError(f"{UNIT_TABLE} lists {int(offsets[-1]) if len(offsets) else 0} units for "
                         f"{len(offsets) - 1} chunks; {UNIT_VECTORS} has {len(vectors)} rows and there are "
                         f"{n_chunks} chunks")
    return vectors, UnitTable(offsets)
