"""Request dependencies: the settings, and the current engine (reloaded when a new index version is published)."""

from __future__ import annotations

import threading
from collections.abc import Callable
from pathlib import Path
from typing import Annotated

from fastapi import Depends, HTTPException, Request
from reportqa.index.query import preload
from reportqa.index.store import CURRENT, IndexProblem, build_hint

from reportqa.core.settings import Settings
from reportqa.engine import Engine, open_engine


class EngineHolder:
    """Holds the engine for the index version CURRENT points to; swaps it when the pointer changes."""

    def __init__(self, settings: Settings, opener: Callable[[Settings], Engine] = open_engine) -> None:
        self.settings = settings
        self._opener = opener  # the Ray router opens its engine over the shard deployments
        self._engine: Engine | None = None
        self._pointer: str | None = None
        self._problem: str | None = None
        self._lock = threading.Lock()

    def _read_pointer(self) -> str | None:
        try:
            return (Path(self.settings.index_dir) / CURRENT).read_text(encoding="utf-8").strip()
        except OSError:
            return None
        except ValueError:  # not text: a broken pointer, reported by the reload attempt
            return f"<unreadable {CURRENT}>"

    def get(self) -> Engine:
        pointer = self._read_pointer()
        if pointer is None and self._engine is None:
            raise IndexProblem(f"no index in {self.settings.index_dir}; {build_hint(self.settings.index_dir)}")
        if self._engine is not None and pointer in (None, self._pointer):
            return self._engine
        with self._lock:
            if self._engine is None or pointer != self._pointer:
                try:
                    self._engine = self._opener(self.settings)
                    self._pointer, self._problem = pointer, None
                except Exception as exc:  # any failure of a new version: keep the previous good one
                    self._problem = f"index version {pointer} not loaded: {exc}"
                    if self._engine is None:
                        raise IndexProblem(self._problem) from exc
                    self._pointer = pointer
        return self._engine

    def set(self, engine: Engine) -> None:
        self._engine, self._pointer = engine, self._read_pointer()

    @property
    def problem(self) -> str | None:
        return self._problem


async def get_holder(request: Request) -> EngineHolder:  # async: no thread hop for a lookup
    holder: EngineHolder = request.app.state.holder
    return holder


async def get_settings(request: Request) -> Settings:
    settings: Settings = request.app.state.settings
    return settings


def _loaded_once() -> None:
    """What question analysis loads on first use, loaded before any request's CPU budget starts counting."""
    global _PRELOADED
    if not _PRELOADED:
        with _PRELOAD_LOCK:
            if not _PRELOADED:
                preload()
                _PRELOADED = True


_PRELOADED = False
_PRELOAD_LOCK = threading.Lock()


async def get_engine(holder: Annotated[EngineHolder, Depends(get_holder)]) -> Engine:
    try:
        engine = holder.get()
    except IndexProblem as exc:
        raise HTTPException(status_code=503, detail=str(exc)) from exc
    _loaded_once()
    return engine


EngineDep = Annotated[Engine, Depends(get_engine)]
SettingsDep = Annotated[Settings, Depends(get_settings)]
HolderDep = Annotated[EngineHolder, Depends(get_holder)]
