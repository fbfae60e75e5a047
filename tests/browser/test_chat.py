"""The ask view: streamed answers, sources, refusals, errors, follow-ups, labels, copy and feedback."""

from __future__ import annotations

import json
from collections.abc import Callable
from itertools import pairwise
from pathlib import Path
from typing import Any

import pytest

from .conftest import AI_DOC, AI_TITLE, Served, fulfil_sse, sse

pytestmark = pytest.mark.browser
Shoot = Callable[..., Path]
AI_QUESTION = "2026年全球AI支出预计是多少？"
COMPLETIONS = "**/v1/chat/completions"


def ask(page: Any, question: str, nth: int = 0) -> Any:
    """Type a question, send it with Enter, and wait for the finished answer card."""
    page.fill("#question", question)
    page.press("#question", "Enter")
    answer = page.locator(".msg.answer:not(.streaming)").nth(nth)
    answer.wait_for(state="visible")
    return answer


def citation(n: int, doc: str, start: int, end: int, lines: tuple[int, int], text: str, **extra: Any) -> dict[str, Any]:
    return {"n": n, "doc": doc, "title": extra.pop("title", AI_TITLE), "section": extra.pop("section", "第一章"),
            "start": start, "end": end, "line_start": lines[0], "line_end": lines[1], "page": None,
            "page_end": None, "text": text, "score": 1.0, **extra}


def test_a_streamed_answer_opens_its_source_with_the_sentence_marked(page: Any, shoot: Shoot) -> None:
    with page.expect_request(COMPLETIONS) as sent:
        answer = ask(page, AI_QUESTION)
    body = sent.value.post_data_json
    assert body["stream"] is True and body["messages"] == [{"role": "user", "content": AI_QUESTION}]
    assert "2.59万亿美元" in answer.inner_text()
    assert page.locator(".msg.error").count() == 0
    marker = answer.locator("xpath=.//button[contains(@class, 'marker')]"
                            "[contains(preceding-sibling::text()[1], '2.59万亿美元')]").first
    marker.click()
    passage = page.locator("#passage")
    passage.wait_for(state="visible")
    assert marker.get_attribute("aria-expanded") == "true"
    assert passage.locator(".passage-title").inner_text().strip() == AI_TITLE
    where = passage.locator(".passage-where").inner_text()
    assert AI_DOC in where and "行" in where
    assert any("2.59万亿美元" in text for text in passage.locator(".passage-text mark").all_inner_texts())
    shoot("answer")
    page.keyboard.press("Escape")
    passage.wait_for(state="hidden")
    answer.locator(".cite-item[data-n]").first.click()
    passage.wait_for(state="visible")


def test_the_answer_is_drawn_piece_by_piece_as_it_streams(page: Any) -> None:
    text = "2026年全球AI支出预计激增47%至2.59万亿美元，AI基础设施投资占整体AI支出的45%以上。[1]"
    cited = [citation(1, AI_DOC, 0, 60, (5, 6), text.removesuffix("[1]"))]
    page.route(COMPLETIONS, lambda route: fulfil_sse(route, sse(text, cited, abstained=False, confidence=0.8)))
    page.evaluate("""() => {
        window.seen = [];
        new MutationObserver((records) => { for (const r of records) for (const n of r.addedNodes)
            if (n.nodeType === 3 && r.target.closest && r.target.closest('.streaming')) window.seen.push(n.data);
        }).observe(document.querySelector('#messages'), {childList: true, subtree: true});
    }""")
    answer = ask(page, AI_QUESTION)
    seen: list[str] = page.evaluate("window.seen")
    assert len(seen) >= 4 and all(b.startswith(a) and len(b) > len(a) for a, b in pairwise(seen))
    assert seen[-1] == text.removesuffix("[1]")  # markers become buttons only when the answer is complete
    assert answer.locator(".marker").count() == 1 and "80%" in answer.inner_text()
    assert answer.locator(".low-conf").count() == 0


def test_an_answer_below_the_confidence_band_says_so(page: Any) -> None:
    text = "2026年全球AI支出预计激增47%。[1]"
    cited = [citation(1, AI_DOC, 0, 60, (5, 6), text.removesuffix("[1]"))]
    page.route(COMPLETIONS, lambda route: fulfil_sse(route, sse(text, cited, abstained=False, confidence=0.31,
                                                                  low_confidence=True)))
    answer = ask(page, AI_QUESTION)
    assert "31%" in answer.inner_text()
    assert answer.locator(".low-conf").inner_text() == "置信度低：更可能有误，请核对来源"


def test_an_unanswerable_question_shows_the_refusal(page: Any, shoot: Shoot) -> None:
    answer = ask(page, "火星基地的咖啡每杯卖多少钱？")
    assert answer.get_attribute("data-abstained") == "true"
    assert "报告中没有找到可靠答案" in answer.inner_text()
    shoot("refusal")


