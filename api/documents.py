"""Document endpoints: list, inspect, upload (type checked by content), delete; each change is a new version."""

from __future__ import annotations

import json
import re
import tempfile
from pathlib import Path
from typing import Annotated, Any

from fastapi import APIRouter, HTTPException, Query, Request
from reportqa.api.deps import EngineDep, SettingsDep
from reportqa.index.store import BuildLocked, IndexProblem
from reportqa.ingest.load import MANIFEST_NAME

from reportqa.collection import add, listing, remove
from reportqa.contract import citation_json

router = APIRouter(prefix="/documents")
_SAFE_NAME = re.compile(r"^[\w\-.()（）\u3400-\u9fff ]{1,200}$")


@router.get("")
def documents(settings: SettingsDep) -> dict[str, Any]:
    try:
        return {"documents": listing(settings)}
    except IndexProblem as exc:
        raise HTTPException(503, str(exc)) from exc


@router.get("/{doc}")
def document(doc: str, engine: EngineDep) -> dict[str, Any]:
    """Only names in the index are served; nothing is read from disk by the name given."""
    facts = engine.index.manifest.get("documents", {}).get(doc)
    if facts is None:
        raise HTTPException(404, f"no indexed document named {doc!r}")
    chunks = [citation_json(n, c, 0.0) | {"id": c.id, "kind": c.kind}
              for n, c in enumerate((c for c in engine.index.chunks if c.doc == doc), start=1)]
    return {"doc": doc, **{k: v for k, v in facts.items() if k != "key"}, "chunk_list": chunks}


def _checked_name(name: str) -> str:
    base = Path(name).name
    if base != name or not _SAFE_NAME.match(base) or base.startswith("."):
        raise HTTPException(422, "name must be a plain file name such as report.pdf (no folders)")
    return base


@router.post("", status_code=201)
async def upload(request: Request, settings: SettingsDep,
                 name: Annotated[str, Query(description="file name, e.g. report.pdf")],
                 title: Annotated[str | None, Query(max_length=300, description="the report's title")] = None,
                 ) -> dict[str, Any]:
    """The raw file as the request body; its type is checked from the bytes, not the name alone."""
    base = _checked_name(name)
    body = await request.body()
    if not body:
        raise HTTPException(422, "the uploaded file is empty")
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / base
        path.write_bytes(body)
        if title:
            (Path(folder) / MANIFEST_NAME).write_text(json.dumps({base: {"title": title}}, ensure_ascii=False),
                                                     encoding="utf-8")
        try:
            report = add(settings, [path])
        except BuildLocked as exc:
            raise HTTPException(409, str(exc)) from exc
        except IndexProblem as exc:
            raise HTTPException(422, str(exc)) from exc
    return report.as_json()


@router.delete("/{doc}")
def delete(doc: str, settings: SettingsDep) -> dict[str, Any]:
    try:
        return remove(settings, [doc]).as_json()
    except BuildLocked as exc:
        raise HTTPException(409, str(exc)) from exc
    except IndexProblem as exc:
        raise HTTPException(404, str(exc)) from exc
