"""Sentence-bounded, jieba-token-budgeted chunks; tables chunked by whole rows with the header repeated."""

from __future__ import annotations

import bisect
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass

from reportqa.ingest.clean import CleanedText, Paragraph, Table, TableRow

from reportqa.core.text import split_sentences
from reportqa.core.types import Chunk, Document

TokenCounter = Callable[[str], int]
SECTION_SEPARATOR = " > "
_SOFT_BREAK = "，,、：: "


@dataclass(frozen=True, slots=True)
class ChunkerConfig:
    max_tokens: int = 160
    overlap_tokens: int = 40


@dataclass(frozen=True, slots=True)
class _Sentence:
    paragraph: Paragraph
    start: int  # clean offsets inside the paragraph
    end: int
    tokens: int

    @property
    def text(self) -> str:
        return self.paragraph.text[self.start : self.end].strip()


def split_long(text: str, max_tokens: int, tokenize: Callable[[str], list[str]]) -> list[tuple[int, int]]:
    """Cut an over-long sentence at word boundaries, preferring just after a comma."""
    words = tokenize(text)
    spans: list[tuple[int, int]] = []
    start = pos = count = 0
    last_soft = -1
    for word in words:
        pos += len(word)
        if word.strip():
            count += 1
        if word and word[-1] in _SOFT_BREAK:
            last_soft = pos
        if count >= max_tokens:
            cut = last_soft if last_soft > start else pos
            spans.append((start, cut))
            start, last_soft = cut, -1
            count = len([w for w in tokenize(text[start:pos]) if w.strip()])
    if start < len(text):
        if spans and not any(ch.isalnum() for ch in text[start:]):
            spans[-1] = (spans[-1][0], len(text))  # closing punctuation stays with its words
        else:
            spans.append((start, len(text)))
    return [(a, b) for a, b in spans if text[a:b].strip()]


def _sentences(
    paragraph: Paragraph, config: ChunkerConfig, tokenize: Callable[[str], list[str]]
) -> Iterator[_Sentence]:
    for start, end in split_sentences(paragraph.text):
        piece = paragraph.text[start:end]
        n = len([w for w in tokenize(piece) if w.strip()])
        if n <= config.max_tokens:
            yield _Sentence(paragraph, start, end, n)
            continue
        for a, b in split_long(piece, config.max_tokens, tokenize):
            sub = piece[a:b]
            yield _Sentence(paragraph, start + a, start + b, len([w for w in tokenize(sub) if w.strip()]))


def _pack(sentences: Sequence[_Sentence], config: ChunkerConfig) -> list[list[_Sentence]]:
    """Greedy packing to the token budget, each group opening with a small overlap from the last."""
    groups: list[list[_Sentence]] = []
    current: list[_Sentence] = []
    size = 0
    fresh = 0  # sentences in current that are not overlap
    for sentence in sentences:
        if fresh and size + sentence.tokens > config.max_tokens:
            groups.append(current)
            overlap: list[_Sentence] = []
            budget = config.overlap_tokens
            for previous in reversed(current):
                if previous.tokens > budget:
                    break
                overlap.insert(0, previous)
                budget -= previous.tokens
            current, size, fresh = overlap, sum(s.tokens for s in overlap), 0
        current.append(sentence)
        size += sentence.tokens
        fresh += 1
    if fresh:
        tail_size = sum(s.tokens for s in current[-fresh:])
        if groups and tail_size < config.max_tokens // 4:
            groups[-1] = groups[-1] + current[-fresh:]  # a scrap of a few words is no passage on its own
        else:
            groups.append(current)
    return groups


def _page_of(pages: tuple[int, ...], offset: int) -> int | None:
    return bisect.bisect_right(pages, offset) if pages else None


def _make_chunk(doc: Document, ordinal: int, section: tuple[str, ...], text: str, start: int, end: int,
                line_starts: list[int], kind: str) -> Chunk:
    return Chunk(
        id=f"{doc.doc}#{ordinal:05d}",
        doc=doc.doc,
        title=doc.title,
        section=SECTION_SEPARATOR.join(section),
        text=text,
        start=start,
        end=end,
        line_start=bisect.bisect_right(line_starts, start),
        line_end=bisect.bisect_right(line_starts, max(start, end - 1)),
        kind="table" if kind == "table" else "prose",
        page=_page_of(doc.pages, start),
        page_end=_page_of(doc.pages, max(start, end - 1)),
    )


def render_row(cells: Sequence[str]) -> str:
    """Rows keep the source's tab separators, so a cited row reads exactly as the file has it."""
    return "\t".join(cells)


def _table_groups(table: Table, config: ChunkerConfig, count: TokenCounter) -> list[list[TableRow]]:
    header, body = table.rows[0], list(table.rows[1:])
    budget = max(config.max_tokens - count(render_row(header.cells)), 1)
    groups: list[list[TableRow]] = [[]]
    size = 0
    for row in body:
        n = count(render_row(row.cells))
        if groups[-1] and size + n > budget:
            groups.append([])
            size = 0
        groups[-1].append(row)
        size += n
    return groups


def chunk_document(doc: Document, cleaned: CleanedText, config: ChunkerConfig,
                   tokenize: Callable[[str], list[str]]) -> list[Chunk]:
    line_starts = [0] + [i + 1 for i, ch in enumerate(doc.text) if ch == "\n"]

    def count(text: str) -> int:
        return len([w for w in tokenize(text) if w.strip()])

    chunks: list[Chunk] = []
    pending: list[Paragraph] = []

    def flush_prose() -> None:
        sentences = [s for p in pending for s in _sentences(p, config, tokenize)]
        for group in _pack(sentences, config):
            text = _join_sentences(group)
            start = group[0].paragraph.orig_offset(group[0].start)
            end = group[-1].paragraph.orig_end(group[-1].end)
            chunks.append(_make_chunk(doc, len(chunks), group[0].paragraph.section, text, start, end,
                                      line_starts, "prose"))
        pending.clear()

    for block in cleaned.blocks:
        if isinstance(block, Paragraph):
            if pending and pending[-1].section != block.section:
                flush_prose()
            pending.append(block)
            continue
        flush_prose()
        section = (*block.section, block.caption) if block.caption else block.section
        for i, rows in enumerate(_table_groups(block, config, count)):
            header = block.rows[0]
            text = "\n".join(render_row(r.cells) for r in [header, *rows])
            start = header.start if i == 0 else rows[0].start
            end = (rows or [header])[-1].end
            chunks.append(_make_chunk(doc, len(chunks), section, text, start, end, line_starts, "table"))
    flush_prose()
    return chunks


def _join_sentences(group: Sequence[_Sentence]) -> str:
    """Consecutive sentences of one paragraph keep their original spacing; paragraphs meet at a newline."""
    parts: list[str] = []
    run_start = 0
    for i in range(1, len(group) + 1):
        if i == len(group) or group[i].paragraph is not group[run_start].paragraph:
            first, last = group[run_start], group[i - 1]
            parts.append(first.paragraph.text[first.start : last.end].strip())
            run_start = i
    return "\n".join(parts)
