"""The layers a reader can see: core, then the stages ingest → index → answer, the engine, the surfaces.

A module may import only from its own layer or a lower one; answer reads hits, never sources (no ingest).
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
LAYERS = {"core": 0, "ingest": 1, "index": 2, "answer": 3, "engine": 4, "surface": 5}
FORBIDDEN = {("answer", "ingest")}
FOLDER_PACKAGES = {"ingest": "ingest", "index": "index", "answer": "answer", "api": "surface", "eval": "surface",
                   "bench": "surface"}
ENGINE_MODULES = {"engine", "collection", "draft", "batch", "contract"}  # contract: the JSON every surface shares


def layer_of_module(name: str) -> str | None:
    """The layer of a dotted module name inside the project, None for third-party modules."""
    parts = name.split(".")
    if parts[0] == "bench":
        return "surface"
    if parts[0] != "reportqa" or len(parts) == 1:
        return "surface" if parts == ["reportqa"] else None
    head = parts[1]
    if head == "core":
        return "core"
    if head in FOLDER_PACKAGES:
        return FOLDER_PACKAGES[head]
    return "engine" if head in ENGINE_MODULES else "surface"


def module_of_file(path: Path) -> str:
    relative = path.relative_to(ROOT).with_suffix("")
    parts = list(relative.parts)
    if parts[-1] == "__init__":
        parts.pop()
    if parts[0] in {"ingest", "index", "answer", "api", "eval"}:
        parts.insert(0, "reportqa")
    return ".".join(parts)


def imported_modules(tree: ast.AST, own: str) -> list[str]:
    names = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names.extend(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            if node.level:  # relative: resolve against the importing package
                base = own.split(".")[: -node.level]
                names.append(".".join([*base, node.module] if node.module else base))
            elif node.module:
                names.append(node.module)
    return names


def violations(source: str, own: str) -> list[str]:
    mine = layer_of_module(own)
    assert mine is not None
    found = []
    for name in imported_modules(ast.parse(source), own):
        if name.split(".")[0] in {"ingest", "index", "answer", "api", "eval"}:
            found.append(f"{own} imports {name}: the stages are reportqa.{name}")
            continue
        theirs = layer_of_module(name)
        if theirs is None:
            continue
        if LAYERS[theirs] > LAYERS[mine] or (mine, theirs) in FORBIDDEN:
            found.append(f"{own} ({mine}) imports {name} ({theirs})")
    return found


SOURCES = sorted(p for folder in ("reportqa", "ingest", "index", "answer", "api", "eval", "bench")
                 for p in (ROOT / folder).rglob("*.py"))


@pytest.mark.parametrize("path", SOURCES, ids=[str(p.relative_to(ROOT)) for p in SOURCES])
def test_module_imports_only_from_lower_layers(path: Path) -> None:
    assert violations(path.read_text(encoding="utf-8"), module_of_file(path)) == []


def test_an_upward_import_is_caught() -> None:
    assert violations("from reportqa.engine import Engine\n", "reportqa.index.search") == [
        "reportqa.index.search (index) imports reportqa.engine (engine)"]
    assert violations("from reportqa.ingest.chunk import x\n", "reportqa.answer.extract") == [
        "reportqa.answer.extract (answer) imports reportqa.ingest.chunk (ingest)"]
    assert violations("from index.text import tokens\n", "reportqa.answer.extract") == [
        "reportqa.answer.extract imports index.text: the stages are reportqa.index.text"]
    assert violations("from reportqa.api.app import create_app\n", "reportqa.core.settings") == [
        "reportqa.core.settings (core) imports reportqa.api.app (surface)"]


def test_the_old_layout_would_fail() -> None:
    """Today's five upward imports at fb26067 were stages importing reportqa.types from the top package."""
    assert violations("from reportqa.types import Chunk\n", "reportqa.ingest.chunk") == [
        "reportqa.ingest.chunk (ingest) imports reportqa.types (surface)"]
