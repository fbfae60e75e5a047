"""The real corpus written as shards answers exactly as the embedded index: hits, scores, answers, verdicts.

The shards are searched in this process here (tests/integration/test_ray_backend.py runs them on Ray).
"""

from __future__ import annotations

import copy
import json
import shutil
import threading
from pathlib import Path

import numpy as np
import pytest
from reportqa.index.sharded import ShardedIndex
from reportqa.index.store import QUANTITATIVE_SHARE, IndexCorrupt, current_version_path

from reportqa.collection import add
from reportqa.core.settings import Settings
from reportqa.engine import Engine, build, open_engine
from tests.conftest import ROOT

QUESTIONS = [json.loads(line)["question"] for line in (ROOT / "eval" / "qa.jsonl").read_text("utf-8").splitlines()
             if line.strip()]


def answers(engine: Engine, questions: list[str]) -> list[tuple[object, ...]]:
    out = []
    for question in questions:
        trace = engine.run(question, 5)
        a = trace.answer
        out.append((question, [(h.chunk.id, h.score) for h in trace.hits], a.text, a.confidence, a.abstained,
                    [(c.chunk.id, c.score) for c in a.citations]))
    return out


@pytest.fixture(scope="module")
def sharded(real_index: Settings, tmp_path_factory: pytest.TempPathFactory) -> Settings:
    settings = real_index.model_copy(update={"index_dir": tmp_path_factory.mktemp("sharded"), "shards": 3})
    build(settings)
    return settings


def test_sharded_answers_equal_embedded(real_index: Settings, sharded: Settings) -> None:
    embedded, split = open_engine(real_index), open_engine(sharded)
    assert isinstance(split.index, ShardedIndex) and len(split.index.shards.names) == 3
    assert answers(split, QUESTIONS) == answers(embedded, QUESTIONS)
    claims = ["2026年全球AI支出预计达到2.59万亿美元。", "华为在2025年的研发投入超过5000亿元。"]
    assert [split.cite(c) for c in claims] == [embedded.cite(c) for c in claims]
    doc = next(iter(split.index.manifest["documents"]))
    assert split.index.document_chunks(doc) == embedded.index.document_chunks(doc)
    assert split.index.degraded() == [] and split.index.check() == []


def test_each_shard_is_an_index_folder_with_its_own_manifest(real_index: Settings, sharded: Settings) -> None:
    version = current_version_path(sharded.index_dir)
    manifest = json.loads((version / "manifest.json").read_text("utf-8"))
    assert manifest["kind"] == "sharded" and [s["name"] for s in manifest["shards"]] == [
        "shard-000", "shard-001", "shard-002"]
    docs_per_shard = []
    for shard in manifest["shards"]:
        own = json.loads((version / shard["name"] / "manifest.json").read_text("utf-8"))
        assert own["shard"]["of"] == 3 and own["n_chunks"] == shard["n_chunks"] and "bm25/data.npy" in own["files"]
        chunks = (version / shard["name"] / "chunks.jsonl").read_text("utf-8").splitlines()
        docs_per_shard.append({json.loads(line)["doc"] for line in chunks})
    assert sum(len(d) for d in docs_per_shard) == len(manifest["documents"])  # each document in one shard
    assert sum(s["n_chunks"] for s in manifest["shards"]) == manifest["n_chunks"]
    embedded = json.loads((current_version_path(real_index.index_dir) / "manifest.json").read_text("utf-8"))
    assert manifest[QUANTITATIVE_SHARE] == embedded[QUANTITATIVE_SHARE] > 0  # the whole collection's, not a shard's
    older = copy.copy(open_engine(sharded).index)  # built before the share was recorded: counted over the shards
    older.manifest = {k: v for k, v in manifest.items() if k != QUANTITATIVE_SHARE}
    older.__dict__.pop("quant", None)
    assert older.quant == pytest.approx(embedded[QUANTITATIVE_SHARE])


def test_a_damaged_shard_is_reported_not_served(sharded: Settings, tmp_path: Path) -> None:
    copy = tmp_path / "index"
    shutil.copytree(sharded.index_dir, copy)
    version = current_version_path(copy)
    data = version / "shard-001" / "bm25" / "data.npy"
    data.write_bytes(data.read_bytes()[:-8])
    with pytest.raises(IndexCorrupt, match="shard-001"):
        open_engine(replace_dir(sharded, copy))


