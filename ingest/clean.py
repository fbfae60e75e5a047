"""Turn PDF-extracted text into paragraphs and tables with section paths, recording what was dropped."""

from __future__ import annotations

import re
from collections import Counter
from dataclasses import dataclass, field

from reportqa.ingest.lines import (
    Line,
    ends_sentence,
    glue,
    heading_kind,
    is_bullet,
    is_table_row,
    is_table_rule,
    noise_reason,
    split_lines,
    table_cells,
)

from reportqa.core.text import is_caption, is_spaced_row

CLEANING_RULES = 4  # bump when cleaning changes what a document's chunks are: cached chunks are then redone
REPEAT_MIN = 3
REPEAT_MAX_CHARS = 60
JOIN_MIN_CHARS = 8
CONTINUES = "，,、和与及或并的"  # a short line ending in these is cut mid-sentence ("…去杠杆化，以及"), not a heading
CAPTION_MAX_CHARS = 60
# an extraction where this share of lines run past this many characters keeps each paragraph on one line: no page
# column of these reports is that wide (report 001 wraps at ~41; 000, 002 and 003 hold 22–61 % such lines, 001 none)
ONE_LINE_CHARS = 60
ONE_LINE_SHARE = 0.10


@dataclass(frozen=True, slots=True)
class Run:
    """A stretch of cleaned text copied verbatim from the file: text[clean:clean+length] == file[orig:...]."""

    clean: int
    orig: int
    length: int


@dataclass(frozen=True, slots=True)
class Paragraph:
    text: str
    runs: tuple[Run, ...]
    section: tuple[str, ...]

    def orig_offset(self, clean_pos: int) -> int:
        """File offset of the cleaned character at clean_pos (a glue space maps to the next run)."""
        for run in self.runs:
            if clean_pos < run.clean + run.length:
                return run.orig + max(0, clean_pos - run.clean)
        last = self.runs[-1]
        return last.orig + last.length

    def orig_end(self, clean_end: int) -> int:
        """File offset just past the cleaned text ending at clean_end."""
        for run in reversed(self.runs):
            if run.clean < clean_end:
                return run.orig + min(run.length, clean_end - run.clean)
        return self.runs[0].orig


@dataclass(frozen=True, slots=True)
class TableRow:
    cells: tuple[str, ...]
    start: int
    end: int


@dataclass(frozen=True, slots=True)
class Table:
    caption: str
    rows: tuple[TableRow, ...]
    section: tuple[str, ...]


Block = Paragraph | Table


@dataclass(frozen=True, slots=True)
class CleanedText:
    blocks: tuple[Block, ...]
    dropped: dict[str, int] = field(default_factory=dict)


_BARE_CHAPTER = re.compile(r"第([零一二三四五六七八九十百\d]+)[章篇部]")
_CN_DIGITS = {ch: i for i, ch in enumerate("零一二三四五六七八九")}


def chinese_number(text: str) -> int | None:
    """Value of a small Chinese or Arabic numeral such as 十九 or 19."""
    if text.isdigit():
        return int(text)
    if "百" in text:
        return None
    if "十" in text:
        tens, _, ones = text.partition("十")
        return _CN_DIGITS.get(tens, 1) * 10 + _CN_DIGITS.get(ones, 0)
    return _CN_DIGITS.get(text)


def _same_chapter(chapter_heading: str, numbered_heading: str) -> bool:
    """A "4.10" heading under "第三章" means the extraction lost the 第四章 line."""
    match = _BARE_CHAPTER.match(chapter_heading)
    if not match:
        return True
    number = chinese_number(match.group(1))
    return number is None or numbered_heading.split(".")[0] == str(number)


class _SectionPath:
    """Heading stack: a heading of a family already open closes everything below it."""

    def __init__(self) -> None:
        self._stack: list[tuple[str, str]] = []

    def enter(self, kind: str, text: str) -> None:
        chapter = self._stack[0] if self._stack and self._stack[0][0] == "chapter" else None
        if kind == "chapter" or (chapter and kind.startswith("num") and not _same_chapter(chapter[1], text)):
            self._stack = []
        kinds = [k for k, _ in self._stack]
        if kind in kinds:
            del self._stack[kinds.index(kind) :]
        self._stack.append((kind, text))

    def awaits_title(self) -> bool:
        """A bare "第三章" line: its title is on the next line."""
        return bool(self._stack) and bool(_BARE_CHAPTER.fullmatch(self._stack[-1][1]))

    def retitle(self, title: str) -> None:
        kind, text = self._stack[-1]
        self._stack[-1] = (kind, f"{text} {title}")

    @property
    def path(self) -> tuple[str, ...]:
        return tuple(text for _, text in self._stack)


