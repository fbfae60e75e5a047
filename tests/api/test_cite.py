"""POST /cite on the small index: verdicts with citations, the footnoted draft, and hostile input."""

from __future__ import annotations

import json
import random
import re
from collections.abc import Iterator
from typing import Any

import pytest
import reportqa.api.deps
from fastapi.testclient import TestClient
from reportqa.answer.verify import Verdict
from reportqa.api.app import create_app

from reportqa.core.settings import Settings

from ..conftest import AI_DOC, BATTERY_DOC, CHIP_DOC, SMALL_DOCS

CITATION_FIELDS = {"n", "doc", "title", "section", "start", "end", "line_start", "line_end", "page", "page_end",
                   "text", "score"}
RESULT_FIELDS = {"id", "claim", "verdict", "report_value", "claim_value", "support", "citations", "start", "end",
                 "line"}
SUPPORTED_AI = "2026年全球AI支出预计达到2.59万亿美元。"
CHANGED_AI = "2026年全球AI支出预计达到3.1万亿美元。"
NEVER_COVERED = "火星殖民地的人口在2025年达到了十万人。"


@pytest.fixture(scope="module")
def client(small_index: Settings) -> Iterator[TestClient]:
    """The default settings: a 1 MB body limit and at most 1000 claims."""
    assert small_index.max_body_bytes == 1_000_000 and small_index.max_claims == 1000
    with TestClient(create_app(small_index)) as test_client:
        yield test_client


def squeeze(text: str) -> str:
    """Text without whitespace: a chunk joins the hard-wrapped lines of the span it points at."""
    return re.sub(r"\s", "", text)


def cite(client: TestClient, body: dict[str, Any]) -> list[dict[str, Any]]:
    response = client.post("/cite", json=body)
    assert response.status_code == 200, response.text
    payload = response.json()
    assert set(payload) == {"results", "markdown"}
    for result in payload["results"]:
        assert set(result) == RESULT_FIELDS
        assert result["verdict"] in {"supported", "contradicted", "unsupported"}
        for n, citation in enumerate(result["citations"], start=1):
            assert set(citation) == CITATION_FIELDS and citation["n"] == n
            source = SMALL_DOCS[citation["doc"]][1]
            assert squeeze(source[citation["start"] : citation["end"]]) == squeeze(citation["text"])
            assert citation["line_start"] == source.count("\n", 0, citation["start"]) + 1
            assert citation["title"] == SMALL_DOCS[citation["doc"]][0]
            assert isinstance(citation["score"], float)
    return list(payload["results"])


# --- verdicts -----------------------------------------------------------------------------------------


def test_statements_get_one_verdict_each_in_order(client: TestClient) -> None:
    results = cite(client, {"statements": [SUPPORTED_AI, CHANGED_AI, NEVER_COVERED]})
    assert [(r["id"], r["claim"], r["verdict"]) for r in results] == [
        ("claim-1", SUPPORTED_AI, "supported"),
        ("claim-2", CHANGED_AI, "contradicted"),
        ("claim-3", NEVER_COVERED, "unsupported"),
    ]
    for result in results:  # statements have no place in a draft
        assert (result["start"], result["end"], result["line"]) == (None, None, None)


def test_a_correct_figure_is_supported_by_the_right_document(client: TestClient) -> None:
    (result,) = cite(client, {"statements": [SUPPORTED_AI]})
    assert result["verdict"] == "supported" and result["report_value"] is None
    first = result["citations"][0]
    assert first["doc"] == AI_DOC
    assert "2.59万亿美元" in first["text"]
    assert first["section"].startswith("第一章")
    assert first["line_start"] <= 5 <= first["line_end"]  # the line of the figure in ai_spending.txt


def test_a_changed_figure_is_contradicted_with_the_reports_value(client: TestClient) -> None:
    (result,) = cite(client, {"statements": [CHANGED_AI]})
    assert result["verdict"] == "contradicted"
    assert "2.59万亿美元" in result["report_value"]
    assert result["claim_value"] == "3.1万亿美元"
    assert result["citations"][0]["doc"] == AI_DOC and "2.59万亿美元" in result["citations"][0]["text"]


