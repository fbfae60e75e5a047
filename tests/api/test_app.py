"""The HTTP API through FastAPI's TestClient: the answer contract, validation, limits, missing index."""

from __future__ import annotations

import json
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
import reportqa.api.deps
from fastapi.testclient import TestClient
from pydantic import SecretStr
from reportqa.api.app import create_app
from reportqa.api.chat import _stream
from reportqa.api.deps import EngineHolder

from reportqa.core.settings import Settings
from reportqa.core.types import Answer, Chunk, Citation, Hit
from reportqa.engine import QuestionError, build

from ..conftest import AI_DOC, CHIP_DOC, SMALL_DOCS, small_settings

CITATION_FIELDS = {"n", "doc", "title", "section", "start", "end", "line_start", "line_end", "page", "page_end",
                   "text", "score"}
ANSWER_FIELDS = {"id", "question", "answer", "abstained", "confidence", "low_confidence", "source", "sentences",
                 "citations", "degraded"}
BODY_LIMIT = 16_384  # above the 2000-character question (6 kB of UTF-8)


@pytest.fixture(scope="module")
def client(small_index: Settings) -> Iterator[TestClient]:
    settings = small_index.model_copy(update={"max_body_bytes": BODY_LIMIT})
    with TestClient(create_app(settings)) as test_client:
        yield test_client


@pytest.fixture
def empty_client(tmp_path: Path) -> Iterator[TestClient]:
    with TestClient(create_app(Settings(index_dir=tmp_path / "empty"))) as test_client:
        yield test_client


# --- answers ------------------------------------------------------------------------------------------


def test_ask_answers_with_the_contract_and_cites_the_right_doc(client: TestClient) -> None:
    question = "2026年全球AI支出预计达到多少？"
    response = client.post("/ask", json={"question": question, "id": "q-1", "top_k": 3})
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("application/json")
    body = response.json()
    assert set(body) == ANSWER_FIELDS
    assert body["id"] == "q-1" and body["question"] == question
    assert body["abstained"] is False and 0 < body["confidence"] <= 1
    assert "2.59万亿美元" in body["answer"]
    assert 1 <= len(body["citations"]) <= 3
    for n, citation in enumerate(body["citations"], start=1):
        assert set(citation) == CITATION_FIELDS and citation["n"] == n
    first = body["citations"][0]
    assert first["doc"] == AI_DOC and first["title"] == SMALL_DOCS[AI_DOC][0]
    assert "2.59万亿美元" in SMALL_DOCS[AI_DOC][1][first["start"] : first["end"]]
    assert first["line_start"] <= 5 <= first["line_end"]


def test_ask_company_fact(client: TestClient) -> None:
    body = client.post("/ask", json={"question": "星河半导体2025年营业收入是多少？"}).json()
    assert body["abstained"] is False
    assert body["citations"][0]["doc"] == CHIP_DOC
    assert any("128亿元" in c["text"] for c in body["citations"])
    assert len(body["citations"]) == 5  # the default top_k


def test_ask_abstains_on_what_the_corpus_lacks(client: TestClient) -> None:
    body = client.post("/ask", json={"question": "Zorblax公司的估值是多少？"}).json()
    assert body["abstained"] is True and body["citations"] == [] and body["answer"] == ""


def test_search_returns_results_with_citation_fields(client: TestClient) -> None:
    response = client.post("/search", json={"query": "固态电池 能量密度", "top_k": 4})
    assert response.status_code == 200
    body = response.json()
    assert set(body) == {"results"}
    results = body["results"]
    assert 1 <= len(results) <= 4
    for n, result in enumerate(results, start=1):
        assert set(result) >= CITATION_FIELDS and result["n"] == n
        assert isinstance(result["channels"], dict)
    assert results[0]["doc"] == "battery_storage.txt"
    assert [r["score"] for r in results] == sorted((r["score"] for r in results), reverse=True)


def test_healthz(client: TestClient) -> None:
    response = client.get("/healthz")
    assert response.status_code == 200
    body = response.json()
    assert body["status"] == "ok"
    assert body["index"]["documents"] == 4 and body["index"]["embed_model"] == "multilingual-e5-small"
    assert body["index"]["chunks"] > 4


def test_docs_and_openapi_are_served(client: TestClient) -> None:
    assert client.get("/docs").status_code == 200
    assert "swagger" in client.get("/docs").text.lower()
    schema = client.get("/openapi.json").json()
    assert {"/ask", "/search", "/healthz"} <= set(schema["paths"])
    assert "post" in schema["paths"]["/ask"]


