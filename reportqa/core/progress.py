"""How far a long run has got: a tqdm bar with rate and ETA on a terminal, plain lines in a log, or nothing.

A progress object is called with a stage note (`progress("fitting the model")`), which is all index.build's
stage callbacks need, and counts items through `track`. Library code defaults to SILENT; the CLI chooses.
"""

from __future__ import annotations

import sys
import time
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from typing import TextIO, TypeVar

T = TypeVar("T")
LINE_STEPS = 10  # a plain-line log reports every tenth of the items, and the end


@dataclass(frozen=True, slots=True)
class Silent:
    """Says nothing: library calls and the server."""

    def __call__(self, message: str) -> None:
        return None

    def track(self, items: Iterable[T], total: int, what: str) -> Iterator[T]:
        yield from items


@dataclass(frozen=True, slots=True)
class Lines:
    """One line per stage and per tenth of the items, with elapsed time: readable in a log file or CI output."""

    stream: TextIO
    started: float = field(default_factory=time.monotonic)

    def __call__(self, message: str) -> None:
        print(f"{message} ({time.monotonic() - self.started:.1f} s)", file=self.stream, flush=True)

    def track(self, items: Iterable[T], total: int, what: str) -> Iterator[T]:
        started = time.monotonic()
        step = max(1, -(-total // LINE_STEPS))
        for done, item in enumerate(items, start=1):
            yield item
            if done % step == 0 or done == total:
                print(f"{what}: {done}/{total} ({time.monotonic() - started:.1f} s)", file=self.stream, flush=True)


@dataclass(frozen=True, slots=True)
class Bar:
    """A tqdm bar per counted step (rate, elapsed, ETA); stage notes print above it."""

    stream: TextIO

    def __call__(self, message: str) -> None:
        from tqdm import tqdm

        tqdm.write(message, file=self.stream)

    def track(self, items: Iterable[T], total: int, what: str) -> Iterator[T]:
        from tqdm import tqdm

        yield from tqdm(items, total=total, desc=what, file=self.stream, dynamic_ncols=True)


Progress = Silent | Lines | Bar
SILENT = Silent()


def for_stream(stream: TextIO | None = None) -> Progress:
    """A bar when the stream is a terminal, plain lines otherwise (stderr unless told)."""
    target = stream if stream is not None else sys.stderr
    try:
        live = target.isatty()
    except (AttributeError, ValueError):  # a closed or replaced stream
        live = False
    return Bar(target) if live else Lines(target)


def track(progress: Callable[[str], None], items: Iterable[T], total: int, what: str) -> Iterator[T]:
    """`items` counted by `progress` when it is a Progress; a bare stage callback just sees them pass."""
    if isinstance(progress, Silent | Lines | Bar):
        return progress.track(items, total, what)
    return iter(items)
