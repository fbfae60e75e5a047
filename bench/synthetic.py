"""Synthetic corpora resampled from the real reports' sentences: chunk i is 3-6 of them drawn with a fixed seed,
so every worker regenerates exactly the same corpus without passing it around."""

from __future__ import annotations

import random
from collections.abc import Iterator
from functools import cache
from typing import Any

from bench.common import CORPUS

SEED = 20260522
CHUNKS_PER_DOC = 500
MIN_SENTENCE_CHARS = 6


@cache
def sentence_pool() -> tuple[str, ...]:
    """Distinct sentences of the real reports, in corpus order."""
    from reportqa.ingest.load import load_documents

    from reportqa.core.text import split_sentences

    documents, _ = load_documents([CORPUS])
    seen: dict[str, None] = {}
    for doc in documents:
        for line in doc.text.splitlines():
            for start, end in split_sentences(line):
                sentence = line[start:end].strip()
                if len(sentence) >= MIN_SENTENCE_CHARS:
                    seen.setdefault(sentence, None)
    return tuple(seen)


def synthetic_texts(n: int, seed: int = SEED) -> Iterator[str]:
    pool = sentence_pool()
    rng = random.Random(seed)
    for _ in range(n):
        yield "".join(rng.choices(pool, k=rng.randint(3, 6)))


def doc_name(i: int) -> str:
    return f"synthetic-{i // CHUNKS_PER_DOC:05d}.txt"


def synthetic_chunks(n: int, seed: int = SEED) -> list[Any]:
    from reportqa.core.types import Chunk

    chunks = []
    for i, text in enumerate(synthetic_texts(n, seed)):
        doc = doc_name(i)
        chunks.append(Chunk(id=f"{doc}#{i % CHUNKS_PER_DOC:05d}", doc=doc, title=doc, section="", text=text,
                            start=0, end=len(text), line_start=1, line_end=1))
    return chunks
