"""The index on disk: save/load round trip, manifest checks, broken and missing indexes, locking, versions."""

from __future__ import annotations

import copy
import json
import shutil
import threading
import time
import types
from collections.abc import Callable
from pathlib import Path

import faiss
import numpy as np
import pytest
import reportqa.index.store
from reportqa.index.query import analyze
from reportqa.index.rank_features import CHUNK_FEATURES, quantitative_share
from reportqa.index.search import SearchWeights, open_index
from reportqa.index.store import (
    CHUNKS,
    CURRENT,
    FAISS_FILE,
    MANIFEST,
    MODEL_DIR,
    QUANTITATIVE_SHARE,
    VERSIONS,
    BuildLocked,
    IndexCorrupt,
    IndexMismatch,
    IndexMissing,
    build_lock,
    current_version_path,
    read_chunks,
)
from reportqa.index.units import chunk_units
from reportqa.ingest.load import load_documents

from reportqa.contract import SearchOut
from reportqa.core.learned import LinearModel
from reportqa.core.settings import Settings
from reportqa.engine import build, chunk_documents, chunker_config, open_engine

from ..conftest import AI_DOC, CHIP_DOC, small_settings

QUESTIONS = ["2026年全球AI支出预计达到多少？", "星河半导体2025年营业收入是多少？", "全固态电池的能量密度",
             "超导量子比特数量", "北美云厂商资本开支"]


def ranked_ids(settings: Settings) -> dict[str, list[tuple[str, float]]]:
    engine = open_engine(settings)
    return {q: [(h.chunk.id, round(h.score, 5)) for h in engine.search(q, top_k=5)] for q in QUESTIONS}


# --- round trip ------------------------------------------------------------------------------------------


def test_round_trip_keeps_chunks_vectors_and_rankings(small_corpus: Path, tmp_path: Path) -> None:
    settings = small_settings(tmp_path / "idx", small_corpus)
    report = build(settings)
    right_after = ranked_ids(settings)

    documents, _ = load_documents(settings.corpus)
    in_memory, _ = chunk_documents(documents, chunker_config(settings))
    stored = read_chunks(report.version / CHUNKS)
    assert stored == in_memory
    assert report.chunks == len(stored) and report.documents == 4

    # the encoder reproduces the unit vectors written at build time (the engine's route or torch's: same vectors)
    engine = open_engine(settings)
    flat = faiss.read_index(str(report.version / FAISS_FILE))
    written = flat.reconstruct_n(0, flat.ntotal)
    again = engine.index.embedder.encode([u for c in stored for u in chunk_units(c)])
    assert again.shape == written.shape and float((again * written).sum(axis=1).min()) >= 0.998

    # a fresh load ranks exactly as the first one
    assert ranked_ids(settings) == right_after
    assert right_after[QUESTIONS[0]][0][0].startswith(AI_DOC)
    assert right_after[QUESTIONS[1]][0][0].startswith(CHIP_DOC)


def test_manifest_describes_the_build(small_index: Settings) -> None:
    version = current_version_path(small_index.index_dir)
    manifest = json.loads((version / MANIFEST).read_text(encoding="utf-8"))
    assert manifest["embed_model"] == "multilingual-e5-small" and manifest["dense_unit"] == "unit"
    assert manifest["dimension"] == open_index(small_index.index_dir).dense.dimension == 384
    assert manifest["chunker"] == {"max_tokens": small_index.chunk_tokens,
                                   "overlap_tokens": small_index.chunk_overlap_tokens}
    assert isinstance(manifest["corpus_hash"], str) and len(manifest["corpus_hash"]) == 64
    assert manifest["n_chunks"] == len(read_chunks(version / CHUNKS))
    assert set(manifest["documents"]) == {AI_DOC, CHIP_DOC, "battery_storage.txt", "quantum_outlook.txt"}
    assert manifest["documents"][CHIP_DOC]["title"] == "星河半导体公司年度研究"
    written = [c.text for c in read_chunks(version / CHUNKS)]
    assert manifest[QUANTITATIVE_SHARE] == quantitative_share(written) and 0.0 < manifest[QUANTITATIVE_SHARE] < 1.0


def test_an_index_built_before_the_share_was_recorded_counts_its_passages(small_index: Settings) -> None:
    index = open_index(small_index.index_dir)
    recorded = index.quant
    older = copy.copy(index)
    older.manifest = {k: v for k, v in index.manifest.items() if k != QUANTITATIVE_SHARE}
    older.__dict__.pop("quant", None)
    assert older.quant == pytest.approx(recorded) and recorded > 0


