"""Routes the page and the API docs need: offline /docs and /redoc, static files, favicon, feedback, streaming."""

from __future__ import annotations

import json
import re
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from pydantic import SecretStr
from reportqa.api.app import create_app

from reportqa.core.settings import Settings

FEEDBACK = {"rating": "up", "question": "2026年全球AI支出预计是多少？", "answer": "2.59万亿美元。[1]",
            "citations": [{"n": 1, "doc": "ai_spending.txt", "start": 40, "end": 121, "text": "dropped"}],
            "conversation": "c1"}


@pytest.fixture
def client(small_index: Settings, tmp_path: Path) -> Iterator[TestClient]:
    settings = small_index.model_copy(update={"feedback_file": tmp_path / "fb" / "feedback.jsonl"})
    with TestClient(create_app(settings)) as test_client:
        yield test_client


def lines_of(path: Path) -> list[dict]:
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines()]


@pytest.mark.parametrize(("page", "marker"), [("/docs", "SwaggerUIBundle"), ("/redoc", "<redoc")])
def test_api_docs_load_everything_from_this_server(client: TestClient, page: str, marker: str) -> None:
    response = client.get(page)
    assert response.status_code == 200 and marker in response.text
    assert "default-src 'self'" in response.headers["content-security-policy"]
    urls = re.findall(r'(?:src|href)="([^"]+)"', response.text)
    assert urls and all(url.startswith("/") for url in urls), urls
    for url in urls:
        asset = client.get(url)
        assert asset.status_code == 200, url
        assert len(asset.content) > 1000 or url.endswith(".svg")
    assert client.get("/openapi.json").json()["info"]["title"] == "reportqa"


def test_only_named_files_are_served(client: TestClient) -> None:
    assert client.get("/docs-assets/swagger-ui.css").headers["content-type"].startswith("text/css")
    assert client.get("/static/app.js").headers["content-type"].startswith("text/javascript")
    for url in ("/docs-assets/core.py", "/docs-assets/..%2Fcore.py", "/static/..%2F..%2Fapp.py",
                "/static/index.html", "/static/missing.js"):
        assert client.get(url).status_code == 404, url


def test_the_page_links_only_files_the_server_has(client: TestClient) -> None:
    html = client.get("/").text
    linked = re.findall(r'(?:src|href)="(/[^"]+)"', html)
    assert "/favicon.svg" in linked and "/static/app.js" in linked
    for url in linked:
        assert client.get(url).status_code == 200, url
    scripts = Path(__file__).resolve().parents[2] / "api" / "static"
    for script in scripts.glob("*.js"):  # every module the page imports is served
        for name in re.findall(r'from "\./([\w-]+\.js)"', script.read_text(encoding="utf-8")):
            assert client.get(f"/static/{name}").status_code == 200, name
    favicon = client.get("/favicon.ico")
    assert favicon.status_code == 200 and favicon.headers["content-type"] == "image/svg+xml"


def test_feedback_is_appended_as_one_json_line(client: TestClient, tmp_path: Path) -> None:
    response = client.post("/feedback", json=FEEDBACK)
    assert response.status_code == 201 and response.json()["stored"] is True
    client.post("/feedback", json=FEEDBACK | {"rating": "down", "comment": "数字不对"})
    first, second = lines_of(tmp_path / "fb" / "feedback.jsonl")
    assert first["rating"] == "up" and second["rating"] == "down" and second["comment"] == "数字不对"
    assert first["question"] == FEEDBACK["question"] and first["conversation"] == "c1"
    assert first["citations"] == [{"n": 1, "doc": "ai_spending.txt", "start": 40, "end": 121}]
    assert re.match(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d", first["time"])


@pytest.mark.parametrize("bad", [{"rating": "meh"}, {"question": ""}, {"question": "问" * 2001},
                                 {"citations": [{"n": 1}]}])
def test_bad_feedback_is_refused(client: TestClient, tmp_path: Path, bad: dict) -> None:
    response = client.post("/feedback", json=FEEDBACK | bad)
    assert response.status_code == 422 and response.json()["error"]
    assert not (tmp_path / "fb" / "feedback.jsonl").exists()


def test_feedback_needs_the_api_key_when_one_is_set(small_index: Settings, tmp_path: Path) -> None:
    settings = small_index.model_copy(update={"feedback_file": tmp_path / "f.jsonl", "api_key": SecretStr("k3y")})
    with TestClient(create_app(settings)) as client:
        assert client.post("/feedback", json=FEEDBACK).status_code == 401
        assert not (tmp_path / "f.jsonl").exists()
        ok = client.post("/feedback", json=FEEDBACK, headers={"Authorization": "Bearer k3y"})
        assert ok.status_code == 201 and len(lines_of(tmp_path / "f.jsonl")) == 1
        assert client.get("/docs").status_code == 401  # with a key, the API's documentation needs it too
        assert client.get("/docs", headers={"Authorization": "Bearer k3y"}).status_code == 200
        assert client.get("/").status_code == 200 and client.get("/favicon.ico").status_code == 200


def test_concurrent_feedback_lines_stay_whole(client: TestClient, tmp_path: Path) -> None:
    long_answer = "长" * 9000  # lines far larger than a pipe buffer

    def post(i: int) -> None:
        row = FEEDBACK | {"answer": long_answer, "conversation": f"c{i}"}
        assert client.post("/feedback", json=row).status_code == 201

    threads = [threading.Thread(target=post, args=(i,)) for i in range(16)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    rows = lines_of(tmp_path / "fb" / "feedback.jsonl")
    assert sorted(r["conversation"] for r in rows) == sorted(f"c{i}" for i in range(16))
    assert all(r["answer"] == long_answer for r in rows)


def test_the_stream_ends_with_citations_refusal_and_confidence(client: TestClient) -> None:
    events = []
    question = "火星基地的咖啡每杯卖多少钱？"
    body = {"model": "reportqa", "stream": True, "messages": [{"role": "user", "content": question}]}
    with client.stream("POST", "/v1/chat/completions", json=body) as response:
        for line in response.iter_lines():
            if line.startswith("data: ") and line != "data: [DONE]":
                events.append(json.loads(line[6:]))
    last = events[-1]
    assert last["choices"][0]["finish_reason"] == "stop"
    assert last["abstained"] is True and last["citations"] == [] and 0 <= last["confidence"] < 0.5
