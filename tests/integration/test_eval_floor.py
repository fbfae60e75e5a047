"""CI's quality gate: a fixed slice of the reference sets must stay at or above the committed floors."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from reportqa.eval.cite_eval import score_claims
from reportqa.eval.datasets import DEFAULT_CLAIMS, DEFAULT_QA, load_qa, read_jsonl
from reportqa.eval.harness import engine_variant, evaluate
from reportqa.eval.metrics import floors_missed

from reportqa.core.settings import Settings
from reportqa.engine import open_engine

FLOORS = json.loads((Path(__file__).resolve().parents[2] / "eval" / "floors.json").read_text(encoding="utf-8"))
SLICE = 4  # every 4th question: all types, a few dozen questions


@pytest.mark.integration
def test_answer_quality_stays_above_the_floor(real_index: Settings) -> None:
    engine = open_engine(real_index)
    items = load_qa(DEFAULT_QA)[::SLICE]
    report = evaluate(items, {"hybrid": engine_variant(engine, engine.weights)})
    summary = report["variants"]["hybrid"]["overall"]
    assert floors_missed(summary, FLOORS["qa"]) == [], summary


@pytest.mark.integration
def test_citation_verdicts_stay_above_the_floor(real_index: Settings) -> None:
    engine = open_engine(real_index)
    result = score_claims(engine, read_jsonl(DEFAULT_CLAIMS)[::3])  # type: ignore[arg-type]
    flat = {f"accuracy.{label}": v for label, v in result["accuracy"].items()}
    flat["report_value_correct"] = result["report_value_correct"]
    assert floors_missed(flat, FLOORS["cite"]) == [], result["accuracy"]
