"""Reading reference sets: our Q&A JSONL, passage benchmarks such as CMRC 2018, and claims."""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

from reportqa.eval.metrics import Gold

PACKAGE_DIR = Path(__file__).parent
DEFAULT_QA = PACKAGE_DIR / "qa.jsonl"
DEFAULT_CLAIMS = PACKAGE_DIR / "claims.jsonl"
# the sealed set, scored once by `make eval-sealed`; eval/sealed … the one before it, each scored once (docs/), are
# training data now: the one number a rotation raises
SEALED_NUMBER = 37
SEALED = Path(f"eval/sealed{SEALED_NUMBER}")


def scored_sealed(file: str) -> tuple[str, ...]:
    """`file` of every sealed set scored so far, in the order they were written (eval/sealed, sealed2, …)."""
    return tuple(f"eval/sealed{n if n > 1 else ''}/{file}" for n in range(1, SEALED_NUMBER))


@dataclass(frozen=True, slots=True)
class QAItem:
    id: str
    question: str
    qtype: str
    lang: str
    gold: Gold


def read_jsonl(path: Path) -> list[dict[str, object]]:
    rows = []
    for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
        if line.strip():
            try:
                rows.append(json.loads(line))
            except json.JSONDecodeError as exc:
                raise ValueError(f"{path}:{number}: {exc}") from exc
    return rows


def item_from_row(row: dict[str, object]) -> QAItem:
    answers = tuple(str(a) for a in row.get("answers") or ())  # type: ignore[attr-defined]
    if "passage_id" in row:
        gold = Gold(doc=str(row["passage_id"]), answers=answers, passage_id=str(row["passage_id"]))
        qtype, lang = "passage", "zh"
    else:
        doc = row.get("doc")
        evidence = row.get("evidence")
        gold = Gold(doc=str(doc) if doc else None, answers=answers, evidence=str(evidence) if evidence else None)
        qtype, lang = str(row.get("type", "unknown")), str(row.get("lang", "zh"))
    return QAItem(str(row["id"]), str(row["question"]), qtype, lang, gold)


def load_qa(path: Path) -> list[QAItem]:
    return [item_from_row(row) for row in read_jsonl(path)]