@pytest.mark.parametrize(
    ("claim", "doc", "report_value"),
    [
        ("星河半导体在2025年实现营业收入128亿元。", CHIP_DOC, None),
        ("星河半导体在2025年实现营业收入150亿元。", CHIP_DOC, "128亿元"),
        ("截至2025年底，中国新型储能累计装机规模达到95吉瓦。", BATTERY_DOC, None),
    ],
)
def test_company_and_market_figures(client: TestClient, claim: str, doc: str, report_value: str | None) -> None:
    (result,) = cite(client, {"statements": [claim]})
    assert result["verdict"] == ("supported" if report_value is None else "contradicted")
    assert result["report_value"] == report_value
    assert result["citations"][0]["doc"] == doc


def test_what_the_corpus_never_covers_is_unsupported(client: TestClient) -> None:
    for claim in (NEVER_COVERED, "Zorblax公司的估值是500亿美元。"):
        (result,) = cite(client, {"statements": [claim]})
        assert result["verdict"] == "unsupported", claim
        assert result["report_value"] is None


DRAFT = (
    "# AI支出快评\n"
    "\n"
    f"{SUPPORTED_AI}{CHANGED_AI}\n"
    "\n"
    "- 列表项不是论断：星河半导体营业收入128亿元。\n"
    f"{NEVER_COVERED}\n"
)


def test_a_whole_draft_gives_its_claims_with_their_place(client: TestClient) -> None:
    response = client.post("/cite", json={"text": DRAFT})
    assert response.status_code == 200, response.text
    assert response.json()["markdown"] is None  # JSON only unless asked for
    results = cite(client, {"text": DRAFT})
    assert [(r["id"], r["claim"], r["verdict"], r["line"]) for r in results] == [
        ("claim-1", SUPPORTED_AI, "supported", 3),
        ("claim-2", CHANGED_AI, "contradicted", 3),
        ("claim-3", NEVER_COVERED, "unsupported", 6),
    ]
    assert [(r["start"], r["end"]) for r in results] == [(10, 34), (34, 57), (85, 106)]
    for result in results:
        assert DRAFT[result["start"] : result["end"]] == result["claim"]
    assert "2.59万亿美元" in results[1]["report_value"]


def test_markdown_format_returns_the_footnoted_draft(client: TestClient) -> None:
    response = client.post("/cite", json={"text": DRAFT, "format": "markdown"})
    assert response.status_code == 200, response.text
    body = response.json()
    supported, contradicted, _ = body["results"]
    markdown = body["markdown"]
    body_part, notes = markdown.split("\n\n---\n\n")
    report_value = contradicted["report_value"]
    assert body_part == (
        "# AI支出快评\n"
        "\n"
        f"{SUPPORTED_AI}[^1]{CHANGED_AI} **[⚠ 与报告不符：报告为 {report_value}]**[^2]\n"
        "\n"
        "- 列表项不是论断：星河半导体营业收入128亿元。\n"
        f"{NEVER_COVERED} **[报告未涉及]**"
    )
    lines = notes.splitlines()
    assert len(lines) == 2 and notes.endswith("\n")
    for n, (label, result) in enumerate((("出处", supported), ("与之不符的原文", contradicted)), start=1):
        c = result["citations"][0]
        assert lines[n - 1].startswith(f"[^{n}]: {label}: *{c['title']}* — {c['section']} "
                                       f"({c['doc']}, 第 {c['line_start']}–{c['line_end']} 行): “")
        assert "2.59万亿美元" in lines[n - 1]


def test_markdown_format_is_ignored_for_statements(client: TestClient) -> None:
    response = client.post("/cite", json={"statements": [SUPPORTED_AI], "format": "markdown"})
    assert response.status_code == 200 and response.json()["markdown"] is None


def test_cite_is_in_the_openapi_schema(client: TestClient) -> None:
    schema = client.get("/openapi.json").json()
    assert "post" in schema["paths"]["/cite"]
    assert {"statements", "text", "format"} <= set(schema["components"]["schemas"]["CiteRequest"]["properties"])


# --- bad input ----------------------------------------------------------------------------------------

