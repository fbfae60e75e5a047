"""Every chunk of the real corpus points at the exact stretch of the source file it was cut from."""

from __future__ import annotations

import dataclasses
import re
from collections import Counter
from pathlib import Path

import pytest
from reportqa.index.store import CHUNKS, current_version_path, read_chunks

from reportqa.core.settings import Settings
from reportqa.core.types import Chunk

from ..conftest import REAL_CORPUS

pytestmark = pytest.mark.integration
_SPACE = re.compile(r"\s+")


def squeeze(text: str) -> str:
    return _SPACE.sub("", text)


def line_of(text: str, offset: int) -> int:
    return text.count("\n", 0, offset) + 1


def segments(needle: str, hay: str) -> list[tuple[int, int]] | None:
    """Greedy split of needle into the longest pieces found in hay in order: [(position, length)], or None."""
    found: list[tuple[int, int]] = []
    pos = 0
    rest = needle
    while rest:
        if hay.find(rest[:1], pos) < 0:
            return None
        lo, hi = 1, len(rest)
        while lo < hi:
            mid = (lo + hi + 1) // 2
            if hay.find(rest[:mid], pos) >= 0:
                lo = mid
            else:
                hi = mid - 1
        at = hay.find(rest[:lo], pos)
        found.append((at, lo))
        pos, rest = at + lo, rest[lo:]
    return found


def span_problem(chunk: Chunk, source: str) -> str | None:
    """Why chunk's text is not the text of source[start:end] (whitespace aside), or None when it is."""
    if not 0 <= chunk.start < chunk.end <= len(source):
        return f"bad offsets {chunk.start}..{chunk.end} for a text of {len(source)} characters"
    span = squeeze(source[chunk.start : chunk.end])
    body = chunk.text
    if chunk.kind == "table":
        header, _, rows = chunk.text.partition("\n")
        if not span.startswith(squeeze(header)):
            # a continuation of a long table repeats the header row, which lies before the span
            if squeeze(header) not in squeeze(source[: chunk.start]):
                return f"repeated table header {header!r} is not in the file before the span"
            body = rows
    # The text is made of verbatim pieces of the span, in order, at most one per source line, from its first
    # to its last character. (A paragraph may skip chart residue or a running header between two of its lines,
    # so a whole line of chunk text need not be contiguous in the file.)
    parts = segments(squeeze(body), span)
    if parts is None:
        return "text is not made of pieces of the span"
    lines = chunk.line_end - chunk.line_start + 1
    if parts[0][0] != 0 or parts[-1][0] + parts[-1][1] != len(span):
        return "span does not begin and end with the chunk's own text"
    if len(parts) > lines:
        return f"text needs {len(parts)} pieces of a span of only {lines} lines"
    return None


@pytest.fixture(scope="module")
def real_chunks(real_index: Settings) -> list[Chunk]:
    return read_chunks(current_version_path(real_index.index_dir) / CHUNKS)


@pytest.fixture(scope="module")
def sources() -> dict[str, str]:
    return {p.name: p.read_text(encoding="utf-8") for p in sorted(Path(REAL_CORPUS).glob("*.txt"))}


def test_every_document_is_chunked(real_chunks: list[Chunk], sources: dict[str, str]) -> None:
    per_doc = Counter(c.doc for c in real_chunks)
    assert set(per_doc) == set(sources)
    assert all(n >= 10 for n in per_doc.values()), per_doc
    assert len({c.id for c in real_chunks}) == len(real_chunks), "chunk ids are not unique"
    assert {c.kind for c in real_chunks} == {"prose", "table"}


def test_every_chunk_text_comes_from_its_span(real_chunks: list[Chunk], sources: dict[str, str]) -> None:
    problems = []
    for chunk in real_chunks:
        problem = span_problem(chunk, sources[chunk.doc])
        if problem:
            problems.append(f"{chunk.id}: {problem}")
    assert not problems, f"{len(problems)} of {len(real_chunks)} chunks are off:\n" + "\n".join(problems[:10])


def test_line_numbers_are_those_of_start_and_last_character(
    real_chunks: list[Chunk], sources: dict[str, str]
) -> None:
    wrong = []
    for chunk in real_chunks:
        text = sources[chunk.doc]
        expected = (line_of(text, chunk.start), line_of(text, chunk.end - 1))
        if (chunk.line_start, chunk.line_end) != expected or chunk.start >= chunk.end:
            wrong.append(f"{chunk.id}: lines {chunk.line_start}-{chunk.line_end}, expected {expected}")
    assert not wrong, "\n".join(wrong[:10])


def test_span_check_rejects_a_shifted_chunk(real_chunks: list[Chunk], sources: dict[str, str]) -> None:
    """The checker itself can fail: a chunk moved a few characters off its place is caught."""
    chunk = next(c for c in real_chunks if c.kind == "prose" and len(c.text) > 40)
    source = sources[chunk.doc]
    assert span_problem(chunk, source) is None
    assert span_problem(dataclasses.replace(chunk, start=chunk.start + 5), source) is not None
    assert span_problem(dataclasses.replace(chunk, text=chunk.text + "量子引力望远镜"), source) is not None