def test_corpus_hash_follows_the_content(small_corpus: Path, tmp_path: Path) -> None:
    from reportqa.index.store import corpus_hash

    documents, _ = load_documents([small_corpus])
    edited = tmp_path / "edited"
    shutil.copytree(small_corpus, edited)
    text = (small_corpus / CHIP_DOC).read_text(encoding="utf-8")
    (edited / CHIP_DOC).write_text(text.replace("128", "129"), encoding="utf-8")
    assert corpus_hash(load_documents([edited])[0]) != corpus_hash(documents)
    assert corpus_hash(list(reversed(documents))) == corpus_hash(documents)


# --- settings that do not match the index -------------------------------------------------------------


def test_other_chunk_size_is_a_mismatch_naming_both(small_index: Settings) -> None:
    asking = small_index.model_copy(update={"chunk_tokens": 200})
    with pytest.raises(IndexMismatch) as caught:
        open_engine(asking)
    message = str(caught.value)
    assert "160" in message and "200" in message
    assert f"reportqa index --index-dir {small_index.index_dir}" in message


def test_other_embedding_model_is_a_mismatch_naming_both(small_index: Settings) -> None:
    asking = small_index.model_copy(update={"embed_model": "minilm"})
    with pytest.raises(IndexMismatch) as caught:
        open_engine(asking)
    message = str(caught.value)
    assert "multilingual-e5-small" in message and "minilm" in message
    assert "Rebuild" in message and "reportqa index" in message


# --- broken indexes -----------------------------------------------------------------------------------


def _broken_copy(small_index: Settings, tmp_path: Path, breaker: Callable[[Path], None]) -> Settings:
    copy = tmp_path / "copy"
    shutil.copytree(small_index.index_dir, copy)
    breaker(current_version_path(copy))
    return small_index.model_copy(update={"index_dir": copy})


def _flip_a_byte(path: Path) -> None:
    data = bytearray(path.read_bytes())
    data[-1] ^= 0xFF
    path.write_bytes(bytes(data))


def _truncate(path: Path, keep: float = 0.5) -> None:
    data = path.read_bytes()
    path.write_bytes(data[: int(len(data) * keep)])


BREAKERS: dict[str, tuple[Callable[[Path], None], str]] = {
    "truncated dense.faiss": (lambda v: _truncate(v / FAISS_FILE), FAISS_FILE),
    "empty dense.faiss": (lambda v: _truncate(v / FAISS_FILE, 0), FAISS_FILE),
    "manifest not JSON": (lambda v: (v / MANIFEST).write_text('{"format_version": 1,', encoding="utf-8"),
                          "not valid JSON"),
    "manifest deleted": (lambda v: (v / MANIFEST).unlink(), "missing"),
    "chunks.jsonl deleted": (lambda v: (v / CHUNKS).unlink(), CHUNKS),
    "a chunk line lost": (lambda v: (v / CHUNKS).write_text(
        "".join((v / CHUNKS).read_text(encoding="utf-8").splitlines(True)[:-1]), encoding="utf-8"),
        f"{CHUNKS} is damaged"),  # caught by the checksum the manifest records
    "one byte of the BM25 data flipped": (lambda v: _flip_a_byte(next((v / "bm25").glob("data*.npy"))),
                                          "is damaged"),
    "version folder deleted": (lambda v: shutil.rmtree(v), "missing version"),
}


@pytest.mark.parametrize("damage", list(BREAKERS))
def test_broken_index_is_reported_as_corrupt(small_index: Settings, tmp_path: Path, damage: str) -> None:
    breaker, mention = BREAKERS[damage]
    settings = _broken_copy(small_index, tmp_path, breaker)
    with pytest.raises(IndexCorrupt) as caught:
        open_engine(settings)
    message = str(caught.value)
    assert mention in message
    assert str(settings.index_dir) in message
    assert "reportqa index" in message or "manifest" in message
    # the original is untouched
    assert open_engine(small_index).search("星河半导体")


@pytest.mark.parametrize("damage", ["embedding model folder deleted", "embedding model weights truncated"])
def test_broken_embedding_model_is_reported_as_corrupt(small_index: Settings, tmp_path: Path,
                                                       damage: str) -> None:
    """The corpus-fitted model lives inside its index version: damage to it is damage to the index."""
    def breaker(version: Path) -> None:
        if damage == "embedding model folder deleted":
            shutil.rmtree(version / MODEL_DIR)
        else:
            _truncate(version / MODEL_DIR / "model.safetensors")

    fitted = small_index.model_copy(update={"index_dir": tmp_path / "fitted", "embed_model": "corpus-static"})
    build(fitted)
    settings = _broken_copy(fitted, tmp_path, breaker)
    with pytest.raises(IndexCorrupt, match=r"reportqa index|rebuild"):
        open_engine(settings)


def test_missing_index_says_how_to_build(tmp_path: Path) -> None:
    with pytest.raises(IndexMissing, match="reportqa index") as caught:
        open_index(tmp_path / "nothing-here")
    assert str(tmp_path / "nothing-here") in str(caught.value)
    (tmp_path / "empty").mkdir()
    with pytest.raises(IndexMissing, match="reportqa index"):
        open_engine(Settings(index_dir=tmp_path / "empty"))


