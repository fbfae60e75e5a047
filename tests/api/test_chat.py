"""Chat over HTTP: the official openai client against a running server, follow-ups, the LLM path, auth."""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

import httpx
import openai
import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from pydantic import SecretStr
from reportqa.api.app import create_app

from reportqa.core.settings import Settings
from tests.support import free_port, running


@pytest.fixture(scope="module")
def server(small_index: Settings) -> Iterator[str]:
    with running(create_app(small_index)) as url:
        yield url


def test_openai_client_non_streaming(server: str) -> None:
    client = openai.OpenAI(base_url=f"{server}/v1", api_key="unused")
    assert "reportqa-extractive" in [m.id for m in client.models.list()]
    reply = client.chat.completions.create(model="reportqa-extractive",
                                           messages=[{"role": "user", "content": "2026年全球AI支出预计是多少？"}])
    content = reply.choices[0].message.content or ""
    assert "2.59万亿美元" in content
    assert content.endswith("]") and "[" in content  # the [n] marker of the source passage
    citations = (reply.model_extra or {})["citations"]
    marker = int(content.rsplit("[", 1)[1].rstrip("]"))
    assert citations[marker - 1]["doc"] == "ai_spending.txt"
    assert "2.59万亿美元" in citations[marker - 1]["text"]


def test_openai_client_streaming(server: str) -> None:
    client = openai.OpenAI(base_url=f"{server}/v1", api_key="unused")
    stream = client.chat.completions.create(model="reportqa-extractive", stream=True,
                                            messages=[{"role": "user", "content": "星河半导体2025年营业收入是多少？"}])
    text, citations, finish = "", None, None
    for chunk in stream:
        text += chunk.choices[0].delta.content or ""
        finish = chunk.choices[0].finish_reason or finish
        citations = (chunk.model_extra or {}).get("citations") or citations
    assert "128亿元" in text and text.endswith("]")
    assert finish == "stop"
    assert citations is not None
    pieces = re.findall(r"(.+?)\[(\d+)\]", text)  # each sentence is followed by the passage it came from
    assert "".join(piece + f"[{n}]" for piece, n in pieces) == text
    for piece, n in pieces:  # a table row is rendered with its header ("比亚迪：采购占比 22%；…"): read word by word
        cited = citations[int(n) - 1]
        assert cited["doc"] == "xinghe_chips.txt"
        assert all(word in cited["text"] for word in re.split(r"[\s…：；]+", piece) if word), piece
    assert any("128亿元" in piece for piece, _ in pieces)


def test_stream_ends_with_done(server: str) -> None:
    body = {"model": "x", "stream": True, "messages": [{"role": "user", "content": "量子计算市场规模"}]}
    lines = httpx.post(f"{server}/v1/chat/completions", json=body, timeout=30).text.strip().split("\n\n")
    assert lines[-1] == "data: [DONE]"
    assert all(line.startswith("data: ") for line in lines)


def test_three_turn_conversation_resolves_follow_ups(small_index: Settings) -> None:
    client = TestClient(create_app(small_index))
    messages: list[dict[str, str]] = []
    expectations = [
        ("星河半导体2025年的营业收入是多少？", "128亿元", "xinghe_chips.txt"),
        ("它的研发投入呢？", "19亿元", "xinghe_chips.txt"),  # 它 = 星河半导体
        ("那研发人员有多少？", "2100", "xinghe_chips.txt"),  # names no one: asked within the thread
    ]
    for question, expected, doc in expectations:
        messages.append({"role": "user", "content": question})
        reply = client.post("/chat", json={"messages": messages}).json()
        assert expected in reply["answer"], (question, reply["answer"])
        source = reply["citations"][reply["source"] - 1]
        assert source["doc"] == doc
        messages.append({"role": "assistant", "content": reply["answer"]})
    assert reply["resolved_question"] == "那研发人员有多少？"  # as written: the thread, not a borrowed prefix, finds it


def test_a_follow_up_asked_first_stays_as_written(small_index: Settings) -> None:
    """With nothing before it there is nothing to resolve against: the pronoun stays, no context is borrowed."""
    client = TestClient(create_app(small_index))
    alone = client.post("/chat", json={"messages": [{"role": "user", "content": "它的研发投入呢？"}]}).json()
    assert alone["resolved_question"] == "它的研发投入呢？"


def test_chat_rejects_a_conversation_without_a_question(small_index: Settings) -> None:
    client = TestClient(create_app(small_index))
    reply = client.post("/chat", json={"messages": [{"role": "assistant", "content": "你好"}]})
    assert reply.status_code == 422 and "user message" in reply.json()["error"]


class StubLLM:
    """A local OpenAI-compatible endpoint that answers with one grounded and one ungrounded sentence."""

    def __init__(self) -> None:
        self.requests: list[dict[str, Any]] = []
        self.app = FastAPI()

        @self.app.post("/v1/chat/completions")
        def complete(body: dict[str, Any]) -> dict[str, Any]:
            self.requests.append(body)
            content = "2026年全球AI支出预计达到2.59万亿美元[1]。其中中国占比为80%[1]。"
            return {"id": "stub", "object": "chat.completion", "created": 0, "model": body["model"],
                    "choices": [{"index": 0, "finish_reason": "stop",
                                 "message": {"role": "assistant", "content": content}}],
                    "usage": {"prompt_tokens": 1, "completion_tokens": 1, "total_tokens": 2}}


