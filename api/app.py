"""The FastAPI application factory: routes map requests onto the engine and answers onto schemas."""

from __future__ import annotations

import gc
import logging
import os
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

from fastapi import Depends, FastAPI, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.exceptions import RequestValidationError
from fastapi.middleware.cors import CORSMiddleware
from fastapi.responses import FileResponse, JSONResponse
from reportqa.api.assets import router as assets_router
from reportqa.api.chat import router as chat_router
from reportqa.api.deps import EngineDep, EngineHolder, HolderDep, require_key
from reportqa.api.docs_assets import router as docs_router
from reportqa.api.documents import router as documents_router
from reportqa.api.feedback import router as feedback_router
from reportqa.api.limits import AccessLog, BodyLimit, Overload
from reportqa.api.schemas import AnswerOut, AskRequest, CiteOut, CiteRequest, ErrorOut, Health, SearchOut, SearchRequest
from starlette.exceptions import HTTPException as StarletteHTTPException

from reportqa import __version__
from reportqa.contract import answer_json, hits_json, verdict_json
from reportqa.core.settings import Settings
from reportqa.draft import render_markdown, results_json
from reportqa.engine import QuestionError

log = logging.getLogger("reportqa.access")
STATIC_DIR = Path(__file__).parent / "static"
ERRORS: dict[int | str, dict[str, Any]] = {
    401: {"model": ErrorOut}, 413: {"model": ErrorOut}, 422: {"model": ErrorOut}, 503: {"model": ErrorOut}
}


def _validation_message(exc: RequestValidationError) -> str:
    parts = []
    for error in exc.errors():
        where = ".".join(str(p) for p in error.get("loc", ()) if p != "body") or "body"
        parts.append(f"{where}: {str(error.get('msg', 'invalid')).removeprefix('Value error, ')}")
    return "; ".join(parts) or "invalid request"


def _install_error_handlers(app: FastAPI) -> None:
    @app.exception_handler(RequestValidationError)
    async def on_validation(_: Request, exc: RequestValidationError) -> JSONResponse:
        detail = [{"loc": e.get("loc"), "msg": e.get("msg")} for e in exc.errors()]
        return JSONResponse({"error": _validation_message(exc), "detail": detail}, status_code=422)

    @app.exception_handler(StarletteHTTPException)
    async def on_http(_: Request, exc: StarletteHTTPException) -> JSONResponse:
        return JSONResponse({"error": str(exc.detail)}, status_code=exc.status_code, headers=exc.headers)

    @app.exception_handler(QuestionError)
    async def on_question(_: Request, exc: QuestionError) -> JSONResponse:
        return JSONResponse({"error": str(exc)}, status_code=422)

    @app.exception_handler(Exception)
    async def on_crash(_: Request, exc: Exception) -> JSONResponse:
        log.exception("unhandled error", exc_info=exc)
        return JSONResponse({"error": "internal error; see the server log"}, status_code=500)


def _install_middleware(app: FastAPI, settings: Settings) -> None:
    if settings.cors_origins:
        app.add_middleware(CORSMiddleware, allow_origins=settings.cors_origins, allow_methods=["GET", "POST"],
                           allow_headers=["authorization", "content-type"])

    app.add_middleware(BodyLimit, limit=settings.max_body_bytes,
                       larger={("POST", "/documents"): settings.max_upload_bytes})
    app.add_middleware(Overload, limit=settings.max_in_flight)
    app.add_middleware(AccessLog, log=log)


def warm_up(holder: EngineHolder) -> None:
    """Load the index, the English dictionary and the tagger before the first request rather than during one (the
    dictionary alone takes ~2 s: a worker loading it mid-load stalled every request queued behind it)."""
    from reportqa.index.query import preload

    try:
        holder.get()
    except Exception as exc:  # no index yet: requests get the 503 that explains it
        logging.getLogger("reportqa").warning("index not loaded at start: %s", exc)
    preload()
    gc.collect()
    gc.freeze()  # what start-up loaded stays: full collections no longer walk it (pauses showed in the p99)


def create_app(settings: Settings, holder: EngineHolder | None = None, warm: bool = False) -> FastAPI:
    """The API; `warm` (set when serving) loads everything at start-up instead of on the first requests."""

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        if warm:
            await run_in_threadpool(warm_up, app.state.holder)
        yield

    app = FastAPI(title="reportqa", version=__version__, lifespan=lifespan, docs_url=None, redoc_url=None,
                  description="Questions over Chinese research reports, answered with exact citations.")
    app.state.settings = settings
    app.state.holder = holder or EngineHolder(settings)
    _install_error_handlers(app)
    _install_middleware(app, settings)
    guarded = [Depends(require_key)]

    @app.get("/", include_in_schema=False)
    def page() -> FileResponse:
        return FileResponse(STATIC_DIR / "index.html", media_type="text/html; charset=utf-8")

    @app.get("/healthz", response_model=Health)
    def healthz(holder: HolderDep) -> Health:
        try:
            engine = holder.get()
        except Exception as exc:
            return Health(status="no-index", problem=str(exc), worker=os.getpid())
        manifest = engine.index.manifest
        return Health(status="ok", problem=holder.problem, worker=os.getpid(),
                      index={"version": engine.index.version.name, "chunks": manifest.get("n_chunks"),
                             "documents": len(manifest.get("documents", {})),
                             "embed_model": manifest.get("embed_model")})

    @app.post("/ask", response_model=AnswerOut, responses=ERRORS, dependencies=guarded)
    async def ask(body: AskRequest, engine: EngineDep) -> dict[str, Any]:
        def answer() -> dict[str, Any]:
            return answer_json(engine.ask(body.question, body.top_k, body.id))

        # a few milliseconds of CPU run inline (a thread hop and GIL hand-off cost as much again: measured
        # 112 → 192 requests/s in process); a configured LLM waits on the network, so that goes to a thread
        return answer() if engine.generator is None else await run_in_threadpool(answer)

    @app.post("/search", response_model=SearchOut, responses=ERRORS, dependencies=guarded)
    async def search(body: SearchRequest, engine: EngineDep) -> dict[str, Any]:
        return {"results": hits_json(engine.search(body.query, body.top_k))}

    @app.post("/cite", response_model=CiteOut, responses=ERRORS, dependencies=guarded)
    def cite(body: CiteRequest, engine: EngineDep) -> dict[str, Any]:
        if body.statements is not None:
            return {"results": [verdict_json(engine.cite(s), f"claim-{i}")
                                for i, s in enumerate(body.statements, start=1)]}
        draft = body.text or ""
        checked = engine.cite_draft(draft)
        return {"results": results_json(checked),
                "markdown": render_markdown(draft, checked) if body.format == "markdown" else None}

    app.include_router(chat_router, dependencies=guarded, responses=ERRORS)
    app.include_router(documents_router, dependencies=guarded, responses=ERRORS)
    app.include_router(feedback_router, dependencies=guarded, responses=ERRORS)
    app.include_router(docs_router)  # /docs, /redoc and their files: no CDN
    app.include_router(assets_router)  # the page's styles, scripts and favicon
    return app
