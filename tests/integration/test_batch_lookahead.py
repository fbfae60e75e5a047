"""Encoding a batch's next questions ahead changes no answer and no verdict, only when the work is done."""

from __future__ import annotations

import io
import json
from pathlib import Path
from typing import Any

import pytest

from reportqa.batch import run_file
from reportqa.contract import AnswerErrorOut, AnswerOut, CiteErrorOut, VerdictOut
from reportqa.core.settings import Settings
from reportqa.engine import Engine, open_engine

CLAIMS = ["2026年全球AI支出预计达到2.59万亿美元。", "2026年全球AI支出预计达到3.1万亿美元。",
          "火星殖民地的人口在2025年达到了十万人。", "星河半导体在2025年实现营业收入128亿元。"]
QUESTIONS = ["2026年全球AI支出预计是多少？", "星河半导体2025年营业收入是多少？", "今天天气怎么样？"]


def write_batch(path: Path, field: str, texts: list[str]) -> Path:
    rows = [json.dumps({"id": f"r{i}", field: t}, ensure_ascii=False) for i, t in enumerate(texts)]
    rows.insert(2, "{not json")
    rows.insert(3, json.dumps({"id": "empty", field: "  "}))
    path.write_text("\n".join(rows) + "\n", encoding="utf-8")
    return path


def batch_output(engine: Engine, source: Path, field: str, ahead: bool, workers: int = 1) -> str:
    def cite(qid: str, claim: str) -> dict[str, Any]:
        return VerdictOut.of(engine.cite(claim), qid).model_dump()

    def ask(qid: str, question: str) -> dict[str, Any]:
        return AnswerOut.of(engine.ask(question, None, qid)).model_dump()

    def error(qid: str, text: str, message: str) -> dict[str, Any]:
        if field == "claim":
            return CiteErrorOut(id=qid, claim=text, error=message).model_dump()
        return AnswerErrorOut(id=qid, question=text, error=message).model_dump()

    out = io.StringIO()
    run_file(source, out, field, cite if field == "claim" else ask, error, prime=engine.prime if ahead else None,
             workers=workers)
    return out.getvalue()


def test_cite_batch_with_look_ahead_matches_one_claim_at_a_time(small_index: Settings, tmp_path: Path) -> None:
    source = write_batch(tmp_path / "claims.jsonl", "claim", CLAIMS * 3)
    alone = batch_output(open_engine(small_index), source, "claim", ahead=False)
    engine = open_engine(small_index)
    ahead = batch_output(engine, source, "claim", ahead=True)
    assert ahead == alone
    assert len(engine.index.query_vectors) == len(set(CLAIMS))
    rows = [json.loads(line) for line in ahead.splitlines()]
    assert len(rows) == len(CLAIMS) * 3 + 2
    assert [r["verdict"] for r in rows if not r.get("error")][:4] == ["supported", "contradicted", "unsupported",
                                                                       "supported"]
    assert sum(1 for r in rows if r.get("error")) == 2


def test_ask_batch_with_look_ahead_matches_one_question_at_a_time(small_index: Settings, tmp_path: Path) -> None:
    source = write_batch(tmp_path / "questions.jsonl", "question", QUESTIONS)
    alone = batch_output(open_engine(small_index), source, "question", ahead=False)
    ahead = batch_output(open_engine(small_index), source, "question", ahead=True)
    assert ahead == alone
    assert len(ahead.splitlines()) == len(QUESTIONS) + 2


@pytest.mark.parametrize(("field", "texts"), [("claim", CLAIMS), ("question", QUESTIONS)])
def test_forked_workers_match_one_process(small_index: Settings, tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                          field: str, texts: list[str]) -> None:
    """The engine loaded once, copied by fork into two workers: the same rows, in the same order."""
    monkeypatch.setattr("reportqa.batch.MIN_LINES_PER_WORKER", 2)
    source = write_batch(tmp_path / "batch.jsonl", field, texts * 2)
    engine = open_engine(small_index)
    assert batch_output(engine, source, field, ahead=False, workers=2) == batch_output(engine, source, field, True)