def test_generated_answer_keeps_only_markers_its_passage_backs(small_index: Settings) -> None:
    stub = StubLLM()
    with running(stub.app) as url:
        settings = small_index.model_copy(update={"llm_base_url": f"{url}/v1", "llm_model": "stub-model",
                                                  "llm_api_key": SecretStr("k")})
        with TestClient(create_app(settings, warm=True)) as client:  # as served: first-use loading is not timed
            question = {"role": "user", "content": "2026年全球AI支出预计是多少？"}
            reply = client.post("/chat", json={"messages": [question]})
    assert reply.status_code == 200, reply.text
    body = reply.json()
    assert body["generated"] is True
    assert "2.59万亿美元。[1]" in body["answer"]
    assert "其中中国占比为80%。" in body["answer"] and "80%。[1]" not in body["answer"]
    assert body["flagged"] == ["其中中国占比为80%。"]
    sent = stub.requests[0]["messages"]
    assert sent[0]["role"] == "system" and "[1]" in sent[-1]["content"]  # numbered passages went to the model


def test_unreachable_llm_falls_back_to_extractive(small_index: Settings) -> None:
    settings = small_index.model_copy(update={"llm_base_url": f"http://127.0.0.1:{free_port()}/v1",
                                              "llm_model": "absent"})
    reply = TestClient(create_app(settings)).post(
        "/chat", json={"messages": [{"role": "user", "content": "2026年全球AI支出预计是多少？"}]}).json()
    assert reply["generated"] is False and "2.59万亿美元" in reply["answer"]


def test_api_key_guards_everything_but_health(small_index: Settings) -> None:
    settings = small_index.model_copy(update={"api_key": SecretStr("s3cret")})
    client = TestClient(create_app(settings))
    question = {"question": "2026年全球AI支出预计是多少？"}
    assert client.get("/healthz").status_code == 200
    for path, body in (("/ask", question), ("/search", {"query": "AI支出"}),
                       ("/chat", {"messages": [{"role": "user", "content": "AI支出"}]})):
        assert client.post(path, json=body).status_code == 401
        assert client.post(path, json=body, headers={"Authorization": "Bearer wrong"}).status_code == 401
    assert client.get("/v1/models").status_code == 401
    ok = client.post("/ask", json=question, headers={"Authorization": "Bearer s3cret"})
    assert ok.status_code == 200 and "2.59万亿美元" in ok.json()["answer"]


def test_langchain_retriever_invoke(small_index: Settings) -> None:
    from langchain_core.documents import Document

    from reportqa.engine import open_engine
    from reportqa.langchain_retriever import ReportRetriever

    retriever = ReportRetriever(engine=open_engine(small_index), k=3)
    documents = retriever.invoke("星河半导体的研发人员有多少")
    assert len(documents) == 3 and all(isinstance(d, Document) for d in documents)
    top = documents[0]
    assert top.metadata["doc"] == "xinghe_chips.txt" and "2100" in top.page_content
    assert {"title", "section", "start", "end", "line_start", "line_end", "score", "n"} <= set(top.metadata)


class RewritingStub:
    """A local OpenAI-compatible endpoint: rewrites follow-ups (its reply set per test), answers anything else."""

    def __init__(self, rewrite: str) -> None:
        self.rewrite = rewrite
        self.prompts: list[str] = []
        self.app = FastAPI()

        @self.app.post("/v1/chat/completions")
        def complete(body: dict[str, Any]) -> dict[str, Any]:
            system = body["messages"][0]["content"]
            self.prompts.append(system)
            content = self.rewrite if "改写" in system else "星河半导体研发投入为19亿元[1]。"
            return {"id": "stub", "object": "chat.completion", "created": 0, "model": body["model"],
                    "choices": [{"index": 0, "finish_reason": "stop",
                                 "message": {"role": "assistant", "content": content}}],
                    "usage": {"prompt_tokens": 1, "completion_tokens": 1, "total_tokens": 2}}


def _follow_up_through(stub: RewritingStub, settings: Settings) -> dict[str, Any]:
    with running(stub.app) as url:
        configured = settings.model_copy(update={"llm_base_url": f"{url}/v1", "llm_model": "stub"})
        messages = [{"role": "user", "content": "星河半导体2025年的营业收入是多少？"},
                    {"role": "assistant", "content": "星河半导体在2025年实现营业收入128亿元。"},
                    {"role": "user", "content": "它的研发投入是多少？"}]
        return TestClient(create_app(configured)).post("/chat", json={"messages": messages}).json()


def test_an_llm_rewrite_that_keeps_the_referent_is_searched(small_index: Settings) -> None:
    body = _follow_up_through(RewritingStub("星河半导体2025年的研发投入是多少？"), small_index)
    assert body["resolved_question"] == "星河半导体2025年的研发投入是多少？"


def test_an_llm_rewrite_that_loses_the_referent_falls_back_to_the_resolver(small_index: Settings) -> None:
    stub = RewritingStub("蔚来汽车的研发投入是多少？")
    body = _follow_up_through(stub, small_index)
    assert any("改写" in p for p in stub.prompts)  # the model was asked
    assert body["resolved_question"].startswith("星河半导体") and "蔚来" not in body["resolved_question"]


def test_chat_and_chat_completions_resolve_a_follow_up_the_same_way(small_index: Settings) -> None:
    client = TestClient(create_app(small_index))
    messages = [{"role": "user", "content": "星河半导体2025年的营业收入是多少？"},
                {"role": "assistant", "content": "星河半导体在2025年实现营业收入128亿元。"},
                {"role": "user", "content": "它的研发人员有多少？"}]
    native = client.post("/chat", json={"messages": messages}).json()
    openai = client.post("/v1/chat/completions", json={"model": "reportqa", "messages": messages}).json()
    assert native["resolved_question"] == openai["resolved_question"] == "星河半导体研发人员有多少？"
