"""What every reader shares: the error an unreadable source raises, and how bytes become text."""

from __future__ import annotations


class SourceError(ValueError):
    """A source that cannot be read as text; the message says why."""


def decode(data: bytes) -> str:
    """UTF-8 (with or without BOM), UTF-16 with BOM, else GB18030; binary junk is refused."""
    if data.startswith(b"\xef\xbb\xbf"):
        return data[3:].decode("utf-8")
    if data.startswith((b"\xff\xfe", b"\xfe\xff")):
        return data.decode("utf-16")
    if b"\x00" in data[:4096]:
        raise SourceError("binary content (NUL bytes), not text")
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError:
        pass
    try:
        return data.decode("gb18030")
    except UnicodeDecodeError as exc:
        raise SourceError(f"undecodable bytes at offset {exc.start}: neither UTF-8, UTF-16 nor GB18030") from exc
