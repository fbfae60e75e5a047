"""`reportqa eval --calibrate` stores its threshold with the index; the installed package is never written."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

import reportqa.engine as engine_module
from reportqa.cli import main
from reportqa.core.learned import ModelSet
from reportqa.core.settings import Settings
from reportqa.engine import calibrated_threshold, open_engine, refusal_thresholds

from ..conftest import AI_DOC, CHIP_DOC


def test_calibrate_writes_beside_the_index_and_the_engine_reads_it(small_index: Settings, tmp_path: Path,
                                                                   capsys: pytest.CaptureFixture[str]) -> None:
    settings = small_index.model_copy(update={"index_dir": tmp_path / "index"})
    shutil.copytree(small_index.index_dir, settings.index_dir)
    shipped = engine_module.SHIPPED_CALIBRATION.read_bytes()
    qa = tmp_path / "qa.jsonl"
    rows = [{"id": "a", "question": "2026年全球AI支出预计是多少？", "answers": ["2.59万亿美元"], "doc": AI_DOC},
            {"id": "b", "question": "星河半导体2025年营业收入是多少？", "answers": ["128亿元"], "doc": CHIP_DOC},
            {"id": "c", "question": "Zorblax公司的估值是多少？", "answers": [], "doc": None}]
    qa.write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in rows), encoding="utf-8")

    assert main(["eval", "--index-dir", str(settings.index_dir), "--qa", str(qa), "--calibrate"]) == 0

    stored = json.loads((settings.index_dir / "calibration.json").read_text(encoding="utf-8"))
    assert engine_module.SHIPPED_CALIBRATION.read_bytes() == shipped
    assert calibrated_threshold(settings.index_dir) == stored["abstain_threshold"]
    assert open_engine(settings).threshold == stored["abstain_threshold"]
    assert json.loads(capsys.readouterr().out)["written"] == str(settings.index_dir / "calibration.json")
    (settings.index_dir / "calibration.json").write_text('{"abstain_threshold": 0.4242}', encoding="utf-8")
    assert open_engine(settings).threshold == 0.4242


def test_without_a_calibration_beside_the_index_the_shipped_one_is_used(tmp_path: Path) -> None:
    shipped = json.loads(engine_module.SHIPPED_CALIBRATION.read_text(encoding="utf-8"))["abstain_threshold"]
    assert calibrated_threshold(tmp_path) == shipped
    (tmp_path / "calibration.json").write_text("{not json", encoding="utf-8")
    assert calibrated_threshold(tmp_path) == shipped


def test_learned_models_carry_their_own_follow_up_threshold(small_index: Settings, tmp_path: Path) -> None:
    settings = small_index.model_copy(update={"index_dir": tmp_path / "index"})
    shutil.copytree(small_index.index_dir, settings.index_dir)
    models = open_engine(settings).models
    learned = ModelSet(models.folder, {**models.manifest, "threshold": 0.3, "follow_up_threshold": 0.1},
                       models.models, models.adapter)
    assert refusal_thresholds(settings, learned) == (0.3, 0.1)
    without = ModelSet(models.folder, {"threshold": 0.3}, models.models, models.adapter)
    assert refusal_thresholds(settings, without) == (0.3, 0.3)  # older models: one threshold for both
    unset = ModelSet(models.folder, {"threshold": 0.3, "follow_up_threshold": None}, models.models, models.adapter)
    assert refusal_thresholds(settings, unset) == (0.3, 0.3)
    assert refusal_thresholds(settings.model_copy(update={"abstain_threshold": 0.5}), learned) == (0.5, 0.5)
    (settings.index_dir / "calibration.json").write_text('{"abstain_threshold": 0.4242}', encoding="utf-8")
    assert refusal_thresholds(settings, learned) == (0.4242, 0.4242)  # a calibration stands for both
