"""`make eval-sealed`: the sealed sets, written by people who never saw the system, scored with the shipped models.

    python -m reportqa.eval.sealed [--sets DIR] [--report DIR] [--docs FILE]

The set defaults to eval.datasets.SEALED, the report to eval/reports/<its name>, the page to docs/<its name>.md.

Run once, at the end of a piece of work; its first-run figures are the honest estimate. A set once scored may
become training data (eval.datasets.SEALED names the one still sealed; the training sets list the rest); the next
one written takes its place here.
Q&A beside the baselines (rules only, BM25, the neural channel, the fast tier, the LangChain recipe), claims
(rules only vs the learned verdict), conversations (the resolver, the one before it, the writers' stand-alone rewrites).
"""

from __future__ import annotations

import argparse
import json
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from reportqa.eval.chat_eval import chat_markdown, score_chats
from reportqa.eval.cite_eval import LABELS, score_claims
from reportqa.eval.datasets import SEALED, read_jsonl
from reportqa.eval.experiment import BM25_ONLY, DENSE_ONLY, rules_engine
from reportqa.eval.harness import engine_variant, evaluate, langchain_variant
from reportqa.eval.learn import auc, calibration_error
from reportqa.eval.report import set_markdown

from reportqa.core.settings import load_settings
from reportqa.engine import Engine

UNANSWERABLE_KINDS = "unanswerable_kind.json"  # optional: {question id: "hard" | "off"}, as its writers marked them


def score_qa(engine: Engine, static: Engine, folder: Path = SEALED) -> dict[str, Any]:
    from reportqa.eval.datasets import load_qa

    items = load_qa(folder / "qa.jsonl")
    plain = Engine(engine.index.with_query_adapter(None), engine.settings)
    report = evaluate(items, {"learned (shipped models)": engine_variant(engine),
                              "rules only (before)": engine_variant(static),
                              "bm25": engine_variant(plain, BM25_ONLY),
                              "neural (e5) alone": engine_variant(plain, DENSE_ONLY),
                              "neural (e5, shipped question adapter) alone": engine_variant(
                                  Engine(engine.index, engine.settings), DENSE_ONLY),
                              "fast tier (corpus LSA) alone": engine_variant(static, DENSE_ONLY),
                              "langchain": langchain_variant(engine.settings)})
    outcomes = report["variants"]["learned (shipped models)"]["outcomes"]
    answerable = [o["confidence"] for o, i in zip(outcomes, items, strict=True) if i.gold.answerable]
    unanswerable = [o["confidence"] for o, i in zip(outcomes, items, strict=True) if not i.gold.answerable]
    right = [bool(o["answer_ok"]) for o in outcomes]
    error, curve = calibration_error([o["confidence"] for o in outcomes], right)
    report["refusal_auc"] = round(auc(answerable, unanswerable), 4)
    report["reliability"] = {"ece": round(error, 4), "curve": curve, "questions": len(items)}
    if (folder / UNANSWERABLE_KINDS).is_file():
        kinds = json.loads((folder / UNANSWERABLE_KINDS).read_text(encoding="utf-8"))
        refused: dict[str, list[bool]] = {}
        for outcome, item in zip(outcomes, items, strict=True):
            if not item.gold.answerable:
                refused.setdefault(str(kinds.get(item.id, "unmarked")), []).append(bool(outcome["abstained"]))
        report["unanswerable_refused_by_kind"] = {kind: {"refused": round(sum(flags) / len(flags), 4),
                                                         "questions": len(flags)} for kind, flags in refused.items()}
    return report


def score_claim_set(engine: Engine, folder: Path = SEALED) -> dict[str, Any]:
    rows = read_jsonl(folder / "claims.jsonl")
    kept = {role: m for role, m in engine.models.models.items() if not role.startswith("claim_")}
    rules = Engine(engine.index, engine.settings, None, engine.models.with_only(kept))
    return {"learned (shipped models)": _summary(score_claims(engine, rows)),
            "rules' verdict (same retrieval)": _summary(score_claims(rules, rows))}


def _summary(result: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in result.items() if k != "details"}


def markdown(qa: dict[str, Any], claims: dict[str, Any], chats: dict[str, Any], seconds: float,
             folder: Path = SEALED) -> str:
    lines = [f"# The sealed sets of {folder}, scored once", "",
             "Written by helpers who read only the reports, never the system or the other sets; scored once with the",
             f"shipped models by `make eval-sealed` ({seconds:.0f} s). These figures are the honest estimate.", "",
             f"Refusal AUC of `confidence` (answerable vs unanswerable): {qa['refusal_auc']}; expected calibration "
             f"error {qa['reliability']['ece']}.", ""]
    for kind, facts in qa.get("unanswerable_refused_by_kind", {}).items():
        lines.append(f"- unanswerable questions marked {kind!r} by their writers: {facts['questions']}, refused "
                     f"{facts['refused']}")
    lines += ["", *set_markdown(f"{folder}/qa.jsonl", qa)]
    lines += ["", f"## Claims ({folder}/claims.jsonl)", "",
              "| variant | " + " | ".join(LABELS) + " | top citation (supported) | report value (contradicted) |",
              "|---|---|---|---|---|---|"]
    for name, m in claims.items():
        acc = m["accuracy"]
        lines.append(f"| {name} | " + " | ".join(str(acc[label]) for label in LABELS) +
                     f" | {m['top_citation_correct']['supported']} | {m['report_value_correct']} |")
    lines += ["", chat_markdown(chats, folder / "chat.jsonl").replace("# Conversations", "## Conversations"), ""]
    return "\n".join(lines)


def main(argv: Sequence[str] | None = None) -> int:
    from reportqa.eval.harness import ensure_index

    parser = argparse.ArgumentParser(prog="python -m reportqa.eval.sealed", description=__doc__.splitlines()[0])
    parser.add_argument("--sets", type=Path, default=SEALED, help="the folder of qa.jsonl, claims.jsonl, chat.jsonl")
    parser.add_argument("--index-dir", type=Path, default=Path("var/index"))
    parser.add_argument("--static-index-dir", type=Path, default=Path("var/index-static"))
    parser.add_argument("--report", type=Path, help="default: eval/reports/<the set's name>")
    parser.add_argument("--docs", type=Path, help="default: docs/<the set's name>.md")
    args = parser.parse_args(argv)
    report_dir = args.report or Path("eval/reports") / args.sets.name
    docs = args.docs or Path("docs") / f"{args.sets.name}.md"
    started = time.perf_counter()
    engine = ensure_index(load_settings(index_dir=args.index_dir))
    qa = score_qa(engine, rules_engine(args.static_index_dir), args.sets)
    claims = score_claim_set(engine, args.sets)
    chats = score_chats(engine, read_jsonl(args.sets / "chat.jsonl"))
    seconds = time.perf_counter() - started
    report_dir.mkdir(parents=True, exist_ok=True)
    (report_dir / "sealed.json").write_text(json.dumps({"qa": qa, "claims": claims, "chat": chats},
                                                       ensure_ascii=False, indent=1), encoding="utf-8")
    docs.write_text(markdown(qa, claims, chats, seconds, args.sets), encoding="utf-8")
    print(docs.read_text(encoding="utf-8"))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