INVALID: dict[str, tuple[dict[str, Any], str]] = {
    "empty draft": ({"text": ""}, "the draft is empty"),
    "whitespace draft": ({"text": " \n\t　\n "}, "the draft is empty"),
    "empty statements": ({"statements": []}, "statements is empty"),
    "whitespace statement": ({"statements": [SUPPORTED_AI, "  \t"]}, "statement 2 is empty"),
    "neither": ({}, 'give either "statements" or "text"'),
    "both": ({"text": DRAFT, "statements": [SUPPORTED_AI]}, 'give either "statements" or "text"'),
    "statements not a list": ({"statements": SUPPORTED_AI}, "statements"),
    "statement not a string": ({"statements": [7]}, "statements"),
    "1001 statements": ({"statements": [SUPPORTED_AI] * 1001}, "at most 1000"),
    "statement over 2000 characters": ({"statements": ["星" * 2001]}, "the limit is 2000"),
    "unknown format": ({"text": DRAFT, "format": "html"}, "format"),
    "draft of headings, lists and code only": ({"text": "# 标题\n\n- 列表项目内容\n```\n代码里的句子。\n```\n"},
                                               "no claim sentences"),
    "draft of 1001 claims": ({"text": "星河半导体营业收入。" * 1001}, "1001 claims; the limit is 1000"),
}


@pytest.mark.parametrize("case", list(INVALID))
def test_invalid_requests_get_422_with_a_message(client: TestClient, case: str) -> None:
    body, message = INVALID[case]
    response = client.post("/cite", json=body)
    assert response.status_code == 422, response.text
    error = response.json()["error"]
    assert isinstance(error, str) and message in error


class CountingEngine:
    """Stands in for the engine where only the request limits are under test: every claim is unsupported."""

    def __init__(self) -> None:
        self.claims: list[str] = []

    def cite(self, claim: str) -> Verdict:
        self.claims.append(claim)
        return Verdict(claim, "unsupported", None, None, (), 0.0)


def test_exactly_1000_statements_are_accepted(small_index: Settings) -> None:
    engine = CountingEngine()
    app = create_app(small_index)
    app.dependency_overrides[reportqa.api.deps.get_engine] = lambda: engine
    with TestClient(app) as test_client:
        statements = [f"第{i}条论断的内容。" for i in range(1, 1001)]
        response = test_client.post("/cite", json={"statements": statements})
        assert response.status_code == 200, response.text[:200]
        results = response.json()["results"]
        assert [r["id"] for r in results] == [f"claim-{i}" for i in range(1, 1001)]
        assert [r["claim"] for r in results] == statements == engine.claims
        assert test_client.post("/cite", json={"statements": [*statements, "多一条。"]}).status_code == 422
        assert len(engine.claims) == 1000  # the refused request never reached the engine


def junk(seed: int, size: int) -> bytes:
    rng = random.Random(seed)
    return bytes(rng.randrange(256) for _ in range(size))


NOT_JSON_TEXT: dict[str, bytes] = {
    "random bytes": junk(1, 4096),
    "random bytes after an opening brace": b'{"text": "' + junk(2, 2048) + b'"}',
    "invalid UTF-8 in a string": b'{"text": "\xff\xfe\x80\xc3(\xa0\xa1"}',
    "raw NUL bytes in a string": b'{"text": "\x00\x00\x00"}',
    "GB18030 bytes, not UTF-8": json.dumps({"text": "__"}).encode().replace(b"__", NEVER_COVERED.encode("gb18030")),
}


@pytest.mark.parametrize("case", list(NOT_JSON_TEXT))
def test_binary_junk_body_is_refused_as_bad_json(client: TestClient, case: str) -> None:
    response = client.post("/cite", content=NOT_JSON_TEXT[case], headers={"content-type": "application/json"})
    assert response.status_code in {400, 422}, f"{response.status_code}: {response.text[:200]}"
    assert response.json()["error"].strip()


def test_lone_surrogates_get_422(client: TestClient) -> None:
    response = client.post("/cite", content=b'{"text": "\\ud800\\udbff abc"}',
                           headers={"content-type": "application/json"})
    assert response.status_code == 422 and "not valid Unicode" in response.json()["error"]
    response = client.post("/cite", content=b'{"statements": ["\\udfff"]}',
                           headers={"content-type": "application/json"})
    assert response.status_code == 422 and "not valid Unicode" in response.json()["error"]


