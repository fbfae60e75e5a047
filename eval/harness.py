"""Run retrieval variants over a reference set, score them side by side, and write the report."""

from __future__ import annotations

import argparse
import json
import sys
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from reportqa.eval.datasets import DEFAULT_CLAIMS, DEFAULT_QA, QAItem, load_qa
from reportqa.eval.metrics import (
    Outcome,
    answer_ok,
    by_type,
    calibrate_threshold,
    cites_answer_first,
    floors_missed,
    is_relevant,
    summarize,
)
from reportqa.eval.report import TABLE_METRICS
from reportqa.index.search import SearchWeights
from reportqa.index.store import IndexProblem, current_version_path, read_manifest
from reportqa.ingest.load import load_documents

from reportqa.core.progress import SILENT, Progress, for_stream
from reportqa.core.settings import Settings
from reportqa.engine import Engine, Trace, build, calibration_path, open_engine

RANK_DEPTH = 10
CITE_K = 5
ALL_VARIANTS = ("bm25", "dense", "hybrid", "langchain")


@dataclass(frozen=True, slots=True)
class Result:
    ranked: list[tuple[str, str]]
    cited: list[tuple[str, str]]
    answer: str
    abstained: bool
    confidence: float


Variant = Callable[[QAItem], Result]


def result_of(trace: Trace) -> Result:
    """Ranked as a reader sees them: the cited passages in the answer's order, then the rest of the pool."""
    answer = trace.answer
    shown = [c.chunk for c in answer.citations] or [h.chunk for h in trace.hits[:CITE_K]]
    ids = {c.id for c in shown}
    ranked = [*shown, *(h.chunk for h in trace.hits if h.chunk.id not in ids)][:RANK_DEPTH]
    return Result([(chunk.doc, chunk.text) for chunk in ranked],
                  [(c.chunk.doc, c.chunk.text) for c in answer.citations], answer.text, answer.abstained,
                  answer.confidence)


def engine_variant(engine: Engine, weights: SearchWeights | None = None) -> Variant:
    """The product itself: Engine.run, as every surface calls it."""
    def run(item: QAItem) -> Result:
        return result_of(engine.run(item.question, CITE_K, weights=weights))

    return run


def fold_variant(engines: Mapping[int, Engine], fold_of_item: Callable[[QAItem], int],
                 weights: SearchWeights | None = None) -> Variant:
    """Out of fold: each question is answered by the engine whose models never saw its fold."""
    def run(item: QAItem) -> Result:
        return result_of(engines[fold_of_item(item)].run(item.question, CITE_K, weights=weights))

    return run


def langchain_variant(settings: Settings) -> Variant:
    from reportqa.eval.baseline import LangChainRecipe

    documents, _ = load_documents(settings.corpus)
    recipe = LangChainRecipe(documents, k=RANK_DEPTH)

    def run(item: QAItem) -> Result:
        ranked = recipe.retrieve(item.question)[:RANK_DEPTH]
        top = ranked[0][1].replace("\n", "") if ranked else ""
        return Result(ranked, ranked[:CITE_K], top[:150], False, 1.0)

    return run


def score(items: Sequence[QAItem], variant: Variant, progress: Progress = SILENT, name: str = "") -> list[Outcome]:
    outcomes = []
    for item in progress.track(items, len(items), f"{name or 'questions'}: questions"):
        started = time.perf_counter()
        result = variant(item)
        seconds = time.perf_counter() - started
        flags = tuple(is_relevant(doc, text, item.gold) for doc, text in result.ranked)
        cited = tuple(is_relevant(doc, text, item.gold) for doc, text in result.cited)
        outcomes.append(Outcome(item.id, item.qtype, item.gold.answerable, flags, cited,
                                answer_ok(result.answer, result.abstained, item.gold), result.abstained, seconds,
                                {"confidence": round(result.confidence, 4), "answer": result.answer},
                                cites_answer_first(result.cited, item.gold)))
    return outcomes


def ensure_index(settings: Settings) -> Engine:
    """Open the index for these settings, building it when missing or built from another corpus."""
    from reportqa.index.store import corpus_hash

    documents, _ = load_documents(settings.corpus)
    try:
        manifest = read_manifest(current_version_path(settings.index_dir))
        if manifest.get("corpus_hash") != corpus_hash(documents):
            raise IndexProblem("index built from another corpus")
        return open_engine(settings)
    except IndexProblem:
        print(f"building index in {settings.index_dir} …", file=sys.stderr)
        build(settings, for_stream(sys.stderr))
        return open_engine(settings)


