"""The documents tab: the indexed reports listed, a report uploaded and answered from, then deleted."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.support import finished_job, job_at

from .conftest import DOCS
from .test_chat import ask

pytestmark = pytest.mark.browser
INDEXING_S = 180  # adding a report encodes it: on a loaded 2-core machine that outlasts the usual 30 s
NEW_DOC = "hydrogen_notes.txt"
NEW_TITLE = "氢能产业简报"
NEW_TEXT = "第一章 氢能\n2025年中国电解槽出货量达到3.5吉瓦，碱性电解槽占比超过八成。\n"


@pytest.fixture
def jobs(server: str) -> Iterator[list[str]]:
    """The served index is shared: a failed test must not leave its upload behind for the next one, not even one
    still being indexed when the test gave up."""
    started: list[str] = []
    yield started
    with httpx.Client(base_url=server) as client:
        for job_id in started:
            job_at(client, f"/jobs/{job_id}", INDEXING_S)
        if any(d["doc"] == NEW_DOC for d in client.get("/documents").json()["documents"]):
            finished_job(client, client.delete(f"/documents/{NEW_DOC}"), INDEXING_S)


def posted_job(response: Any) -> bool:
    return response.request.method == "POST" and response.url.split("?")[0].endswith("/documents")


def test_documents_are_listed_uploaded_and_deleted(page: Any, shoot: Callable[..., Path], jobs: list[str]) -> None:
    page.click("#tab-docs")
    rows = page.locator("#doc-table tbody tr")
    rows.first.wait_for(state="visible")
    listed = rows.evaluate_all("rows => rows.map(r => r.dataset.doc)")
    assert sorted(listed) == sorted(DOCS)
    assert DOCS["quantum.txt"][0] in page.locator("#doc-table").inner_text()

    page.set_input_files("#upload-file", files=[{"name": NEW_DOC, "mimeType": "text/plain",
                                                 "buffer": NEW_TEXT.encode("utf-8")}])
    assert page.locator("#upload-name").inner_text() == NEW_DOC
    page.fill("#upload-title", NEW_TITLE)
    with page.expect_response(posted_job) as posted:
        page.click("#upload")
    jobs.append(posted.value.json()["id"])
    page.locator("#upload-status", has_text="已添加").wait_for(timeout=INDEXING_S * 1000)
    new_row = page.locator(f'#doc-table tr[data-doc="{NEW_DOC}"]')
    new_row.wait_for(state="visible")
    assert NEW_TITLE in new_row.inner_text() and rows.count() == len(DOCS) + 1
    page.wait_for_function(f"document.querySelector('#health').textContent.includes('{len(DOCS) + 1} 份报告')")
    shoot("documents")

    page.click("#tab-ask")
    answer = ask(page, "2025年中国电解槽出货量是多少？")
    assert "3.5吉瓦" in answer.inner_text() and NEW_TITLE in answer.locator(".cites").inner_text()

    page.click("#tab-docs")
    new_row.wait_for(state="visible")
    page.once("dialog", lambda dialog: dialog.accept())
    new_row.locator(".doc-delete").click()
    new_row.wait_for(state="detached", timeout=INDEXING_S * 1000)
    assert rows.count() == len(DOCS)
    assert "已删除" in page.locator("#upload-status").inner_text()


def test_an_upload_the_server_refuses_says_why(page: Any) -> None:
    page.click("#tab-docs")
    page.set_input_files("#upload-file", files=[{"name": "scan.pdf", "mimeType": "application/pdf",
                                                 "buffer": b"not a pdf at all"}])
    page.click("#upload")
    error = page.locator("#upload-status .error-box")
    error.wait_for(state="visible")
    assert "not a PDF" in error.inner_text()
    assert page.locator("#doc-table tbody tr").count() == len(DOCS)
