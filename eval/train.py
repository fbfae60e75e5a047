"""Train the ranker, the reader and the answerability model, k-fold, and measure them out of fold.

    python -m reportqa.eval.train [--out reportqa/models] [--folds 5] [--cmrc ../shared/benchmarks/cmrc2018]

Stages, each fitted on the out-of-fold output of the one before (stacking):
1. ranker: a logistic model over each candidate passage's features (index.rank_features); label: relevant.
2. reader: over each candidate sentence of the hits the fold's ranker returns (answer.reader); label: the
   sentence holds a reference answer and its passage is relevant.
3. answerability: over the signals of the fold's answer (answer.answerability); label: the answer is right.
The refusal threshold is the highest that refuses at most 5% of the answerable report questions out of fold.
Every figure this writes is out of fold: each question is answered by models that never saw its fold.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from reportqa.answer.answerability import SIGNALS
from reportqa.answer.extract import AnswerTerms, Unit, choose_units, passage_units, rule_scorer
from reportqa.answer.reader import UNIT_FEATURES, similarities_of, unit_features
from reportqa.eval.datasets import QAItem, load_qa
from reportqa.eval.learn import fit_linear, fold_of, refusal_threshold
from reportqa.eval.metrics import answer_ok, is_relevant, squash
from reportqa.eval.train_claims import CLAIM_SETS, collect, fit_claim_models
from reportqa.index.query import Query, analyze
from reportqa.index.rank_features import CHUNK_FEATURES
from reportqa.index.search import SearchIndex

from reportqa.core.learned import LinearModel, ModelSet, matrix, write_model_set
from reportqa.core.settings import load_settings
from reportqa.engine import ANSWER_POOL, Engine

TRAIN_SETS = ("eval/qa.jsonl", "eval/fresh/qa.jsonl", "eval/fresh2/qa.jsonl", "eval/refusal_dev/qa.jsonl",
              "eval/dev/qa.jsonl", "eval/dev2/qa.jsonl")
FOLDS = 5
NEVER_REFUSE = -1.0


@dataclass
class Example:
    """One training question, the engine it is asked of, and what each stage measured for it."""

    item: QAItem
    source: str  # the set it came from
    engine: Engine
    fold: int
    query: Query = field(init=False)
    candidates: dict[int, dict[str, float]] = field(default_factory=dict)
    labels: dict[int, int] = field(default_factory=dict)

    def __post_init__(self) -> None:
        self.query = analyze(self.item.question)


def relevant(hit_doc: str, hit_text: str, item: QAItem) -> bool:
    return is_relevant(hit_doc, hit_text, item.gold)


def collect_candidates(examples: Sequence[Example], show: Callable[[str], None]) -> None:
    """Stage 1's data: each question's candidate pool with features and relevance labels (model-free)."""
    started = time.perf_counter()
    for n, ex in enumerate(examples, 1):
        index = ex.engine.index
        assert isinstance(index, SearchIndex), "training reads an embedded index"
        ex.candidates = index.candidate_features(ex.query, ex.engine.weights)
        ex.labels = {i: int(relevant(index.chunks[i].doc, index.chunks[i].text, ex.item)) for i in ex.candidates}
        if n % 500 == 0:
            show(f"candidates: {n}/{len(examples)} questions ({time.perf_counter() - started:.0f} s)")


def fit_by_fold(examples: Sequence[Example], folds: int, rows_of: Callable[[Example], tuple[list[dict[str, float]],
                list[int]]], features: Sequence[str], balanced: bool = False) -> tuple[dict[int, LinearModel],
                                                                               LinearModel]:
    """A model per fold (fitted on the other folds) and one on everything."""
    by_fold: dict[int, tuple[list[dict[str, float]], list[int]]] = {f: ([], []) for f in range(folds)}
    for ex in examples:
        rows, labels = rows_of(ex)
        by_fold[ex.fold][0].extend(rows)
        by_fold[ex.fold][1].extend(labels)
    models = {}
    for f in range(folds):
        rows = [r for g in range(folds) if g != f for r in by_fold[g][0]]
        labels = [y for g in range(folds) if g != f for y in by_fold[g][1]]
        models[f] = fit_linear(rows, labels, features, balanced=balanced)
    everything = [r for g in range(folds) for r in by_fold[g][0]]
    all_labels = [y for g in range(folds) for y in by_fold[g][1]]
    return models, fit_linear(everything, all_labels, features, balanced=balanced)


def ranker_rows(ex: Example) -> tuple[list[dict[str, float]], list[int]]:
    ids = list(ex.candidates)
    return [ex.candidates[i] for i in ids], [ex.labels[i] for i in ids]


def fold_engine(ex: Example, models: dict[str, LinearModel], threshold: float) -> Engine:
    engine = Engine(ex.engine.index, ex.engine.settings, None,
                    ModelSet(Path(), {"threshold": threshold}, dict(models)))
    engine.threshold = threshold
    return engine


def reader_rows_for(ex: Example, ranker: LinearModel) -> tuple[list[dict[str, float]], list[int]]:
    """Every unit the answer stage considers for this question, given the fold's ranker, with labels."""
    engine = fold_engine(ex, {"ranker": ranker}, NEVER_REFUSE)
    hits = engine.retrieve(ex.query, ANSWER_POOL)
    if not hits:
        return [], []
    sims_of = engine.unit_sims(ex.query)
    seen: list[tuple[Unit, dict[str, float]]] = []

    def recording(units: Sequence[Unit], terms: AnswerTerms) -> list[float]:
        sims = similarities_of(units, hits, sims_of, passage_units)
        seen.extend(zip(units, unit_features(units, sims, hits, ex.query, terms), strict=True))
        return rule_scorer(ex.query)(units, terms)

    choose_units(hits, ex.query, ex.engine.index.idf, recording)
    answers = [squash(a) for a in ex.item.gold.answers]
    rows, labels = [], []
    for unit, row in seen:
        hit = hits[unit.hit_rank]
        holds = any(a and a in squash(unit.text) for a in answers)
        rows.append(row)
        labels.append(int(holds and relevant(hit.chunk.doc, hit.chunk.text, ex.item)))
    return rows, labels