def test_api_errors_are_shown_and_the_question_given_back(page: Any) -> None:
    page.route(COMPLETIONS, lambda route: route.fulfill(status=503, content_type="application/json",
                                                        body='{"error": "index is being rebuilt"}'))
    page.fill("#question", AI_QUESTION)
    page.click("#send")
    error = page.locator(".msg.error")
    error.wait_for(state="visible")
    assert "index is being rebuilt" in error.inner_text() and "503" in error.inner_text()
    assert page.input_value("#question") == AI_QUESTION


def test_follow_ups_send_the_whole_conversation(page: Any) -> None:
    sent: list[dict[str, Any]] = []
    cited = citation(1, AI_DOC, 0, 40, (5, 6), "2026年全球AI支出预计激增47%至2.59万亿美元。\n"
                     "其中AI基础设施投资占整体AI支出的45%以上。", page=3, section="第一章 人工智能 > 1.1 支出规模")

    def fake(route: Any) -> None:
        sent.append(route.request.post_data_json)
        follow = len(sent) > 1
        text = ("其中AI基础设施投资占整体AI支出的45%以上。[1]" if follow
                else "2026年全球AI支出预计激增47%至2.59万亿美元。[1]")
        resolved = "2026年AI基础设施投资占AI支出的比例是多少？" if follow else sent[-1]["messages"][-1]["content"]
        fulfil_sse(route, sse(text, [cited], resolved_question=resolved, abstained=False, confidence=0.9))

    page.route(COMPLETIONS, fake)
    ask(page, AI_QUESTION)
    second = ask(page, "其中基础设施占多少？", nth=1)
    assert [m["role"] for m in sent[1]["messages"]] == ["user", "assistant", "user"]
    assert sent[1]["messages"][1]["content"].startswith("2026年全球AI支出")
    assert sent[1]["messages"][2]["content"] == "其中基础设施占多少？"
    assert "[1]" not in second.locator(".answer-text").inner_text()
    assert "2026年AI基础设施投资占AI支出的比例是多少？" in second.inner_text()
    second.locator('.marker[data-n="1"]').click()
    passage = page.locator("#passage")
    passage.wait_for(state="visible")
    assert "第 3 页" in passage.locator(".passage-where").inner_text()
    assert passage.locator(".passage-text mark").all_inner_texts() == ["其中AI基础设施投资占整体AI支出的45%以上"]


def test_the_api_key_is_stored_and_sent_as_a_bearer_token(page: Any) -> None:
    seen: list[str | None] = []

    def unauthorized(route: Any) -> None:
        seen.append(route.request.headers.get("authorization"))
        route.fulfill(status=401, content_type="application/json", body='{"error": "missing or wrong API key"}')

    page.route(COMPLETIONS, unauthorized)
    page.click("#settings summary")
    page.fill("#api-key", "s3cret")
    page.click("#api-key-save")
    assert page.evaluate("localStorage.getItem('reportqa.apiKey')") == "s3cret"
    page.click("#settings summary")
    page.fill("#question", AI_QUESTION)
    page.press("#question", "Enter")
    error = page.locator(".msg.error")
    error.wait_for(state="visible")
    assert seen == ["Bearer s3cret"]
    assert "missing or wrong API key" in error.inner_text() and "API 密钥" in error.inner_text()


def test_overlapping_passages_are_one_source(page: Any, shoot: Shoot) -> None:
    """[1] lines 1570–1574 and [3] lines 1572–1574 of one report are one source, numbered 1; [2] becomes 2."""
    first = citation(1, "big.txt", 1000, 1200, (1570, 1574), "第一句在这里。第二句接着写。第三句收尾。", title="大报告")
    other = citation(2, "quantum.txt", 10, 60, (2, 3), "超导量子比特、离子阱和光量子是三条主要技术路线。",
                     title="量子计算产业发展报告")
    overlapping = citation(3, "big.txt", 1100, 1260, (1572, 1575), "第三句收尾。第四句新的内容。", title="大报告")
    text = "第二句接着写。[1]三条主要技术路线。[2]第四句新的内容。[3]"
    page.route(COMPLETIONS, lambda route: fulfil_sse(route, sse(text, [first, other, overlapping], abstained=False)))
    answer = ask(page, "大报告说了什么？")
    sources = answer.locator(".cites li")
    assert sources.count() == 2
    assert [m.inner_text() for m in answer.locator(".marker").all()] == ["1", "2", "1"]
    assert "第 1570–1575 行" in sources.nth(0).inner_text() and "quantum.txt" in sources.nth(1).inner_text()
    answer.locator('.marker[data-n="1"]').first.click()
    passage = page.locator("#passage")
    passage.wait_for(state="visible")
    assert passage.locator(".passage-text").inner_text() == "第一句在这里。第二句接着写。第三句收尾。第四句新的内容。"
    assert "已合并 2 段重叠的原文" in passage.locator(".passage-where").inner_text()
    shoot("merged-sources")