def repeated_lines(lines: list[Line]) -> frozenset[str]:
    """Short lines that recur on many pages: running headers and footers."""
    counts = Counter(
        line.text
        for line in lines
        if line.text and len(line.text) <= REPEAT_MAX_CHARS and not is_table_row(line.text)
    )
    return frozenset(
        text for text, n in counts.items() if n >= REPEAT_MIN and heading_kind(text) is None
    )


def keeps_paragraphs_whole(lines: list[Line]) -> bool:
    """Whether the extraction wrote each paragraph on one line: then a line that stops without a full stop is a
    list item or a heading ("全国在用数据中心机架总规模超211万架"), not half a sentence wrapped by the page."""
    texts = [line.text for line in lines if line.text]
    return bool(texts) and sum(len(t) > ONE_LINE_CHARS for t in texts) >= ONE_LINE_SHARE * len(texts)


class _ParagraphBuilder:
    def __init__(self, wrapped: bool) -> None:
        self.wrapped = wrapped  # the page wrapped the text's lines (else each paragraph is one line)
        self.parts: list[str] = []
        self.runs: list[Run] = []
        self.length = 0
        self.last = ""

    def add(self, line: Line) -> None:
        sep = glue(self.last, line.text) if self.parts else ""
        self.parts.append(sep)
        self.length += len(sep)
        self.runs.append(Run(self.length, line.start, len(line.text)))
        self.parts.append(line.text)
        self.length += len(line.text)
        self.last = line.text

    def accepts(self, line: Line) -> bool:
        """A hard wrap: the open paragraph stops mid-sentence and the next line isn't a new item."""
        if not self.parts or is_bullet(line.text) or is_caption(self.last) or is_caption(line.text):
            return False
        if ends_sentence(self.last):
            return False
        return self.last[-1] in CONTINUES or (self.wrapped and len(self.last) >= JOIN_MIN_CHARS)

    def build(self, section: tuple[str, ...]) -> Paragraph:
        return Paragraph("".join(self.parts), tuple(self.runs), section)


def _captioned_table(blocks: list[Block], rows: tuple[TableRow, ...], path: tuple[str, ...]) -> Table:
    """The table, with the short paragraph just before it in its section as its caption (taken off `blocks`)."""
    previous = blocks[-1] if blocks else None
    if (
        isinstance(previous, Paragraph)
        and len(previous.text) <= CAPTION_MAX_CHARS
        and (not ends_sentence(previous.text) or previous.text.rstrip()[-1] in "：:")
        and previous.section == path
    ):
        blocks.pop()
        return Table(previous.text, rows, path)
    return Table("", rows, path)


def clean_text(text: str) -> CleanedText:
    lines = split_lines(text)
    repeated = repeated_lines(lines)
    dropped: Counter[str] = Counter()
    blocks: list[Block] = []
    section = _SectionPath()
    wrapped = not keeps_paragraphs_whole(lines)
    paragraph = _ParagraphBuilder(wrapped)
    table_rows: list[TableRow] = []

    def flush_paragraph() -> None:
        nonlocal paragraph
        if paragraph.parts:
            blocks.append(paragraph.build(section.path))
        paragraph = _ParagraphBuilder(wrapped)

    def flush_table() -> None:
        if table_rows:
            blocks.append(_captioned_table(blocks, tuple(table_rows), section.path))
            table_rows.clear()

    for line in lines:
        if not line.text:
            continue
        if is_table_row(line.text):
            flush_paragraph()
            if is_table_rule(line.text.replace("\t", " ")):
                dropped["table_rule"] += 1
            else:
                table_rows.append(TableRow(table_cells(line.text), line.start, line.end))
            continue
        flush_table()
        kind = heading_kind(line.text)
        if kind is not None:
            flush_paragraph()
            section.enter(kind, line.text.lstrip("#").strip())
            continue
        if section.awaits_title() and len(line.text) <= 20 and not ends_sentence(line.text):
            section.retitle(line.text)
            continue
        reason = "repeated_header" if line.text in repeated else noise_reason(line.text)
        if reason is not None:
            dropped[reason] += 1
            continue
        if is_spaced_row(line.text):  # a row stands alone: a unit the reader can cite, not glued to the next row
            flush_paragraph()
            paragraph.add(line)
            flush_paragraph()
            continue
        if not paragraph.accepts(line):
            flush_paragraph()
        paragraph.add(line)
    flush_paragraph()
    flush_table()
    return CleanedText(tuple(blocks), dict(sorted(dropped.items())))