def variants_for(names: Sequence[str], engine: Engine, settings: Settings) -> dict[str, Variant]:
    table: dict[str, Callable[[], Variant]] = {
        "bm25": lambda: engine_variant(engine, SearchWeights(bm25=1.0, dense=0.0, rerank=False, bigram=0.0)),
        "dense": lambda: engine_variant(engine, SearchWeights(bm25=0.0, dense=1.0, rerank=False, bigram=0.0)),
        "hybrid": lambda: engine_variant(engine, engine.weights),
        "langchain": lambda: langchain_variant(settings),
    }
    unknown = [n for n in names if n not in table]
    if unknown:
        raise ValueError(f"unknown variant(s) {unknown}; choose from {sorted(table)}")
    return {name: table[name]() for name in names}


def evaluate(items: Sequence[QAItem], variants: dict[str, Variant], progress: Progress = SILENT) -> dict[str, Any]:
    report: dict[str, Any] = {"questions": len(items), "variants": {}}
    for name, variant in variants.items():
        outcomes = score(items, variant, progress, name)
        report["variants"][name] = {
            "overall": summarize(outcomes),
            "by_type": by_type(outcomes),
            "by_lang": {lang: summarize([o for o, i in zip(outcomes, items, strict=True) if i.lang == lang])
                        for lang in sorted({i.lang for i in items})},
            "outcomes": [
                {"id": o.qid, "type": o.qtype, "rank": next((r for r, f in enumerate(o.flags, 1) if f), None),
                 "answer_ok": o.answer_ok, "abstained": o.abstained, **o.extra}
                for o in outcomes
            ],
        }
    return report


def calibration_from(report: dict[str, Any], items: Sequence[QAItem]) -> dict[str, Any]:
    outcomes = report["variants"]["hybrid"]["outcomes"]
    answerable = [o["confidence"] for o, i in zip(outcomes, items, strict=True) if i.gold.answerable]
    unanswerable = [o["confidence"] for o, i in zip(outcomes, items, strict=True) if not i.gold.answerable]
    return {"abstain_threshold": calibrate_threshold(answerable, unanswerable), "answerable": len(answerable),
            "unanswerable": len(unanswerable), "max_wrongly_refused": 0.05}


def run_from_cli(args: argparse.Namespace, settings: Settings) -> int:
    from reportqa.eval.report import write_report

    if args.cite:
        from reportqa.eval.cite_eval import run_cite_eval

        return run_cite_eval(settings, args.qa or DEFAULT_CLAIMS, args.report, args.min)
    if getattr(args, "chat", None):
        from reportqa.eval.chat_eval import run_chat_eval

        run_chat_eval(ensure_index(settings), args.chat, args.report)
        return 0
    from reportqa.index.query import preload

    items = load_qa(args.qa or DEFAULT_QA)[: args.limit]
    engine = ensure_index(settings)
    preload()  # what question analysis loads on first use, loaded before timing as a server does at start
    if args.calibrate:
        engine.refuse_below(0.0)
    names = args.variant or (["hybrid"] if args.calibrate else list(ALL_VARIANTS))
    report = evaluate(items, variants_for(names, engine, settings), for_stream(sys.stderr))
    report["qa"] = str(args.qa or DEFAULT_QA)
    report["index"] = engine.index.manifest.get("embed_model")
    if args.calibrate:
        qa_path = Path(args.qa or DEFAULT_QA).resolve()
        shown = qa_path.relative_to(Path.cwd()) if qa_path.is_relative_to(Path.cwd()) else qa_path
        calibration = calibration_from(report, items) | {"qa": str(shown)}
        target = calibration_path(settings.index_dir)
        target.write_text(json.dumps(calibration, indent=2) + "\n", encoding="utf-8")
        print(json.dumps(calibration | {"written": str(target)}))
        return 0
    if args.report:
        write_report(report, args.report)
    print_summary(report)
    if args.min:
        floors = json.loads(args.min.read_text(encoding="utf-8"))
        missed = floors_missed(report["variants"]["hybrid"]["overall"], floors)
        if missed:
            print("below the committed floor: " + "; ".join(missed), file=sys.stderr)
            return 1
    return 0


def print_summary(report: dict[str, Any]) -> None:
    print("variant     " + " ".join(f"{c[:12]:>12}" for c in TABLE_METRICS))
    for name, data in report["variants"].items():
        overall = data["overall"]
        print(f"{name:<11} " + " ".join(f"{overall.get(c, float('nan')):>12}" for c in TABLE_METRICS))
