"""Changes to the document set as jobs: recorded under the index (so any server worker can report on one), each run
in a process of its own, at low priority and under a wall-time limit, so that reading an upload never runs inside
a server worker and a costly one is stopped instead of finishing."""

from __future__ import annotations

import contextlib
import errno
import logging
import multiprocessing
import os
import queue
import re
import shutil
import signal
import threading
import time
import uuid
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict

from reportqa import collection
from reportqa.core.settings import Settings
from reportqa.index.sources import write_atomically
from reportqa.index.store import BuildLocked, CollectionUnreadable, IndexProblem
from reportqa.ingest.decoding import SourceError

log = logging.getLogger("reportqa.jobs")
JOBS_DIR = "jobs"
JOB_FILE = "job.json"
FILES_DIR = "files"
KEEP_FINISHED = 200
ABANDONED_S = 3600
NICENESS = 10
_JOB_ID = re.compile(r"^[0-9a-f]{32}$")
NO_SPACE = frozenset({errno.ENOSPC, errno.EDQUOT, errno.EFBIG})


class Job(BaseModel):
    """One change and how it went; its model_dump is both the stored file and the GET /jobs/{id} answer."""

    model_config = ConfigDict(frozen=True)
    id: str
    kind: Literal["add", "remove"]
    target: str  # the uploaded file's name, or the document to remove
    title: str | None = None
    status: Literal["queued", "running", "done", "failed"] = "queued"
    code: int | None = None  # the HTTP status the change amounts to: 200 once done, 4xx/5xx when it failed
    error: str | None = None
    result: dict[str, Any] | None = None  # what the change did to the document set (IngestReport)
    created: float
    finished: float | None = None
    worker: int | None = None  # the server process that runs it


def describe_os_error(exc: OSError) -> str:
    """One line for a file-system failure; a full disk says so."""
    if exc.errno in NO_SPACE:
        return "no space left to write (disk full, quota or file-size limit); free some and try again " \
               "(nothing was changed)"
    return f"{exc.strerror or exc} ({Path(exc.filename).name if exc.filename else 'file system'})"


class JobStore:
    """jobs/<id>/job.json, and jobs/<id>/files/ with the upload until its job has run."""

    def __init__(self, index_dir: Path) -> None:
        self.folder = Path(index_dir) / JOBS_DIR

    def new(self, kind: Literal["add", "remove"], target: str, title: str | None = None) -> Job:
        job = Job(id=uuid.uuid4().hex, kind=kind, target=target, title=title, created=time.time(),
                  worker=os.getpid())
        self.files(job.id).mkdir(parents=True)
        return job

    def files(self, job_id: str) -> Path:
        return self.folder / job_id / FILES_DIR

    def save(self, job: Job) -> None:
        write_atomically(self.folder / job.id / JOB_FILE, job.model_dump_json().encode("utf-8"))

    def read(self, job_id: str) -> Job | None:
        if not _JOB_ID.match(job_id):
            return None
        try:
            return Job.model_validate_json((self.folder / job_id / JOB_FILE).read_bytes())
        except (OSError, ValueError):
            return None

    def finish(self, job: Job, code: int, error: str | None = None, result: dict[str, Any] | None = None) -> Job:
        done = job.model_copy(update={"status": "done" if code == 200 else "failed", "code": code, "error": error,
                                      "result": result, "finished": time.time()})
        self.save(done)
        shutil.rmtree(self.files(job.id), ignore_errors=True)
        return done

    def discard(self, job_id: str) -> None:
        shutil.rmtree(self.folder / job_id, ignore_errors=True)

    def prune(self) -> None:
        """Keep the newest finished jobs' records; the others go, and so do the folders of uploads that never
        became a job (the server stopped while receiving them) once they are an hour old."""
        if not self.folder.is_dir():
            return
        finished: list[Job] = []
        for folder in self.folder.iterdir():
            job = self.read(folder.name)
            if job is not None and job.finished:
                finished.append(job)
            elif job is None and time.time() - folder.stat().st_mtime > ABANDONED_S:
                shutil.rmtree(folder, ignore_errors=True)
        for job in sorted(finished, key=lambda j: j.created)[:-KEEP_FINISHED]:
            self.discard(job.id)