# --- concurrent builds --------------------------------------------------------------------------------


def test_a_second_build_while_one_holds_the_lock_is_refused(small_corpus: Path, tmp_path: Path) -> None:
    settings = small_settings(tmp_path / "idx", small_corpus)
    with build_lock(settings.index_dir), pytest.raises(BuildLocked, match="another build"):
        build(settings)
    assert not (settings.index_dir / CURRENT).exists()
    # once released, building works
    build(settings)
    assert (settings.index_dir / CURRENT).is_file()


def test_lock_is_held_across_threads(tmp_path: Path) -> None:
    errors: list[BaseException] = []
    held, release = threading.Event(), threading.Event()

    def holder() -> None:
        with build_lock(tmp_path):
            held.set()
            release.wait(10)

    thread = threading.Thread(target=holder)
    thread.start()
    try:
        assert held.wait(10)
        try:
            with build_lock(tmp_path):
                pass
        except BuildLocked as exc:
            errors.append(exc)
    finally:
        release.set()
        thread.join()
    assert len(errors) == 1
    with build_lock(tmp_path):  # free again
        pass


# --- versions -----------------------------------------------------------------------------------------


def _pointer(index_dir: Path) -> str:
    return (index_dir / CURRENT).read_text(encoding="utf-8").strip()


def _versions(index_dir: Path) -> list[str]:
    return sorted(p.name for p in (index_dir / VERSIONS).iterdir())


def test_rebuild_moves_the_pointer_and_keeps_the_old_version_loadable(small_corpus: Path,
                                                                      tmp_path: Path) -> None:
    settings = small_settings(tmp_path / "idx", small_corpus)
    first = build(settings).version
    engine = open_engine(settings)
    assert _pointer(settings.index_dir) == first.name
    second = build(settings).version
    assert second != first
    assert _pointer(settings.index_dir) == second.name
    assert open_engine(settings).index.version == second
    assert engine.ask("星河半导体2025年营业收入是多少？").citations  # a loaded engine keeps answering
    # the previous version is whole: pointing back at it loads it
    assert first.is_dir()
    (settings.index_dir / CURRENT).write_text(first.name, encoding="utf-8")
    rolled_back = open_engine(settings)
    assert rolled_back.index.version == first
    assert rolled_back.ask("2026年全球AI支出预计达到多少？").citations[0].chunk.doc == AI_DOC


def test_rebuilds_keep_the_two_newest_versions(small_corpus: Path, tmp_path: Path,
                                               monkeypatch: pytest.MonkeyPatch) -> None:
    """Three builds within one second: the current and the one before it stay, the first is pruned.

    The clock is scripted so the test does not depend on timing: wall time stays in one second while the
    monotonic clock moves forward by a few microseconds across a millisecond boundary, as it does on any
    machine where small builds take well under a second.
    """
    ticks = iter([1_999_000, 2_000_500, 2_003_000])

    class ScriptedClock(types.ModuleType):
        def __getattr__(self, name: str) -> object:
            return getattr(time, name)

        @staticmethod
        def strftime(fmt: str, *args: object) -> str:
            return time.strftime(fmt, time.localtime(1_767_225_600))  # always the same second

        @staticmethod
        def monotonic_ns() -> int:
            return next(ticks)

    monkeypatch.setattr(reportqa.index.store, "time", ScriptedClock("time"))
    settings = small_settings(tmp_path / "idx", small_corpus)
    built = [build(settings).version.name for _ in range(3)]
    assert _pointer(settings.index_dir) == built[2]
    assert _versions(settings.index_dir) == sorted(built[1:]), (
        f"built in order {built}; kept {_versions(settings.index_dir)}")


def test_ranked_hits_carry_every_ranker_feature_and_results_show_no_products(small_index: Settings) -> None:
    """The relevance model reads a hit's features (answer.respond.relevance_of): each must be there."""
    index = open_index(small_index.index_dir)
    ranker = LinearModel(CHUNK_FEATURES, np.zeros(len(CHUNK_FEATURES)), np.ones(len(CHUNK_FEATURES)),
                         np.eye(len(CHUNK_FEATURES))[CHUNK_FEATURES.index("bm25")], 0.0)
    hits = index.ranked(analyze(QUESTIONS[1]), 3, SearchWeights(), ranker)
    assert hits and all(set(CHUNK_FEATURES) <= set(h.channel_scores) for h in hits)
    assert hits[0].channel_scores["quant_bm25"] == pytest.approx(index.quant * hits[0].channel_scores["bm25"])
    shown = SearchOut.of(hits).results[0].channels
    assert shown["quant"] == index.quant and not any(name.startswith("quant_") for name in shown)
