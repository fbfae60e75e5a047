"""Shared helpers for the reliability tests: loopback ports, an app served by uvicorn in a thread, raw HTTP."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

import httpx

from tests.support import free_port, running  # noqa: F401 - re-exported for the reliability tests

REPO_ROOT = Path(__file__).resolve().parents[2]
TRACE_MARKERS = ("Traceback (most recent call last)", 'File "')




def raw_request(base_url: str, request: bytes, timeout: float = 10.0) -> tuple[int, bytes, bytes]:
    """Send bytes exactly as given (no client-side path normalisation); return (status, headers, body)."""
    host, port = base_url.removeprefix("http://").split(":")
    with socket.create_connection((host, int(port)), timeout=timeout) as sock:
        sock.sendall(request)
        chunks: list[bytes] = []
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            try:
                data = sock.recv(65536)
            except TimeoutError:
                break
            if not data:
                break
            chunks.append(data)
            head, sep, body = b"".join(chunks).partition(b"\r\n\r\n")
            length = _content_length(head)
            if sep and length is not None and len(body) >= length:
                break
    raw = b"".join(chunks)
    head, _, body = raw.partition(b"\r\n\r\n")
    status_line = head.split(b"\r\n", 1)[0]
    parts = status_line.split(b" ")
    status = int(parts[1]) if len(parts) > 1 and parts[1].isdigit() else 0
    return status, head, body


def _content_length(head: bytes) -> int | None:
    for line in head.split(b"\r\n")[1:]:
        name, _, value = line.partition(b":")
        if name.strip().lower() == b"content-length" and value.strip().isdigit():
            return int(value.strip())
    return None


def serve_command(index_dir: Path, port: int, workers: int) -> list[str]:
    script = Path(sys.executable).parent / "reportqa"
    base = [str(script)] if script.exists() else [sys.executable, "-m", "reportqa.cli"]
    return [*base, "serve", "--index-dir", str(index_dir), "--host", "127.0.0.1", "--port", str(port),
            "--workers", str(workers)]


def serve_env() -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("REPORTQA_")}
    env.update(HF_HUB_OFFLINE="1", TRANSFORMERS_OFFLINE="1", TOKENIZERS_PARALLELISM="false")
    return env


@contextmanager
def serving(index_dir: Path, workers: int, log: Path, env: dict[str, str] | None = None,
            preexec_fn: Callable[[], None] | None = None) -> Iterator[tuple[subprocess.Popen[bytes], str]]:
    """`reportqa serve` in a subprocess, yielded once /healthz answers; killed (with its group) afterwards.
    `env` adds REPORTQA_* settings; `preexec_fn` runs in the child before it starts (resource limits)."""
    port = free_port()
    with log.open("wb") as sink:
        proc = subprocess.Popen(serve_command(index_dir, port, workers), stdout=sink, stderr=subprocess.STDOUT,
                                env=serve_env() | (env or {}), cwd=str(REPO_ROOT), preexec_fn=preexec_fn,
                                start_new_session=True)
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while True:
            assert proc.poll() is None, f"server exited early:\n{log.read_text(errors='replace')[-3000:]}"
            try:
                if httpx.get(f"{url}/healthz", timeout=2).status_code == 200:
                    break
            except httpx.TransportError:
                pass
            assert time.monotonic() < deadline, "server did not come up within 60 s"
            time.sleep(0.2)
        yield proc, url
    finally:
        if proc.poll() is None:
            os.killpg(proc.pid, 9)
            proc.wait(10)