# --- invalid requests ---------------------------------------------------------------------------------

INVALID: dict[str, dict] = {
    "empty question": {"json": {"question": ""}},
    "whitespace-only question": {"json": {"question": " \t\n　 "}},
    "question over 2000 characters": {"json": {"question": "星" * 2001}},
    "top_k 0": {"json": {"question": "星河半导体", "top_k": 0}},
    "top_k -1": {"json": {"question": "星河半导体", "top_k": -1}},
    "top_k not a number": {"json": {"question": "星河半导体", "top_k": "many"}},
    "question not a string": {"json": {"question": ["星河"]}},
    "missing body": {},
    "empty JSON object": {"json": {}},
    "wrong content type": {"content": "question=星河半导体", "headers": {"content-type": "text/plain"}},
    "form encoded": {"data": {"question": "星河半导体"}},
    "malformed JSON": {"content": "{not json", "headers": {"content-type": "application/json"}},
}


@pytest.mark.parametrize("case", list(INVALID))
@pytest.mark.parametrize("path", ["/ask", "/search"])
def test_invalid_requests_get_422_with_an_error_message(client: TestClient, path: str, case: str) -> None:
    kwargs = dict(INVALID[case])
    if path == "/search" and "json" in kwargs and "question" in kwargs["json"]:
        kwargs["json"] = {("query" if k == "question" else k): v for k, v in kwargs["json"].items()}
    response = client.post(path, **kwargs)
    assert response.status_code == 422, response.text
    body = response.json()
    assert isinstance(body["error"], str) and body["error"].strip()


def test_422_messages_say_what_is_wrong(client: TestClient) -> None:
    assert "empty" in client.post("/ask", json={"question": "   "}).json()["error"]
    assert "2000" in client.post("/ask", json={"question": "星" * 2001}).json()["error"]
    assert "top_k" in client.post("/ask", json={"question": "星河", "top_k": 0}).json()["error"]
    assert "question" in client.post("/ask", json={}).json()["error"]
    # only invisible marks: empty, and the message names the field that was sent (it said "the question" for all)
    assert "query is empty" in client.post("/search", json={"query": "\u200b\u200f"}).json()["error"]
    assert "statement" in client.post("/cite", json={"statements": ["\u200b"]}).json()["error"]
    # found by a helper attacking the server: a JSON body labelled text/plain, a text part that is not text
    labelled = client.post("/ask", content='{"question": "星河"}', headers={"content-type": "text/plain"})
    assert labelled.status_code == 422 and "Content-Type: application/json" in labelled.json()["error"]
    parts = [{"type": "text", "text": ["星河", {"b": 1}]}]
    assert "must be a string" in client.post("/chat", json={"messages": [{"role": "user", "content": parts}]}
                                             ).json()["error"]
    maybe = client.post("/v1/chat/completions",
                        json={"messages": [{"role": "user", "content": "星河"}], "stream": "yes"})
    assert maybe.status_code == 422 and "stream" in maybe.json()["error"]


@pytest.mark.parametrize(("body", "said"), [
    (b'{"question": "\xff\xfe\x80abc"}', "not UTF-8"),
    (b'{"question": "a", "x": ' + b"[" * 3000 + b"]" * 3000 + b"}", "nests too deeply"),
    (b'{"question": "a", "top_k": ' + b"9" * 5000 + b"}", "too many digits"),
])
def test_a_body_that_cannot_be_decoded_says_why(client: TestClient, body: bytes, said: str) -> None:
    """FastAPI answers all three with "There was an error parsing the body" (found by a helper attacking it)."""
    response = client.post("/ask", content=body, headers={"content-type": "application/json"})
    assert response.status_code == 400 and said in response.json()["error"], response.text[:200]


def test_question_of_exactly_2000_characters_is_accepted(client: TestClient) -> None:
    response = client.post("/ask", json={"question": "星" * 2000})
    assert response.status_code == 200, response.text