def test_an_added_document_keeps_the_statistics_global(real_index: Settings, sharded: Settings,
                                                       tmp_path: Path) -> None:
    """After the same addition, the sharded and the embedded collection still answer alike."""
    extra = tmp_path / "新增报告.txt"
    extra.write_text("新增报告\n全球人形机器人市场规模在2025年达到38亿美元，预计2030年增长到260亿美元。\n"
                     "其中中国企业的出货量占全球的六成以上。\n", encoding="utf-8")
    embedded_dir, sharded_dir = tmp_path / "embedded", tmp_path / "sharded"
    shutil.copytree(real_index.index_dir, embedded_dir)
    shutil.copytree(sharded.index_dir, sharded_dir)
    add(replace_dir(real_index, embedded_dir), [extra])
    add(replace_dir(sharded, sharded_dir), [extra])
    questions = ["2025年全球人形机器人市场规模是多少？", *QUESTIONS[:20]]
    split = open_engine(replace_dir(sharded, sharded_dir))
    assert isinstance(split.index, ShardedIndex)
    assert answers(split, questions) == answers(open_engine(replace_dir(real_index, embedded_dir)), questions)


def replace_dir(settings: Settings, index_dir: Path) -> Settings:
    return settings.model_copy(update={"index_dir": index_dir})



def test_concurrent_questions_get_their_own_candidates(sharded: Settings) -> None:
    """Eight threads at once answer as one thread does (each answer reads its own search's candidates)."""
    from concurrent.futures import ThreadPoolExecutor

    engine = open_engine(sharded)
    questions = QUESTIONS[:40]
    alone = answers(engine, questions)
    with ThreadPoolExecutor(8) as pool:
        together = list(pool.map(lambda q: answers(engine, [q])[0], questions))
    assert together == alone


class _OneShardDown:
    """The shard set of a sharded index with one shard that does not answer (as a dead Ray replica), for the
    thread that created it only: requests in other threads find every shard."""

    def __init__(self, inner: object, down: int) -> None:
        self.inner, self.down, self.thread = inner, down, threading.get_ident()
        self.names = inner.names  # type: ignore[attr-defined]

    def tops(self, query, vector, channels):  # type: ignore[no-untyped-def]
        found = self.inner.tops(query, vector, channels)  # type: ignore[attr-defined]
        failing = threading.get_ident() == self.thread
        return [None if failing and k == self.down else top for k, top in enumerate(found)]

    def records(self, query, vector, wanted):  # type: ignore[no-untyped-def]
        return self.inner.records(query, vector, wanted)  # type: ignore[attr-defined]

    def document_chunks(self, doc):  # type: ignore[no-untyped-def]
        return self.inner.document_chunks(doc)  # type: ignore[attr-defined]

    def unavailable(self) -> list[str]:
        return [self.names[self.down]]


def test_a_shard_that_does_not_answer_is_named_in_that_answer_only(sharded: Settings) -> None:
    from concurrent.futures import ThreadPoolExecutor

    engine = open_engine(sharded)
    assert isinstance(engine.index, ShardedIndex)
    engine.index.shards = _OneShardDown(engine.index.shards, 1)  # type: ignore[assignment]
    answer = engine.ask(QUESTIONS[0])
    assert answer.degraded == ("shard-001",) and engine.index.check() == ["shard-001"]
    with ThreadPoolExecutor(1) as other_thread:  # another request's search neither clears nor borrows it
        assert other_thread.submit(lambda: engine.ask(QUESTIONS[1]).degraded).result() == ()
    assert engine.index.degraded() == ["shard-001"]


def test_the_readers_two_cosines_match_the_embedded_index(real_index: Settings, sharded: Settings) -> None:
    embedded, split = open_engine(real_index), open_engine(sharded)
    assert split.index.query_adapter is not None  # the shipped models map question vectors
    for question in QUESTIONS[:5]:
        mine, theirs = split.run(question, 5), embedded.run(question, 5)
        split_cosines, embedded_cosines = split.unit_sims(mine.query), embedded.unit_sims(theirs.query)
        assert split_cosines is not None and embedded_cosines is not None
        for hit in mine.hits[:3]:  # the latest search's records give the searched row, the shards the encoder's
            rows = split_cosines(hit)
            assert rows.shape[0] == 2 and not np.allclose(rows[0], rows[1], atol=1e-4)
            assert np.allclose(rows, embedded_cosines(hit), atol=1e-5)
