"""`make eval`: the learned system out of fold beside the baselines, per set and per type, and the rule ablation.

    python -m reportqa.eval.experiment [--report eval/reports] [--cmrc ../shared/benchmarks/cmrc2018]

1. Trains the ranker, reader and answerability model k-fold on the report sets and CMRC 2018 (eval.train).
2. Scores every set with: the learned system out of fold (each question answered by models that never saw
   its fold), rules only (today's system: the corpus-fitted LSA and hand-weighted rules), BM25 alone, the
   neural channel alone, the fast tier alone and the LangChain recipe.
3. Ablation: each rule family's features removed, the whole k-fold training redone, the pooled out-of-fold
   figures compared with the full feature set.
The sealed set is not touched here (the sets scored before it are training data now): `make eval-sealed`
scores it (eval.datasets.SEALED) with the shipped models.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import Any

from reportqa.eval.answerability_rows import ROWS_FILE, AnswerabilityData, rows_of, write_rows
from reportqa.eval.datasets import QAItem, load_qa, read_jsonl
from reportqa.eval.harness import (
    Variant,
    engine_variant,
    evaluate,
    fold_variant,
    langchain_variant,
)
from reportqa.eval.learn import calibration_error, fold_of
from reportqa.eval.train import (
    FEATURES,
    add_training_arguments,
    answerability_weight,
    shipped_facts,
    train,
    train_claim_models,
    verifier_plan,
    write_trained,
)
from reportqa.eval.train_claims import out_of_fold as claims_out_of_fold
from reportqa.eval.train_data import (
    CHAT_SETS,
    TRAIN_SETS,
    Example,
    conversation_key,
    from_reports,
    load_examples,
    load_turns,
    off_topic_file,
)
from reportqa.eval.train_verifier import VerifierPlan
from reportqa.index.search import SearchWeights

from reportqa.core.learned import LinearModel, ModelSet
from reportqa.core.settings import load_settings
from reportqa.engine import Engine

BM25_ONLY = SearchWeights(bm25=1.0, dense=0.0, rerank=False, bigram=0.0)
DENSE_ONLY = SearchWeights(bm25=0.0, dense=1.0, rerank=False, bigram=0.0)

# each rule family and the learned features that carry it (removing them is the ablation)
RULE_FAMILIES: dict[str, tuple[str, ...]] = {
    "question-type cues (wants: number/date/org/place...)": (
        "number_match", "type_match", "wants_number", "wants_entity"),
    "value right after the asked term": ("value_follows",),
    "the asked term in the sentence (reader)": ("focus_in", "focus_topic"),
    "the asked term and character pairs the answer lacks (answerability)": (
        "pairs_missing", "pairs_missing_count", "pairs_missing_passage", "focus_missing", "focus_missing_passage"),
    "year conflict": ("year_conflict",),
    "unit the question asks for (index/measures.py)": ("measure_missing",),
    "term coverage (idf, aliases, subject discount)": ("coverage", "own_cov", "topic_cov", "unit_coverage"),
}


def without(models_features: Mapping[str, Sequence[str]], dropped: set[str]) -> dict[str, tuple[str, ...]]:
    return {role: tuple(f for f in features if f not in dropped) for role, features in models_features.items()}


def fold_engines(base: Engine, result: Mapping[str, Any], follow_up: bool = False) -> dict[int, Engine]:
    """Each fold's engine: its models, its question adapter (none: the encoder's own question vectors) and its
    verifier, refusing below the threshold (and, with `follow_up`, the follow-up threshold for later turns)."""
    engines = {}
    threshold, adapters, verifiers = result["threshold"], result["fold_adapters"], result["fold_verifiers"]
    follow_up_threshold = result["follow_up_threshold"] if follow_up else None
    for fold, models in result["fold_models"].items():
        index = base.index.with_query_adapter(adapters.get(fold))
        engine = Engine(index, base.settings, None,
                        ModelSet(Path(), {"threshold": threshold}, dict(models), None, verifiers.get(fold)))
        engine.refuse_below(threshold, follow_up_threshold)
        engines[fold] = engine
    return engines


def item_folds(examples: Sequence[Example]) -> Callable[[QAItem], int]:
    table = {ex.item.id: ex.fold for ex in examples}
    return lambda item: table[item.id]


def rules_engine(index_dir: Path) -> Engine:
    """The system before the encoder: the corpus-fitted LSA and the hand-weighted rules, no learned models."""
    from reportqa.eval.harness import ensure_index

    fitted = ensure_index(load_settings(index_dir=index_dir, embed_model="corpus-static"))
    return Engine(fitted.index, fitted.settings, None, ModelSet(Path(), {}, {}))


def score_sets(sets: Mapping[str, Sequence[QAItem]], variants_of: Callable[[str], dict[str, Variant]],
               show: Callable[[str], None]) -> dict[str, Any]:
    reports = {}
    for name, items in sets.items():
        show(f"scoring {name} ({len(items)} questions)")
        reports[name] = evaluate(items, variants_of(name))
    return reports


def reliability(examples: Sequence[Example], oof: Mapping[int, float], right: Mapping[int, bool]
                ) -> dict[str, Any]:
    probabilities = [oof[id(ex)] for ex in examples if from_reports(ex)]
    outcomes = [right[id(ex)] for ex in examples if from_reports(ex)]
    error, curve = calibration_error(probabilities, outcomes)
    return {"ece": round(error, 4), "curve": curve, "questions": len(probabilities)}


def pooled_oof(examples: Sequence[Example], result: Mapping[str, Any], engine: Engine) -> dict[str, float]:
    """The out-of-fold summary over every report question at once."""
    engines = fold_engines(engine, result)
    items = [ex.item for ex in examples]
    outcome = evaluate(items, {"oof": fold_variant(engines, item_folds(examples))})
    return dict(outcome["variants"]["oof"]["overall"])


def ablation(examples: list[Example], folds: int, engine: Engine, show: Callable[[str], None]
             ) -> dict[str, dict[str, Any]]:
    """Each rule family's features removed and everything retrained: does the family pay for itself?"""
    keys = ("hit@1", "answer_ok", "unanswerable_refused", "answerable_refused")
    full = pooled_oof(examples, train(examples, folds, show), engine)
    rows: dict[str, dict[str, Any]] = {"(none: all features)": {k: full[k] for k in keys}}
    for family, dropped in RULE_FAMILIES.items():
        show(f"ablation: without {family}")
        result = train(examples, folds, show, without(FEATURES, set(dropped)))
        scores = pooled_oof(examples, result, engine)
        worse = scores["hit@1"] < full["hit@1"] or scores["answer_ok"] < full["answer_ok"] or (
            scores.get("unanswerable_refused", 0) < full.get("unanswerable_refused", 0))
        rows[family] = {k: scores[k] for k in keys} | {"verdict": "keep" if worse else "does not pay"}
    return rows


def parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m reportqa.eval.experiment", description=__doc__.splitlines()[0])
    parser.add_argument("--report", type=Path, default=Path("eval/reports/experiment"))
    parser.add_argument("--static-index-dir", type=Path, default=Path("var/index-static"))
    add_training_arguments(parser)
    parser.add_argument("--no-ablation", action="store_true")
    parser.add_argument("--docs", type=Path, default=Path("docs/evaluation.md"), help="where the tables go for readers")
    parser.add_argument("--models-out", type=Path, default=None,
                        help="also write the models trained on everything here (what make train-reader writes)")
    return parser.parse_args(argv)


def score_report_sets(engine: Engine, static: Engine, learned: dict[int, Engine], folds_of: Callable[[QAItem], int],
                      show: Callable[[str], None]) -> dict[str, Any]:
    """Every report set with the learned system out of fold and each baseline."""
    plain = Engine(engine.index.with_query_adapter(None), engine.settings)
    adapted = {fold: Engine(e.index, e.settings) for fold, e in learned.items()}

    def report_variants(_: str) -> dict[str, Variant]:
        return {"learned (out of fold)": fold_variant(learned, folds_of),
                "rules only (today)": engine_variant(static),
                "bm25": engine_variant(plain, BM25_ONLY),
                "neural (e5) alone": engine_variant(plain, DENSE_ONLY),
                "neural (e5, question adapter out of fold) alone": fold_variant(adapted, folds_of, DENSE_ONLY),
                "fast tier (corpus LSA) alone": engine_variant(static, DENSE_ONLY),
                "langchain": langchain_variant(engine.settings)}

    return score_sets({path: load_qa(Path(path)) for path in TRAIN_SETS}, report_variants, show)


