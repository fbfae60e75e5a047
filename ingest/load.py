"""Reading source files from disk: the only place ingest touches the file system."""

from __future__ import annotations

import json
import zipfile
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path

from reportqa.ingest.decoding import SourceError, decode
from reportqa.ingest.formats import READERS
from reportqa.ingest.limits import UNLIMITED, IngestLimits, checked_doc_name
from reportqa.ingest.pdf_reader import PDF_HEADER_WINDOW, PDF_MAGIC

from reportqa.core.types import Document

TEXT_SUFFIXES = frozenset({".txt", ".md", ".markdown"})
MANIFEST_NAME = "manifest.json"
_CONVERT_HINTS = {".doc": "save it as .docx", ".wps": "save it as .docx", ".rtf": "save it as .docx",
                  ".pptx": "export it as PDF", ".ppt": "export it as PDF", ".mhtml": "save it as .html"}


@dataclass(frozen=True, slots=True)
class Skipped:
    path: str
    reason: str


@dataclass(frozen=True, slots=True)
class Sourced:
    """A document and the file it was read from."""

    document: Document
    path: Path


def read_titles(folder: Path) -> dict[str, str]:
    """Titles from a folder's manifest.json ({"file name": {"title": ...}}); SourceError when it is malformed."""
    manifest = folder / MANIFEST_NAME
    if not manifest.is_file():
        return {}
    try:
        entries = json.loads(manifest.read_text(encoding="utf-8"))
        return {str(name): str(entry.get("title", name)) for name, entry in entries.items()}
    except (ValueError, AttributeError, TypeError) as exc:
        raise SourceError(f"{manifest}: not a {{\"file name\": {{\"title\": ...}}}} object ({exc})") from exc


def read_text_file(path: Path, title: str | None = None) -> Document:
    data = path.read_bytes()
    if not data.strip():
        raise SourceError("empty file")
    text = decode(data).replace("\r\n", "\n")
    return Document(doc=path.name, title=title or path.stem, text=text)


def read_jsonl(path: Path) -> Iterator[Document]:
    """Pre-extracted documents, one {"id", "title", "text"} per line; an id follows the rules of a file name."""
    try:
        lines = path.read_bytes().decode("utf-8").splitlines()
    except UnicodeDecodeError as exc:
        raise SourceError(f"{path.name}: not UTF-8 text ({exc.reason} at byte {exc.start})") from exc
    for number, line in enumerate(lines, start=1):
        if not line.strip():
            continue
        try:
            row = json.loads(line)
            if not isinstance(row, dict) or not isinstance(row.get("text"), str) or "id" not in row:
                raise TypeError("a JSON object with an id and a text string is expected")
            doc = checked_doc_name(str(row["id"]))
            yield Document(doc=doc, title=str(row.get("title") or doc), text=row["text"])
        except (ValueError, TypeError) as exc:  # JSONDecodeError and SourceError are ValueErrors
            raise SourceError(f"{path.name}:{number}: not a {{id, title, text}} object ({exc})") from exc


def supported(name: str) -> None:
    """SourceError unless a file of this name can be read (by its suffix)."""
    suffix = Path(name).suffix.lower()
    if suffix not in TEXT_SUFFIXES and suffix not in READERS and suffix != ".jsonl":
        hint = f" ({_CONVERT_HINTS[suffix]})" if suffix in _CONVERT_HINTS else ""
        raise SourceError(f"unsupported type {Path(name).suffix or '(none)'}{hint}")


def check_type(path: Path) -> None:
    """A cheap look at the bytes before any reading work: a PDF has its header, a DOCX is a Word package."""
    suffix = path.suffix.lower()
    with path.open("rb") as handle:
        head = handle.read(PDF_HEADER_WINDOW)
    if suffix == ".pdf" and PDF_MAGIC not in head:
        raise SourceError("not a PDF (content does not match the extension)")
    if suffix == ".docx":
        try:
            with zipfile.ZipFile(path) as archive:  # reads the archive's directory only
                package = "word/document.xml" in archive.namelist()
        except (zipfile.BadZipFile, ValueError, OSError):
            package = False
        if not package:
            raise SourceError("not a DOCX (content does not match the extension)")


def read_source(path: Path, title: str | None = None, limits: IngestLimits = UNLIMITED) -> Document:
    """One file through the reader its suffix names; SourceError says why a file cannot be used."""
    suffix = path.suffix.lower()
    if suffix in TEXT_SUFFIXES:
        return read_text_file(path, title)
    reader = READERS.get(suffix)
    if reader is None:
        supported(path.name)
        raise SourceError(f"unsupported type {path.suffix}")
    return reader(path, title, limits)


def load_sources(sources: Iterable[Path], limits: IngestLimits = UNLIMITED, titles: dict[str, str] | None = None
                 ) -> tuple[list[Sourced], list[Skipped]]:
    """Documents with the file each came from: folders, text, PDF, DOCX, HTML and JSONL files; an unreadable file
    is skipped with a reason. `titles` (file name → title) wins over a folder's manifest.json."""
    found: list[Sourced] = []
    skipped: list[Skipped] = []
    for source in sources:
        if source.suffix == ".jsonl":
            found.extend(Sourced(document, source) for document in read_jsonl(source))
            continue
        if source.is_dir():
            named = read_titles(source)
            files = sorted(p for p in source.iterdir() if p.is_file() and p.name != MANIFEST_NAME)
        elif source.is_file():
            named, files = read_titles(source.parent), [source]
        else:
            raise SourceError(f"no such file or folder: {source}")
        named |= titles or {}
        for path in files:
            try:
                found.append(Sourced(read_source(path, named.get(path.name), limits), path))
            except (OSError, SourceError) as exc:
                skipped.append(Skipped(str(path), str(exc)))
    return found, skipped


def load_documents(sources: Iterable[Path], limits: IngestLimits = UNLIMITED) -> tuple[list[Document], list[Skipped]]:
    """Documents from folders, text, PDF, DOCX, HTML and JSONL files; unreadable files are skipped with a reason."""
    found, skipped = load_sources(sources, limits)
    return [s.document for s in found], skipped
