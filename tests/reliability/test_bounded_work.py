"""No payload holds a worker (issue 22, item 1): long chat turns, slow claims and oversized text are answered or
refused within 2 s, and a request past its CPU budget gets 504 while the worker keeps answering others."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator

import httpx
import pytest
from fastapi.testclient import TestClient
from reportqa.api.app import create_app
from reportqa.api.bounds import bounded_turns
from reportqa.api.schemas import Message

from bench.hostile import SHARE_DOC, SLOW_CLAIM
from reportqa import collection
from reportqa.core.settings import Settings

from .helpers import running

QUESTION = "2026年全球AI支出预计是多少？"
BUDGET_S = 0.3  # CPU seconds; well under 2 s of wall time even on a loaded machine


# SLOW_CLAIM (1,997 characters) took 60-79 s per request: every 百分之百 in it agrees with a passage stating 100%
# (SHARE_DOC here), and the verifier tagged the claim's clause once per agreeing figure. Since the verifier reads at
# most eight of a claim's figures (answer/verify.py CLAIMED_FIGURES_ALIGNED) it takes ~1.4 s of CPU over the five
# reports: still past these budgets, which is what is tested here (the request is stopped); twenty of its tails
# together run past a budget of seconds
SLOW_CLAIMS = [SLOW_CLAIM[start:] for start in range(20)]


@pytest.fixture(scope="module")
def settings(index_copy: Settings, tmp_path_factory: pytest.TempPathFactory) -> Settings:
    name, (_, text) = SHARE_DOC
    source = tmp_path_factory.mktemp("share") / name
    source.write_text(text, encoding="utf-8")
    collection.add(index_copy, [source])
    return index_copy.model_copy(update={"request_cpu_seconds": BUDGET_S, "claim_cpu_seconds": 0.01})


@pytest.fixture(scope="module")
def client(settings: Settings) -> Iterator[TestClient]:
    with TestClient(create_app(settings), raise_server_exceptions=False) as test_client:
        test_client.post("/ask", json={"question": QUESTION})  # loaded before anything is timed
        yield test_client


def timed(client: TestClient, path: str, body: dict[str, object]) -> tuple[httpx.Response, float]:
    started = time.monotonic()
    reply = client.post(path, json=body)
    return reply, time.monotonic() - started


@pytest.mark.parametrize("path", ["/chat", "/v1/chat/completions"])
def test_an_earlier_turn_of_120k_spaces_is_answered_within_2_s(client: TestClient, path: str) -> None:
    """Earlier turns were not length-checked: `呢\\s*[？?]?\\s*$` over 120,000 spaces took 78 s."""
    messages = [{"role": "user", "content": "星河半导体的营业收入呢" + " " * 120_000 + "？"},
                {"role": "assistant", "content": " " * 120_000},
                {"role": "user", "content": "它的研发投入呢？"}]
    reply, elapsed = timed(client, path, {"messages": messages})
    assert reply.status_code == 200, reply.text[:300]
    assert elapsed < 2.0, f"{elapsed:.1f} s"


@pytest.mark.parametrize("path", ["/chat", "/v1/chat/completions"])
def test_a_last_turn_with_a_run_of_spaces_is_answered_within_2_s(client: TestClient, path: str) -> None:
    """The ellipsis pattern's optional spaces met a run of hundreds in the last turn: one match took 5-6 s."""
    messages = [{"role": "user", "content": QUESTION}, {"role": "user", "content": "那" + " " * 396 + "，呢"}]
    reply, elapsed = timed(client, path, {"messages": messages})
    assert reply.status_code == 200, reply.text[:300]
    assert elapsed < 2.0, f"{elapsed:.1f} s"


def test_a_hundred_long_turns_are_answered_within_2_s(client: TestClient) -> None:
    turn = {"role": "user", "content": "呢" + " " * 1998 + "x"}
    reply, elapsed = timed(client, "/chat", {"messages": [turn] * 99 + [{"role": "user", "content": QUESTION}]})
    assert reply.status_code == 200, reply.text[:300]
    assert elapsed < 2.0, f"{elapsed:.1f} s"


def test_a_slow_claim_is_refused_with_504_within_2_s(client: TestClient) -> None:
    reply, elapsed = timed(client, "/cite", {"statements": [SLOW_CLAIM]})
    assert reply.status_code == 504, reply.text[:300]
    assert "CPU time" in reply.json()["error"]
    assert elapsed < 2.0, f"{elapsed:.1f} s"
    assert client.post("/ask", json={"question": QUESTION}).status_code == 200  # nothing left behind


def test_a_slow_claim_in_a_draft_is_refused_within_2_s(client: TestClient) -> None:
    reply, elapsed = timed(client, "/cite", {"text": f"{SLOW_CLAIM}。"})
    assert reply.status_code == 504, reply.text[:300]
    assert elapsed < 2.0, f"{elapsed:.1f} s"


