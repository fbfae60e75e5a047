"""Run the API under uvicorn; with several workers each process builds its own app from the environment."""

from __future__ import annotations

import logging
import os

import uvicorn

from reportqa.settings import Settings, load_settings


def app_from_env() -> object:
    """uvicorn factory for worker processes: settings come from REPORTQA_* variables."""
    from api.app import create_app

    return create_app(load_settings(), warm=True)


def serve(settings: Settings) -> None:
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s %(message)s")
    os.environ["REPORTQA_INDEX_DIR"] = str(settings.index_dir)
    if settings.workers > 1:
        uvicorn.run("api.server:app_from_env", factory=True, host=settings.host, port=settings.port,
                    workers=settings.workers, access_log=False, timeout_graceful_shutdown=10,
                    timeout_keep_alive=30)
        return
    from api.app import create_app

    uvicorn.run(create_app(settings, warm=True), host=settings.host, port=settings.port, access_log=False,
                timeout_graceful_shutdown=10, timeout_keep_alive=30)
