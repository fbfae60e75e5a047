"""Conversations kept across a reload, listed to go back to, continued with their history, and deleted."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from .test_chat import AI_QUESTION, COMPLETIONS, ask

pytestmark = pytest.mark.browser
QUANTUM_QUESTION = "量子计算的主要技术路线有哪些？"


def open_list(page: Any) -> Any:
    """The conversation list: a sidebar on a desktop, behind the 对话记录 button on a phone."""
    toggle = page.locator("#history-toggle")
    if toggle.is_visible() and toggle.get_attribute("aria-expanded") != "true":
        toggle.click()
    conversations = page.locator("#conv-list .conv-item")
    conversations.first.wait_for(state="visible")
    return conversations


def test_conversations_survive_a_reload_and_can_be_reopened(page: Any, shoot: Callable[..., Path]) -> None:
    ask(page, AI_QUESTION)
    if page.locator("#history-toggle").is_visible():
        open_list(page)
    page.click("#new-chat")
    assert page.locator(".msg.answer").count() == 0 and page.locator("#empty").is_visible()
    ask(page, QUANTUM_QUESTION)

    page.reload()
    page.wait_for_load_state("networkidle")
    assert page.locator(".msg.user").all_inner_texts() == [QUANTUM_QUESTION]
    assert "超导量子比特" in page.locator(".msg.answer").first.inner_text()
    conversations = open_list(page)
    assert conversations.count() == 2
    assert page.locator('#conv-list [aria-current="true"] .conv-name').inner_text() == QUANTUM_QUESTION
    shoot("history")

    page.locator("#conv-list .conv-open", has_text=AI_QUESTION).click()
    assert page.locator(".msg.user").all_inner_texts() == [AI_QUESTION]
    restored = page.locator(".msg.answer").first
    restored.locator(".marker").first.click()
    page.locator("#passage").wait_for(state="visible")
    page.keyboard.press("Escape")
    with page.expect_request(COMPLETIONS) as sent:
        ask(page, "那亚太地区呢？", nth=1)
    history = sent.value.post_data_json["messages"]
    assert [m["content"] for m in history if m["role"] == "user"] == [AI_QUESTION, "那亚太地区呢？"]

    conversations = open_list(page)
    conversations.filter(has_text=QUANTUM_QUESTION).locator(".conv-delete").click()
    assert open_list(page).count() == 1
    page.reload()
    assert open_list(page).count() == 1
    assert page.locator(".msg.user").all_inner_texts() == [AI_QUESTION, "那亚太地区呢？"]
