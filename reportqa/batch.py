"""JSONL batch processing: one output line per input line, same id, an error line for a malformed one."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable, Iterator
from pathlib import Path
from typing import Any, TextIO

from reportqa.core.progress import SILENT, Progress

Handler = Callable[[str, str], dict[str, Any]]


def parse_line(line: str, field: str) -> tuple[str, str]:
    """(id, text) of one input line; ValueError with a readable reason when it is malformed."""
    try:
        row = json.loads(line)
    except json.JSONDecodeError as exc:
        raise ValueError(f"not valid JSON: {exc.msg} at column {exc.colno}") from exc
    if not isinstance(row, dict):
        raise ValueError("not a JSON object")
    value = row.get(field)
    if not isinstance(value, str):
        raise ValueError(f'missing string field "{field}"')
    return str(row.get("id", "")), value


def salvage_id(line: str) -> str:
    try:
        row = json.loads(line)
        return str(row.get("id", "")) if isinstance(row, dict) else ""
    except json.JSONDecodeError:
        return ""


def process_lines(lines: Iterable[str], field: str, handler: Handler,
                  on_error: Callable[[str, str, str], dict[str, Any]]) -> Iterator[dict[str, Any]]:
    for number, line in enumerate(lines, start=1):
        if not line.strip():
            continue
        try:
            qid, text = parse_line(line, field)
        except ValueError as exc:
            yield on_error(salvage_id(line) or f"line-{number}", "", f"line {number}: {exc}")
            continue
        try:
            yield handler(qid, text)
        except ValueError as exc:
            yield on_error(qid, text, str(exc))


def run_file(source: Path, out: TextIO, field: str, handler: Handler,
             on_error: Callable[[str, str, str], dict[str, Any]], progress: Progress = SILENT) -> None:
    """Process a JSONL file into `out`, one JSON line per input line (undecodable bytes replaced, not fatal)."""
    with source.open(encoding="utf-8", errors="replace") as lines:
        total = sum(1 for _ in lines)
        lines.seek(0)
        counted = progress.track(lines, total, f"{source.name}: lines")
        for row in process_lines(counted, field, handler, on_error):
            out.write(json.dumps(row, ensure_ascii=False) + "\n")