def test_the_source_panel_follows_the_latest_answer(page: Any) -> None:
    first = ask(page, AI_QUESTION)
    first.locator(".marker").first.click()
    title = page.locator("#passage .passage-title")
    title.wait_for(state="visible")
    assert title.inner_text() == AI_TITLE
    ask(page, "量子计算的主要技术路线有哪些？", nth=1)
    assert title.inner_text() == "量子计算产业发展报告"
    assert page.locator("#passage .passage-text mark").count() >= 1
    assert page.locator('.msg.answer >> nth=0 >> [aria-expanded="true"]').count() == 0


def test_labels_follow_the_question_language_and_the_page_stays_chinese(page: Any, shoot: Shoot) -> None:
    assert [t.inner_text() for t in page.locator(".tab").all()] == ["问答", "引用核查", "文档"]
    assert page.locator("#settings summary").inner_text() == "设置"
    chinese = ask(page, AI_QUESTION)
    english = ask(page, "What is the quantum computing market size in 2025?", nth=1)
    assert chinese.locator(".cites-label").inner_text() == "来源"
    assert chinese.locator(".act-copy").inner_text() == "复制" and "置信度" in chinese.inner_text()
    assert english.locator(".cites-label").inner_text() == "Sources"
    assert english.locator(".act-copy").inner_text() == "Copy" and "Confidence" in english.inner_text()
    assert "来源" not in english.inner_text() and "Sources" not in chinese.inner_text()
    english.locator(".marker").first.click()
    assert page.locator("#passage-heading").inner_text().startswith("Source [1]")
    assert "line" in page.locator("#passage .passage-where").inner_text()
    shoot("english")


def test_copy_puts_the_answer_and_its_sources_on_the_clipboard(page: Any, context: Any, server: str) -> None:
    context.grant_permissions(["clipboard-read", "clipboard-write"], origin=server)
    answer = ask(page, AI_QUESTION)
    answer.locator(".act-copy").click()
    answer.locator(".act-state", has_text="已复制").wait_for()
    copied = page.evaluate("navigator.clipboard.readText()")
    body, _, sources = copied.partition("\n\n来源：\n")
    assert "2.59万亿美元" in body and "[1]" in body
    assert sources.splitlines()[0].startswith(f"[1] {AI_TITLE}") and AI_DOC in sources


def test_thumbs_are_stored_server_side(page: Any, served: Served) -> None:
    before = _feedback_lines(served)
    answer = ask(page, AI_QUESTION)
    answer.locator(".act-down").click()
    answer.locator(".act-state", has_text="已记录反馈").wait_for()
    assert answer.locator(".act-down").get_attribute("aria-pressed") == "true"
    assert answer.locator(".act-up").get_attribute("aria-pressed") == "false"
    (row,) = _feedback_lines(served)[len(before):]
    assert row["rating"] == "down" and row["question"] == AI_QUESTION and "2.59万亿美元" in row["answer"]
    assert row["citations"] and row["citations"][0]["doc"] == AI_DOC and row["time"]


def _feedback_lines(served: Served) -> list[dict[str, Any]]:
    path = served.settings.feedback_file
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines()] if path.exists() else []


def test_a_server_without_streaming_is_asked_through_chat(page: Any) -> None:
    page.route(COMPLETIONS, lambda route: route.fulfill(status=404, content_type="application/json",
                                                        body='{"error": "Not Found"}'))
    with page.expect_request("**/chat") as sent:
        answer = ask(page, AI_QUESTION)
    assert sent.value.post_data_json["messages"][-1]["content"] == AI_QUESTION
    assert "2.59万亿美元" in answer.inner_text() and answer.locator(".marker").count() >= 1


def test_an_answer_missing_shards_says_so(page: Any) -> None:
    """The Ray backend names shards it could not search; the page shows them above the answer."""
    text = "全球AI支出预计达到2.59万亿美元[1]。"
    cited = [{"n": 1, "doc": "a.txt", "title": "报告", "section": "", "start": 0, "end": 10, "line_start": 1,
              "line_end": 1, "page": None, "page_end": None, "text": "全球AI支出预计达到2.59万亿美元。", "score": 1.0}]
    page.route(COMPLETIONS, lambda route: fulfil_sse(route, sse(text, cited, abstained=False, confidence=0.8,
                                                                degraded=["shard-001"])))
    ask(page, "2026年全球AI支出预计是多少？")
    notice = page.locator(".msg.answer .degraded")
    notice.wait_for()
    assert "shard-001" in notice.inner_text() and "分片" in notice.inner_text()
