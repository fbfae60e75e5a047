"""`python -m eval.refusal`: AUC of each refusal signal on a Q&A file, against a small index."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from reportqa.eval.refusal import SIGNALS, main

from reportqa.core.settings import Settings

pytestmark = pytest.mark.integration


def test_refusal_signals_score_a_qa_file(small_index: Settings, tmp_path: Path,
                                         capsys: pytest.CaptureFixture[str]) -> None:
    rows = [
        {"id": "a", "question": "2026年全球AI支出预计达到多少？", "answers": ["2.59万亿美元"], "doc": "x.txt",
         "evidence": "2026年全球AI支出预计达到2.59万亿美元", "type": "numeric", "lang": "zh"},
        {"id": "u", "question": "火星殖民地的人口有多少？", "answers": [], "doc": None, "evidence": None,
         "type": "unanswerable", "lang": "zh"},
    ]
    qa = tmp_path / "qa.jsonl"
    qa.write_text("\n".join(json.dumps(r, ensure_ascii=False) for r in rows) + "\n", encoding="utf-8")
    assert main(["--qa", str(qa), "--index-dir", str(small_index.index_dir)]) == 0
    result = json.loads(capsys.readouterr().out)
    assert set(result["auc"]) == set(SIGNALS)
    assert result["auc"]["confidence"] == 1.0  # the absent subject scores lower than the known fact