@pytest.mark.parametrize(("body", "message"), [
    ({"statements": ["1" * 50_000]}, "the limit is 2000"),
    ({"text": "天" * 50_000 + "。"}, "the limit is 2000"),
    ({"text": "今天的天气很好。\n" * 12_600}, "the limit is 100000"),
    ({"messages": [{"role": "user", "content": "星" * 50_000}]}, "the limit is 2000"),
], ids=["statement", "draft-claim", "draft", "chat-question"])
def test_text_over_the_limits_never_reaches_the_answer_code(client: TestClient, body: dict[str, object],
                                                           message: str) -> None:
    """quantities() and the tagger are superlinear: 50,000 characters took 21-68 s; they only see bounded text."""
    reply, elapsed = timed(client, "/chat" if "messages" in body else "/cite", body)
    assert reply.status_code == 422 and message in reply.json()["error"], reply.text[:300]
    assert elapsed < 2.0, f"{elapsed:.1f} s"


def test_the_worker_keeps_answering_while_a_slow_claim_runs(settings: Settings) -> None:
    """A blocked worker would hold every /ask until the slow claim ends (3 s of CPU); on a loaded two-core CI machine
    an /ask that shares the CPU took 1.05 s once, so an ask may wait up to 2 s (the bound of every request here) but
    never half as long as the slow claim ran."""
    slow_settings = settings.model_copy(update={"request_cpu_seconds": 3.0})
    with running(create_app(slow_settings)) as url:
        assert httpx.post(f"{url}/ask", json={"question": QUESTION}, timeout=30).status_code == 200
        outcome: dict[str, float] = {}

        def cite_slowly() -> None:
            started = time.monotonic()
            reply = httpx.post(f"{url}/cite", json={"statements": SLOW_CLAIMS}, timeout=30)
            outcome.update(status=reply.status_code, seconds=time.monotonic() - started)

        slow = threading.Thread(target=cite_slowly)
        slow.start()
        time.sleep(0.3)
        latencies = []
        with httpx.Client(base_url=url, timeout=30) as ask:
            while slow.is_alive() and len(latencies) < 200:
                started = time.monotonic()
                assert ask.post("/ask", json={"question": QUESTION}).status_code == 200
                latencies.append(time.monotonic() - started)
        slow.join(30)
    assert outcome["status"] == 504 and outcome["seconds"] >= 3.0, outcome
    assert len(latencies) >= 5 and max(latencies) < min(outcome["seconds"] / 2, 2.0), (outcome, latencies)


def test_earlier_turns_are_cut_and_the_question_is_kept_whole(settings: Settings) -> None:
    limit = settings.max_question_chars
    messages = [Message(role="user", content="星河半导体" + " \n\t" * 5000 + "呢" * 3000),
                Message(role="assistant", content="答" * 5000), Message(role="system", content="系统" * 9000),
                Message(role="user", content="  它的研发投入呢？  ")]
    turns = bounded_turns(messages, settings)
    assert [t.role for t in turns] == ["user", "assistant", "user"]
    assert turns[0].content == ("星河半导体 " + "呢" * 3000)[:limit] and len(turns[1].content) == limit
    assert turns[2].content == "  它的研发投入呢？  "


def test_a_claim_check_stops_when_its_client_disconnects(settings: Settings, monkeypatch: pytest.MonkeyPatch) -> None:
    """Three abandoned 1,000-claim checks went on for 35 s each, holding their places (a helper attacking the
    server found it): the work now stops within a poll of the disconnect."""
    import json
    import socket

    from reportqa.engine import Engine

    calls: list[float] = []
    real_cite = Engine.cite

    def counted(self: Engine, claim: str, top_k: int | None = None) -> object:
        calls.append(time.monotonic())
        return real_cite(self, claim, top_k)

    monkeypatch.setattr(Engine, "cite", counted)
    body = json.dumps({"statements": [f"2026年全球AI支出达到{i}万亿美元。" for i in range(400)]}).encode()
    with running(create_app(settings)) as url:
        assert httpx.post(f"{url}/cite", json={"statements": ["2026年全球AI支出达到2万亿美元。"]},
                          timeout=30).status_code == 200  # warm: the first check loads what checks need
        calls.clear()
        host, port = url.removeprefix("http://").split(":")
        with socket.create_connection((host, int(port)), timeout=10) as client:
            client.sendall(f"POST /cite HTTP/1.1\r\nHost: {host}\r\nContent-Type: application/json\r\n"
                           f"Content-Length: {len(body)}\r\n\r\n".encode() + body)
            time.sleep(1.0)
        before_close = len(calls)
        time.sleep(1.0)  # a poll of the disconnect (0.25 s) and of the CPU watchdog (0.01 s), with room
        settled = len(calls)
        time.sleep(1.5)
        assert httpx.post(f"{url}/ask", json={"question": QUESTION}, timeout=30).status_code == 200
    assert before_close > 0, "the check never started"
    assert len(calls) == settled < 400, (before_close, settled, len(calls))
