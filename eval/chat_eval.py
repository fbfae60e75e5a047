"""Score conversations turn by turn: each turn is asked after the system's own earlier answers, as a user would.

    reportqa eval --chat eval/chat.jsonl [--report DIR]

Reports per-turn hit@1, hit@5, answer_ok and refusal for every turn and for follow-up turns alone, for the
resolver, the resolver before issue 23 (eval.chat_baseline) and, as a ceiling, the writers' own stand-alone
rewrite of each turn.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from reportqa.answer.followup import Resolved, Turn, resolve
from reportqa.eval.chat_baseline import resolve_before
from reportqa.eval.datasets import item_from_row, read_jsonl
from reportqa.eval.harness import CITE_K, result_of
from reportqa.eval.metrics import Outcome, answer_ok, cites_answer_first, is_relevant, summarize
from reportqa.eval.train_data import NO_ANSWER

from reportqa.engine import Engine

Resolver = Callable[[Sequence[Turn]], Resolved]


def standalone_resolver(rewrites: Sequence[str]) -> Resolver:
    """The writers' own stand-alone rewrite of the n-th user turn: the ceiling a resolver can reach."""
    def resolver(turns: Sequence[Turn]) -> Resolved:
        asked = sum(1 for t in turns if t.role == "user")
        return Resolved(rewrites[asked - 1], None)

    return resolver


def score_conversation(engine: Engine, row: dict[str, Any], resolver: Resolver) -> list[tuple[str, Outcome]]:
    """(turn kind, outcome) for every turn; earlier answers go back in as assistant turns."""
    history: list[Turn] = []
    outcomes = []
    for n, turn in enumerate(row["turns"]):
        history.append(Turn("user", str(turn["question"])))
        _, trace = engine.chat_trace(history, CITE_K, resolver)
        result = result_of(trace)
        gold = item_from_row({"id": f"{row['id']}-{n}", **turn}).gold
        flags = tuple(is_relevant(doc, text, gold) for doc, text in result.ranked)
        cited = tuple(is_relevant(doc, text, gold) for doc, text in result.cited)
        outcomes.append((str(turn["kind"]), Outcome(f"{row['id']}-{n}", str(turn["kind"]), gold.answerable, flags,
                                                    cited, answer_ok(result.answer, result.abstained, gold),
                                                    result.abstained, 0.0, {},
                                                    cites_answer_first(result.cited, gold))))
        history.append(Turn("assistant", trace.answer.text or NO_ANSWER))
    return outcomes


def score_chats(engine: Engine, rows: Sequence[dict[str, Any]]) -> dict[str, Any]:
    variants: dict[str, Callable[[dict[str, Any]], Resolver]] = {
        "resolver": lambda row: resolve,
        "resolver before issue 23": lambda row: resolve_before,
        "stand-alone rewrites (ceiling)": lambda row: standalone_resolver([t["standalone"] for t in row["turns"]]),
    }
    report: dict[str, Any] = {"conversations": len(rows), "turns": sum(len(r["turns"]) for r in rows),
                              "variants": {}}
    for name, resolver_of in variants.items():
        scored = [pair for row in rows for pair in score_conversation(engine, row, resolver_of(row))]
        report["variants"][name] = summarize_turns(scored)
    return report


def summarize_turns(scored: Sequence[tuple[str, Outcome]]) -> dict[str, Any]:
    """Figures over every turn, the answerable follow-ups, each kind, and every follow-up."""
    return {
        "all turns": summarize([o for _, o in scored]),
        "follow-up turns": summarize([o for kind, o in scored if kind not in {"first", "unanswerable"}]),
        "by kind": {kind: summarize([o for k, o in scored if k == kind]) for kind in sorted({k for k, _ in scored})},
        "follow-ups incl. unanswerable": summarize([o for kind, o in scored if kind != "first"]),
    }


def chat_markdown(report: dict[str, Any], path: Path) -> str:
    keys = ("hit@1", "hit@5", "answer_ok", "answerable_refused", "unanswerable_refused")
    lines = [f"# Conversations: {path} ({report['conversations']} conversations, {report['turns']} turns)", "",
             "| resolver | turns | " + " | ".join(keys) + " |", "|---" * (len(keys) + 2) + "|"]
    for name, data in report["variants"].items():
        for part in ("all turns", "follow-up turns"):
            m = data[part]
            lines.append(f"| {name} | {part} | " + " | ".join(str(m.get(k, "–")) for k in keys) + " |")
    first: dict[str, Any] = next(iter(report["variants"].values()), {})
    if first.get("by kind"):
        lines += ["", "| kind | turns | hit@1 | answer_ok | refused |", "|---|---|---|---|---|"]
        for kind, m in sorted(first["by kind"].items()):
            refused = m.get("unanswerable_refused", m.get("answerable_refused", "–"))
            lines.append(f"| {kind} | {int(m['questions'])} | {m['hit@1']} | {m['answer_ok']} | {refused} |")
    return "\n".join(lines) + "\n"


def run_chat_eval(engine: Engine, path: Path, report_dir: Path | None) -> dict[str, Any]:
    import json

    report = score_chats(engine, read_jsonl(path))
    if report_dir is not None:
        report_dir.mkdir(parents=True, exist_ok=True)
        (report_dir / "chat.json").write_text(json.dumps(report, ensure_ascii=False, indent=1), encoding="utf-8")
        (report_dir / "chat.md").write_text(chat_markdown(report, path), encoding="utf-8")
    print(chat_markdown(report, path))
    return report
