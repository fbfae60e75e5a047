"""Classify single lines of PDF-extracted text: headings, table rows, noise, bullets."""

from __future__ import annotations

import re
from dataclasses import dataclass

from reportqa.core.text import CLOSERS

CJK = re.compile(r"[\u3400-\u9fff\uf900-\ufaff]")
TERMINAL = "。！？!?；;：:】」』"

_CN_NUM = "零一二三四五六七八九十百"
_HEADING_PATTERNS: tuple[tuple[str, re.Pattern[str]], ...] = (
    ("md", re.compile(r"^(#{1,6})\s+\S")),
    ("chapter", re.compile(rf"^第[{_CN_NUM}\d]+[章篇部]\s*\S*")),
    ("section", re.compile(rf"^第[{_CN_NUM}\d]+节\s*\S*")),
    ("num", re.compile(r"^(\d{1,2}(?:\.\d{1,2}){1,3})\.?\s*[^\d\s.%,，、)）]")),
    ("cn", re.compile(rf"^[{_CN_NUM}]{{1,3}}[、.．]\s*\S")),
    ("cnparen", re.compile(rf"^[（(][{_CN_NUM}]{{1,3}}[）)]\s*\S")),
    ("numparen", re.compile(r"^\d{1,2}[)）]\s*[^\d\s%]")),
    ("num1", re.compile(r"^\d{1,2}[、．.]\s*[^\d\s%.]")),
    ("numbare", re.compile(r"^\d{1,2}\s?[\u4e00-\u9fff]{2,12}$")),
)
_NAMED_CHAPTERS = frozenset({"目录", "前言", "引言", "摘要", "执行摘要", "附录", "参考文献"})
_NAMED_SECTIONS = frozenset({"结语", "结束语", "总结", "核心结论", "研究结论"})
_UNITS = re.compile(r"万亿美元|亿美元|万亿元|亿元|万亿|亿|万|美元|元|个|家|gw|tw|eflops|倍|年|q[1-4]|e")
_NUMERIC_RESIDUE = re.compile(r"[\d\s.,，、%％+\-–—~～/|$¥€￥()（）x:：]*")
_LEADER_CHARS = ".…·．"
TOC_LEADER_MIN = 4
_BULLET = re.compile(r"^(?:[•·●▪■◆◇○►➢✓\-*–]|[①②③④⑤⑥⑦⑧⑨⑩])\s*")
_TABLE_RULE = re.compile(r"^[\s\-–—=:|]+$")


@dataclass(frozen=True, slots=True)
class Line:
    number: int  # 1-based
    start: int  # offset of the first non-space character in the file
    end: int  # offset just past the last non-space character
    text: str  # stripped content


def split_lines(text: str) -> list[Line]:
    """Lines with offsets of their stripped content; blank lines included as empty text."""
    lines: list[Line] = []
    offset = 0
    for number, raw in enumerate(text.split("\n"), start=1):
        content = raw.rstrip("\r")
        stripped = content.strip().rstrip("\ufffd").rstrip()  # PDF extraction cut the line mid-character
        lead = len(content) - len(content.lstrip())
        start = offset + lead
        lines.append(Line(number, start, start + len(stripped), stripped))
        offset += len(raw) + 1
    return lines


def heading_kind(text: str) -> str | None:
    """The heading family a line belongs to, or None when it reads as body text."""
    if not text or len(text) > 40 or text[-1] in "。；，、,;" or _is_numeric_residue(text):
        return None
    if text in _NAMED_CHAPTERS:
        return "chapter"
    if text in _NAMED_SECTIONS:
        return "named"
    for kind, pattern in _HEADING_PATTERNS:
        match = pattern.match(text)
        if not match:
            continue
        if kind == "md":
            return f"md{len(match.group(1))}"
        if kind == "num":
            depth = match.group(1).count(".") + 1
            return None if len(text) > 30 else f"num{depth}"
        if kind in {"chapter", "section", "cn", "cnparen"}:
            return kind
        return None if len(text) > 30 else kind
    return None


def is_table_row(text: str) -> bool:
    return "\t" in text and sum(1 for cell in text.split("\t") if cell.strip()) >= 2


def table_cells(text: str) -> tuple[str, ...]:
    return tuple(cell.strip() for cell in text.split("\t"))


def is_table_rule(text: str) -> bool:
    return bool(_TABLE_RULE.match(text))


def is_bullet(text: str) -> bool:
    return bool(_BULLET.match(text))


def _is_numeric_residue(text: str) -> bool:
    """Numbers with units and separators only: chart axis ticks and data labels."""
    return any(ch.isdigit() for ch in text) and bool(_NUMERIC_RESIDUE.fullmatch(_UNITS.sub("", text.lower())))


def ends_in_toc_leader(text: str) -> bool:
    """A contents line: four or more leader dots, optional spaces, a page number at the end ("第一章……12").

    Read from the end in one pass: the regular expression it replaces backtracked over every run of dots
    (a 40,000-dot line took 22 s to clean).
    """
    end = len(text) - 1 if text.endswith("\n") else len(text)
    digits = end
    while digits > 0 and text[digits - 1].isdecimal():
        digits -= 1
    if digits == end:
        return False
    spaces = digits
    while spaces > 0 and text[spaces - 1].isspace():
        spaces -= 1
    dots = spaces
    while dots > 0 and spaces - dots < TOC_LEADER_MIN and text[dots - 1] in _LEADER_CHARS:
        dots -= 1
    return spaces - dots >= TOC_LEADER_MIN


def noise_reason(text: str) -> str | None:
    """Why a non-heading line is chart residue rather than prose, or None."""
    if ends_in_toc_leader(text):
        return "toc_leader"
    if _is_numeric_residue(text):
        return "axis_ticks"
    core = text.strip("()（）[]【】-–—·.,，")
    if len(core) <= 2 and not any(ch in TERMINAL for ch in text):
        return "short_fragment"
    pieces = text.split()
    if len(pieces) >= 3 and all(len(p) <= 6 and CJK.search(p) for p in pieces):
        return "legend"
    return None


def ends_sentence(text: str) -> bool:
    trimmed = text.rstrip(CLOSERS)
    return bool(trimmed) and trimmed[-1] in TERMINAL


def is_cjk(ch: str) -> bool:
    return bool(CJK.match(ch)) or "\u3000" <= ch <= "\u303f" or "\uff00" <= ch <= "\uffef"


def glue(previous: str, following: str) -> str:
    """What goes between two hard-wrapped pieces: nothing next to CJK, one space between Latin words."""
    if not previous or not following:
        return ""
    return "" if is_cjk(previous[-1]) or is_cjk(following[0]) else " "
