"""Issue 19 over HTTP: the limits come from Settings (REPORTQA_* variables take effect), the routes are APIRouters,
and the CLI and HTTP answer in one contract."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from fastapi.routing import APIRoute
from fastapi.testclient import TestClient
from reportqa.api.app import create_app

from reportqa.cli import main
from reportqa.contract import AnswerOut, VerdictOut
from reportqa.core.settings import Settings, load_settings
from reportqa.engine import open_engine

from ..conftest import AI_DOC

QUESTION = "2026年全球AI支出预计是多少？"


def long_question(chars: int) -> str:
    """A question of exactly `chars` characters that still asks about the corpus."""
    return (QUESTION + "请结合报告说明。" * chars)[:chars]


def test_raised_limits_from_the_environment_take_effect(small_index: Settings,
                                                        monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("REPORTQA_MAX_QUESTION_CHARS", "3000")
    monkeypatch.setenv("REPORTQA_MAX_TOP_K", "80")
    settings = load_settings(index_dir=small_index.index_dir, embed_dim=small_index.embed_dim)
    client = TestClient(create_app(settings))
    question = long_question(2500)
    reply = client.post("/ask", json={"question": question, "top_k": 70})
    assert reply.status_code == 200, reply.text[:300]
    assert reply.json()["question"] == question
    assert client.post("/search", json={"query": question, "top_k": 70}).status_code == 200
    assert client.post("/cite", json={"statements": [question]}).status_code == 200
    chat = client.post("/chat", json={"messages": [{"role": "user", "content": question}], "top_k": 70})
    assert chat.status_code == 200, chat.text[:300]
    refused = client.post("/ask", json={"question": QUESTION, "top_k": 81})
    assert refused.status_code == 422 and "top_k" in refused.json()["error"] and "80" in refused.json()["error"]


def test_a_lower_question_limit_refuses_one_character_more(small_index: Settings) -> None:
    client = TestClient(create_app(small_index.model_copy(update={"max_question_chars": 100})))
    assert client.post("/ask", json={"question": long_question(100)}).status_code == 200
    for path, body in [("/ask", {"question": long_question(101)}), ("/search", {"query": long_question(101)}),
                       ("/cite", {"statements": [long_question(101)]}),
                       ("/chat", {"messages": [{"role": "user", "content": long_question(101)}]}),
                       ("/v1/chat/completions", {"messages": [{"role": "user", "content": long_question(101)}]})]:
        reply = client.post(path, json=body)
        assert reply.status_code == 422, (path, reply.text[:300])
        assert "101 characters; the limit is 100" in reply.json()["error"], reply.json()["error"]


def test_claim_and_message_counts_come_from_settings(small_index: Settings) -> None:
    client = TestClient(create_app(small_index.model_copy(update={"max_claims": 2, "max_chat_messages": 3})))
    claims = client.post("/cite", json={"statements": [QUESTION] * 3})
    assert claims.status_code == 422 and "at most 2" in claims.json()["error"]
    draft = client.post("/cite", json={"text": "星河半导体营业收入增长。" * 3})
    assert draft.status_code == 422 and "3 claims; the limit is 2" in draft.json()["error"]
    messages = [{"role": "user", "content": QUESTION}] * 4
    assert "at most 3" in client.post("/chat", json={"messages": messages}).json()["error"]
    assert client.post("/chat", json={"messages": messages[:3]}).status_code == 200


def api_routes(routes: list[Any]) -> list[APIRoute]:
    """The application's routes, looking inside included routers."""
    found: list[APIRoute] = []
    for route in routes:
        if isinstance(route, APIRoute):
            found.append(route)
        elif hasattr(route, "original_router"):
            found.extend(api_routes(route.original_router.routes))
    return found


def test_every_route_is_a_router_function_not_a_closure_of_create_app(small_index: Settings) -> None:
    routes = api_routes(create_app(small_index).routes)
    assert {"/ask", "/search", "/cite", "/healthz", "/chat", "/documents", "/jobs/{job_id}"} <= {r.path for r in routes}
    for route in routes:
        assert "<locals>" not in route.endpoint.__qualname__, route.path
        assert route.endpoint.__module__.startswith("reportqa.api."), route.path


def test_cli_and_http_give_the_same_answer_json(small_index: Settings, capsys: pytest.CaptureFixture[str]) -> None:
    http = TestClient(create_app(small_index)).post("/ask", json={"question": QUESTION, "id": "q1"}).json()
    assert main(["ask", "--index-dir", str(small_index.index_dir), "--json", QUESTION]) == 0
    cli = json.loads(capsys.readouterr().out)
    assert http == cli | {"id": "q1"}
    assert http == AnswerOut.of(open_engine(small_index).ask(QUESTION, qid="q1")).model_dump()
    assert list(http) == list(AnswerOut.model_fields)  # the field order scripts read
    assert http["citations"][http["source"] - 1]["doc"] == AI_DOC


def test_cli_batch_and_http_give_the_same_claim_json(small_index: Settings, tmp_path: Path) -> None:
    claim = "2026年全球AI支出预计达到2.59万亿美元。"
    http = TestClient(create_app(small_index)).post("/cite", json={"statements": [claim]}).json()["results"][0]
    batch, out = tmp_path / "claims.jsonl", tmp_path / "out.jsonl"
    batch.write_text(json.dumps({"id": "claim-1", "claim": claim}, ensure_ascii=False) + "\n", encoding="utf-8")
    assert main(["cite", "--index-dir", str(small_index.index_dir), "--batch", str(batch), "--out", str(out)]) == 0
    line = json.loads(out.read_text(encoding="utf-8"))
    # the same verdict; a statement sent over HTTP has a null place in a draft, a batch line has none
    assert http == line | {"start": None, "end": None, "line": None}
    assert list(line) == list(VerdictOut.model_fields)
