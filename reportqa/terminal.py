"""What the CLI shows a person at a terminal: aligned tables (CJK counted double-width) and short summaries."""

from __future__ import annotations

import unicodedata
from collections.abc import Sequence
from typing import Any

MAX_CELL = 48  # wider cells are cut with an ellipsis so that a row fits a terminal line
GAP = "  "


def width(text: str) -> int:
    """Columns the text takes in a terminal: wide (CJK) characters take two."""
    return sum(2 if unicodedata.east_asian_width(ch) in "WF" else 1 for ch in text)


def clip(text: str, limit: int = MAX_CELL) -> str:
    """One line, at most `limit` columns, '…' where it was cut."""
    line = " ".join(text.split())
    if width(line) <= limit:
        return line
    out, used = [], 0
    for ch in line:
        w = width(ch)
        if used + w > limit - 1:
            break
        out.append(ch)
        used += w
    return "".join(out) + "…"


def table(headers: Sequence[str], rows: Sequence[Sequence[Any]]) -> str:
    """Rows under headers, columns padded to their widest cell; None shows as a dash."""
    cells = [[clip("—" if v is None else str(v)) for v in row] for row in rows]
    widths = [max([width(h), *(width(r[i]) for r in cells)]) for i, h in enumerate(headers)]

    def line(values: Sequence[str]) -> str:
        return GAP.join(v + " " * (w - width(v)) for v, w in zip(values, widths, strict=True)).rstrip()

    return "\n".join([line(headers), line(["-" * w for w in widths]), *(line(r) for r in cells)])


def ingest_summary(report: dict[str, Any]) -> str:
    """An ingest report (index, add, remove) as a person reads it: what changed, what was skipped and why."""
    version = str(report["version"]).rstrip("/").rsplit("/", 1)[-1]
    lines = [f"index {version}: {report['documents']} documents, {report['chunks']} chunks"]
    rows = [(what, doc, "") for what in ("added", "updated", "removed") for doc in report.get(what, [])]
    rows += [("skipped", s["path"], s["reason"]) for s in report.get("skipped", [])]
    if rows and report.get("skipped"):
        lines += ["", table(["change", "document", "reason"], rows)]
    elif rows:
        lines += ["", table(["change", "document"], [row[:2] for row in rows])]
    unchanged = len(report.get("unchanged", []))
    if unchanged:
        lines.append(f"{unchanged} unchanged")
    return "\n".join(lines)


def documents_table(rows: Sequence[dict[str, Any]]) -> str:
    if not rows:
        return "no documents indexed"
    shown = [(r["doc"], r.get("title"), r.get("chunks"), r.get("pages"), r.get("added")) for r in rows]
    return table(["document", "title", "chunks", "pages", "added"], shown) + f"\n\n{len(rows)} documents"


def verdicts_table(results: Sequence[dict[str, Any]]) -> str:
    """Claims of a checked draft: line, verdict, what the report says, and where."""
    rows = []
    for r in results:
        top = r["citations"][0] if r.get("citations") else None
        where = f"{top['doc']}:{top['line_start']}-{top['line_end']}" if top else None
        rows.append((r.get("line"), r["verdict"], r["claim"], r.get("report_value"), where))
    counts = {v: sum(1 for r in results if r["verdict"] == v) for v in ("supported", "contradicted", "unsupported")}
    summary = ", ".join(f"{n} {v}" for v, n in counts.items())
    return table(["line", "verdict", "claim", "report says", "source"], rows) + f"\n\n{len(results)} claims: {summary}"
