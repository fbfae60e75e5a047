"""JSONL batch processing: one output line per input line, same id, an error line for a malformed one."""

from __future__ import annotations

import contextlib
import itertools
import json
import multiprocessing
from collections import deque
from collections.abc import Callable, Iterable, Iterator, Sequence
from concurrent.futures import Executor, ThreadPoolExecutor
from multiprocessing.pool import AsyncResult
from pathlib import Path
from typing import Any, TextIO

from reportqa.core.progress import SILENT, Progress
from reportqa.index.query_vectors import PRIME_THREADS
from reportqa.index.terms import worker_count

Handler = Callable[[str, str], dict[str, Any]]
Prime = Callable[[Sequence[str], Executor], object]
ErrorHandler = Callable[[str, str, str], dict[str, Any]]
LOOKAHEAD = 32  # lines whose texts are prepared (their question vectors encoded) while the lines before are answered
BLOCK_LINES = 8  # lines a forked worker takes at a time: small enough that both finish together
BLOCKS_AHEAD = 4  # blocks handed to each worker before the first is written: a huge batch is never read whole
MIN_LINES_PER_WORKER = 64  # below this a second process costs more (its start, its caches cold) than it gives


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


def process_lines(lines: Iterable[str], field: str, handler: Handler, on_error: ErrorHandler,
                  first_number: int = 1) -> Iterator[dict[str, Any]]:
    for number, line in enumerate(lines, start=first_number):
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


def run_file(source: Path, out: TextIO, field: str, handler: Handler, on_error: ErrorHandler,
             progress: Progress = SILENT, prime: Prime | None = None, workers: int = 1) -> None:
    """Process a JSONL file into `out`, one JSON line per input line (undecodable bytes replaced, not fatal);
    `prime` prepares a block of texts ahead of answering them (it must not change any answer). With `workers` > 1
    (and fork available) the lines are answered by that many forked copies of this process, output in order; `prime`
    is not used there, each worker having a core of its own."""
    with source.open(encoding="utf-8", errors="replace") as lines:
        total = filled = 0
        for line in lines:
            total, filled = total + 1, filled + bool(line.strip())
        lines.seek(0)
        workers = usable_workers(workers, filled)
        if workers > 1:  # counted by output row: a blank line has none
            rows = forked_rows(lines, field, handler, on_error, workers)
            for row in progress.track(rows, filled, f"{source.name}: lines"):
                out.write(json.dumps(row, ensure_ascii=False) + "\n")
            return
        counted: Iterable[str] = progress.track(lines, total, f"{source.name}: lines")
        if prime is not None:
            counted = looking_ahead(counted, field, prime)
        for row in process_lines(counted, field, handler, on_error):
            out.write(json.dumps(row, ensure_ascii=False) + "\n")


def usable_workers(asked: int, lines: int) -> int:
    """Processes worth starting: as asked (0: one per core), no more than the lines keep busy; 1 without fork."""
    if "fork" not in multiprocessing.get_all_start_methods():
        return 1
    return max(1, min(asked or worker_count(), lines // MIN_LINES_PER_WORKER))


# What a forked worker answers with: set in the parent just before the fork, inherited by the children (a
# closure over a loaded engine cannot be pickled, and loading it again per process would cost seconds).
_FORKED: tuple[str, Handler, ErrorHandler] | None = None


def _answer_block(block: tuple[int, list[str]]) -> list[dict[str, Any]]:
    assert _FORKED is not None, "only called in a worker forked by forked_rows"
    field, handler, on_error = _FORKED
    first_number, lines = block
    return list(process_lines(lines, field, handler, on_error, first_number))


def numbered_blocks(lines: Iterable[str], size: int = BLOCK_LINES) -> Iterator[tuple[int, list[str]]]:
    """(the first line's number, up to `size` lines) in order, numbered from 1 as process_lines numbers them."""
    iterator = iter(lines)
    number = 1
    while block := list(itertools.islice(iterator, size)):
        yield number, block
        number += len(block)


def forked_rows(lines: Iterable[str], field: str, handler: Handler, on_error: ErrorHandler,
                workers: int) -> Iterator[dict[str, Any]]:
    """process_lines' rows, the same and in the same order, answered by `workers` forked processes."""
    global _FORKED
    _FORKED = (field, handler, on_error)
    try:
        with multiprocessing.get_context("fork").Pool(workers) as pool:
            waiting: deque[AsyncResult[list[dict[str, Any]]]] = deque()
            for block in numbered_blocks(lines):  # read no further ahead than BLOCKS_AHEAD blocks a worker
                waiting.append(pool.apply_async(_answer_block, (block,)))
                if len(waiting) >= workers * BLOCKS_AHEAD:
                    yield from waiting.popleft().get()
            while waiting:
                yield from waiting.popleft().get()
    finally:
        _FORKED = None
