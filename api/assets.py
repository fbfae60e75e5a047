"""The chat page's own files (styles, scripts, icon) under /static, and the favicon browsers ask for."""

from __future__ import annotations

from pathlib import Path

from fastapi import APIRouter, HTTPException
from fastapi.responses import FileResponse

STATIC_DIR = Path(__file__).parent / "static"
STATIC_TYPES = {".css": "text/css; charset=utf-8", ".js": "text/javascript; charset=utf-8",
                ".svg": "image/svg+xml"}
FAVICON = "favicon.svg"

router = APIRouter(include_in_schema=False)


def _served(name: str) -> Path:
    """A file of the static folder by its plain name and a known type; no folders, nothing else."""
    path = STATIC_DIR / name
    if Path(name).name != name or path.suffix not in STATIC_TYPES or not path.is_file():
        raise HTTPException(404, f"no static file named {name!r}")
    return path


@router.get("/static/{name}")
def static(name: str) -> FileResponse:
    path = _served(name)
    return FileResponse(path, media_type=STATIC_TYPES[path.suffix], headers={"Cache-Control": "no-cache"})


@router.get("/favicon.ico")
@router.get("/favicon.svg")
def favicon() -> FileResponse:
    return FileResponse(STATIC_DIR / FAVICON, media_type=STATIC_TYPES[".svg"],
                        headers={"Cache-Control": "public, max-age=86400"})
