"""The hostile mix of `python -m bench.reliability --hostile`: ordinary load (/ask, /search, /chat) while the same
server receives the payloads of issue 22 and uploads, on a private copy of the index.

    python -m bench.reliability --hostile --requests 3000 --concurrency 16

Alongside the load: chat turns of 120,000 spaces, the slow claim (甲1 + 百分之×665), over-limit text, a 49.5 MB
text upload, a DOCX that unpacks to 420 MB, a PDF whose 100 pages share one 1 MB content stream, and small uploads
sent two at a time (to both workers) and then some deleted. Afterwards every upload's job must have settled and
the document set must be exactly the original documents plus the uploads that were kept: lost documents are
counted. The report has the load's latency per path (the /ask p99 under the mix) and each payload's outcome.
"""

from __future__ import annotations

import io
import shutil
import threading
import time
import zipfile
import zlib
from collections.abc import Callable
from pathlib import Path
from typing import Any

import httpx

SLOW_CLAIM = "甲1" + "百分之" * 665
# In the small fallback corpus: a passage that every 百分之百 of SLOW_CLAIM agrees with (the slow path of verify)
SHARE_DOC = ("share_structure.txt", ("股权结构", "第一章 股权结构\n甲公司持有该项目百分之百的股权，"
                                             "甲公司的持股比例为100%，乙公司为1%。\n"))
SMALL_UPLOADS = 10


# --- payloads ----------------------------------------------------------------------------------------------


def docx_bomb(expanded_mb: int = 400) -> bytes:
    """A real DOCX with a member of zeros that unpacks to `expanded_mb` MB (the archive stays under 0.5 MB)."""
    import docx

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
    from fpdf import FPDF
    from pypdf import PdfReader, PdfWriter
    from pypdf.generic import EncodedStreamObject, NameObject

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


def large_text(target_bytes: int = 49_500_000) -> bytes:
    """About `target_bytes` of prose whose lines all differ (repeated lines would be dropped as running headers)."""
    lines: list[str] = []
    size, i = 0, 0
    while size < target_bytes:
        line = f"第{i}号项目在2025年实现营业收入{i % 997}亿元，同比增长{i % 89}%，产品收入占比达到{i % 71}%。\n"
        lines.append(line)
        size += len(line.encode())
        i += 1
    return "".join(lines).encode()


def small_upload(n: int) -> tuple[str, bytes]:
    text = f"第一章 附录{n}\n第{n}号储能电站的装机规模达到{n + 7}吉瓦，投资{n * 3}亿元。\n"
    return f"hostile_mix_{n:02d}.txt", text.encode()


def _upload_at_once(url: str, items: list[tuple[str, bytes]]) -> list[httpx.Response]:
    """Each item sent on its own fresh connection at the same time: with two workers they land on both."""
    replies: list[httpx.Response] = []

    def send(name: str, body: bytes) -> None:
        replies.append(httpx.post(f"{url}/documents", params={"name": name}, content=body, timeout=60))

    senders = [threading.Thread(target=send, args=item) for item in items]
    for sender in senders:
        sender.start()
    for sender in senders:
        sender.join(120)
    return replies


SLOW_REQUESTS: list[tuple[str, str, dict[str, Any]]] = [
    ("chat 120k spaces", "/chat", {"messages": [{"role": "user", "content": "营业收入呢" + " " * 120_000 + "？"},
                                               {"role": "user", "content": "它的研发投入呢？"}]}),
    ("completions 120k spaces", "/v1/chat/completions",
     {"messages": [{"role": "user", "content": " " * 120_000 + "呢？"}, {"role": "user", "content": "那2030年呢？"}]}),
    ("slow claim", "/cite", {"statements": [SLOW_CLAIM]}),
    ("slow claim in a draft", "/cite", {"text": SLOW_CLAIM + "。"}),
    ("50k-character statement", "/cite", {"statements": ["1" * 50_000]}),
    ("100 long turns", "/chat", {"messages": [{"role": "user", "content": "呢" + " " * 1998 + "x"}] * 99
                                 + [{"role": "user", "content": "2026年全球AI支出预计是多少？"}]}),
]


# --- the run -----------------------------------------------------------------------------------------------


def _slow_requests(url: str, rounds: int) -> list[dict[str, Any]]:
    """Each slow payload `rounds` times: status and seconds per request (answered or refused, never stalled)."""
    outcomes = []
    with httpx.Client(base_url=url, timeout=120) as client:
        for _ in range(rounds):
            for label, path, body in SLOW_REQUESTS:
                started = time.monotonic()
                status = client.post(path, json=body).status_code
                outcomes.append({"payload": label, "status": status, "seconds": round(time.monotonic() - started, 2)})
    return outcomes