@dataclass(frozen=True, slots=True)
class Judged:
    signals: dict[str, float]
    right: bool
    answerable: bool


def judge_rows(ex: Example, models: dict[str, LinearModel]) -> Judged:
    engine = fold_engine(ex, models, NEVER_REFUSE)
    trace = engine.run(ex.item.question, qid=ex.item.id)
    signals = trace.reading.signals
    row = signals.row() if signals else dict.fromkeys(SIGNALS, 0.0)
    ok = answer_ok(trace.answer.text, trace.answer.abstained, ex.item.gold)
    return Judged(row, ok, ex.item.gold.answerable)


FEATURES = {"ranker": CHUNK_FEATURES, "reader": UNIT_FEATURES, "answerability": SIGNALS}


def train(examples: list[Example], folds: int, show: Callable[[str], None],
          features: Mapping[str, Sequence[str]] = FEATURES) -> dict[str, Any]:
    """Fit every stage k-fold; returns the final models, the threshold and the per-fold models."""
    if not examples[0].candidates:
        collect_candidates(examples, show)
    show("fitting the ranker")
    rankers, ranker = fit_by_fold(examples, folds, ranker_rows, features["ranker"])
    show("collecting reader examples")
    reader_data = {id(ex): reader_rows_for(ex, rankers[ex.fold]) for ex in examples}
    readers, reader = fit_by_fold(examples, folds, lambda ex: reader_data[id(ex)], features["reader"])
    show("collecting answerability signals")
    judged = {id(ex): judge_rows(ex, {"ranker": rankers[ex.fold], "reader": readers[ex.fold]}) for ex in examples}
    # the answerability model learns from report questions only: CMRC has no unanswerable questions, and with
    # it in the data the report sets' unanswerable refused out of fold fell from 0.35 to 0.27 (pooled)
    judges, judge = fit_by_fold(
        examples, folds, lambda ex: ([judged[id(ex)].signals], [int(judged[id(ex)].right)]) if ex.source != "cmrc"
        else ([], []), features["answerability"])
    oof = {id(ex): float(judges[ex.fold].probabilities(matrix([judged[id(ex)].signals], judge.features))[0])
           for ex in examples}
    answerable = [oof[id(ex)] for ex in examples if ex.item.gold.answerable and ex.source != "cmrc"]
    threshold = refusal_threshold(answerable)
    fold_models = {f: {"ranker": rankers[f], "reader": readers[f], "answerability": judges[f]} for f in range(folds)}
    return {"models": {"ranker": ranker, "reader": reader, "answerability": judge}, "threshold": threshold,
            "fold_models": fold_models, "oof_probability": oof,
            "right": {key: value.right for key, value in judged.items()}}


