"""What a passage is read as when answering: its sentences, or its table rows rendered with their header.

The same units are embedded at index time and scored at answer time, so both read them from here.
"""

from __future__ import annotations

import re
from functools import lru_cache

from reportqa.index.text import without_spaces
from reportqa.ingest.chunk import SECTION_SEPARATOR

from reportqa.core.text import is_caption, is_spaced_row, split_sentences
from reportqa.core.types import Chunk

_SOURCE_NOTE = re.compile(r"(?:数据|资料)?来源\s*[:：]|sources?\s*:", re.IGNORECASE)  # "来源：IDC": attribution
_CONTENT = re.compile(r"[^\W_]")  # a letter, digit or CJK character
# a unit with less than this ("。", "*", "1.": PDF debris) says nothing, and its vector lies near every question:
# "How tall is Mount Everest?" was answered "。" at cosine 0.81
MIN_CONTENT_CHARS = 2


def passage_topic(chunk: Chunk) -> str:
    """Section path and first sentence: a later sentence ("本鱼为肉食性") is still about that subject."""
    first = chunk.text.split("\n", 1)[0]
    spans = split_sentences(first)
    return f"{chunk.section} {first[: spans[0][1]] if spans else first}"


def table_row_units(text: str) -> list[str]:
    """Rows rendered with the header: "AI芯片：2026年预测 约2,400亿美元；CAGR 23%"."""
    rows = [[cell.strip() for cell in r.split("\t")] for r in text.split("\n") if r.strip()]
    if len(rows) < 2:
        return [" ".join(r) for r in rows]
    header, body = rows[0], rows[1:]
    rendered = []
    for row in body:
        pairs = [f"{h} {v}".strip() for h, v in zip(header[1:], row[1:], strict=False) if v and v != "-"]
        rendered.append(f"{row[0]}：" + "；".join(pairs))
    return rendered


def chunk_units(chunk: Chunk) -> tuple[str, ...]:
    """The answerable units of a chunk, in reading order: no captions, source notes or restated headings. A row the
    PDF left space-separated is read with the caption above it in the chunk, else its section's title, as a tab
    table's rows are read with their header ("3.2 中国城市硬科技创新排名：8 合肥 29.77 …")."""
    if chunk.kind == "table":
        return tuple(u for u in table_row_units(chunk.text) if _answers(u))
    heading = flat(f"{chunk.title} {chunk.section}")
    units: list[str] = []
    context = chunk.section.rsplit(SECTION_SEPARATOR, 1)[-1]
    for paragraph in chunk.text.split("\n"):
        if is_caption(paragraph):
            context = paragraph.strip()
        elif is_spaced_row(paragraph):
            units.append(f"{context}：{paragraph.strip()}" if context else paragraph.strip())
            continue
        units += [sentence for a, b in split_sentences(paragraph)
                  if (sentence := paragraph[a:b].strip()) and _answers(sentence)
                  and flat(sentence) not in heading]  # a title line restates, it doesn't answer
    return tuple(units)


def _answers(unit: str) -> bool:
    """Neither debris, nor a caption, nor a source note."""
    return has_content(unit) and not is_caption(unit) and not _SOURCE_NOTE.match(unit)


def has_content(unit: str) -> bool:
    return len(_CONTENT.findall(unit, 0, 64)) >= MIN_CONTENT_CHARS


@lru_cache(maxsize=8192)
def flat(text: str) -> str:
    """Whitespace-free normalised text: the form in which terms are looked up in a unit."""
    return without_spaces(text)
