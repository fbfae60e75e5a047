"""Adding, replacing and removing documents without a rebuild, and the /documents endpoints."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from reportqa.api.app import create_app
from reportqa.index.query import analyze
from reportqa.index.search import SearchWeights

import reportqa.collection as collection
from reportqa.core.settings import Settings
from reportqa.engine import build, open_engine
from tests.conftest import AI_DOC, BATTERY_DOC, CHIP_DOC, QUANTUM_DOC, small_settings
from tests.support import finished_job

QUESTIONS = ["2026年全球AI支出预计是多少？", "星河半导体的研发人员有多少？", "固态电池的能量密度", "量子计算市场规模"]


def snapshot(settings: Settings) -> tuple[list[str], list[list[str]]]:
    """Chunk ids and the ranked results of a few questions: what must not depend on how the index was made."""
    engine = open_engine(settings)
    ids = [c.id for c in engine.index.chunks]
    ranked = [[h.chunk.id for h in engine.index.search(analyze(q), 5, SearchWeights())] for q in QUESTIONS]
    return ids, ranked


@pytest.fixture()
def folders(small_corpus: Path, tmp_path: Path) -> tuple[Path, Path]:
    full, partial = tmp_path / "full", tmp_path / "partial"
    shutil.copytree(small_corpus, full)
    shutil.copytree(small_corpus, partial)
    (partial / QUANTUM_DOC).unlink()
    return full, partial


def test_add_then_remove_matches_full_rebuilds(folders: tuple[Path, Path], tmp_path: Path) -> None:
    full, partial = folders
    reference = small_settings(tmp_path / "ref", full)
    build(reference)
    incremental = small_settings(tmp_path / "inc", partial)
    build(incremental)
    report = collection.add(incremental, [full / QUANTUM_DOC])
    assert report.added == (QUANTUM_DOC,) and set(report.unchanged) == {AI_DOC, BATTERY_DOC, CHIP_DOC}
    assert snapshot(incremental) == snapshot(reference)

    removed = collection.remove(incremental, [QUANTUM_DOC])
    assert removed.removed == (QUANTUM_DOC,)
    reference_without = small_settings(tmp_path / "ref2", partial)
    build(reference_without)
    assert snapshot(incremental) == snapshot(reference_without)


def test_replacing_a_document_and_back_matches_the_original(folders: tuple[Path, Path], tmp_path: Path) -> None:
    full, _ = folders
    settings = small_settings(tmp_path / "idx", full)
    build(settings)
    before = snapshot(settings)
    edited = tmp_path / "edited" / CHIP_DOC
    edited.parent.mkdir()
    edited.write_text((full / CHIP_DOC).read_text(encoding="utf-8").replace("128亿元", "131亿元"), encoding="utf-8")
    assert collection.add(settings, [edited]).updated == (CHIP_DOC,)
    assert "131亿元" in open_engine(settings).ask("星河半导体2025年营业收入是多少？").text
    collection.add(settings, [full / CHIP_DOC])
    assert snapshot(settings) == before


def test_only_changed_documents_are_processed(folders: tuple[Path, Path], tmp_path: Path,
                                              monkeypatch: pytest.MonkeyPatch) -> None:
    full, _ = folders
    settings = small_settings(tmp_path / "idx", full)
    build(settings)
    calls: list[int] = []
    real = collection.clean_text
    monkeypatch.setattr(collection, "clean_text", lambda text: calls.append(1) or real(text))
    (full / BATTERY_DOC).write_text("第一章 储能\n储能电站累计装机达到120吉瓦。\n", encoding="utf-8")
    report = build(settings)
    assert len(calls) == 1
    assert report.updated == (BATTERY_DOC,) and len(report.unchanged) == 3


def test_duplicate_content_under_another_name_is_reported(folders: tuple[Path, Path], tmp_path: Path) -> None:
    full, _ = folders
    shutil.copy(full / AI_DOC, full / "copy_of_ai.txt")
    report = build(small_settings(tmp_path / "idx", full))
    assert report.documents == 4
    assert [(Path(s.path).name, s.reason) for s in report.skipped] == [
        ("copy_of_ai.txt", f"duplicate of {AI_DOC} (same content)")]


def test_remove_unknown_document_is_refused(small_index: Settings, tmp_path: Path) -> None:
    settings = small_index.model_copy(update={"index_dir": tmp_path / "copy"})
    shutil.copytree(small_index.index_dir, settings.index_dir)
    with pytest.raises(collection.IndexProblem, match=r"not in the index: nope\.txt"):
        collection.remove(settings, ["nope.txt"])


def test_documents_endpoints_round_trip(folders: tuple[Path, Path], tmp_path: Path) -> None:
    full, partial = folders
    settings = small_settings(tmp_path / "idx", partial)
    build(settings)
    client = TestClient(create_app(settings))
    assert {d["doc"] for d in client.get("/documents").json()["documents"]} == {AI_DOC, BATTERY_DOC, CHIP_DOC}

    accepted = client.post("/documents", params={"name": QUANTUM_DOC, "title": "量子计算产业发展报告"},
                           content=(full / QUANTUM_DOC).read_bytes())
    assert accepted.json()["status"] == "queued" and accepted.json()["target"] == QUANTUM_DOC
    created = finished_job(client, accepted)
    assert created["status"] == "done" and created["code"] == 200 and created["result"]["added"] == [QUANTUM_DOC]
    answer = client.post("/ask", json={"question": "2030年全球量子计算市场规模预计是多少？"}).json()
    assert "80亿美元" in answer["answer"]  # the running app picked up the new version without a restart
    detail = client.get(f"/documents/{QUANTUM_DOC}").json()
    assert detail["title"] == "量子计算产业发展报告" and detail["chunk_list"][0]["doc"] == QUANTUM_DOC

    assert finished_job(client, client.delete(f"/documents/{QUANTUM_DOC}"))["result"]["removed"] == [QUANTUM_DOC]
    assert client.get(f"/documents/{QUANTUM_DOC}").status_code == 404


def test_documents_endpoints_refuse_bad_names_and_files(small_index: Settings) -> None:
    client = TestClient(create_app(small_index))
    for name in ("../../etc/passwd", "/etc/passwd", "%2e%2e%2fetc%2fpasswd", "..%2F..%2Fetc%2Fpasswd"):
        reply = client.get(f"/documents/{name}")
        assert reply.status_code == 404 and "root:" not in reply.text
    assert client.post("/documents", params={"name": "../x.txt"}, content=b"abc").status_code == 422
    junk = client.post("/documents", params={"name": "fake.pdf"}, content=b"\x00\x01 not a pdf")
    assert junk.status_code == 422 and "pdf" in junk.json()["error"].lower()
