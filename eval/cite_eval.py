"""Score claim verdicts on the claims set: accuracy per label, top citation, the report's value."""

from __future__ import annotations

import json
import sys
import time
from pathlib import Path
from typing import Any

from reportqa.answer.numbers import quantities
from reportqa.eval.datasets import read_jsonl
from reportqa.eval.metrics import floors_missed, shares_substring, squash

from reportqa.core.progress import SILENT, Progress, for_stream
from reportqa.core.settings import Settings
from reportqa.engine import Engine

LABELS = ("supported", "contradicted", "unsupported")


def value_agrees(expected: str, given: str | None) -> bool:
    """The report's value as the eval wrote it, compared as a number where both parse."""
    if not given:
        return False
    want, got = quantities(expected), quantities(given)
    if want and got:
        return any(w.matches(g) for w in want for g in got)
    return squash(expected) in squash(given) or squash(given) in squash(expected)


def citation_right(row: dict[str, Any], doc: str, text: str) -> bool:
    evidence = squash(str(row.get("evidence") or ""))
    return doc == row.get("doc") and shares_substring(evidence, squash(text), min(len(evidence) // 2, 20))


def score_claims(engine: Engine, rows: list[dict[str, Any]], progress: Progress = SILENT) -> dict[str, Any]:
    per_label: dict[str, list[bool]] = {label: [] for label in LABELS}
    top_right: dict[str, list[bool]] = {"supported": [], "contradicted": []}
    values: list[bool] = []
    confusion: dict[str, dict[str, int]] = {a: dict.fromkeys(LABELS, 0) for a in LABELS}
    started = time.perf_counter()
    details = []
    for row in progress.track(rows, len(rows), "claims"):
        verdict = engine.cite(str(row["claim"]))
        gold = str(row["verdict"])
        per_label[gold].append(verdict.verdict == gold)
        confusion[gold][verdict.verdict] += 1
        top = verdict.citations[0].chunk if verdict.citations else None
        if gold in top_right:
            top_right[gold].append(top is not None and citation_right(row, top.doc, top.text))
        if gold == "contradicted":
            values.append(verdict.verdict == gold and value_agrees(str(row["report_value"]), verdict.report_value))
        details.append({"id": row["id"], "gold": gold, "verdict": verdict.verdict,
                        "report_value": verdict.report_value, "support": round(verdict.support, 3)})
    seconds = time.perf_counter() - started

    def rate(flags: list[bool]) -> float:
        return round(sum(flags) / len(flags), 4) if flags else 0.0

    return {
        "claims": len(rows),
        "accuracy": {label: rate(flags) for label, flags in per_label.items()},
        "top_citation_correct": {label: rate(flags) for label, flags in top_right.items()},
        "report_value_correct": rate(values),
        "confusion": confusion,
        "seconds": round(seconds, 2),
        "details": details,
    }


def cite_markdown(summary: dict[str, Any], path: Path) -> str:
    """The citation-checking part of the eval report, as a table per label."""
    lines = [f"# Citation checking: {path} ({summary['claims']} claims, {summary['seconds']} s)", "",
             "| label | verdict accuracy | top citation right |", "|---|---|---|"]
    for label in LABELS:
        top = summary["top_citation_correct"].get(label)
        lines.append(f"| {label} | {summary['accuracy'][label]:.3f} | {'–' if top is None else f'{top:.3f}'} |")
    lines += ["", f"Contradicted claims whose report value is given correctly: {summary['report_value_correct']:.3f}",
              "", "Confusion (rows: gold label, columns: verdict):", "",
              "| gold \\ verdict | " + " | ".join(LABELS) + " |", "|---|---|---|---|"]
    for gold in LABELS:
        lines.append(f"| {gold} | " + " | ".join(str(summary["confusion"][gold][v]) for v in LABELS) + " |")
    return "\n".join(lines) + "\n"


def run_cite_eval(settings: Settings, path: Path, report_dir: Path | None, floors_path: Path | None) -> int:
    from reportqa.eval.harness import ensure_index

    engine = ensure_index(settings)
    result = score_claims(engine, read_jsonl(path), for_stream(sys.stderr))
    summary = {k: v for k, v in result.items() if k != "details"}
    print(json.dumps(summary, ensure_ascii=False, indent=1))
    if report_dir:
        report_dir.mkdir(parents=True, exist_ok=True)
        (report_dir / "cite.json").write_text(json.dumps(result, ensure_ascii=False, indent=1), encoding="utf-8")
        (report_dir / "cite.md").write_text(cite_markdown(summary, path), encoding="utf-8")
    if floors_path:
        flat = {f"{k}.{label}": v for k in ("accuracy", "top_citation_correct")
                for label, v in result[k].items()} | {"report_value_correct": result["report_value_correct"]}
        missed = floors_missed(flat, json.loads(floors_path.read_text(encoding="utf-8")))
        if missed:
            print("below the committed floor: " + "; ".join(missed), file=sys.stderr)
            return 1
    return 0