def test_a_utf16_body_is_read_as_json(client: TestClient) -> None:
    data = json.dumps({"statements": [SUPPORTED_AI]}, ensure_ascii=False).encode("utf-16")
    response = client.post("/cite", content=data, headers={"content-type": "application/json"})
    assert response.status_code == 200, response.text[:200]
    assert response.json()["results"][0]["verdict"] == "supported"


JUNK_TEXTS: dict[str, tuple[dict[str, Any], int]] = {
    "NUL characters": ({"text": "\u0000" * 50}, 422),
    "control characters": ({"text": "".join(chr(i) for i in range(32)) * 10}, 422),
    "bytes read as Latin-1": ({"text": junk(3, 4096).decode("latin-1")}, 422),
    "bytes decoded with replacement": ({"text": junk(4, 4096).decode("utf-8", "replace")}, 422),
    "statements of bytes read as Latin-1": ({"statements": [junk(5, 200).decode("latin-1"),
                                                            junk(6, 60).decode("latin-1")]}, 200),
    "NUL statements": ({"statements": ["\u0000\u0000\u0000", "\u0000\u0001\u0002\u0003\u0004\u0005\u0006"]}, 200),
    "private-use and noncharacters": ({"statements": ["\ue000\uffff\U0010fffe\ufdd0\ue001\ue002"]}, 200),
}


@pytest.mark.parametrize("case", list(JUNK_TEXTS))
def test_junk_text_gets_a_clean_answer_never_a_500(client: TestClient, case: str) -> None:
    """Junk that is still valid JSON text: refused as having no claims, or checked and found unsupported."""
    body, status = JUNK_TEXTS[case]
    response = client.post("/cite", json=body)
    assert response.status_code == status, f"{response.status_code}: {response.text[:200]}"
    if status == 422:
        assert "no claim sentences" in response.json()["error"]
    else:
        results = response.json()["results"]
        assert results
        for result in results:
            assert set(result) == RESULT_FIELDS
            assert result["verdict"] == "unsupported", result["claim"]


def test_a_claim_with_a_nul_inside_is_still_checked(client: TestClient) -> None:
    results = cite(client, {"text": f"星河半导体\u0000在2025年实现营业收入128亿元。\n{NEVER_COVERED}"})
    assert [r["verdict"] for r in results] == ["supported", "unsupported"]
    assert results[0]["citations"][0]["doc"] == CHIP_DOC


def test_a_10_mb_body_gets_413(client: TestClient) -> None:
    text = "星河半导体在2025年实现营业收入128亿元。" * (10 * 1024 * 1024 // 50)
    data = json.dumps({"text": text}, ensure_ascii=False).encode()
    assert len(data) >= 10 * 1024 * 1024
    response = client.post("/cite", content=data, headers={"content-type": "application/json"})
    assert response.status_code == 413
    assert "1000000" in response.json()["error"]


def test_a_10_mb_chunked_body_gets_413(client: TestClient) -> None:
    """No Content-Length (chunked transfer): the limit is enforced on the bytes received."""
    data = b'{"text": "' + b"a" * (10 * 1024 * 1024) + b'"}'

    def pieces() -> Iterator[bytes]:
        for start in range(0, len(data), 64 * 1024):
            yield data[start : start + 64 * 1024]

    response = client.post("/cite", content=pieces(), headers={"content-type": "application/json"})
    assert response.status_code == 413, f"{response.status_code}: {response.text[:120]}"


def test_a_body_just_under_the_limit_is_checked(client: TestClient) -> None:
    padding = "\n" * 490_000  # blank lines (2 bytes each in JSON): no claims, but all must be read and split
    data = json.dumps({"text": f"{padding}{SUPPORTED_AI}\n"}, ensure_ascii=False).encode()
    assert 980_000 < len(data) < 1_000_000
    response = client.post("/cite", content=data, headers={"content-type": "application/json"})
    assert response.status_code == 200, response.text[:200]
    (result,) = response.json()["results"]
    assert result["verdict"] == "supported" and result["line"] == 490_001 and result["start"] == 490_000
