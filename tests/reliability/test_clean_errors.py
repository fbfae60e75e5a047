"""Clean errors for what used to be 500s or stray state (issue 22, item 8): odd uploads get a 4xx (at once, or as
the failed job's code), JSONL ids follow the file-name rules, a full disk gives one line and leaves no temporary
files, and a replacement that cleans to nothing leaves the old document in place."""

from __future__ import annotations

import json
import resource
import shutil
import signal
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from fastapi.testclient import TestClient
from reportqa.api.app import create_app

from reportqa.core.settings import Settings
from tests.support import finished_job

from ..conftest import AI_DOC, SMALL_DOCS
from .helpers import REPO_ROOT, serving


@pytest.fixture
def settings(small_index: Settings, tmp_path: Path) -> Settings:
    copy = small_index.model_copy(update={"index_dir": tmp_path / "index"})
    shutil.copytree(small_index.index_dir, copy.index_dir)
    return copy


@pytest.fixture
def client(settings: Settings) -> Iterator[TestClient]:
    with TestClient(create_app(settings), raise_server_exceptions=False) as test_client:
        yield test_client


def documents(client: TestClient) -> set[str]:
    return {d["doc"] for d in client.get("/documents").json()["documents"]}


def test_an_upload_named_manifest_json_is_refused(client: TestClient) -> None:
    reply = client.post("/documents", params={"name": "manifest.json"}, content=b"{not json")
    assert reply.status_code == 422 and "manifest.json" in reply.json()["error"]
    assert client.post("/documents", params={"name": "notes.json"}, content=b"{}").status_code == 415
    assert documents(client) == set(SMALL_DOCS)


JSONL_CASES = {
    "bad line": ('{"id": "a", "text": "第一章 正文内容。"}\n{not json\n', "docs.jsonl:2"),
    "not an object": ('["id", "text"]\n', "docs.jsonl:1"),
    "traversal id": ('{"id": "../../etc/passwd", "text": "正文内容足够长。"}\n', "not a usable document name"),
    "folder id": ('{"id": "a/b/c", "text": "正文内容足够长。"}\n', "not a usable document name"),
    "empty id": ('{"id": "", "text": "正文内容足够长。"}\n', "not a usable document name"),
    "text not a string": ('{"id": "a", "text": 12}\n', "docs.jsonl:1"),
}


@pytest.mark.parametrize("case", list(JSONL_CASES))
def test_a_bad_jsonl_upload_fails_its_job_with_422_and_changes_nothing(client: TestClient, case: str) -> None:
    content, message = JSONL_CASES[case]
    job = finished_job(client, client.post("/documents", params={"name": "docs.jsonl"}, content=content.encode()))
    assert (job["status"], job["code"]) == ("failed", 422) and message in job["error"], job
    assert documents(client) == set(SMALL_DOCS)


def test_a_good_jsonl_upload_is_indexed_under_its_ids(client: TestClient) -> None:
    rows = [{"id": "RPT-1", "title": "预提取一", "text": "第一章 概况\n钠离子电池的量产成本下降到每瓦时0.4元。"},
            {"id": "RPT-2", "text": "第一章 概况\n氢燃料电池汽车保有量超过两万辆。"}]
    content = "".join(json.dumps(r, ensure_ascii=False) + "\n" for r in rows).encode()
    job = finished_job(client, client.post("/documents", params={"name": "extra.jsonl"}, content=content))
    assert job["result"]["added"] == ["RPT-1", "RPT-2"]
    assert finished_job(client, client.delete("/documents/RPT-1"))["result"]["removed"] == ["RPT-1"]
    assert documents(client) == set(SMALL_DOCS) | {"RPT-2"}


def test_a_replacement_that_cleans_to_nothing_leaves_the_old_document(client: TestClient) -> None:
    job = finished_job(client, client.post("/documents", params={"name": AI_DOC}, content=b"12\n13\n- 4 -\n"))
    assert (job["status"], job["code"]) == ("failed", 422) and "no text left after cleaning" in job["error"], job
    assert "2.59万亿美元" in client.post("/ask", json={"question": "2026年全球AI支出预计是多少？"}).json()["answer"]


def _no_room_beyond(limit: int) -> None:
    """In the child: files cannot grow past `limit` bytes, and writing past it fails (EFBIG) instead of killing."""
    signal.signal(signal.SIGXFSZ, signal.SIG_IGN)
    resource.setrlimit(resource.RLIMIT_FSIZE, (limit, limit))


def leftovers(index_dir: Path) -> list[str]:
    return [str(p.relative_to(index_dir)) for p in index_dir.rglob("*")
            if p.name.endswith((".tmp", ".partial")) or (p.parent.name == "jobs" and p.is_dir())]


def test_a_full_disk_is_one_line_from_the_cli_and_leaves_no_temporary_files(settings: Settings,
                                                                            tmp_path: Path) -> None:
    big = tmp_path / "big.txt"
    big.write_text("第一章 大文件\n" + "".join(f"第{i}个项目的投资额为{i}亿元，同比增长{i % 50}%。\n"
                                             for i in range(20_000)), encoding="utf-8")
    current = (settings.index_dir / "CURRENT").read_text(encoding="utf-8")
    command = [sys.executable, "-m", "reportqa.cli", "add", "--index-dir", str(settings.index_dir), str(big)]
    done = subprocess.run(command, capture_output=True, text=True, timeout=120, cwd=str(REPO_ROOT),
                          preexec_fn=lambda: _no_room_beyond(256_000))
    assert done.returncode == 2, done.stderr[-2000:]
    assert done.stderr.strip() == ("reportqa add: no space left to write (disk full, quota or file-size limit); "
                                   "free some and try again (nothing was changed)")
    assert leftovers(settings.index_dir) == []
    assert (settings.index_dir / "CURRENT").read_text(encoding="utf-8") == current


@pytest.mark.integration
def test_a_full_disk_during_an_upload_is_507_and_leaves_nothing(settings: Settings, tmp_path: Path) -> None:
    with serving(settings.index_dir, 1, tmp_path / "serve.log", preexec_fn=lambda: _no_room_beyond(300_000)) \
            as (_, url):
        reply = httpx.post(f"{url}/documents", params={"name": "big.txt"}, content="星河。\n".encode() * 100_000,
                           timeout=30)
        assert reply.status_code == 507, reply.text[:300]
        assert reply.json()["error"].startswith("no space left to write")
        question = {"question": "星河半导体2025年营业收入是多少？"}
        assert httpx.post(f"{url}/ask", json=question, timeout=30).status_code == 200
    assert leftovers(settings.index_dir) == []
