"""A CPU-time budget per request: work that overruns it is interrupted, so no payload can hold a worker.

Python cannot stop a thread from outside, but it can make one raise: a watchdog thread reads each registered
thread's CPU clock and, once a budget is spent, schedules `DeadlineExceeded` in that thread
(PyThreadState_SetAsyncExc). The exception surfaces at the thread's next bytecode, so pure-Python work (tagging,
matching loops) stops within a few milliseconds; a single C call (one regular-expression match) finishes first,
which is why the texts reaching such calls are bounded in length as well. CPU time, not wall time, is measured:
a request waiting for the GIL behind others spends none of its budget.
"""

from __future__ import annotations

import ctypes
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import TypeVar

T = TypeVar("T")
POLL_S = 0.01
REFIRE_S = 0.1


class DeadlineExceeded(Exception):
    """The request used up its CPU budget; the message says how much it had."""

    def __init__(self, message: str = "the request used up the CPU time it is allowed") -> None:
        super().__init__(message)


class ClientGone(Exception):
    """The client disconnected, so its work was stopped: no one was left to read the answer."""


@dataclass(slots=True)
class _Budget:
    thread_id: int
    clock: int
    stop_at: float  # CPU seconds on the thread's clock
    fired_at: float | None = None  # wall time the exception was last scheduled
    cancel: threading.Event | None = None  # set when the work is no longer wanted: stopped like an overrun


def _set_async_exc(thread_id: int, exc: type[BaseException] | None) -> None:
    ctypes.pythonapi.PyThreadState_SetAsyncExc(ctypes.c_ulong(thread_id),
                                               ctypes.py_object(exc) if exc is not None else None)


class _Watchdog:
    """One daemon thread per process, asleep while no budget is registered."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._wake = threading.Condition(self._lock)
        self._budgets: dict[int, _Budget] = {}
        self._thread: threading.Thread | None = None

    def register(self, seconds: float, cancel: threading.Event | None = None) -> int:
        thread_id = threading.get_ident()
        clock = time.pthread_getcpuclockid(thread_id)
        budget = _Budget(thread_id, clock, time.clock_gettime(clock) + seconds, cancel=cancel)
        with self._lock:
            self._budgets[thread_id] = budget
            if self._thread is None or not self._thread.is_alive():
                self._thread = threading.Thread(target=self._run, name="reportqa-deadline", daemon=True)
                self._thread.start()
            self._wake.notify()
        return thread_id

    def unregister(self, thread_id: int) -> None:
        """Forget the thread's budget; an exception scheduled but not yet raised there is withdrawn."""
        with self._lock:
            budget = self._budgets.pop(thread_id, None)
            if budget is not None and budget.fired_at is not None:
                _set_async_exc(thread_id, None)

    def _run(self) -> None:
        with self._lock:
            while True:
                while not self._budgets:
                    self._wake.wait()
                for thread_id, budget in list(self._budgets.items()):
                    try:
                        spent = time.clock_gettime(budget.clock)
                    except OSError:  # the thread is gone
                        self._budgets.pop(thread_id, None)
                        continue
                    now = time.monotonic()
                    # scheduled again while the work goes on: an exception raised inside a garbage-collector
                    # callback or a __del__ method is swallowed there
                    over = spent >= budget.stop_at or (budget.cancel is not None and budget.cancel.is_set())
                    if over and (budget.fired_at is None or now - budget.fired_at >= REFIRE_S):
                        budget.fired_at = now
                        _set_async_exc(thread_id, DeadlineExceeded)
                self._wake.wait(POLL_S)


_WATCHDOG = _Watchdog()


def run_within(seconds: float, work: Callable[[], T], cancel: threading.Event | None = None) -> T:
    """`work()` in this thread, interrupted with DeadlineExceeded once it has used `seconds` of CPU time, or with
    ClientGone once `cancel` is set (within POLL_S)."""
    thread_id = _WATCHDOG.register(seconds, cancel)
    try:
        return work()
    except DeadlineExceeded:
        if cancel is not None and cancel.is_set():
            raise ClientGone("the client disconnected; its work was stopped") from None
        raise DeadlineExceeded(f"the request needed more than {seconds:g} s of CPU time (the limit for it); "
                               f"send shorter text or fewer claims") from None
    finally:
        _WATCHDOG.unregister(thread_id)
