"""A real headless Chromium against the real server on a small index built here, at a desktop and a phone width."""

from __future__ import annotations

import json
import os
import threading
import time
import urllib.request
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

os.environ["HF_HUB_OFFLINE"] = "1"
os.environ["TRANSFORMERS_OFFLINE"] = "1"

import pytest

from reportqa.core.settings import Settings

from ..support import free_port

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = ["--headless=new", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                 "--disable-background-networking", "--disable-component-update", "--disable-sync"]
ARTIFACTS = Path(__file__).resolve().parent / "artifacts"
TIMEOUT_MS = 30_000
WIDTHS = {"desktop": (1280, 860), "phone": (390, 844)}

AI_DOC = "ai_outlook.txt"
AI_TITLE = "全球人工智能产业展望"
DOCS: dict[str, tuple[str, str]] = {
    AI_DOC: (
        AI_TITLE,
        "全球人工智能产业展望\n"
        "\n"
        "第一章 人工智能\n"
        "1.1 支出规模\n"
        "2026年全球AI支出预计激增47%至2.59万亿美元。\n"
        "其中AI基础设施投资占整体AI支出的45%以上，算力竞争已经成为决定性变量。\n"
        "1.2 区域格局\n"
        "北美地区仍是全球最大的AI支出市场，亚太地区的AI支出增速最快。\n",
    ),
    "battery_storage.txt": (
        "新型储能产业观察",
        "第一章 储能市场\n"
        "截至2025年底，中国新型储能累计装机规模达到95吉瓦，预计到2030年\n"
        "新型储能装机容量将突破300吉瓦，年均复合增长率超过25%。\n"
        "\n"
        "第二章 固态电池\n"
        "半固态电池已经在高端电动汽车上量产装车，硫化物电解质是目前最受关注的技术路线。\n",
    ),
    "quantum.txt": (
        "量子计算产业发展报告",
        "第一章 量子计算概述\n"
        "超导量子比特、离子阱和光量子是三条主要技术路线。\n"
        "全球量子计算市场规模在2025年约为15亿美元，预计2030年增长到80亿美元。\n",
    ),
}


@dataclass(frozen=True)
class Served:
    url: str
    settings: Settings


def _healthy(url: str) -> bool:
    try:
        with urllib.request.urlopen(url + "/healthz", timeout=2) as response:
            return bool(json.load(response).get("status") == "ok")
    except OSError:
        return False


def write_docs(folder: Path) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    for name, (_, text) in DOCS.items():
        (folder / name).write_text(text, encoding="utf-8")
    manifest = {name: {"title": title} for name, (title, _) in DOCS.items()}
    (folder / "manifest.json").write_text(json.dumps(manifest, ensure_ascii=False), encoding="utf-8")
    return folder


@pytest.fixture(scope="session")
def served(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Served]:
    """The real app on a free port, serving a small index of the documents above (with the served defaults: the
    REPORTQA_* variables are set aside while it is built, and restored for the tests that follow)."""
    saved = {name: os.environ.pop(name) for name in [n for n in os.environ if n.startswith("REPORTQA_")]}
    import uvicorn
    from reportqa.api.app import create_app

    from reportqa.engine import build

    tmp = tmp_path_factory.mktemp("browser")
    settings = Settings(index_dir=tmp / "idx", corpus=[write_docs(tmp / "docs")], embed_dim=16,
                        feedback_file=tmp / "feedback.jsonl")
    build(settings)
    os.environ.update(saved)
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    uv = uvicorn.Server(uvicorn.Config(create_app(settings), host="127.0.0.1", port=port, log_level="warning"))
    thread = threading.Thread(target=uv.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 60
    while not _healthy(url):
        if not thread.is_alive() or time.monotonic() > deadline:
            pytest.fail("the server did not become healthy")
        time.sleep(0.2)
    yield Served(url, settings)
    uv.should_exit = True
    thread.join(timeout=10)


@pytest.fixture(scope="session")
def server(served: Served) -> str:
    return served.url


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    """One Chromium per test module: Playwright's sync API holds an event loop on the main thread while it runs,
    which later tests' asyncio.run() must not find."""
    if not CHROMIUM.exists():
        pytest.skip("Debian's chromium is not installed (apt-get install -y chromium)")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        chromium = p.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        yield chromium
        chromium.close()


@pytest.fixture(params=list(WIDTHS), ids=list(WIDTHS))
def viewport(request: pytest.FixtureRequest) -> str:
    return str(request.param)


@pytest.fixture
def context(browser: Any, viewport: str) -> Iterator[Any]:
    width, height = WIDTHS[viewport]
    context = browser.new_context(viewport={"width": width, "height": height}, locale="zh-CN",
                                  is_mobile=viewport == "phone", has_touch=viewport == "phone")
    context.set_default_timeout(TIMEOUT_MS)
    yield context
    context.close()


@pytest.fixture
def page(context: Any, server: str) -> Iterator[Any]:
    """The chat page, fresh (no saved conversations); fails the test on any JavaScript error or 404."""
    tab = context.new_page()
    errors: list[str] = []
    tab.on("pageerror", lambda exc: errors.append(str(exc)))
    tab.on("response", lambda r: errors.append(f"{r.status} {r.url}")
           if r.status == 404 and "/v1/chat/completions" not in r.url else None)
    tab.goto(server + "/")
    tab.wait_for_load_state("networkidle")
    yield tab
    assert not errors, f"errors on the page: {errors}"


@pytest.fixture
def shoot(page: Any, viewport: str, request: pytest.FixtureRequest, tmp_path: Path) -> Callable[[str], Path]:
    """Screenshot the page as tests/browser/artifacts/<name>-<width>.png (every run), or under tmp when read-only."""

    def take(name: str, target: Any = None) -> Path:
        shot = f"{name}-{viewport}.png"
        try:
            ARTIFACTS.mkdir(parents=True, exist_ok=True)
            path = ARTIFACTS / shot
            (target or page).screenshot(path=str(path), full_page=target is None)
        except OSError:
            path = tmp_path / shot
            (target or page).screenshot(path=str(path), full_page=target is None)
        assert path.stat().st_size > 0
        return path

    return take


def sse(answer: str, citations: list[dict[str, Any]], **final: Any) -> str:
    """A /v1/chat/completions event stream as the server writes it: role, pieces, citations, [DONE]."""

    def event(delta: dict[str, Any], finish: str | None = None, **extra: Any) -> str:
        chunk = {"id": "chatcmpl-test", "object": "chat.completion.chunk", "created": 0, "model": "reportqa",
                 "choices": [{"index": 0, "delta": delta, "finish_reason": finish}], **extra}
        return f"data: {json.dumps(chunk, ensure_ascii=False)}\n\n"

    pieces = [answer[i : i + 8] for i in range(0, len(answer), 8)]
    return "".join([event({"role": "assistant", "content": ""}), *(event({"content": p}) for p in pieces),
                    event({}, "stop", citations=citations, **final), "data: [DONE]\n\n"])


def fulfil_sse(route: Any, body: str) -> None:
    route.fulfill(status=200, content_type="text/event-stream", body=body)
