"""The small frozen values that pass between stages: documents, chunks, hits, answers."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal

ChunkKind = Literal["prose", "table"]


@dataclass(frozen=True, slots=True)
class Document:
    """A source text as read from disk; `doc` is the name citations use."""

    doc: str
    title: str
    text: str
    pages: tuple[int, ...] = ()  # page start offsets, empty when the source has no pages


@dataclass(frozen=True, slots=True)
class Chunk:
    """A retrievable passage; offsets point into the original `Document.text`."""

    id: str
    doc: str
    title: str
    section: str
    text: str
    start: int
    end: int
    line_start: int
    line_end: int
    kind: ChunkKind = "prose"
    page: int | None = None
    page_end: int | None = None


@dataclass(frozen=True, slots=True)
class Hit:
    """A chunk with its fused score and what each channel said about it."""

    chunk: Chunk
    score: float
    channel_scores: dict[str, float] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class Citation:
    n: int
    chunk: Chunk
    score: float


@dataclass(frozen=True, slots=True)
class Answer:
    question: str
    text: str
    abstained: bool
    citations: tuple[Citation, ...]
    id: str = ""
    confidence: float = 0.0
    source: int | None = None  # the citation number the best answer sentence was taken from
    resolved_question: str | None = None  # a follow-up rewritten to stand alone (chat)
    generated: bool = False  # written by the configured LLM, markers checked against the passages
    flagged: tuple[str, ...] = ()  # generated sentences that lost their marker: the passage doesn't back them
    pieces: tuple[tuple[str, int], ...] = ()  # the extractive answer's sentences and the citation each came from
    degraded: tuple[str, ...] = ()  # shards of a sharded collection that could not be searched for this answer
