"""JSONL batch processing: one output line per input line, same id, an error line for a malformed one."""

from __future__ import annotations

import contextlib
import json
from collections import deque
from collections.abc import Callable, Iterable, Iterator, Sequence
from concurrent.futures import Executor, ThreadPoolExecutor
from pathlib import Path
from typing import Any, TextIO

from reportqa.core.progress import SILENT, Progress
from reportqa.index.query_vectors import PRIME_THREADS

Handler = Callable[[str, str], dict[str, Any]]
Prime = Callable[[Sequence[str], Executor], object]
LOOKAHEAD = 32  # lines whose texts are prepared (their question vectors encoded) while the lines before are answered


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


def looking_ahead(lines: Iterable[str], field: str, prime: Prime, window: int = LOOKAHEAD) -> Iterator[str]:
    """The lines unchanged and in order, each line's text handed to `prime` (with a two-thread pool) `window`
    lines before it is yielded: the encoder releases the GIL, so the next texts are encoded on the other core
    while these are answered."""
    waiting: deque[str] = deque()
    with ThreadPoolExecutor(max_workers=PRIME_THREADS, thread_name_prefix="batch-lookahead") as pool:
        for line in lines:
            with contextlib.suppress(ValueError):  # a malformed line is reported when its turn comes
                prime([parse_line(line, field)[1]], pool)
            waiting.append(line)
            if len(waiting) > window:
                yield waiting.popleft()
        yield from waiting


def run_file(source: Path, out: TextIO, field: str, handler: Handler,
             on_error: Callable[[str, str, str], dict[str, Any]], progress: Progress = SILENT,
             prime: Prime | None = None) -> None:
    """Process a JSONL file into `out`, one JSON line per input line (undecodable bytes replaced, not fatal);
    `prime` prepares a block of texts ahead of answering them (it must not change any answer)."""
    with source.open(encoding="utf-8", errors="replace") as lines:
        total = sum(1 for _ in lines)
        lines.seek(0)
        counted: Iterable[str] = progress.track(lines, total, f"{source.name}: lines")
        if prime is not None:
            counted = looking_ahead(counted, field, prime)
        for row in process_lines(counted, field, handler, on_error):
            out.write(json.dumps(row, ensure_ascii=False) + "\n")
