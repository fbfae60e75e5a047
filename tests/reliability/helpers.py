"""Shared helpers for the reliability tests: loopback ports, an app served by uvicorn in a thread, raw HTTP."""

from __future__ import annotations

import socket
import time

from tests.support import free_port, running  # noqa: F401 - re-exported for the reliability tests

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
