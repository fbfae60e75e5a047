"""ASGI layers that decide before a body is read: the Host allow-list, the API key, cross-site writes, overload,
and the body limits (per request and per worker), counted on the bytes actually received."""

from __future__ import annotations

import asyncio
import hmac
import json
import logging
import time
from collections.abc import Iterable
from typing import Any
from urllib.parse import urlsplit

from starlette.exceptions import HTTPException
from starlette.types import ASGIApp, Message, Receive, Scope, Send

SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})


async def send_error(send: Send, status: int, message: str, headers: Iterable[tuple[bytes, bytes]] = ()) -> None:
    """A complete JSON {"error": ...} response, for layers that answer before the application runs."""
    body = json.dumps({"error": message}).encode()
    await send({"type": "http.response.start", "status": status,
                "headers": [(b"content-type", b"application/json"), (b"content-length", str(len(body)).encode()),
                            *headers]})
    await send({"type": "http.response.body", "body": body})


def header(scope: Scope, name: bytes) -> str | None:
    for key, value in scope.get("headers") or []:
        if key == name:
            return bytes(value).decode("latin-1")
    return None


def host_name(host: str) -> str:
    """The name in a Host header, without the port: example.com:8000 → example.com, [::1]:8000 → ::1."""
    host = host.strip().lower()
    if host.startswith("["):
        return host[1:].partition("]")[0]
    return host.rpartition(":")[0] if host.count(":") == 1 else host


class HostAllowList:
    """Answers only requests whose Host header names an allowed host: a DNS-rebinding page reaches the server
    under its own host name, which is not on the list."""

    def __init__(self, app: ASGIApp, hosts: Iterable[str]) -> None:
        self.app = app
        self.hosts = frozenset(host_name(h) for h in hosts)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http" and "*" not in self.hosts:
            host = header(scope, b"host")
            if host is None or host_name(host) not in self.hosts:
                await send_error(send, 400, f"Host {host!r} is not served here (REPORTQA_ALLOWED_HOSTS)")
                return
        await self.app(scope, receive, send)


class RequireKey:
    """Bearer key check in constant time, before any byte of the body is read; `public` paths need none."""

    def __init__(self, app: ASGIApp, key: str, public: frozenset[str], public_prefixes: tuple[str, ...] = ()
                 ) -> None:
        self.app = app
        self.expected = key.encode()
        self.public = public
        self.public_prefixes = public_prefixes

    def allowed(self, scope: Scope) -> bool:
        scheme, _, token = (header(scope, b"authorization") or "").partition(" ")
        return scheme.lower() == "bearer" and hmac.compare_digest(token.strip().encode("latin-1"), self.expected)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        path = str(scope.get("path", ""))
        if scope["type"] == "http" and path not in self.public and not path.startswith(self.public_prefixes) \
                and not self.allowed(scope):
            await send_error(send, 401, "missing or wrong API key (Authorization: Bearer …)",
                             [(b"www-authenticate", b"Bearer")])
            return
        await self.app(scope, receive, send)


class SameOriginWrites:
    """Refuses a state-changing request that a page of another site sent (its Origin names another host),
    unless that origin is listed in REPORTQA_CORS_ORIGINS; clients that are not browsers send no Origin."""

    def __init__(self, app: ASGIApp, allowed_origins: Iterable[str]) -> None:
        self.app = app
        self.allowed = frozenset(o.rstrip("/").lower() for o in allowed_origins)

    def cross_site(self, scope: Scope) -> bool:
        origin = header(scope, b"origin")
        if origin is None:
            return False
        origin = origin.strip().rstrip("/").lower()
        if origin in self.allowed or "*" in self.allowed:
            return False
        own = (header(scope, b"host") or "").strip().lower()
        return origin == "null" or urlsplit(origin).netloc != own

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http" and scope.get("method") not in SAFE_METHODS and self.cross_site(scope):
            await send_error(send, 403, "cross-site request refused: this origin is not in REPORTQA_CORS_ORIGINS")
            return
        await self.app(scope, receive, send)


class BodyLimit:
    """Holds each request body to its limit and all bodies being received by this worker to `in_flight`, without
    buffering: a declared Content-Length over either is refused before reading, and the bytes actually received
    are counted (chunked uploads too) as the application reads them. A body that sends nothing for `idle_seconds`
    is refused with 408: a few stalled uploads would otherwise hold every one of Overload's places."""

    def __init__(self, app: ASGIApp, limit: int, in_flight: int, idle_seconds: float,
                 larger: dict[tuple[str, str], int] | None = None) -> None:
        self.app = app
        self.default = limit
        self.in_flight_limit = in_flight
        self.larger = larger or {}
        self.idle_seconds = idle_seconds
        self.in_flight = 0

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        limit = self.larger.get((scope.get("method", ""), scope.get("path", "")), self.default)
        declared = header(scope, b"content-length") or ""
        if declared.isdigit() and int(declared) > limit:
            await send_error(send, 413, f"request body of {declared} bytes exceeds the limit of {limit}")
            return
        held = 0
        received = False  # the whole body is in: later receives wait for a disconnect, which has no time limit

        async def counted() -> Message:
            nonlocal held, received
            if received:
                return await receive()
            try:
                message = await asyncio.wait_for(receive(), self.idle_seconds)
            except TimeoutError:
                raise HTTPException(408, f"the request body stopped arriving (nothing for {self.idle_seconds:g} s)"
                                    ) from None
            received = message["type"] != "http.request" or not message.get("more_body", False)
            size = len(message.get("body", b""))
            if held + size > limit:
                raise HTTPException(413, f"request body of {held + size}+ bytes exceeds the limit of {limit}")
            if self.in_flight + size > self.in_flight_limit:
                raise HTTPException(503, "too many large request bodies in flight; retry shortly",
                                    headers={"Retry-After": "1"})
            held += size
            self.in_flight += size
            return message

        try:
            await self.app(scope, counted, send)
        finally:
            self.in_flight -= held


class Overload:
    """Answers 503 with Retry-After once `limit` requests are in flight, instead of queueing without bound."""

    def __init__(self, app: ASGIApp, limit: int, exempt: frozenset[str] = frozenset({"/healthz"})) -> None:
        self.app = app
        self.limit = limit
        self.exempt = exempt
        self.in_flight = 0

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope.get("path") in self.exempt:
            await self.app(scope, receive, send)
            return
        if self.in_flight >= self.limit:
            await send_error(send, 503, "the server is busy; retry shortly", [(b"retry-after", b"1")])
            return
        self.in_flight += 1
        try:
            await self.app(scope, receive, send)
        finally:
            self.in_flight -= 1


class AccessLog:
    """One JSON line per request with status and latency (no headers, so keys never reach the log)."""

    def __init__(self, app: ASGIApp, log: logging.Logger) -> None:
        self.app = app
        self.log = log

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = time.perf_counter()
        status = 500

        async def record(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = int(message["status"])
            await send(message)

        try:
            await self.app(scope, receive, record)
        finally:
            client = scope.get("client")
            entry: dict[str, Any] = {"method": scope.get("method"), "path": scope.get("path"), "status": status,
                                     "ms": round((time.perf_counter() - started) * 1000, 1),
                                     "client": client[0] if client else None}
            self.log.info(json.dumps(entry))
