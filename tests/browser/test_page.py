"""The web page in a real headless Chromium, against the real server on a small index built here."""

from __future__ import annotations

import json
import os
import socket
import threading
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any

os.environ["HF_HUB_OFFLINE"] = "1"
os.environ["TRANSFORMERS_OFFLINE"] = "1"

import pytest

pytestmark = pytest.mark.browser

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = ["--headless=new", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                 "--disable-background-networking", "--disable-component-update", "--disable-sync"]
ARTIFACTS = Path(__file__).resolve().parent / "artifacts"
TIMEOUT_MS = 30_000

AI_DOC = "ai_outlook.txt"
DOCS: dict[str, tuple[str, str]] = {
    AI_DOC: (
        "全球人工智能产业展望",
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


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _healthy(url: str) -> bool:
    try:
        with urllib.request.urlopen(url + "/healthz", timeout=2) as response:
            return bool(json.load(response).get("status") == "ok")
    except OSError:
        return False


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """The real app on a free port, serving a small index of the documents above (with the served defaults: the
REPORTQA_* variables are set aside while it is built, and restored for the tests that follow)."""
    saved = {name: os.environ.pop(name) for name in [n for n in os.environ if n.startswith("REPORTQA_")]}
    import uvicorn
    from reportqa.api.app import create_app

    from reportqa.core.settings import Settings
    from reportqa.engine import build

    tmp = tmp_path_factory.mktemp("browser")
    docs = tmp / "docs"
    docs.mkdir()
    for name, (_, text) in DOCS.items():
        (docs / name).write_text(text, encoding="utf-8")
    manifest = {name: {"title": title} for name, (title, _) in DOCS.items()}
    (docs / "manifest.json").write_text(json.dumps(manifest, ensure_ascii=False), encoding="utf-8")
    settings = Settings(index_dir=tmp / "idx", corpus=[docs], embed_dim=16)
    os.environ.update(saved)
    build(settings)

    port = _free_port()
    url = f"http://127.0.0.1:{port}"
    uv = uvicorn.Server(uvicorn.Config(create_app(settings), host="127.0.0.1", port=port, log_level="warning"))
    thread = threading.Thread(target=uv.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 60
    while not _healthy(url):
        if not thread.is_alive() or time.monotonic() > deadline:
            pytest.fail("the server did not become healthy")
        time.sleep(0.2)
    yield url
    uv.should_exit = True
    thread.join(timeout=10)


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    if not CHROMIUM.exists():
        pytest.skip("Debian's chromium is not installed (apt-get install -y chromium)")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        chromium = p.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        yield chromium
        chromium.close()


@pytest.fixture
def page(browser: Any, server: str) -> Iterator[Any]:
    context = browser.new_context(viewport={"width": 1280, "height": 860}, locale="zh-CN")
    tab = context.new_page()
    tab.set_default_timeout(TIMEOUT_MS)
    errors: list[str] = []
    tab.on("pageerror", lambda exc: errors.append(str(exc)))
    tab.goto(server + "/")
    yield tab
    context.close()
    assert not errors, f"JavaScript errors on the page: {errors}"


def _screenshot(page: Any, tmp_path: Path, name: str) -> Path:
    """Save under tests/browser/artifacts for review, and under the test's tmp dir when that is not writable."""
    try:
        ARTIFACTS.mkdir(parents=True, exist_ok=True)
        target = ARTIFACTS / name
        page.screenshot(path=str(target), full_page=True)
        return target
    except OSError:
        target = tmp_path / name
        page.screenshot(path=str(target), full_page=True)
        return target


def test_answer_markers_open_the_cited_passage_with_the_sentence_marked(page: Any, tmp_path: Path) -> None:
    page.fill("#question", "2026年全球AI支出预计是多少？")
    page.click("#send")
    answer = page.locator(".answer").filter(has_text="2.59万亿美元").first
    answer.wait_for(state="visible")
    assert page.locator(".msg.error").count() == 0

    # the marker right after the sentence with the figure: an answer may join sentences of several passages
    marker = answer.locator("xpath=.//button[contains(@class, 'marker')]"
                            "[contains(preceding-sibling::text()[1], '2.59万亿美元')]").first
    marker.click()
    passage = page.locator("#passage")
    passage.wait_for(state="visible")
    assert marker.get_attribute("aria-expanded") == "true"
    assert passage.locator(".passage-title").inner_text().strip()
    where = passage.locator(".passage-where").inner_text()
    assert AI_DOC in where and "line" in where
    marks = passage.locator(".passage-text mark")
    assert marks.count() >= 1
    assert any("2.59万亿美元" in text for text in marks.all_inner_texts())

    # The compact citation list under the answer opens the panel too, and Escape closes it.
    answer.locator(".cite-item[data-n]").first.click()
    assert passage.is_visible()
    page.keyboard.press("Escape")
    passage.wait_for(state="hidden")
    marker.click()
    passage.wait_for(state="visible")

    shot = _screenshot(page, tmp_path, "answer.png")
    assert shot.stat().st_size > 0


def test_unanswerable_question_shows_the_abstain_message(page: Any) -> None:
    page.fill("#question", "火星基地的咖啡每杯卖多少钱？")
    page.press("#question", "Enter")
    reply = page.locator(".answer, .msg.error").first
    reply.wait_for(state="visible")
    assert "报告中没有找到可靠答案" in reply.inner_text()


def test_api_errors_are_shown(page: Any) -> None:
    page.route("**/chat", lambda route: route.fulfill(status=503, content_type="application/json",
                                                       body='{"error": "index is being rebuilt"}'))
    page.fill("#question", "2026年全球AI支出预计是多少？")
    page.click("#send")
    error = page.locator(".msg.error")
    error.wait_for(state="visible")
    assert "index is being rebuilt" in error.inner_text()


def test_draft_check_flags_the_wrong_figure(page: Any, tmp_path: Path) -> None:
    page.click("#tab-cite")
    page.fill("#draft", "2026年全球AI支出预计达到3.1万亿美元。超导量子比特、离子阱和光量子是三条主要技术路线。")
    page.click("#check")
    claims = page.locator(".claim")
    claims.first.wait_for(state="visible")
    wrong = claims.filter(has_text="3.1万亿美元").first
    verdict = wrong.locator(".verdict").inner_text()
    assert "contradicted" in verdict or "矛盾" in verdict
    assert wrong.get_attribute("data-verdict") == "contradicted"
    assert "2.59万亿美元" in wrong.inner_text()
    assert "报告原文" in wrong.inner_text()
    _screenshot(page, tmp_path, "draft.png")


def test_follow_ups_send_the_whole_conversation_to_chat(page: Any) -> None:
    """/chat is faked here so the test pins what the page sends and how it shows "[n]" markers and the rewrite."""
    sent: list[dict[str, Any]] = []
    citation = {"n": 1, "doc": AI_DOC, "title": "全球人工智能产业展望", "section": "第一章 人工智能 > 1.1 支出规模",
                "start": 0, "end": 40, "line_start": 5, "line_end": 6, "page": 3, "score": 2.0,
                "text": "2026年全球AI支出预计激增47%至2.59万亿美元。\n其中AI基础设施投资占整体AI支出的45%以上。"}

    def fake_chat(route: Any) -> None:
        body = route.request.post_data_json
        sent.append(body)
        last = body["messages"][-1]["content"]
        reply = {"id": "", "question": last, "abstained": False, "confidence": 0.9, "citations": [citation],
                 "answer": "其中AI基础设施投资占整体AI支出的45%以上。[1]" if sent[1:] else
                 "2026年全球AI支出预计激增47%至2.59万亿美元。[1]",
                 "resolved_question": "2026年AI基础设施投资占AI支出的比例是多少？" if sent[1:] else last,
                 "source": 1}
        route.fulfill(status=200, content_type="application/json", body=json.dumps(reply, ensure_ascii=False))

    page.route("**/chat", fake_chat)
    page.fill("#question", "2026年全球AI支出预计是多少？")
    page.press("#question", "Enter")
    page.locator(".answer").first.wait_for(state="visible")
    page.fill("#question", "其中基础设施占多少？")
    page.press("#question", "Enter")
    second = page.locator(".answer").nth(1)
    second.wait_for(state="visible")

    assert [m["role"] for m in sent[1]["messages"]] == ["user", "assistant", "user"]
    assert sent[1]["messages"][1]["content"].startswith("2026年全球AI支出")
    assert sent[1]["messages"][2]["content"] == "其中基础设施占多少？"
    assert "[1]" not in second.locator(".answer-text").inner_text()
    assert "2026年AI基础设施投资占AI支出的比例是多少？" in second.inner_text()
    second.locator('.marker[data-n="1"]').click()
    passage = page.locator("#passage")
    passage.wait_for(state="visible")
    assert "page 3" in passage.locator(".passage-where").inner_text()
    assert passage.locator(".passage-text mark").all_inner_texts() == ["其中AI基础设施投资占整体AI支出的45%以上"]


def test_the_api_key_is_stored_and_sent_as_a_bearer_token(page: Any) -> None:
    seen: list[str | None] = []

    def unauthorized(route: Any) -> None:
        seen.append(route.request.headers.get("authorization"))
        route.fulfill(status=401, content_type="application/json", body='{"error": "missing or wrong API key"}')

    page.route("**/chat", unauthorized)
    page.click("#settings summary")
    page.fill("#api-key", "s3cret")
    page.click("#api-key-save")
    assert page.evaluate("localStorage.getItem('reportqa.apiKey')") == "s3cret"
    page.fill("#question", "2026年全球AI支出预计是多少？")
    page.click("#send")
    error = page.locator(".msg.error")
    error.wait_for(state="visible")
    assert seen == ["Bearer s3cret"]
    assert "missing or wrong API key" in error.inner_text()
    assert page.input_value("#question") == "2026年全球AI支出预计是多少？"  # given back for a retry
