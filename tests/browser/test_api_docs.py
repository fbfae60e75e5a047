"""/docs and /redoc render from the app's own files with every other host blocked; the favicon is served."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any
from urllib.parse import urlparse

import pytest

pytestmark = pytest.mark.browser


def block_the_network(context: Any) -> list[str]:
    """Abort every request that leaves the loopback server; return the list of what was tried."""
    tried: list[str] = []

    def gate(route: Any) -> None:
        host = urlparse(route.request.url).hostname
        if host in {"127.0.0.1", "localhost"} or route.request.url.startswith(("data:", "blob:")):
            route.continue_()
        else:
            tried.append(route.request.url)
            route.abort("internetdisconnected")

    context.route("**/*", gate)
    return tried


def test_swagger_ui_renders_offline(page: Any, context: Any, server: str, shoot: Callable[..., Path]) -> None:
    tried = block_the_network(context)
    page.goto(server + "/docs")
    page.locator(".swagger-ui .opblock").first.wait_for(state="visible")
    paths = page.locator(".opblock-summary-path").all_inner_texts()
    assert {"/ask", "/cite", "/feedback", "/documents"} <= {p.strip().replace("\u200b", "") for p in paths}
    assert page.locator(".swagger-ui .info .title").inner_text().startswith("reportqa")
    shoot("docs")
    assert tried == []


def test_redoc_renders_offline(page: Any, context: Any, server: str, shoot: Callable[..., Path]) -> None:
    tried = block_the_network(context)
    page.goto(server + "/redoc")
    page.get_by_role("heading", name="reportqa").first.wait_for(state="visible")
    page.locator("text=/ask").first.wait_for(state="attached")
    shoot("redoc")
    assert tried == []


def test_the_favicon_is_served(page: Any, server: str) -> None:
    href = page.locator('link[rel="icon"]').get_attribute("href")
    for url in (server + href, server + "/favicon.ico"):
        response = page.request.get(url)
        assert response.status == 200 and response.headers["content-type"].startswith("image/svg+xml")
        assert b"<svg" in response.body()