def _outcome(settings: Settings, job: Job, store: JobStore) -> tuple[int, str | None, dict[str, Any] | None]:
    """(status code, error, report) of applying the job; every expected failure becomes a message."""
    wait = settings.ingest_seconds
    try:
        if job.kind == "add":
            titles = {job.target: job.title} if job.title else None
            report = collection.add(settings, [store.files(job.id) / job.target], titles=titles, wait_s=wait)
        else:
            report = collection.remove(settings, [job.target], wait_s=wait)
        return 200, None, report.as_json(names_only=True)
    except collection.NotIndexed as exc:
        return 404, str(exc), None
    except CollectionUnreadable as exc:
        return 503, str(exc), None
    except BuildLocked as exc:
        return 409, str(exc), None
    except (SourceError, IndexProblem) as exc:
        return 422, str(exc), None
    except MemoryError:
        return 413, "too large to read in the memory available; nothing was changed", None
    except OSError as exc:
        return (507 if exc.errno in NO_SPACE else 500), describe_os_error(exc), None


def run_job(settings: Settings, job_id: str) -> None:
    """The job process: apply one change at low priority and record how it went (settings come as an argument)."""
    os.setpgrp()  # its own process group: a stopped job takes any helper processes with it
    os.nice(NICENESS)
    store = JobStore(settings.index_dir)
    job = store.read(job_id)
    if job is None:
        return
    store.save(job.model_copy(update={"status": "running"}))
    try:
        code, error, result = _outcome(settings, job, store)
    except Exception:
        log.exception("job %s failed", job_id)
        code, error, result = 500, "internal error while applying the change; see the server log", None
    store.finish(job, code, error, result)


class JobRunner:
    """In each server worker: one thread that runs the jobs submitted there, one at a time, each in a process
    forked from a forkserver started with the first job (its imports, ~10 s, are paid once, outside any job's
    time), stopping one that runs longer than REPORTQA_INGEST_SECONDS."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self.store = JobStore(settings.index_dir)
        self._queue: queue.Queue[str | None] = queue.Queue()
        self._thread: threading.Thread | None = None
        self._current: multiprocessing.process.BaseProcess | None = None
        self._lock = threading.Lock()

    def submit(self, job: Job) -> None:
        self.store.save(job)
        with self._lock:
            if self._thread is None:
                self._thread = threading.Thread(target=self._loop, name="reportqa-jobs", daemon=True)
                self._thread.start()
        self._queue.put(job.id)

    def close(self) -> None:
        """Stop taking jobs; a running one is stopped and recorded as failed (the server is shutting down)."""
        self._queue.put(None)
        process = self._current
        if process is not None and process.pid is not None:
            _kill_group(process.pid)

    def _loop(self) -> None:
        context = _context()
        while (job_id := self._queue.get()) is not None:
            try:
                self._run_one(context, job_id)
            except Exception:  # one job's failure to start must not stop the ones behind it
                log.exception("job %s could not be run", job_id)
                self._fail(job_id, 500, "the job could not be started; see the server log")

    def _run_one(self, context: Any, job_id: str) -> None:
        process = context.Process(target=run_job, args=(self.settings, job_id), name=f"reportqa-job-{job_id[:8]}")
        process.start()
        self._current = process
        process.join(self.settings.ingest_seconds)
        if process.exitcode is None:
            _kill_group(process.pid)
            process.join()
            self._fail(job_id, 413, f"reading it took longer than {self.settings.ingest_seconds:g} s, the limit "
                                    "(REPORTQA_INGEST_SECONDS); nothing was changed")
        elif process.exitcode != 0:
            self._fail(job_id, 500, f"the job's process ended with code {process.exitcode}; nothing was changed")
        self._current = None
        self.store.prune()

    def _fail(self, job_id: str, code: int, error: str) -> None:
        job = self.store.read(job_id)
        if job is not None and job.finished is None:
            self.store.finish(job, code, error)


def _context() -> Any:
    """Job processes are forked from a forkserver that has imported reportqa.jobs_preload."""
    context = multiprocessing.get_context("forkserver")
    context.set_forkserver_preload(["reportqa.jobs_preload"])
    return context


def _kill_group(pid: int) -> None:
    """The job process and its helpers; the process alone if it has not made its group yet."""
    try:
        os.killpg(pid, signal.SIGKILL)
    except OSError:
        with contextlib.suppress(OSError):
            os.kill(pid, signal.SIGKILL)
