"""Train the ranker, the reader and the answerability model, k-fold, and measure them out of fold.

    python -m reportqa.eval.train [--out reportqa/models] [--folds 5] [--cmrc ../shared/benchmarks/cmrc2018]

Stages, each fitted on the out-of-fold output of the one before (stacking):
1. ranker: a pairwise logistic model (RankNet's loss, linear) over the difference of a relevant and an irrelevant
   candidate's features (index.rank_features), report questions and CMRC weighted to count equally, then Platt-scaled
   on the candidates so that its score is a probability of relevance again.
   relevance: the pointwise logistic model over the same features (label: relevant), fitted beside it: whether the
   top passages are relevant at all is an answerability signal, which a within-question ordering does not measure.
2. reader: over each candidate sentence of the hits the fold's ranker returns (answer.reader); label: the
   sentence holds a reference answer and its passage is relevant. Gradient-boosted trees (core.trees): its features
   interact, and the trees pick CMRC's answer sentence first 0.78 of the time against the logistic model's 0.73; with
   each sentence read against the others and its neighbours (answer.reader.CONTEXT_FEATURES), 500 × 63 trees, 0.83.
3. follow-up ranker: over the candidates of each answerable later turn of the conversation sets, asked after the
   fold engine's own earlier answers (eval.train_follow_up, index.follow_up_rank); label: the passage is relevant.
   Gradient-boosted trees: it reorders a later turn's pool from both readings' ranker logits and what the previous
   answer wrote.
4. answerability: over the signals of the fold's answer (answer.answerability); label: the answer is right. Its
   data: the report questions, the turns of the conversation sets (each asked after the fold engine's own earlier
   answers, at half weight) and, with CMRC 2018, its questions asked of its own passages (at a fifth of the weight)
   and ~200 of them asked of the reports (off-topic, unanswerable). Gradient-boosted trees, like the reader: with
   CMRC's questions among the data they refuse more of the report sets' unanswerable questions than a logistic model
   at the same 5% of answerable ones refused (docs/experiments.md, thirty-first session).
The refusal threshold is the highest that refuses at most 5% of the answerable report questions out of fold; a
conversation's later turns have their own, chosen the same way over the answerable turns after the first (one
threshold for both refused 13.5% of answerable follow-ups: docs/experiments.md, twenty-second session).
Every figure this writes is out of fold: each question is answered by models that never saw its fold.
"""

from __future__ import annotations

import argparse
import json
import shutil
import sys
import tempfile
import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from reportqa.answer.answerability import SIGNALS
from reportqa.answer.extract import AnswerTerms, Unit, choose_units, passage_units, rule_scorer, units_of
from reportqa.answer.reader import ENCODED, UNIT_FEATURES, similarities_of, unit_features
from reportqa.eval.datasets import QAItem
from reportqa.eval.learn import READER_LEAVES, READER_TREES, fit_trees, refusal_threshold
from reportqa.eval.metrics import answer_ok, is_relevant, squash
from reportqa.eval.train_adapter import adapt_examples, fit_adapters
from reportqa.eval.train_claims import CLAIM_SETS, collect, fit_claim_models
from reportqa.eval.train_data import (
    CHAT_SETS,
    FOLDS,
    LEARNS_FROM,
    OFF_TOPIC_SOURCES,
    TRAIN_SETS,
    WRITTEN_OFF_TOPIC,
    Example,
    Judged,
    asked_in_turn,
    conversations_of,
    from_reports,
    learns_from,
    load_examples,
    load_turns,
    off_topic_file,
    rows_for,
)
from reportqa.eval.train_folds import (
    calibrated,
    candidate_rows,
    fit_by_fold,
    fit_each_fold,
    ranker_pairs,
    source_weights,
)
from reportqa.eval.train_follow_up import collect_follow_up_rows
from reportqa.eval.train_verifier import (
    TRAINED_LAYERS,
    TrainedVerifiers,
    VerifierPlan,
    decoy_sentence,
    train_verifiers,
    with_verifier_signal,
)
from reportqa.index.encoder import ensure_e5_folder
from reportqa.index.follow_up_rank import FOLLOW_UP_FEATURES
from reportqa.index.rank_features import CHUNK_FEATURES
from reportqa.index.search import SearchIndex