def test_body_over_the_limit_gets_413(client: TestClient) -> None:
    body = {"question": "星河半导体营业收入", "id": "x" * (BODY_LIMIT + 10)}
    response = client.post("/ask", json=body)
    assert response.status_code == 413
    assert str(BODY_LIMIT) in response.json()["error"]
    # 3 bytes a character: a body over the limit is refused before its question is even looked at
    assert client.post("/search", json={"query": "星" * (BODY_LIMIT // 3 + 10)}).status_code == 413


def test_chunked_body_over_the_limit_gets_413(client: TestClient) -> None:
    """Without a Content-Length header (chunked transfer) the limit must hold all the same."""
    data = json.dumps({"question": "星河半导体营业收入", "id": "x" * (BODY_LIMIT * 4)}).encode()

    def pieces() -> Iterator[bytes]:
        for start in range(0, len(data), 1024):
            yield data[start : start + 1024]

    response = client.post("/ask", content=pieces(), headers={"content-type": "application/json"})
    assert response.status_code == 413, f"{response.status_code}: {response.text[:120]}"


# --- no index -----------------------------------------------------------------------------------------


def test_empty_index_dir_gives_503_naming_the_fix(empty_client: TestClient) -> None:
    for path, body in (("/ask", {"question": "星河半导体"}), ("/search", {"query": "星河半导体"})):
        response = empty_client.post(path, json=body)
        assert response.status_code == 503
        assert "reportqa index" in response.json()["error"]
    health = empty_client.get("/healthz").json()
    assert health["status"] != "ok" and "reportqa index" in health["problem"]


def test_a_new_index_version_is_picked_up(small_corpus: Path, tmp_path: Path) -> None:
    settings = small_settings(tmp_path / "idx", small_corpus)
    with TestClient(create_app(settings)) as test_client:
        assert test_client.post("/ask", json={"question": "星河半导体"}).status_code == 503
        first = build(settings).version
        assert test_client.get("/healthz").json()["index"]["version"] == first.name
        assert test_client.post("/ask", json={"question": "星河半导体营业收入"}).status_code == 200
        second = build(settings).version
        assert test_client.get("/healthz").json()["index"]["version"] == second.name


# --- a fake engine, through the dependency -------------------------------------------------------------


class FakeEngine:
    """Stands in for the real engine: records what it was asked, answers from one fixed chunk."""

    chunk = Chunk(id="fake.txt#00000", doc="fake.txt", title="假报告", section="第一章 测试",
                  text="假的答案文本。", start=3, end=10, line_start=2, line_end=2)
    generator = None  # no LLM configured
    waits = False  # answers in process, inline on the event loop

    def __init__(self, confidence: float = 0.5, abstained: bool = False) -> None:
        self.calls: list[tuple[str, int | None, str]] = []
        self.confidence, self.abstained = confidence, abstained

    def ask(self, question: str, top_k: int | None = None, qid: str = "") -> Answer:
        self.calls.append((question, top_k, qid))
        if question == "boom":
            raise QuestionError("the engine refuses this one")
        return Answer(question=question, text="假的答案", abstained=self.abstained,
                      citations=(Citation(1, self.chunk, 0.87654),), id=qid, confidence=self.confidence, source=1,
                      pieces=(("假的答案", 1),))

    def search(self, question: str, top_k: int | None = None) -> list[Hit]:
        self.calls.append((question, top_k, ""))
        return [Hit(self.chunk, 1.5, {"bm25": 2.0})]


def test_engine_dependency_can_be_overridden(tmp_path: Path) -> None:
    fake = FakeEngine()
    app = create_app(Settings(index_dir=tmp_path / "no-index-needed"))
    app.dependency_overrides[reportqa.api.deps.get_engine] = lambda: fake
    try:
        with TestClient(app) as test_client:
            response = test_client.post("/ask", json={"question": "任意问题", "top_k": 7, "id": "abc"})
            assert response.status_code == 200, response.text
            citation = {"n": 1, "doc": "fake.txt", "title": "假报告", "section": "第一章 测试",
                        "start": 3, "end": 10, "line_start": 2, "line_end": 2, "page": None,
                        "page_end": None, "text": "假的答案文本。", "score": 0.8765}
            assert response.json() == {"id": "abc", "question": "任意问题", "answer": "假的答案",
                                       "abstained": False, "confidence": 0.5, "low_confidence": False,
                                       "source": 1,
                                       "sentences": [{"text": "假的答案", "citation": 1}], "citations": [citation],
                                       "degraded": []}
            results = test_client.post("/search", json={"query": "检索"}).json()["results"]
            assert results[0]["doc"] == "fake.txt" and results[0]["channels"] == {"bm25": 2.0}
            refused = test_client.post("/ask", json={"question": "boom"})
            assert refused.status_code == 422 and refused.json() == {"error": "the engine refuses this one"}
            assert fake.calls == [("任意问题", 7, "abc"), ("检索", None, ""), ("boom", None, "")]
    finally:
        app.dependency_overrides.clear()
    # without the override the same app has no index to serve
    with TestClient(app) as test_client:
        assert test_client.post("/ask", json={"question": "任意问题"}).status_code == 503


@pytest.mark.parametrize(("confidence", "abstained", "low"), [(0.49, False, True), (0.5, False, False),
                                                             (0.2, True, False), (0.95, False, False)])
def test_an_answer_below_the_band_says_it_is_low_confidence(tmp_path: Path, confidence: float, abstained: bool,
                                                            low: bool) -> None:
    app = create_app(Settings(index_dir=tmp_path / "no-index-needed"))
    app.dependency_overrides[reportqa.api.deps.get_engine] = lambda: FakeEngine(confidence, abstained)
    with TestClient(app) as test_client:
        assert test_client.post("/ask", json={"question": "任意问题"}).json()["low_confidence"] is low
    events = [json.loads(e.removeprefix("data: ")) for e in _stream(FakeEngine(confidence, abstained).ask("问"), "m")
              if e.startswith("data: {")]
    assert events[-1]["low_confidence"] is low and events[-1]["confidence"] == confidence  # the page reads these


def test_holder_passed_in_is_used(small_index: Settings) -> None:
    holder = EngineHolder(small_index)
    app = create_app(small_index, holder=holder)
    with TestClient(app) as test_client:
        assert test_client.post("/ask", json={"question": "全固态电池的能量密度"}).status_code == 200
    assert app.state.holder is holder and holder.problem is None


def test_api_key_is_required_when_set(small_index: Settings) -> None:
    settings = small_index.model_copy(update={"api_key": SecretStr("s3cret")})
    with TestClient(create_app(settings)) as test_client:
        body = {"question": "星河半导体营业收入"}
        missing = test_client.post("/ask", json=body)
        assert missing.status_code == 401 and "error" in missing.json()
        wrong = {"authorization": "Bearer wrong"}
        right = {"authorization": "Bearer s3cret"}
        assert test_client.post("/ask", json=body, headers=wrong).status_code == 401
        assert test_client.post("/ask", json=body, headers=right).status_code == 200
        assert test_client.get("/healthz").status_code == 200


def test_overload_gets_503_with_retry_after(small_index: Settings) -> None:
    import asyncio

    from reportqa.api.middleware import Overload

    calls: list[str] = []

    async def slow_app(scope: dict, receive: object, send: object) -> None:  # type: ignore[type-arg]
        calls.append(scope["path"])
        await asyncio.sleep(0.2)
        await send({"type": "http.response.start", "status": 200, "headers": []})  # type: ignore[operator]
        await send({"type": "http.response.body", "body": b"ok"})  # type: ignore[operator]

    limiter = Overload(slow_app, limit=1)  # type: ignore[arg-type]
    sent: list[list[dict]] = [[], [], []]  # type: ignore[type-arg]

    async def one(i: int, path: str) -> None:
        async def send(message: dict) -> None:  # type: ignore[type-arg]
            sent[i].append(message)

        await limiter({"type": "http", "path": path}, None, send)  # type: ignore[arg-type]

    async def main() -> None:
        await asyncio.gather(one(0, "/ask"), one(1, "/ask"), one(2, "/healthz"))

    asyncio.run(main())
    statuses = [s[0]["status"] for s in sent]
    assert statuses == [200, 503, 200]  # the second /ask is turned away; health checks never are
    assert (b"retry-after", b"1") in sent[1][0]["headers"]
    assert calls == ["/ask", "/healthz"]


def test_a_warm_app_loads_the_index_and_the_dictionary_at_start(small_index: Settings, tmp_path: Path) -> None:
    from reportqa.index.dictionary import english_to_chinese

    english_to_chinese.cache_clear()
    sys.modules.pop("cn2an", None)  # the numeral parser, imported on first use
    holder = EngineHolder(small_index)
    with TestClient(create_app(small_index, holder=holder, warm=True)):
        assert holder._engine is not None and english_to_chinese.cache_info().currsize == 1
        assert "cn2an" in sys.modules
    with TestClient(create_app(Settings(index_dir=tmp_path / "none"), warm=True)) as cold:
        assert cold.post("/ask", json={"question": "任意问题"}).status_code == 503
