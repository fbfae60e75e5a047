"""The FastAPI application factory: routers for each group of routes, the layers in front of them, the state."""

from __future__ import annotations

import gc
import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI
from fastapi.concurrency import run_in_threadpool
from fastapi.middleware.cors import CORSMiddleware
from reportqa.api import answers, assets, chat, docs_assets, documents, feedback, health
from reportqa.api.deps import EngineHolder
from reportqa.api.errors import ERRORS, install_error_handlers
from reportqa.api.middleware import AccessLog, BodyLimit, HostAllowList, Overload, RequireKey, SameOriginWrites

from reportqa import __version__
from reportqa.core.settings import Settings

log = logging.getLogger("reportqa.access")
# answered without the API key: health, the page and its static files (no data)
PUBLIC_PATHS = frozenset({"/healthz", "/", "/favicon.ico", "/favicon.svg"})
PUBLIC_PREFIXES = ("/static/",)


def _install_middleware(app: FastAPI, settings: Settings) -> None:
    """Added innermost first: the outermost layers refuse a request before anything of its body is read."""
    app.add_middleware(BodyLimit, limit=settings.max_body_bytes, in_flight=settings.max_in_flight_body_bytes,
                       idle_seconds=settings.body_idle_seconds,
                       larger={("POST", "/documents"): settings.max_upload_bytes})
    app.add_middleware(Overload, limit=settings.max_in_flight)
    if settings.api_key is not None:
        app.add_middleware(RequireKey, key=settings.api_key.get_secret_value(), public=PUBLIC_PATHS,
                           public_prefixes=PUBLIC_PREFIXES)
    app.add_middleware(SameOriginWrites, allowed_origins=settings.cors_origins)
    if settings.cors_origins:
        app.add_middleware(CORSMiddleware, allow_origins=settings.cors_origins,
                           allow_methods=["GET", "POST", "DELETE"], allow_headers=["authorization", "content-type"])
    app.add_middleware(HostAllowList, hosts=settings.allowed_hosts)
    app.add_middleware(AccessLog, log=log)


def warm_up(holder: EngineHolder) -> None:
    """Load the index, the English dictionary, the tagger and the Chinese-numeral parser before the first request
    rather than during one (the dictionary alone takes ~2 s: a worker loading it mid-load stalled every request
    queued behind it; the numeral parser's 0.7 s of CPU, paid by the first answer that reads 两万五千, could run a
    request out of its CPU budget)."""
    from reportqa.answer.numbers import chinese_numeral
    from reportqa.index.query import preload

    try:
        holder.get()
    except Exception as exc:  # no index yet: requests get the 503 that explains it
        logging.getLogger("reportqa").warning("index not loaded at start: %s", exc)
    preload()
    chinese_numeral("两万五千")
    gc.collect()
    gc.freeze()  # what start-up loaded stays: full collections no longer walk it (pauses showed in the p99)


def create_app(settings: Settings, holder: EngineHolder | None = None, warm: bool = False) -> FastAPI:
    """The API; `warm` (set when serving) loads everything at start-up instead of on the first requests."""

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        if warm:
            await run_in_threadpool(warm_up, app.state.holder)
        yield
        app.state.jobs.close()

    app = FastAPI(title="reportqa", version=__version__, lifespan=lifespan, docs_url=None, redoc_url=None,
                  description="Questions over Chinese research reports, answered with exact citations.")
    app.state.settings = settings
    app.state.holder = holder or EngineHolder(settings)
    app.state.jobs = documents.JobRunner(settings)
    install_error_handlers(app)
    _install_middleware(app, settings)
    app.include_router(health.router)
    for router in (answers.router, chat.router, documents.router, feedback.router):
        app.include_router(router, responses=ERRORS)
    app.include_router(docs_assets.router)  # /docs, /redoc and their files: no CDN
    app.include_router(assets.router)  # the page's styles, scripts and favicon
    return app
