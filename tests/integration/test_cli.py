"""The reportqa command: batch files, --json output, JSONL corpora, exit codes, the installed script."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from reportqa import batch
from reportqa.cli import main
from reportqa.core.settings import Settings

from ..conftest import AI_DOC, CHIP_DOC, ROOT, SMALL_DOCS

CITATION_FIELDS = {"n", "doc", "title", "section", "start", "end", "line_start", "line_end", "page", "page_end",
                   "text", "score"}
ANSWER_FIELDS = {"id", "question", "answer", "abstained", "citations"}
Capture = pytest.CaptureFixture[str]
TOPIC_DOCS = {"全球AI支出": AI_DOC, "星河半导体营业收入": CHIP_DOC, "新型储能装机规模": "battery_storage.txt",
              "全固态电池能量密度": "battery_storage.txt", "量子计算市场规模": "quantum_outlook.txt",
              "北美云厂商资本开支": AI_DOC, "碳化硅产线": CHIP_DOC, "超导量子比特": "quantum_outlook.txt",
              "液流电池": "battery_storage.txt", "生成式AI应用": AI_DOC}
TOPICS = list(TOPIC_DOCS)


def read_jsonl(path: Path) -> list[dict]:
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]


def test_batch_gives_one_line_per_input_line_in_order(small_index: Settings, tmp_path: Path) -> None:
    # the ids tell the lines apart: a number in the question would be a figure to look for (22 matches 22%)
    lines = [json.dumps({"id": f"q{i:03d}", "question": f"{TOPICS[i % len(TOPICS)]}是多少？"},
                        ensure_ascii=False) for i in range(100)]
    lines.insert(10, "{not json")
    lines.insert(50, json.dumps({"id": "no-question", "query": "字段名写错了"}, ensure_ascii=False))
    lines.insert(70, "")  # blank lines produce no output
    lines.insert(80, json.dumps({"id": "blank-question", "question": "   "}))
    source = tmp_path / "in.jsonl"
    source.write_text("\n".join(lines) + "\n", encoding="utf-8")
    out = tmp_path / "out.jsonl"

    index_dir = str(small_index.index_dir)
    assert main(["ask", "--index-dir", index_dir, "--batch", str(source), "--out", str(out)]) == 0

    rows = read_jsonl(out)
    non_empty = [line for line in lines if line.strip()]
    assert len(out.read_text(encoding="utf-8").splitlines()) == len(non_empty) == 103
    expected_ids = []
    for line in lines:
        if not line.strip():
            continue
        try:
            expected_ids.append(json.loads(line)["id"])
        except json.JSONDecodeError:
            expected_ids.append(None)  # nothing to salvage: any id naming the line will do
    for row, expected in zip(rows, expected_ids, strict=True):
        if expected is not None:
            assert row["id"] == expected
    errors = {row["id"]: row for row in rows if "error" in row}
    assert len(errors) == 3, list(errors)
    bad_json = rows[10]
    assert "error" in bad_json and bad_json["id"] and "JSON" in bad_json["error"]
    assert "line 11" in bad_json["error"]
    assert "question" in errors["no-question"]["error"]
    assert "empty" in errors["blank-question"]["error"]
    for row in rows:
        assert set(row) >= ANSWER_FIELDS
        if "error" not in row:
            assert row["question"].startswith(tuple(TOPICS))
    answered = [row for row in rows if "error" not in row and not row["abstained"]]
    assert len(answered) >= 50
    for row in answered:
        assert row["citations"] and all(set(c) == CITATION_FIELDS for c in row["citations"])
        assert row["answer"]
        topic = next(t for t in TOPICS if row["question"].startswith(t))
        assert row["citations"][0]["doc"] == TOPIC_DOCS[topic], row["question"]


def test_batch_workers_flag_forks_and_keeps_every_row(small_index: Settings, tmp_path: Path,
                                                      monkeypatch: pytest.MonkeyPatch) -> None:
    """`--workers 2` answers through two forked processes: the file is byte for byte the one-process file."""
    monkeypatch.setattr("reportqa.batch.MIN_LINES_PER_WORKER", 4)
    forks: list[int] = []
    real_forked_rows = batch.forked_rows

    def counted(*args: Any) -> Any:
        forks.append(args[-1])
        return real_forked_rows(*args)

    monkeypatch.setattr(batch, "forked_rows", counted)
    lines = [json.dumps({"id": f"q{i}", "question": f"{TOPICS[i % len(TOPICS)]}是多少？"}, ensure_ascii=False)
             for i in range(12)]
    source = tmp_path / "in.jsonl"
    source.write_text("\n".join([*lines[:5], "{broken", *lines[5:]]) + "\n", encoding="utf-8")
    outputs = []
    for workers in ("1", "2"):
        out = tmp_path / f"out-{workers}.jsonl"
        assert main(["ask", "--index-dir", str(small_index.index_dir), "--batch", str(source), "--out", str(out),
                     "--workers", workers]) == 0
        outputs.append(out.read_bytes())
    assert forks == [2]
    assert outputs[0] == outputs[1] and len(outputs[0].splitlines()) == 13


def test_batch_to_stdout(small_index: Settings, tmp_path: Path, capsys: Capture) -> None:
    source = tmp_path / "in.jsonl"
    first = json.dumps({"id": "a", "question": "星河半导体2025年营业收入是多少？"}, ensure_ascii=False)
    source.write_text(first + "\n[1, 2]\n", encoding="utf-8")
    assert main(["ask", "--index-dir", str(small_index.index_dir), "--batch", str(source)]) == 0
    rows = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    assert [r["id"] for r in rows] == ["a", "line-2"]
    assert rows[0]["citations"][0]["doc"] == CHIP_DOC
    assert "error" in rows[1] and "error" not in rows[0]


def test_ask_json_prints_the_contract(small_index: Settings, capsys: Capture) -> None:
    question = "2026年全球AI支出预计达到多少？"
    assert main(["ask", "--index-dir", str(small_index.index_dir), "--json", "--top-k", "3", question]) == 0
    answer = json.loads(capsys.readouterr().out)
    assert ANSWER_FIELDS | {"confidence", "low_confidence", "source", "sentences", "degraded"} == set(answer)
    assert answer["source"] in {s["citation"] for s in answer["sentences"]}  # the best sentence is one of them
    assert answer["question"] == question and answer["id"] == ""
    assert answer["abstained"] is False
    assert "2.59万亿美元" in answer["answer"]
    assert 1 <= len(answer["citations"]) <= 3
    first = answer["citations"][0]
    assert set(first) == CITATION_FIELDS
    assert [c["n"] for c in answer["citations"]] == list(range(1, len(answer["citations"]) + 1))
    assert first["doc"] == AI_DOC and first["title"] == SMALL_DOCS[AI_DOC][0]
    source = SMALL_DOCS[AI_DOC][1]
    assert "2.59万亿美元" in source[first["start"] : first["end"]]
    assert first["line_start"] == source.count("\n", 0, first["start"]) + 1
    assert first["page"] is None and isinstance(first["score"], float)
    assert first["section"].startswith("第一章")


def test_ask_plain_text(small_index: Settings, capsys: Capture) -> None:
    assert main(["ask", "--index-dir", str(small_index.index_dir), "星河半导体2025年营业收入是多少？"]) == 0
    out = capsys.readouterr().out
    assert "[1]" in out and f"{CHIP_DOC}:" in out and "星河半导体" in out


def test_index_from_jsonl_cites_the_given_ids(tmp_path: Path, capsys: Capture) -> None:
    corpus = tmp_path / "docs.jsonl"
    ids = {AI_DOC: "RPT-2026-AI", CHIP_DOC: "RPT-XH-01", "battery_storage.txt": "RPT-ESS-07",
           "quantum_outlook.txt": "RPT-QC-03"}
    rows = [{"id": ids[name], "title": title, "text": text} for name, (title, text) in SMALL_DOCS.items()]
    corpus.write_text("".join(json.dumps(row, ensure_ascii=False) + "\n" for row in rows), encoding="utf-8")
    index_dir = tmp_path / "idx"
    assert main(["index", "--index-dir", str(index_dir), "--corpus", str(corpus)]) == 0
    report = json.loads(capsys.readouterr().out)
    assert report["documents"] == 4 and report["chunks"] > 4 and report["skipped"] == []

    assert main(["ask", "--index-dir", str(index_dir), "--json", "星河半导体2025年营业收入是多少？"]) == 0
    answer = json.loads(capsys.readouterr().out)
    assert answer["citations"][0]["doc"] == "RPT-XH-01"
    assert answer["citations"][0]["title"] == SMALL_DOCS[CHIP_DOC][0]
    assert {c["doc"] for c in answer["citations"]} <= set(ids.values())

    # --if-missing leaves a present index alone
    version = (index_dir / "CURRENT").read_text(encoding="utf-8")
    assert main(["index", "--index-dir", str(index_dir), "--corpus", str(corpus), "--if-missing"]) == 0
    assert (index_dir / "CURRENT").read_text(encoding="utf-8") == version


def test_index_of_a_malformed_jsonl_exits_2(tmp_path: Path, capsys: Capture) -> None:
    corpus = tmp_path / "docs.jsonl"
    good = json.dumps({"id": "a", "title": "t", "text": "正文内容。"}, ensure_ascii=False)
    corpus.write_text(good + '\n{"title": "no id"}\n', encoding="utf-8")
    assert main(["index", "--index-dir", str(tmp_path / "idx"), "--corpus", str(corpus)]) == 2
    err = capsys.readouterr().err
    assert "docs.jsonl:2" in err


def test_one_short_document_is_indexed(tmp_path: Path, capsys: Capture) -> None:
    folder = tmp_path / "one"
    folder.mkdir()
    (folder / "note.txt").write_text("第一章 概述\n星河半导体在2025年实现营业收入128亿元，同比增长36%。\n",
                                     encoding="utf-8")
    assert main(["index", "--index-dir", str(tmp_path / "idx"), "--corpus", str(folder)]) == 0
    capsys.readouterr()
    assert main(["ask", "--index-dir", str(tmp_path / "idx"), "--json", "星河半导体2025年的营业收入是多少？"]) == 0
    assert json.loads(capsys.readouterr().out)["citations"][0]["doc"] == "note.txt"


def test_index_if_missing_keeps_a_readable_index_and_rebuilds_an_outdated_one(tmp_path: Path,
                                                                            capsys: Capture) -> None:
    folder = tmp_path / "one"
    folder.mkdir()
    (folder / "note.txt").write_text("星河半导体在2025年实现营业收入128亿元，同比增长36%。\n", encoding="utf-8")
    args = ["index", "--if-missing", "--index-dir", str(tmp_path / "idx"), "--corpus", str(folder)]
    assert main(args) == 0
    first = json.loads(capsys.readouterr().out)["version"]
    assert main(args) == 0
    assert "index present" in capsys.readouterr().err
    manifest_path = Path(first) / "manifest.json"
    manifest = json.loads(manifest_path.read_text(encoding="utf-8"))
    manifest_path.write_text(json.dumps(manifest | {"format_version": 1}), encoding="utf-8")
    assert main(args) == 0
    captured = capsys.readouterr()
    assert "has format 1" in captured.err and json.loads(captured.out)["version"] != first


def test_missing_index_exits_2_with_a_clear_message(tmp_path: Path, capsys: Capture) -> None:
    missing = tmp_path / "no-index"
    assert main(["ask", "--index-dir", str(missing), "任何问题"]) == 2
    captured = capsys.readouterr()
    assert captured.out == ""
    assert captured.err.startswith("reportqa ask: ")
    assert "no index" in captured.err and f"reportqa index --index-dir {missing}" in captured.err
    assert "Traceback" not in captured.err


def test_empty_question_and_bad_top_k_exit_2(small_index: Settings, capsys: Capture) -> None:
    assert main(["ask", "--index-dir", str(small_index.index_dir), "   "]) == 2
    assert "empty" in capsys.readouterr().err
    assert main(["ask", "--index-dir", str(small_index.index_dir), "--top-k", "0", "星河半导体"]) == 2
    assert "top_k" in capsys.readouterr().err
    assert main(["ask", "--index-dir", str(small_index.index_dir)]) == 2
    assert "--batch" in capsys.readouterr().err


def test_missing_batch_file_exits_2(small_index: Settings, tmp_path: Path, capsys: Capture) -> None:
    missing = str(tmp_path / "nope.jsonl")
    assert main(["ask", "--index-dir", str(small_index.index_dir), "--batch", missing]) == 2
    assert "nope.jsonl" in capsys.readouterr().err


def test_installed_script_answers(small_index: Settings, tmp_path: Path) -> None:
    script = Path(sys.executable).parent / "reportqa"
    assert script.is_file(), f"{script} is not installed"
    env = {k: v for k, v in os.environ.items() if not k.startswith("REPORTQA_")}
    env |= {"HF_HUB_OFFLINE": "1", "TRANSFORMERS_OFFLINE": "1"}
    question = "全固态电池的能量密度有望达到多少？"
    result = subprocess.run(
        [str(script), "ask", "--index-dir", str(small_index.index_dir), "--json", question],
        capture_output=True, text=True, timeout=120, cwd=tmp_path, env=env, check=False,
    )
    assert result.returncode == 0, result.stderr
    answer = json.loads(result.stdout)
    assert answer["abstained"] is False
    assert "500瓦时" in answer["answer"]
    assert answer["citations"][0]["doc"] == "battery_storage.txt"

    missing = subprocess.run([str(script), "ask", "--index-dir", str(tmp_path / "none"), "问题"],
                             capture_output=True, text=True, timeout=120, cwd=ROOT, env=env, check=False)
    assert missing.returncode == 2
    assert "reportqa index" in missing.stderr and "Traceback" not in missing.stderr