from reportqa.core.learned import (
    UNVERIFIED,
    VERIFIER_BAND,
    VERIFIER_FILE,
    VERIFIER_SIGNAL,
    LearnedModel,
    LinearModel,
    ModelSet,
    matrix,
    needs_verifier,
    write_model_set,
)
from reportqa.core.settings import load_settings
from reportqa.core.trees import TreeModel
from reportqa.engine import ANSWER_POOL, Engine, Trace

NEVER_REFUSE = -1.0


def relevant(hit_doc: str, hit_text: str, item: QAItem) -> bool:
    return is_relevant(hit_doc, hit_text, item.gold)


def collect_candidates(examples: Sequence[Example], show: Callable[[str], None]) -> None:
    """Stage 1's data: each question's candidate pool with features and relevance labels (model-free)."""
    started = time.perf_counter()
    for n, ex in enumerate(examples, 1):
        if ex.turn is not None:  # a conversation's turn: answerability data only
            continue
        index = ex.engine.index
        assert isinstance(index, SearchIndex), "training reads an embedded index"
        ex.candidates = index.candidate_features(ex.query, ex.engine.weights)
        ex.labels = {i: int(relevant(index.chunks[i].doc, index.chunks[i].text, ex.item)) for i in ex.candidates}
        if n % 500 == 0:
            show(f"candidates: {n}/{len(examples)} questions ({time.perf_counter() - started:.0f} s)")


def fold_engine(ex: Example, models: Mapping[str, LearnedModel], threshold: float) -> Engine:
    engine = Engine(ex.engine.index, ex.engine.settings, None,
                    ModelSet(Path(), {"threshold": threshold}, dict(models)))
    engine.refuse_below(threshold)
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
        encoded = similarities_of(units, hits, sims_of, passage_units, ENCODED)
        seen.extend(zip(units, unit_features(units, sims, hits, ex.query, terms, encoded), strict=True))
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


def judged_trace(ex: Example, trace: Trace) -> Judged:
    signals = trace.reading.signals
    row = signals.row() if signals else dict.fromkeys(SIGNALS, 0.0)
    ok = answer_ok(trace.answer.text, trace.answer.abstained, ex.item.gold)
    best = trace.reading.selection.best
    chosen = best.text if best is not None else ""
    # only a rightly answered question's decoy becomes a pair (train_verifier.example_pairs): no units split for others
    decoy = decoy_sentence(trace.question, [u.text for u in units_of(trace.hits)], chosen,
                           ex.item.gold.answers) if ok else ""
    return Judged(row, ok, ex.item.gold.answerable, trace.question, chosen, decoy)


def judge_rows(ex: Example, models: Mapping[str, LearnedModel]) -> Judged:
    return judged_trace(ex, fold_engine(ex, models, NEVER_REFUSE).run(ex.item.question, qid=ex.item.id))


def judge_conversation(turns: Sequence[Example], models: Mapping[str, LearnedModel]) -> dict[int, Judged]:
    """A conversation's turns in order, each resolved against the fold engine's own earlier answers (as
    eval.chat_eval asks them, except that the engine never refuses here: an earlier turn the shipped engine would
    refuse gives its answer to the history, where chat_eval writes that none was found), judged like a stand-alone
    question."""
    engine = fold_engine(turns[0], models, NEVER_REFUSE)
    return {id(ex): judged_trace(ex, trace) for ex, _, trace in asked_in_turn(turns, engine)}


def judge_all(examples: Sequence[Example], models_of: Callable[[int], Mapping[str, LearnedModel]]
              ) -> dict[int, Judged]:
    """Every question's answer signals with its fold's models; conversations turn by turn."""
    judged = {id(ex): judge_rows(ex, models_of(ex.fold)) for ex in examples if ex.turn is None}
    for turns in conversations_of(examples):
        judged |= judge_conversation(turns, models_of(turns[0].fold))
    return judged


