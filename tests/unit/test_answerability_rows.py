"""The answerability rows kept beside a report: refitted per fold and turned into the figures the thresholds decide."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from reportqa.eval.answerability_rows import (
    AnswerabilityData,
    AnswerabilityRow,
    figures,
    main,
    read_rows,
    refit,
    write_rows,
)
from reportqa.eval.train_data import CONVERSATION, OFF_TOPIC


def row(n: int, *, source: str = "eval/qa.jsonl", answerable: bool = True, right: bool = True,
        later_turn: bool = False, signals: dict[str, float] | None = None) -> AnswerabilityRow:
    return AnswerabilityRow(f"q{n}", source, n % 2, 1.0, True, source == "eval/qa.jsonl", later_turn, answerable,
                            right, signals or {"a": 0.0, "b": 0.0})


def test_figures_refuse_below_each_kind_of_threshold() -> None:
    # twenty answerable report questions at 0.50..0.69: 5% may be refused, so the threshold is the second lowest
    rows = [row(n) for n in range(20)]
    probabilities = [0.5 + n / 100 for n in range(20)]
    rows += [row(20, answerable=False, right=False), row(21, answerable=False, right=False)]
    probabilities += [0.505, 0.9]  # one refused, one answered
    rows += [row(22, source=OFF_TOPIC, answerable=False, right=False)]
    probabilities += [0.1]
    # later turns: their own threshold, from the answerable later turns
    rows += [row(30 + n, source=CONVERSATION, later_turn=True) for n in range(20)]
    probabilities += [0.2 + n / 100 for n in range(20)]
    rows += [row(50, source=CONVERSATION, later_turn=True, answerable=False, right=False)]
    probabilities += [0.205]
    numbers = figures(rows, probabilities)
    assert numbers["threshold"] == 0.51 and numbers["follow-up threshold"] == 0.21
    assert numbers["report answerable refused"] == 0.05
    assert numbers["report unanswerable refused"] == 0.5
    assert numbers["report answer_ok"] == round((19 + 1) / 22, 4)
    assert numbers["turns unanswerable refused"] == 1.0
    assert numbers["later turns answerable refused"] == 0.05
    assert numbers[f"{OFF_TOPIC} refused"] == 1.0


def test_refit_learns_from_the_features_it_is_given(tmp_path: Path) -> None:
    rng = np.random.default_rng(0)
    rows = []
    for n in range(400):
        right = bool(n % 2)
        rows.append(row(n // 2, right=right, signals={"a": float(right) + rng.normal(0, 0.3), "b": rng.normal()}))
    write_rows(tmp_path / "rows.jsonl.gz", AnswerabilityData(("a", "b"), 2, rows))
    data = read_rows(tmp_path / "rows.jsonl.gz")
    assert data.features == ("a", "b") and data.folds == 2 and data.rows == rows
    with_a = refit(data.rows, data.features, data.folds)
    without_a = refit(data.rows, ("b",), data.folds)

    def separation(probabilities: list[float]) -> float:
        return float(np.mean([p if r.right else 1 - p for r, p in zip(rows, probabilities, strict=True)]))

    assert separation(with_a) > 0.75 and separation(without_a) < 0.6


def test_the_command_names_a_signal_the_rows_do_not_hold(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    write_rows(tmp_path / "rows.jsonl.gz", AnswerabilityData(("a",), 2, [row(n) for n in range(4)]))
    for wrong in (["--add", "c"], ["--drop", "b"]):
        with pytest.raises(SystemExit):
            main([str(tmp_path / "rows.jsonl.gz"), *wrong])
        assert "not a signal of these rows or not a trained feature" in capsys.readouterr().err
