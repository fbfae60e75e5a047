"""Helpers shared by test folders: a free loopback port, an app served by uvicorn in a thread, job polling."""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import uvicorn
from fastapi import FastAPI


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@contextmanager
def running(app: FastAPI) -> Iterator[str]:
    """Serve an app on a loopback port in a thread; yields its base URL."""
    port = free_port()
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 20
    while not server.started:
        if time.monotonic() > deadline or not thread.is_alive():
            raise RuntimeError("server did not start")
        time.sleep(0.05)
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        thread.join(timeout=10)


def finished_job(client: Any, accepted: Any, timeout_s: float = 60) -> dict[str, Any]:
    """The job a 202 answer started, polled on GET /jobs/{id} until it is done or failed."""
    assert accepted.status_code == 202, accepted.text[:300]
    return job_at(client, accepted.headers["location"], timeout_s)


def job_at(client: Any, location: str, timeout_s: float = 60) -> dict[str, Any]:
    """A job polled at its location (/jobs/{id}) until it is done or failed."""
    deadline = time.monotonic() + timeout_s
    while True:
        job: dict[str, Any] = client.get(location).json()
        if job["status"] in ("done", "failed"):
            return job
        assert time.monotonic() < deadline, f"job still {job['status']} after {timeout_s} s: {job}"
        time.sleep(0.05)
