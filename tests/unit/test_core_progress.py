"""Progress: a tqdm bar with ETA on a terminal, a line per tenth in a log, nothing from library calls."""

from __future__ import annotations

import io

from reportqa.core.progress import SILENT, Bar, Lines, for_stream, track


class Terminal(io.StringIO):
    def isatty(self) -> bool:
        return True


def test_a_terminal_gets_a_bar_with_rate_and_eta() -> None:
    stream = Terminal()
    progress = for_stream(stream)
    assert isinstance(progress, Bar)
    assert list(progress.track(range(30), 30, "questions")) == list(range(30))
    drawn = stream.getvalue()
    assert "questions" in drawn and "30/30" in drawn and "100%" in drawn
    assert "<" in drawn and "it/s" in drawn  # elapsed<remaining, and the rate


def test_a_log_gets_plain_lines_every_tenth_and_at_the_end() -> None:
    stream = io.StringIO()
    progress = for_stream(stream)
    assert isinstance(progress, Lines)
    assert sum(progress.track(iter(range(25)), 25, "lines")) == sum(range(25))
    shown = stream.getvalue().splitlines()
    assert [line.split(" (")[0] for line in shown] == [f"lines: {n}/25" for n in (3, 6, 9, 12, 15, 18, 21, 24, 25)]
    assert "\r" not in stream.getvalue() and "%|" not in stream.getvalue()
    progress("fitting the model")
    assert stream.getvalue().splitlines()[-1].startswith("fitting the model (")


def test_silent_and_plain_callbacks_pass_items_through() -> None:
    assert list(SILENT.track([1, 2], 2, "x")) == [1, 2]
    notes: list[str] = []
    assert list(track(notes.append, [3, 4], 2, "x")) == [3, 4] and notes == []