def score_cmrc(cmrc: tuple[Engine, Path], result: Mapping[str, Any], folds_of: Callable[[QAItem], int],
               limit: int | None) -> dict[str, Any]:
    engine, qa_path = cmrc
    learned = fold_engines(engine, result)
    plain = Engine(engine.index.with_query_adapter(None), engine.settings)
    return evaluate(load_qa(qa_path)[:limit], {
        "learned (out of fold)": fold_variant(learned, folds_of),
        "rules only": engine_variant(plain),
        "bm25": engine_variant(plain, BM25_ONLY)})


def score_conversation_sets(learned: Mapping[int, Engine], folds: int) -> dict[str, Any]:
    """Every conversation set that is not sealed, turn by turn, each conversation asked of its fold's engine:
    the answerability model learns from conversation turns, so these figures are out of fold."""
    from reportqa.answer.followup import resolve
    from reportqa.eval.chat_eval import score_conversation, summarize_turns

    scored = []
    for path in CHAT_SETS:
        for row in read_jsonl(Path(path)):
            scored += score_conversation(learned[fold_of(conversation_key(path, row), folds)], row, resolve)
    return {"sets": list(CHAT_SETS), **summarize_turns(scored)}


def main(argv: Sequence[str] | None = None) -> int:
    from reportqa.eval.harness import ensure_index
    from reportqa.eval.report import write_experiment

    args = parse_args(argv)

    def show(line: str) -> None:
        print(line, file=sys.stderr, flush=True)

    started = time.perf_counter()
    engine = ensure_index(load_settings(index_dir=args.index_dir))
    cmrc = None
    if args.cmrc:
        cmrc_engine = ensure_index(load_settings(index_dir=args.cmrc_index_dir, corpus=[args.cmrc / "corpus.jsonl"]))
        cmrc = (cmrc_engine, args.cmrc / "qa.jsonl")
    examples = load_examples(engine, TRAIN_SETS, args.folds, cmrc, args.cmrc_limit, off_topic_file(args.off_topic))
    examples += load_turns(engine, CHAT_SETS, args.folds)
    show(f"training on {len(examples)} questions and conversation turns, {args.folds} folds")
    with verifier_plan(args, engine.settings.models_dir) as plan:
        report = trained_report(args, engine, cmrc, examples, plan, show)
    report["seconds"] = round(time.perf_counter() - started, 1)
    write_experiment(report, args.report, args.docs)
    print(json.dumps({"threshold": report["threshold"], "follow_up_threshold": report["follow_up_threshold"],
                      "report": str(args.report)}))
    return 0


def trained_report(args: argparse.Namespace, engine: Engine, cmrc: tuple[Engine, Path] | None,
                   examples: list[Example], plan: VerifierPlan | None, show: Callable[[str], None]
                   ) -> dict[str, Any]:
    """Train k-fold, score every set out of fold, write the models if asked; the experiment's report."""
    result = train(examples, args.folds, show, verifier=plan)
    write_rows(args.report / ROWS_FILE, AnswerabilityData(tuple(result["models"]["answerability"].features),
                                                          args.folds, rows_of(examples, result["judged"],
                                                                              answerability_weight)))
    folds_of = item_folds(examples)
    learned = fold_engines(engine, result, follow_up=True)
    report: dict[str, Any] = {"sets": score_report_sets(engine, rules_engine(args.static_index_dir), learned,
                                                          folds_of, show)}
    show("scoring the conversations out of fold")
    report["conversations"] = score_conversation_sets(learned, args.folds)
    if cmrc is not None:
        report["sets"]["cmrc"] = score_cmrc(cmrc, result, folds_of, args.cmrc_limit)
    claims = train_claim_models(engine, result, args.folds, show)
    report["claims"] = claims_out_of_fold(claims["engine"], claims["examples"], args.folds)
    if args.models_out:
        write_trained(args.models_out, result, claims["models"],
                      shipped_facts(result, examples, claims["examples"], args.folds, cmrc is not None))
    if not args.no_ablation:
        report["ablation"] = ablation([ex for ex in examples if from_reports(ex)], args.folds, engine, show)
    report |= {"threshold": result["threshold"], "follow_up_threshold": result["follow_up_threshold"],
               "off_topic": result["off_topic"],
               "reliability": reliability(examples, result["oof_probability"], result["right"]),
               "weights": {role: dict(zip(m.features, m.weights.round(3).tolist(), strict=True))
                           for role, m in result["models"].items() if isinstance(m, LinearModel)}}
    return report


if __name__ == "__main__":
    raise SystemExit(main())