def fit_follow_up_rankers(examples: Sequence[Example], folds: int,
                          models_of: Callable[[int], Mapping[str, LearnedModel]], features: Sequence[str]
                          ) -> tuple[dict[int, TreeModel], TreeModel | None]:
    """The follow-up ranker per fold and on everything, over the later turns' candidates as each fold's engine
    finds them; none where the rows hold a single class (no conversations, or too few): the thread's order
    stands there."""
    data = collect_follow_up_rows(conversations_of(examples),
                                  lambda ex: fold_engine(ex, models_of(ex.fold), NEVER_REFUSE))

    def fit(rows: list[dict[str, float]], labels: list[int], weights: list[float] | None) -> TreeModel | None:
        return fit_trees(rows, labels, features, weights) if len(set(labels)) > 1 else None

    by_fold, final = fit_each_fold(examples, folds, rows_for("follow_up_ranker", lambda ex: data.get(id(ex), ([], []))),
                                   fit)
    return {f: model for f, model in by_fold.items() if model is not None}, final


def optional(role: str, model: LearnedModel | None) -> dict[str, LearnedModel]:
    """{role: model}, or nothing when the model was not fitted (no conversations among the data)."""
    return {role: model} if model is not None else {}


FEATURES = {"ranker": CHUNK_FEATURES, "reader": UNIT_FEATURES, "answerability": SIGNALS,
            "follow_up_ranker": FOLLOW_UP_FEATURES}


def train(examples: list[Example], folds: int, show: Callable[[str], None],
          features: Mapping[str, Sequence[str]] = FEATURES, verifier: VerifierPlan | None = None) -> dict[str, Any]:
    """Fit every stage k-fold; returns the final models, the threshold and the per-fold models. With a verifier
    plan, the answer verifier is trained per fold on the judged answers and its logit joins the signals."""
    in_use = {ex.fold: ex.engine.index.query_adapter for ex in examples} if examples[0].candidates else None
    fold_adapters, adapter = fit_adapters(examples, folds, show, in_use)
    if in_use is None:
        adapt_examples(examples, fold_adapters)
        collect_candidates(examples, show)
    show("fitting the ranker")
    weights = source_weights(examples)
    candidates = rows_for("ranker", candidate_rows)
    rankers, ranker = fit_by_fold(examples, folds, rows_for("ranker", ranker_pairs), features["ranker"],
                                  weight_of=weights)
    rankers = {f: calibrated(model, [ex for ex in examples if ex.fold != f], candidates, weights)
               for f, model in rankers.items()}
    ranker = calibrated(ranker, examples, candidates, weights)
    relevances, relevance = fit_by_fold(examples, folds, candidates, features["ranker"])
    show("collecting reader examples")
    reader_data = {id(ex): reader_rows_for(ex, rankers[ex.fold]) for ex in examples if learns_from("reader", ex)}
    readers, reader = fit_each_fold(examples, folds, rows_for("reader", lambda ex: reader_data[id(ex)]),
                                    lambda rows, labels, w: fit_trees(rows, labels, features["reader"], w,
                                                                      trees=READER_TREES, leaves=READER_LEAVES))
    show("collecting follow-up candidates")
    follow_ups, follow_up = fit_follow_up_rankers(examples, folds, lambda fold: {
        "ranker": rankers[fold], "reader": readers[fold], "relevance": relevances[fold]}, features["follow_up_ranker"])
    show("collecting answerability signals")

    def fold_models_of(fold: int) -> dict[str, LearnedModel]:
        return {"ranker": rankers[fold], "reader": readers[fold], "relevance": relevances[fold],
                **optional("follow_up_ranker", follow_ups.get(fold))}

    judged = judge_all(examples, fold_models_of)
    verifiers = train_verifiers(examples, judged, folds, verifier, show) if verifier is not None else None
    unverified: dict[str, Any] = {}
    if verifiers is not None:
        judged = with_verifier_signal(examples, judged, verifiers.by_fold)
        unverified = dict(zip(("by_fold", "final"), fit_answerability(examples, judged, folds, features), strict=True))
        features = {**features, "answerability": (*features["answerability"], VERIFIER_SIGNAL)}
    judges, judge = fit_answerability(examples, judged, folds, features)
    oof = {id(ex): served_probability(judged[id(ex)].signals, judges[ex.fold],
                                      unverified["by_fold"][ex.fold] if unverified else None)
           for ex in examples}
    answerable = [oof[id(ex)] for ex in examples if ex.item.gold.answerable and from_reports(ex)]
    threshold = refusal_threshold(answerable)
    later_turns = [oof[id(ex)] for ex in examples
                   if ex.item.gold.answerable and ex.turn is not None and ex.turn.position > 0]
    follow_up_threshold = refusal_threshold(later_turns) if later_turns else None  # None: the threshold for both
    off_topic = off_topic_refused(examples, oof, threshold)
    for source, figures in off_topic.items():
        show(f"off-topic questions ({source}) refused out of fold: {figures['refused']:.3f} of {figures['questions']}")
    fold_models = {f: {"ranker": rankers[f], "relevance": relevances[f], "reader": readers[f],
                       "answerability": judges[f]} | optional("follow_up_ranker", follow_ups.get(f))
                   | optional(UNVERIFIED, unverified["by_fold"][f] if unverified else None)
                   for f in range(folds)}
    return {"models": {"ranker": ranker, "relevance": relevance, "reader": reader, "answerability": judge}
            | optional("follow_up_ranker", follow_up) | optional(UNVERIFIED, unverified.get("final")),
            "threshold": threshold, "follow_up_threshold": follow_up_threshold, "adapter": adapter,
            "fold_adapters": fold_adapters,
            "fold_models": fold_models, "verifiers": verifiers,
            "fold_verifiers": verifiers.by_fold if verifiers is not None else {}, "oof_probability": oof,
            "off_topic": off_topic,
            "right": {key: value.right for key, value in judged.items()}, "judged": judged}


