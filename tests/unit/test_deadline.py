"""The per-request CPU budget: pure-Python work past it is interrupted; work within it, or waiting, is not."""

from __future__ import annotations

import contextlib
import gc
import threading
import time

import pytest
from reportqa.api.deadline import DeadlineExceeded, run_within


def spin(seconds: float) -> int:
    """Burn CPU in Python bytecode for about `seconds` of this thread's CPU time."""
    stop = time.thread_time() + seconds
    count = 0
    while time.thread_time() < stop:
        count += 1
    return count


def test_work_within_the_budget_returns_its_value() -> None:
    assert run_within(1.0, lambda: sum(range(1000))) == 499500


def test_work_past_the_budget_is_interrupted_soon_after_it() -> None:
    started = time.thread_time()
    with pytest.raises(DeadlineExceeded, match=r"more than 0\.2 s of CPU time"):
        run_within(0.2, lambda: spin(5.0))
    assert 0.2 <= time.thread_time() - started < 0.5


def test_nothing_is_raised_later_once_the_work_has_returned() -> None:
    for _ in range(20):  # work that ends right at its budget: an exception scheduled too late must be withdrawn
        with contextlib.suppress(DeadlineExceeded):
            run_within(0.02, lambda: spin(0.02))
    spin(0.3)  # a stray exception would surface here


def test_waiting_does_not_spend_the_budget() -> None:
    assert run_within(0.05, lambda: time.sleep(0.3) or "slept") == "slept"


def test_each_thread_has_its_own_budget() -> None:
    outcomes: dict[str, str] = {}

    def worker(name: str, budget: float, work: float) -> None:
        try:
            run_within(budget, lambda: spin(work))
            outcomes[name] = "done"
        except DeadlineExceeded:
            outcomes[name] = "stopped"

    threads = [threading.Thread(target=worker, args=("greedy", 0.1, 3.0)),
               threading.Thread(target=worker, args=("modest", 2.0, 0.2))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(10)
    assert outcomes == {"greedy": "stopped", "modest": "done"}


def test_an_exception_swallowed_by_a_gc_callback_is_raised_again(recwarn: pytest.WarningsRecorder) -> None:
    """Raised inside a garbage-collector callback (or a __del__), the exception is printed and dropped; the
    watchdog schedules it again until the work stops."""
    def busy_callback(phase: str, _: dict[str, int]) -> None:
        if phase == "start":
            spin(0.05)

    def work() -> None:
        for _ in range(60):  # 6 s of CPU without the budget, half of it inside the callback
            spin(0.05)
            gc.collect(0)  # the youngest generation only: cheap however large the process is

    gc.callbacks.append(busy_callback)
    try:
        started = time.thread_time()
        with pytest.raises(DeadlineExceeded):
            run_within(0.1, work)
        assert time.thread_time() - started < 2.0
    finally:
        gc.callbacks.remove(busy_callback)
