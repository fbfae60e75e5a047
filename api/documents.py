"""Document endpoints: list and inspect; upload and delete as jobs (202 + GET /jobs/{id}) that run in a process of
their own, so a server worker only receives the bytes and answers questions meanwhile."""

from __future__ import annotations

import os
import shutil
from pathlib import Path
from typing import Annotated, Any

from fastapi import APIRouter, Depends, HTTPException, Query, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import JSONResponse
from reportqa.api.deps import EngineDep, SettingsDep
from reportqa.api.errors import error_responses, public_message
from reportqa.ingest.decoding import SourceError
from reportqa.ingest.limits import checked_doc_name
from reportqa.ingest.load import MANIFEST_NAME, check_type, supported

from reportqa.collection import listing, published_documents
from reportqa.contract import CitationOut
from reportqa.core.settings import Settings
from reportqa.jobs import Job, JobRunner, JobStore, describe_os_error

router = APIRouter()


async def get_runner(request: Request) -> JobRunner:
    runner: JobRunner = request.app.state.jobs
    return runner


RunnerDep = Annotated[JobRunner, Depends(get_runner)]


@router.get("/documents")
def documents(settings: SettingsDep) -> dict[str, Any]:
    return {"documents": listing(settings)}


@router.get("/documents/{doc}", responses=error_responses(404))
def document(doc: str, engine: EngineDep) -> dict[str, Any]:
    """Only names in the index are served; nothing is read from disk by the name given."""
    facts = engine.index.manifest.get("documents", {}).get(doc)
    if facts is None:
        raise HTTPException(404, f"no indexed document named {doc!r}")
    chunks = [CitationOut.of(n, c, 0.0).model_dump() | {"id": c.id, "kind": c.kind}
              for n, c in enumerate(engine.index.document_chunks(doc), start=1)]
    return {"doc": doc, **{k: v for k, v in facts.items() if k != "key"}, "chunk_list": chunks}


def _accepted(job: Job) -> JSONResponse:
    return JSONResponse(job.model_dump(), status_code=202, headers={"Location": f"/jobs/{job.id}"})


def _checked_upload_name(name: str) -> str:
    """A plain, readable file name: 422 for a path or an odd name, 415 for a type nothing reads."""
    try:
        base = checked_doc_name(name)
        if base == MANIFEST_NAME:
            raise SourceError(f"{MANIFEST_NAME} names the titles of a folder, not a document")
    except SourceError as exc:
        raise HTTPException(422, str(exc)) from exc
    try:
        supported(base)
    except SourceError as exc:
        raise HTTPException(415, str(exc)) from exc
    return base


async def _receive(request: Request, path: Path) -> int:
    """The body streamed to a file (never held in memory); the body limit counts it as it arrives."""
    size = 0
    with path.open("wb") as out:
        async for piece in request.stream():
            out.write(piece)
            size += len(piece)
    return size


@router.post("/documents", status_code=202, response_model=Job, responses=error_responses(415, 507))
async def upload(request: Request, settings: SettingsDep, runner: RunnerDep,
                 name: Annotated[str, Query(description="file name, e.g. report.pdf")],
                 title: Annotated[str | None, Query(max_length=300, description="the report's title")] = None,
                 ) -> JSONResponse:
    """The raw file as the request body; its type is checked from the bytes, and it is read by a job."""
    base = _checked_upload_name(name)
    await run_in_threadpool(published_documents, settings)  # 503 before any byte is received
    job = runner.store.new("add", base, title)
    path = runner.store.files(job.id) / base
    try:
        if await _receive(request, path) == 0:
            raise HTTPException(422, "the uploaded file is empty")
        check_type(path)
    except SourceError as exc:
        runner.store.discard(job.id)
        raise HTTPException(422, str(exc)) from exc
    except OSError as exc:
        runner.store.discard(job.id)
        raise HTTPException(507, describe_os_error(exc)) from exc
    except BaseException:
        runner.store.discard(job.id)
        raise
    runner.submit(job)
    return _accepted(job)


@router.delete("/documents/{doc}", status_code=202, response_model=Job, responses=error_responses(404))
def delete(doc: str, settings: SettingsDep, runner: RunnerDep) -> JSONResponse:
    if doc not in published_documents(settings):
        raise HTTPException(404, f"not in the index: {doc}")
    job = runner.store.new("remove", doc)
    shutil.rmtree(runner.store.files(job.id), ignore_errors=True)
    runner.submit(job)
    return _accepted(job)


def _as_reported(job: Job, settings: Settings) -> Job:
    """The job as stored, with a server path in its error shown as <index>, and one whose server process is gone
    before it finished reported as failed."""
    if job.finished is None and job.worker is not None and not _alive(job.worker):
        job = job.model_copy(update={"status": "failed", "code": 500,
                                     "error": "interrupted: the server process running it stopped; upload again"})
    if job.error:
        job = job.model_copy(update={"error": public_message(job.error, settings.index_dir)})
    return job


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # it exists, under another user
        return True
    return True


@router.get("/jobs/{job_id}", response_model=Job, responses=error_responses(404))
def job_status(job_id: str, settings: SettingsDep) -> Job:
    job = JobStore(settings.index_dir).read(job_id)
    if job is None:
        raise HTTPException(404, f"no job {job_id!r}")
    return _as_reported(job, settings)