def fit_answerability(examples: Sequence[Example], judged: Mapping[int, Judged], folds: int,
                      features: Mapping[str, Sequence[str]]) -> tuple[dict[int, TreeModel], TreeModel]:
    """The answerability trees per fold and on everything, over the judged answers' signals."""
    return fit_each_fold(
        examples, folds,
        rows_for("answerability", lambda ex: ([judged[id(ex)].signals], [int(judged[id(ex)].right)])),
        lambda rows, labels, w: fit_trees(rows, labels, features["answerability"], w), weight_of=answerability_weight)


def served_probability(signals: Mapping[str, float], judge: LearnedModel, unverified: LearnedModel | None) -> float:
    """The probability the engine would give (answer.respond.judged): the model without the verifier where it is
    sure, else the one that reads it."""
    if unverified is not None:
        first = float(unverified.probabilities(matrix([signals], unverified.features))[0])
        if not needs_verifier(first):
            return first
    return float(judge.probabilities(matrix([signals], judge.features))[0])


def off_topic_refused(examples: Sequence[Example], oof: Mapping[int, float], threshold: float
                      ) -> dict[str, dict[str, float]]:
    """Per off-topic source: how many questions, and the share refused out of fold at the threshold."""
    figures = {}
    for source in sorted(OFF_TOPIC_SOURCES):
        refused = [oof[id(ex)] < threshold for ex in examples if ex.source == source]
        if refused:
            figures[source] = {"questions": len(refused), "refused": round(sum(refused) / len(refused), 4)}
    return figures


