"""The health check (unhealthy when the current index version cannot be read) and the web page."""

from __future__ import annotations

import os
from pathlib import Path

from fastapi import APIRouter, Request
from fastapi.responses import FileResponse, JSONResponse
from reportqa.api.deps import HolderDep, SettingsDep
from reportqa.api.errors import public_message
from reportqa.api.schemas import Health
from reportqa.index.store import IndexProblem, current_version_path, read_manifest

STATIC_DIR = Path(__file__).parent / "static"
router = APIRouter()


@router.get("/", include_in_schema=False)
def page() -> FileResponse:
    """Public even with an API key set: static HTML that holds no data (it asks for the key to call the API)."""
    return FileResponse(STATIC_DIR / "index.html", media_type="text/html; charset=utf-8")


def _unreadable_current(index_dir: Path) -> str | None:
    """Why the version CURRENT names cannot be read, or None: what makes writes refused and health unhealthy."""
    try:
        read_manifest(current_version_path(index_dir))
    except IndexProblem as exc:
        return str(exc)
    return None


@router.get("/healthz", response_model=Health, responses={503: {"model": Health}})
def healthz(request: Request, holder: HolderDep, settings: SettingsDep) -> JSONResponse:
    """200 while the current version is loaded; 503 when it cannot be read (answers may still come from the
    version loaded before, which `index` then shows)."""
    def reply(status: int, health: Health) -> JSONResponse:
        if health.problem:
            health.problem = public_message(health.problem, settings.index_dir)
        return JSONResponse(health.model_dump(), status_code=status)

    try:
        engine = holder.get()
    except Exception as exc:
        return reply(503, Health(status="no-index", problem=str(exc), worker=os.getpid()))
    manifest = engine.index.manifest
    served = {"version": engine.index.version.name, "chunks": manifest.get("n_chunks"),
              "documents": len(manifest.get("documents", {})), "embed_model": manifest.get("embed_model")}
    problem = holder.problem or _unreadable_current(settings.index_dir)
    degraded = engine.index.check()
    status = "unhealthy" if problem else "degraded" if degraded else "ok"
    return reply(503 if problem else 200, Health(status=status, problem=problem, worker=os.getpid(), index=served,
                                                 degraded=degraded))
