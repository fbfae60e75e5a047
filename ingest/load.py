"""Reading source files from disk: the only place ingest touches the file system."""

from __future__ import annotations

import json
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path

from reportqa.ingest.decoding import SourceError, decode
from reportqa.ingest.formats import READERS

from reportqa.core.types import Document

TEXT_SUFFIXES = frozenset({".txt", ".md", ".markdown"})
MANIFEST_NAME = "manifest.json"
_CONVERT_HINTS = {".doc": "save it as .docx", ".wps": "save it as .docx", ".rtf": "save it as .docx",
                  ".pptx": "export it as PDF", ".ppt": "export it as PDF", ".mhtml": "save it as .html"}


@dataclass(frozen=True, slots=True)
class Skipped:
    path: str
    reason: str


def read_titles(folder: Path) -> dict[str, str]:
    manifest = folder / MANIFEST_NAME
    if not manifest.is_file():
        return {}
    entries = json.loads(manifest.read_text(encoding="utf-8"))
    return {name: str(entry.get("title", name)) for name, entry in entries.items()}


def read_text_file(path: Path, title: str | None = None) -> Document:
    data = path.read_bytes()
    if not data.strip():
        raise SourceError("empty file")
    text = decode(data).replace("\r\n", "\n")
    return Document(doc=path.name, title=title or path.stem, text=text)


def read_jsonl(path: Path) -> Iterator[Document]:
    """Pre-extracted documents, one {"id", "title", "text"} per line."""
    for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
        if not line.strip():
            continue
        try:
            row = json.loads(line)
            yield Document(doc=str(row["id"]), title=str(row.get("title") or row["id"]), text=str(row["text"]))
        except (json.JSONDecodeError, KeyError, TypeError) as exc:
            raise SourceError(f"{path}:{number}: not a {{id, title, text}} object ({exc})") from exc


def read_source(path: Path, title: str | None = None) -> Document:
    """One file through the reader its suffix names; SourceError says why a file cannot be used."""

    suffix = path.suffix.lower()
    if suffix in TEXT_SUFFIXES:
        return read_text_file(path, title)
    reader = READERS.get(suffix)
    if reader is None:
        hint = f" ({_CONVERT_HINTS[suffix]})" if suffix in _CONVERT_HINTS else ""
        raise SourceError(f"unsupported type {path.suffix or '(none)'}{hint}")
    return reader(path, title)


def load_documents(sources: Iterable[Path]) -> tuple[list[Document], list[Skipped]]:
    """Documents from folders, text, PDF, DOCX, HTML and JSONL files; unreadable files are skipped with a reason."""
    documents: list[Document] = []
    skipped: list[Skipped] = []
    for source in sources:
        if source.suffix == ".jsonl":
            documents.extend(read_jsonl(source))
            continue
        if source.is_dir():
            titles = read_titles(source)
            files = sorted(p for p in source.iterdir() if p.is_file() and p.name != MANIFEST_NAME)
        elif source.is_file():
            titles, files = read_titles(source.parent), [source]
        else:
            raise SourceError(f"no such file or folder: {source}")
        for path in files:
            try:
                documents.append(read_source(path, titles.get(path.name)))
            except (OSError, SourceError) as exc:
                skipped.append(Skipped(str(path), str(exc)))
    return documents, skipped