# a conversation turn's weight in the answerability model beside a stand-alone question. Out of fold (the models of
# 43b4d35's recipe, 2,476 report questions, 968 turns; refusal threshold on the report questions): weight 0 (no
# turns) turns answered-right-or-refused 0.719, answerable follow-ups refused 0.162, report questions 0.757 (AUC
# 0.892); 0.5: 0.728, 0.135, 0.758 (0.887); 1.0: 0.735, 0.125, 0.753 (0.882); 2.0: 0.733, 0.124, 0.744 (0.872)
TURN_WEIGHT = 0.5
# a CMRC 2018 question's weight there: its answers are right or wrong on another collection, so the model learns what
# a right answer looks like beyond the reports. Out of fold (3372265's fold models' signals, the trees refitted per
# weight: /work/s31/anslab3.py): CMRC answer_ok (answerable refused), report sets' unanswerable refused, ECE,
# off-topic refused: 0 (none) 0.8832 (0.017), 0.6569, 0.0261, 0.983; 0.1: 0.8863 (0.013), 0.6632, 0.0280, 0.983;
# 0.2: 0.8885 (0.011), 0.6607, 0.0299, 0.980; 0.5: 0.8916 (0.007), 0.6619, 0.0299, 0.972
CMRC_WEIGHT = 0.2


def answerability_weight(ex: Example) -> float:
    """A question's weight in the answerability model: a turn at half, a CMRC question at CMRC_WEIGHT."""
    return TURN_WEIGHT if ex.turn is not None else CMRC_WEIGHT if ex.source == "cmrc" else 1.0


def add_training_arguments(parser: argparse.ArgumentParser) -> None:
    """The options training and the experiment share: which index, CMRC 2018, folds and off-topic questions."""
    parser.add_argument("--index-dir", type=Path, default=Path("var/index"))
    parser.add_argument("--cmrc", type=Path, default=None, help="CMRC 2018 folder (qa.jsonl, corpus.jsonl)")
    parser.add_argument("--cmrc-index-dir", type=Path, default=Path("var/cmrc-index"))
    parser.add_argument("--cmrc-limit", type=int, default=None, help="use only the first N CMRC questions")
    parser.add_argument("--folds", type=int, default=FOLDS)
    parser.add_argument("--off-topic", type=Path, default=Path(WRITTEN_OFF_TOPIC),
                        help="off-topic questions scored out of fold ('' for none)")
    parser.add_argument("--verifier-layers", type=int, default=0,
                        help=f"train the answer verifier with this many top layers fine-tuned ({TRAINED_LAYERS} in "
                             "docs/experiments.md; 0, the default: none — not shipped yet: away from the reports' text "
                             "it refuses answerable questions more often, docs/experiments.md)")


@contextmanager
def verifier_plan(args: argparse.Namespace, models_dir: Path) -> Iterator[VerifierPlan | None]:
    """The verifier's training plan for a run (its fold exports in a scratch folder removed afterwards)."""
    if not args.verifier_layers:
        yield None
        return
    base = ensure_e5_folder(models_dir)
    work = Path(tempfile.mkdtemp(prefix="verifier-training.", dir=models_dir))
    try:
        yield VerifierPlan(base, work, args.verifier_layers)
    finally:
        shutil.rmtree(work, ignore_errors=True)


def write_trained(out: Path, result: Mapping[str, Any], claim_models: Mapping[str, LearnedModel],
                  facts: Mapping[str, Any]) -> None:
    """The QA models, the claim models, the adapter and the verifier (if trained) as one model set."""
    verifiers: TrainedVerifiers | None = result.get("verifiers")
    out.mkdir(parents=True, exist_ok=True)
    if verifiers is not None:
        shutil.copyfile(verifiers.weights_file, out / VERIFIER_FILE)
    write_model_set(out, {**result["models"], **claim_models}, facts, result["adapter"],
                    verifiers.entry if verifiers is not None else None)


