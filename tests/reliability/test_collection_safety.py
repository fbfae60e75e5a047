"""The collection is never lost (issue 22, items 3-5): a change is refused when the current version cannot be read,
`reportqa index` rebuilds every document (uploads included) from what the index keeps, concurrent changes lose
nothing, and a missing or damaged document-cache entry is rebuilt instead of blocking every change."""

from __future__ import annotations

import json
import shutil
import threading
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from reportqa.api.app import create_app
from reportqa.index.doccache import DocCache
from reportqa.index.store import CURRENT, MANIFEST, VERSIONS, CollectionUnreadable, current_version_path

from reportqa import collection
from reportqa.cli import main
from reportqa.core.settings import Settings
from reportqa.engine import open_engine

from ..conftest import SMALL_DOCS

UPLOADED = "storage_note.txt"
UPLOADED_TEXT = "第一章 储能\n液流电池储能电站的装机规模达到12吉瓦。\n"


@pytest.fixture
def settings(small_index: Settings, tmp_path: Path) -> Settings:
    """A private copy of the small index with one document added (its source kept under the index)."""
    copy = small_index.model_copy(update={"index_dir": tmp_path / "index"})
    shutil.copytree(small_index.index_dir, copy.index_dir)
    source = tmp_path / "upload" / UPLOADED
    source.parent.mkdir()
    source.write_text(UPLOADED_TEXT, encoding="utf-8")
    collection.add(copy, [source])
    source.unlink()  # the index must not need the file it was added from
    return copy


def indexed(settings: Settings) -> set[str]:
    return {c.doc for c in open_engine(settings).index.chunks}


def delete_current(settings: Settings) -> None:
    (settings.index_dir / CURRENT).unlink()


def damage_manifest(settings: Settings) -> None:
    manifest = current_version_path(settings.index_dir) / MANIFEST
    manifest.write_bytes(manifest.read_bytes()[:40])


@pytest.mark.parametrize("damage", [delete_current, damage_manifest], ids=["CURRENT deleted", "manifest damaged"])
def test_changes_are_refused_while_the_current_version_is_unreadable_and_index_restores_all(
        settings: Settings, damage: object, capsys: pytest.CaptureFixture[str]) -> None:
    damage(settings)  # type: ignore[operator]
    client = TestClient(create_app(settings))
    health = client.get("/healthz")
    assert health.status_code == 503 and health.json()["status"] != "ok"
    upload = client.post("/documents", params={"name": "new.txt"}, content="第一章 新\n新的报告内容。\n".encode())
    assert upload.status_code == 503 and "reportqa index" in upload.json()["error"], upload.text
    assert client.delete("/documents/ai_spending.txt").status_code == 503
    assert not (settings.index_dir / "jobs").exists() or not any((settings.index_dir / "jobs").iterdir())
    with pytest.raises(CollectionUnreadable):
        collection.remove(settings, ["ai_spending.txt"])

    assert main(["index", "--index-dir", str(settings.index_dir), "--corpus", *map(str, settings.corpus)]) == 0
    capsys.readouterr()
    assert indexed(settings) == set(SMALL_DOCS) | {UPLOADED}
    assert client.get("/healthz").status_code == 200


def test_index_rebuilds_uploads_from_the_kept_sources_alone(settings: Settings) -> None:
    for lost in (VERSIONS, "doc_cache"):
        shutil.rmtree(settings.index_dir / lost)
    (settings.index_dir / CURRENT).unlink()
    report = collection.sync(settings)
    assert set(report.added) == set(SMALL_DOCS) | {UPLOADED}
    assert "12吉瓦" in open_engine(settings).ask("液流电池储能电站的装机规模是多少？").text
    collection.remove(settings, [UPLOADED])  # removed for good: a rebuild does not bring it back
    assert UPLOADED not in collection.sync(settings).added and indexed(settings) == set(SMALL_DOCS)


def test_twenty_paired_concurrent_adds_lose_nothing(settings: Settings, tmp_path: Path) -> None:
    """Two writers add a document each at the same moment (the lost update: each read the set before taking the
    build lock, and the second publish dropped the first one's document). Threads with their own lock file
    handles contend for the lock exactly as two server processes do."""
    expected = set(SMALL_DOCS) | {UPLOADED}
    for trial in range(20):
        barrier = threading.Barrier(2)
        errors: list[BaseException] = []

        def add_when_released(source: Path, barrier: threading.Barrier = barrier,
                              errors: list[BaseException] = errors) -> None:
            barrier.wait()
            try:
                collection.add(settings, [source], wait_s=60)
            except BaseException as exc:  # reported below
                errors.append(exc)

        names = [f"race_{trial}_{side}.txt" for side in "ab"]
        for name in names:
            (tmp_path / name).write_text(f"第一章 并发\n第{trial}轮{name}的装机规模达到{trial + 3}吉瓦。\n",
                                         encoding="utf-8")
        writers = [threading.Thread(target=add_when_released, args=(tmp_path / name,)) for name in names]
        for writer in writers:
            writer.start()
        for writer in writers:
            writer.join(120)
        assert not errors, errors
        expected |= set(names)
        assert set(collection.published_documents(settings)) == expected, f"trial {trial}"
    assert indexed(settings) == expected


def _cache_entry(settings: Settings, doc: str) -> Path:
    key = collection.published_documents(settings)[doc]["key"]
    return settings.index_dir / collection.CACHE_DIR / f"{key}.json"


@pytest.mark.parametrize("harm", ["deleted", "damaged"])
def test_a_harmed_cache_entry_is_rebuilt(settings: Settings, tmp_path: Path, harm: str) -> None:
    entry = _cache_entry(settings, "xinghe_chips.txt")
    before = DocCache(entry.parent).get(entry.stem)
    if harm == "deleted":
        entry.unlink()
    else:  # still JSON, wrong content: only the checksum tells
        entry.write_bytes(entry.read_bytes().replace("星河".encode(), "银河".encode()))
    extra = tmp_path / "extra.txt"
    extra.write_text("第一章 补充\n量子计算的纠错码研究取得进展。\n", encoding="utf-8")
    report = collection.add(settings, [extra])
    assert report.added == ("extra.txt",) and "xinghe_chips.txt" in report.unchanged
    assert DocCache(entry.parent).get(entry.stem) == before
    assert collection.remove(settings, ["extra.txt"]).removed == ("extra.txt",)
    assert main(["index", "--index-dir", str(settings.index_dir), "--corpus", *map(str, settings.corpus)]) == 0
    assert "128亿元" in open_engine(settings).ask("星河半导体2025年营业收入是多少？").text


def test_a_manifest_without_checksums_is_refused(settings: Settings) -> None:
    manifest_path = current_version_path(settings.index_dir) / MANIFEST
    manifest = json.loads(manifest_path.read_text(encoding="utf-8"))
    del manifest["files"]
    manifest_path.write_text(json.dumps(manifest, ensure_ascii=False), encoding="utf-8")
    client = TestClient(create_app(settings))
    reply = client.post("/ask", json={"question": "2026年全球AI支出预计是多少？"})
    assert reply.status_code == 503 and "checksums" in reply.json()["error"]
    with pytest.raises(CollectionUnreadable, match="checksums"):
        collection.remove(settings, ["ai_spending.txt"])
