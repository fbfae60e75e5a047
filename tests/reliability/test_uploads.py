"""Uploads off the event loop (issue 22, item 2): POST /documents answers 202 with a job that runs in a process of
its own; a 50 MB text, a DOCX that unpacks to 400 MB and a 45 KB PDF whose 100 pages share one 1 MB content
stream are stopped by their limits while /ask on the same worker keeps its p99 under 1 s."""

from __future__ import annotations

import io
import threading
import time
import zipfile
import zlib
from collections.abc import Iterator

import docx
import httpx
import pytest
from fastapi.testclient import TestClient
from fpdf import FPDF
from pypdf import PdfReader, PdfWriter
from pypdf.generic import EncodedStreamObject, NameObject
from reportqa.api.app import create_app

from reportqa.core.settings import Settings
from tests.support import finished_job

from ..conftest import SMALL_DOCS
from .helpers import running

QUESTION = "2026年全球AI支出预计是多少？"
INGEST_S = 10.0  # a job process starts in about a second; the 50 MB text needs minutes


def docx_bomb(expanded_mb: int = 400) -> bytes:
    """A real DOCX with a member of zeros that unpacks to `expanded_mb` MB (the archive stays under 0.5 MB)."""
    document = docx.Document()
    document.add_paragraph("第一章 测试 正文内容。")
    plain = io.BytesIO()
    document.save(plain)
    out = io.BytesIO()
    with zipfile.ZipFile(plain) as source, zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as archive:
        for item in source.infolist():
            archive.writestr(item, source.read(item.filename))
        with archive.open("word/media/filler.bin", "w", force_zip64=True) as member:
            for _ in range(expanded_mb):
                member.write(bytes(1 << 20))
    return out.getvalue()


def pdf_bomb(pages: int = 100) -> bytes:
    """`pages` pages that all draw one content stream of ~1 MB of text operators (deflated to a few KB)."""
    pdf = FPDF()
    pdf.set_font("helvetica", size=12)
    for _ in range(pages):
        pdf.add_page()
        pdf.cell(text="hello")
    writer = PdfWriter(clone_from=PdfReader(io.BytesIO(bytes(pdf.output()))))
    stream = EncodedStreamObject()
    stream._data = zlib.compress(b"BT /F1 12 Tf 10 10 Td (hello world) Tj ET\n" * 25_000, 9)
    stream[NameObject("/Filter")] = NameObject("/FlateDecode")
    shared = writer._add_object(stream)
    for page in writer.pages:
        page[NameObject("/Contents")] = shared
    out = io.BytesIO()
    writer.write(out)
    return out.getvalue()


def fifty_megabytes_of_text() -> bytes:
    """Just under REPORTQA_MAX_UPLOAD_BYTES of prose whose lines all differ (repeated lines are dropped as
    running headers, which would leave nothing to read)."""
    lines = (f"第{i}号项目在2025年实现营业收入{i % 997}亿元，同比增长{i % 89}%，产品收入占比达到{i % 71}%。\n"
             for i in range(10**7))
    text = "".join(next(lines) for _ in range(465_000)).encode()
    assert 45_000_000 < len(text) < 50_000_000
    return text


@pytest.fixture(scope="module")
def client(index_copy: Settings) -> Iterator[TestClient]:
    with TestClient(create_app(index_copy)) as test_client:
        yield test_client


def test_an_upload_is_a_job_that_adds_the_document(client: TestClient) -> None:
    accepted = client.post("/documents", params={"name": "storage_note.txt", "title": "储能笔记"},
                           content="第一章 储能\n液流电池储能电站的装机规模达到12吉瓦。\n".encode())
    assert accepted.status_code == 202 and accepted.headers["location"] == f"/jobs/{accepted.json()['id']}"
    job = finished_job(client, accepted)
    assert (job["status"], job["code"]) == ("done", 200), job
    assert job["result"]["added"] == ["storage_note.txt"]
    assert client.get("/documents/storage_note.txt").json()["title"] == "储能笔记"
    assert "12吉瓦" in client.post("/ask", json={"question": "液流电池储能电站的装机规模是多少？"}).json()["answer"]
    removed = finished_job(client, client.delete("/documents/storage_note.txt"))
    assert removed["result"]["removed"] == ["storage_note.txt"]
    assert client.get("/documents/storage_note.txt").status_code == 404


def test_unknown_jobs_are_404(client: TestClient) -> None:
    for job_id in ("0" * 32, "../../etc/passwd", "abc", "f" * 40):
        reply = client.get(f"/jobs/{job_id}")
        assert reply.status_code == 404 and reply.json()["error"]


def test_bombs_and_a_50_mb_upload_leave_ask_fast(index_copy: Settings) -> None:
    settings = index_copy.model_copy(update={"ingest_seconds": INGEST_S})
    latencies: list[float] = []
    failures: list[str] = []
    stop = threading.Event()

    def ask_loop(url: str) -> None:
        with httpx.Client(base_url=url, timeout=30) as ask:
            while not stop.is_set() and len(latencies) < 20_000:
                started = time.monotonic()
                reply = ask.post("/ask", json={"question": QUESTION})
                latencies.append(time.monotonic() - started)
                if reply.status_code != 200 or "2.59万亿美元" not in reply.json()["answer"]:
                    failures.append(reply.text[:200])

    with running(create_app(settings)) as url, httpx.Client(base_url=url, timeout=60) as uploads:
        asker = threading.Thread(target=ask_loop, args=(url,))
        asker.start()
        accepted = [uploads.post("/documents", params={"name": name}, content=body)
                    for name, body in [("huge.txt", fifty_megabytes_of_text()), ("bomb.docx", docx_bomb()),
                                       ("bomb.pdf", pdf_bomb())]]
        jobs = [finished_job(uploads, reply, timeout_s=INGEST_S + 30) for reply in accepted]
        stop.set()
        asker.join(30)
        documents = {d["doc"] for d in uploads.get("/documents").json()["documents"]}
    outcomes = {job["target"]: (job["status"], job["code"], job["error"]) for job in jobs}
    assert outcomes["huge.txt"][:2] == ("failed", 413) and "REPORTQA_INGEST_SECONDS" in outcomes["huge.txt"][2]
    assert outcomes["bomb.docx"][:2] == ("failed", 422) and "REPORTQA_MAX_EXPANDED_BYTES" in outcomes["bomb.docx"][2]
    assert outcomes["bomb.pdf"][:2] == ("failed", 422) and "REPORTQA_MAX_PDF_CONTENT_BYTES" in outcomes["bomb.pdf"][2]
    assert documents == set(SMALL_DOCS)
    assert not failures, failures[:3]
    ordered = sorted(latencies)
    p99 = ordered[int(len(ordered) * 0.99)]
    assert len(ordered) >= 50 and p99 < 1.0, (len(ordered), p99, ordered[-5:])