def _settle(client: httpx.Client, accepted: httpx.Response, timeout_s: float) -> dict[str, Any]:
    if accepted.status_code != 202:
        return {"status": "refused", "code": accepted.status_code, "error": accepted.text[:200]}
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        job: dict[str, Any] = client.get(accepted.headers["location"]).json()
        if job["status"] in ("done", "failed"):
            return job
        time.sleep(0.2)
    return {"status": "unsettled", "target": accepted.json().get("target")}


def _uploads(url: str, settle_s: float) -> tuple[list[dict[str, Any]], set[str]]:
    """The bombs and the large text, then the small uploads two at a time, then half of those deleted; returns
    the jobs and the names that must be indexed at the end."""
    jobs: list[dict[str, Any]] = []
    kept: set[str] = set()
    with httpx.Client(base_url=url, timeout=300) as bombs, httpx.Client(base_url=url, timeout=60) as small:
        heavy = [bombs.post("/documents", params={"name": name}, content=body)
                 for name, body in [("huge.txt", large_text()), ("bomb.docx", docx_bomb()), ("bomb.pdf", pdf_bomb())]]
        for n in range(0, SMALL_UPLOADS, 2):
            replies = _upload_at_once(url, [small_upload(n), small_upload(n + 1)])
            jobs += [_settle(small, reply, settle_s) for reply in replies]
            kept |= {job["target"] for job in jobs[-2:] if job.get("status") == "done"}
        for name in sorted(kept)[: SMALL_UPLOADS // 2]:
            job = _settle(small, small.delete(f"/documents/{name}"), settle_s)
            jobs.append(job)
            if job.get("status") == "done":
                kept.discard(name)
        jobs += [_settle(bombs, reply, settle_s) for reply in heavy]
    return jobs, kept


def hostile_mix(url: str, run_load: Callable[[threading.Event], dict[str, Any]], settle_s: float,
                slow_rounds: int = 3) -> dict[str, Any]:
    """Run the ordinary load in a thread, until the slow payloads and the uploads sent to the same server beside
    it have all been answered and their jobs settled."""
    with httpx.Client(base_url=url, timeout=30) as client:
        before = {d["doc"] for d in client.get("/documents").json()["documents"]}
    load: dict[str, Any] = {}
    stop = threading.Event()
    loader = threading.Thread(target=lambda: load.update(result=run_load(stop)))
    loader.start()
    try:
        slow = _slow_requests(url, slow_rounds)
        jobs, kept = _uploads(url, settle_s)
    finally:
        stop.set()
        loader.join()
    with httpx.Client(base_url=url, timeout=30) as client:
        after = {d["doc"] for d in client.get("/documents").json()["documents"]}
    expected = before | kept
    return {"load": load["result"], "slow_requests": slow, "jobs": [_job_line(j) for j in jobs],
            "documents_before": len(before), "documents_after": len(after),
            "lost_documents": sorted(expected - after), "unexpected_documents": sorted(after - expected)}


def _job_line(job: dict[str, Any]) -> dict[str, Any]:
    seconds = round(job["finished"] - job["created"], 1) if job.get("finished") else None
    return {"target": job.get("target"), "kind": job.get("kind"), "status": job.get("status"),
            "code": job.get("code"), "error": (job.get("error") or "")[:160] or None, "seconds": seconds}


def hostile_problems(report: dict[str, Any], max_p99_ms: float) -> list[str]:
    """What makes the hostile run fail: lost documents, load errors, a slow /ask p99, a stalled or 500 payload,
    an unsettled job."""
    problems = []
    if report["lost_documents"]:
        problems.append(f"lost documents: {report['lost_documents']}")
    if report["load"]["errors"]:
        problems.append(f"{report['load']['errors']} failed requests in the load")
    ask_p99 = report["load"]["latency_ms_by_path"].get("/ask", {}).get("p99")
    if ask_p99 is None or ask_p99 > max_p99_ms:
        problems.append(f"/ask p99 {ask_p99} ms over {max_p99_ms:g} ms under the mix")
    for outcome in report["slow_requests"]:
        if (outcome["status"] >= 500 and outcome["status"] != 504) or outcome["seconds"] > 5:
            problems.append(f"{outcome['payload']}: {outcome['status']} after {outcome['seconds']} s")
    problems += [f"job for {j['target']} {j['status']}" for j in report["jobs"]
                 if j["status"] not in ("done", "failed")]
    return problems


def private_copy(index_dir: Path, work: Path) -> Path:
    """The hostile run uploads and deletes: it works on a copy, never on the index it was pointed at."""
    target = work / "hostile-index"
    shutil.copytree(index_dir, target, ignore=shutil.ignore_patterns("jobs", ".build.lock"))
    return target