def main(argv: Sequence[str] | None = None) -> int:
    from reportqa.eval.harness import ensure_index

    parser = argparse.ArgumentParser(prog="python -m reportqa.eval.train", description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=Path("reportqa/models"), help="where the models are written")
    parser.add_argument("--qa", nargs="*", default=list(TRAIN_SETS), help="report Q&A sets to train on")
    parser.add_argument("--chat", nargs="*", default=list(CHAT_SETS),
                        help="conversation sets whose turns the follow-up ranker and answerability learn from")
    add_training_arguments(parser)
    args = parser.parse_args(argv)

    def show(line: str) -> None:
        print(line, file=sys.stderr, flush=True)

    settings = load_settings(index_dir=args.index_dir)
    engine = ensure_index(settings)
    cmrc = None
    if args.cmrc:
        cmrc_settings = load_settings(index_dir=args.cmrc_index_dir, corpus=[args.cmrc / "corpus.jsonl"])
        cmrc = (ensure_index(cmrc_settings), args.cmrc / "qa.jsonl")
    examples = load_examples(engine, args.qa, args.folds, cmrc, args.cmrc_limit, off_topic_file(args.off_topic))
    examples += load_turns(engine, args.chat, args.folds)
    show(f"{len(examples)} questions and conversation turns in {args.folds} folds")
    with verifier_plan(args, settings.models_dir) as plan:
        result = train(examples, args.folds, show, verifier=plan)
        claims = train_claim_models(engine, result, args.folds, show)
        write_trained(args.out, result, claims["models"],
                      shipped_facts(result, examples, claims["examples"], args.folds, args.cmrc is not None))
    print(json.dumps({"threshold": result["threshold"], "follow_up_threshold": result["follow_up_threshold"],
                      "questions": len(examples)}))
    return 0


def shipped_facts(result: Mapping[str, Any], examples: Sequence[Example], claims: Sequence[Any], folds: int,
                  with_cmrc: bool) -> dict[str, Any]:
    """What the models' manifest records about their training: data, folds, seed, the threshold and its rule."""
    learned = [ex for ex in examples if any(learns_from(role, ex) for role in LEARNS_FROM)]
    chats = sorted({ex.turn.conversation.rsplit(":", 1)[0] for ex in learned if ex.turn is not None})
    return {"trained_on": sorted({ex.source for ex in learned if ex.turn is None}), "conversations_trained_on": chats,
            "claims_trained_on": list(CLAIM_SETS),
            "questions": sum(ex.turn is None for ex in learned),
            "conversation_turns": sum(ex.turn is not None for ex in learned),
            "claims": len(claims), "folds": folds, "seed": 0, "cmrc": with_cmrc,
            **refusal_facts(result["threshold"], result["follow_up_threshold"], result.get("verifiers") is not None),
            "created": time.strftime("%Y-%m-%dT%H:%M:%S%z")}


def refusal_facts(threshold: float, follow_up_threshold: float | None, verifier: bool) -> dict[str, Any]:
    """What a model set's manifest says about refusing: the thresholds, their rules, and where the verifier is asked."""
    return {**({"verifier_band": list(VERIFIER_BAND)} if verifier else {}),
            "threshold": threshold,
            "threshold_rule": "refuses at most 5% of answerable report questions out of fold",
            **({"follow_up_threshold": follow_up_threshold,
                "follow_up_threshold_rule": "refuses at most 5% of answerable conversation turns after the first out "
                                            "of fold"} if follow_up_threshold is not None else {})}


def train_claim_models(engine: Engine, qa_result: Mapping[str, Any], folds: int, show: Callable[[str], None]
                       ) -> dict[str, Any]:
    """The claim models, fitted over claims retrieved with the final QA models (their ranker finds the evidence)."""
    show("measuring the claims")
    verifiers: TrainedVerifiers | None = qa_result.get("verifiers")
    qa_engine = Engine(engine.index, engine.settings, None,
                       ModelSet(Path(), {}, dict(qa_result["models"]), qa_result.get("adapter"),
                                verifiers.final if verifiers is not None else None))
    examples = collect(qa_engine, CLAIM_SETS, folds)
    return {"models": fit_claim_models(examples), "examples": examples, "engine": qa_engine}


if __name__ == "__main__":
    raise SystemExit(main())
