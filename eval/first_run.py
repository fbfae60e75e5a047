"""Score a newly written set once with the shipped models, before it becomes training data: its held-out figure.

    python -m reportqa.eval.first_run --qa eval/dev2/qa.jsonl --claims eval/dev2/claims.jsonl \
        --out eval/reports/dev2-first-run.json

Run it at the commit that adds the set and before any training reads it; afterwards the set's figures are
out-of-fold ones (make eval), and this file keeps what the system did on it while it was unseen.
"""

from __future__ import annotations

import argparse
import json
import subprocess
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from reportqa.eval.cite_eval import score_claims
from reportqa.eval.datasets import load_qa, read_jsonl
from reportqa.eval.harness import engine_variant, evaluate
from reportqa.eval.learn import auc, calibration_error

from reportqa.core.settings import load_settings
from reportqa.engine import Engine, open_engine

HEADLINE = ("hit@1", "hit@5", "mrr@10", "answer_ok", "unanswerable_refused", "answerable_refused")


def score_qa(engine: Engine, path: Path) -> dict[str, Any]:
    items = load_qa(path)
    result = evaluate(items, {"shipped": engine_variant(engine)})["variants"]["shipped"]
    outcomes = result["outcomes"]
    answerable = [o["confidence"] for o, i in zip(outcomes, items, strict=True) if i.gold.answerable]
    unanswerable = [o["confidence"] for o, i in zip(outcomes, items, strict=True) if not i.gold.answerable]
    error, _ = calibration_error([o["confidence"] for o in outcomes], [bool(o["answer_ok"]) for o in outcomes])
    return {"overall": {k: result["overall"].get(k) for k in HEADLINE}, "by_type": result["by_type"],
            "by_lang": result["by_lang"], "refusal_auc": round(auc(answerable, unanswerable), 4),
            "ece": round(error, 4)}


def score_claim_file(engine: Engine, path: Path) -> dict[str, Any]:
    rows = read_jsonl(path)
    kept = {role: m for role, m in engine.models.models.items() if not role.startswith("claim_")}
    rules = Engine(engine.index, engine.settings, None, engine.models.with_only(kept))
    return {name: {k: v for k, v in score_claims(e, rows).items() if k != "details"}
            for name, e in (("learned (shipped models)", engine), ("rules' verdict", rules))}


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--qa", type=Path)
    parser.add_argument("--claims", type=Path)
    parser.add_argument("--out", type=Path, required=True)
    args = parser.parse_args(argv)
    engine = open_engine(load_settings())
    commit = subprocess.run(["git", "rev-parse", "--short", "HEAD"], capture_output=True, text=True).stdout.strip()
    report: dict[str, Any] = {"commit": commit, "models": engine.models.manifest.get("created"),
                              "trained_on": engine.models.manifest.get("trained_on")}
    if args.qa:
        report["qa"] = score_qa(engine, args.qa)
    if args.claims:
        report["claims"] = score_claim_file(engine, args.claims)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(report, ensure_ascii=False, indent=1) + "\n", encoding="utf-8")
    print(json.dumps({k: report[k] for k in report if k in ("commit", "models")}, ensure_ascii=False))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