def load_examples(engine: Engine, paths: Iterable[str], folds: int, cmrc: tuple[Engine, Path] | None,
                  cmrc_limit: int | None) -> list[Example]:
    examples = [Example(item, path, engine, fold_of(item.id, folds)) for path in paths for item in load_qa(Path(path))]
    if cmrc is not None:
        cmrc_engine, qa_path = cmrc
        items = load_qa(qa_path)[:cmrc_limit]
        examples += [Example(i, "cmrc", cmrc_engine, fold_of(str(i.gold.passage_id), folds)) for i in items]
    return examples


def main(argv: Sequence[str] | None = None) -> int:
    from reportqa.eval.harness import ensure_index

    parser = argparse.ArgumentParser(prog="python -m reportqa.eval.train", description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=Path("reportqa/models"), help="where the models are written")
    parser.add_argument("--index-dir", type=Path, default=Path("var/index"))
    parser.add_argument("--qa", nargs="*", default=list(TRAIN_SETS), help="report Q&A sets to train on")
    parser.add_argument("--cmrc", type=Path, default=None, help="CMRC 2018 folder (qa.jsonl, corpus.jsonl)")
    parser.add_argument("--cmrc-index-dir", type=Path, default=Path("var/cmrc-index"))
    parser.add_argument("--cmrc-limit", type=int, default=None, help="use only the first N CMRC questions")
    parser.add_argument("--folds", type=int, default=FOLDS)
    args = parser.parse_args(argv)

    def show(line: str) -> None:
        print(line, file=sys.stderr, flush=True)

    settings = load_settings(index_dir=args.index_dir)
    engine = ensure_index(settings)
    cmrc = None
    if args.cmrc:
        cmrc_settings = load_settings(index_dir=args.cmrc_index_dir, corpus=[args.cmrc / "corpus.jsonl"])
        cmrc = (ensure_index(cmrc_settings), args.cmrc / "qa.jsonl")
    examples = load_examples(engine, args.qa, args.folds, cmrc, args.cmrc_limit)
    show(f"{len(examples)} questions in {args.folds} folds")
    result = train(examples, args.folds, show)
    claims = train_claim_models(engine, result, args.folds, show)
    write_model_set(args.out, {**result["models"], **claims["models"]},
                    shipped_facts(result, examples, claims["examples"], args.folds, args.cmrc is not None))
    print(json.dumps({"threshold": result["threshold"], "questions": len(examples)}))
    return 0


def shipped_facts(result: Mapping[str, Any], examples: Sequence[Example], claims: Sequence[Any], folds: int,
                  with_cmrc: bool) -> dict[str, Any]:
    """What the models' manifest records about their training: data, folds, seed, the threshold and its rule."""
    return {"trained_on": sorted({ex.source for ex in examples}), "claims_trained_on": list(CLAIM_SETS),
            "questions": len(examples), "claims": len(claims), "folds": folds, "seed": 0, "cmrc": with_cmrc,
            "threshold": result["threshold"],
            "threshold_rule": "refuses at most 5% of answerable report questions out of fold",
            "created": time.strftime("%Y-%m-%dT%H:%M:%S%z")}


def train_claim_models(engine: Engine, qa_result: Mapping[str, Any], folds: int, show: Callable[[str], None]
                       ) -> dict[str, Any]:
    """The claim models, fitted over claims retrieved with the final QA models (their ranker finds the evidence)."""
    show("measuring the claims")
    qa_engine = Engine(engine.index, engine.settings, None, ModelSet(Path(), {}, dict(qa_result["models"])))
    examples = collect(qa_engine, CLAIM_SETS, folds)
    topic, conflict = fit_claim_models(examples)
    return {"models": {"claim_topic": topic, "claim_conflict": conflict}, "examples": examples, "engine": qa_engine}


if __name__ == "__main__":
    raise SystemExit(main())
