"""HTML sources: visible text in reading order, headings and table rows kept for the cleaner."""

from __future__ import annotations

import re
from html.parser import HTMLParser
from pathlib import Path

from reportqa.ingest.decoding import SourceError, decode
from reportqa.ingest.limits import UNLIMITED, IngestLimits
from reportqa.ingest.sources import heading_line, one_line, read_nonempty, usable_title

from reportqa.core.types import Document

_SKIP_TAGS = frozenset({"script", "style", "nav", "footer", "noscript", "template", "svg", "iframe"})
_BLOCK_TAGS = frozenset({
    "address", "article", "aside", "blockquote", "body", "br", "caption", "dd", "div", "dl", "dt", "figcaption",
    "figure", "form", "header", "hr", "li", "main", "ol", "p", "pre", "section", "ul",
})
_HEADINGS = {f"h{n}": n for n in range(1, 7)}
_ROW_TAGS = frozenset({"tr", "td", "th"})
_META_CHARSET = re.compile(rb"""<meta[^>]*charset\s*=\s*["']?\s*([A-Za-z0-9_.:-]+)""", re.IGNORECASE)
_GB_CHARSETS = frozenset({"gb2312", "gbk", "gb_2312-80", "x-gbk", "cp936", "gb18030", "euc-cn"})


def decode_html(data: bytes) -> str:
    """The charset a meta tag declares (GB names read as their superset GB18030), else `decode`'s guess."""
    match = None if data.startswith((b"\xef\xbb\xbf", b"\xff\xfe", b"\xfe\xff")) else _META_CHARSET.search(data[:4096])
    if match:
        name = match.group(1).decode("ascii").lower()
        try:
            return data.decode("gb18030" if name in _GB_CHARSETS else name)
        except (LookupError, UnicodeDecodeError):
            pass
    return decode(data)


class _HtmlText(HTMLParser):
    """Visible text as lines: headings '#'-prefixed, table rows tab-separated, chrome and scripts dropped."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.lines: list[str] = []
        self.title = ""
        self.first_heading: str | None = None
        self._buffer: list[str] = []
        self._skip = 0
        self._heading = 0
        self._in_title = False
        self._pre = 0
        self._tables = 0
        self._row: list[str] | None = None
        self._cell: list[str] | None = None
        self._span = 1

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in _SKIP_TAGS:
            self._skip += 1
        elif self._skip:
            return
        elif tag == "title":
            self._in_title = True
        elif tag == "table":
            self._table_start()
        elif self._tables == 1 and tag in _ROW_TAGS:
            self._row_start(tag, attrs)
        elif self._cell is not None:
            self._cell.append(" ")  # any other block inside a cell (a nested table too): a space
        elif tag in _HEADINGS:
            self._end_line()
            self._heading = _HEADINGS[tag]
        elif tag in _BLOCK_TAGS:
            self._end_line()
            self._pre += tag == "pre"

    def handle_endtag(self, tag: str) -> None:
        if tag in _SKIP_TAGS:
            self._skip = max(0, self._skip - 1)
        elif self._skip:
            return
        elif tag == "title":
            self._in_title = False
        elif tag == "table":
            self._table_end()
        elif self._tables == 1 and tag == "tr":
            self._end_row()
        elif self._tables == 1 and tag in _ROW_TAGS:
            self._end_cell()
        elif self._cell is not None:
            self._cell.append(" ")
        elif tag in _HEADINGS or tag in _BLOCK_TAGS:
            self._end_line()
            self._heading = 0 if tag in _HEADINGS else self._heading
            self._pre = max(0, self._pre - (tag == "pre"))

    def handle_data(self, data: str) -> None:
        if self._skip:
            return
        if self._in_title:
            self.title += data
        elif self._cell is not None:
            self._cell.append(data)
        elif self._pre:
            first, *rest = data.split("\n")
            self._buffer.append(first)
            for part in rest:
                self._end_line()
                self._buffer.append(part)
        else:
            self._buffer.append(data)

    def close(self) -> None:
        super().close()
        self._end_row()
        self._end_line()

    def _table_start(self) -> None:
        if self._tables == 0:
            self._end_line()
        elif self._cell is not None:
            self._cell.append(" ")
        self._tables += 1

    def _table_end(self) -> None:
        if self._tables == 1:
            self._end_row()
        elif self._cell is not None:
            self._cell.append(" ")
        self._tables = max(0, self._tables - 1)

    def _row_start(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag == "tr":
            self._end_row()
            self._row = []
            return
        self._end_cell()
        self._cell = []
        span = dict(attrs).get("colspan") or "1"
        self._span = min(int(span), 50) if span.isdigit() and int(span) > 0 else 1

    def _end_cell(self) -> None:
        if self._cell is None:
            return
        if self._row is None:
            self._row = []
        self._row.extend([one_line("".join(self._cell))] + [""] * (self._span - 1))
        self._cell, self._span = None, 1

    def _end_row(self) -> None:
        self._end_cell()
        if self._row and any(self._row):
            self._end_line()  # a caption or loose text before the row keeps its place
            self.lines.append("\t".join(self._row))
        self._row = None

    def _end_line(self) -> None:
        text = one_line("".join(self._buffer))
        self._buffer.clear()
        if not text:
            return
        if self._heading:
            self.first_heading = self.first_heading or text
            self.lines.append(heading_line(self._heading, text))
        else:
            self.lines.append(text)


def read_html(path: Path, title: str | None = None, limits: IngestLimits = UNLIMITED) -> Document:
    """Visible text of a saved web page in reading order, headings and tables kept for the cleaner (its cost is
    its size, which the upload limit bounds: `limits` has nothing to add)."""
    parser = _HtmlText()
    parser.feed(decode_html(read_nonempty(path)).replace("\r\n", "\n"))
    parser.close()
    text = "\n".join(parser.lines)
    if not text.strip():
        raise SourceError("no visible text in the HTML")
    own_title = usable_title(parser.title)
    return Document(doc=path.name, title=title or own_title or parser.first_heading or path.stem, text=text)
