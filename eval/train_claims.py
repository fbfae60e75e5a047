"""Train the claim verdict's models k-fold over the claim sets, and score them out of fold.

on-topic: do the reports state the claim's subject (supported or contradicted) or not (unsupported)?
contradiction: of the on-topic claims, do the reports say otherwise?
value: of the figures that differ from the claim's, which one is the report's value?
All read answer.claim_verdict's measurements of the rules' checks; the retrieval under them is the engine's.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from reportqa.answer.claim_verdict import (
    CANDIDATE_FEATURES,
    CLAIM_FEATURES,
    Assessment,
    candidate_scores,
    with_value_confidence,
)
from reportqa.answer.verify import CONTRADICTED, UNSUPPORTED, Verdict
from reportqa.eval.cite_eval import LABELS, citation_right, value_agrees
from reportqa.eval.datasets import read_jsonl, scored_sealed
from reportqa.eval.learn import fit_trees, fold_of

from reportqa.core.learned import LearnedModel
from reportqa.engine import Engine

CLAIM_SETS = ("eval/claims.jsonl", "eval/fresh/claims.jsonl", "eval/dev/claims.jsonl", "eval/dev2/claims.jsonl",
              *scored_sealed("claims.jsonl"))


@dataclass(frozen=True, slots=True)
class ClaimExample:
    row: dict[str, Any]
    source: str  # the set it came from
    fold: int
    assessment: Assessment


def collect(engine: Engine, paths: Sequence[str], folds: int) -> list[ClaimExample]:
    """Every claim measured once by the engine's rules (the measurements do not depend on the claim models)."""
    return [ClaimExample(row, path, fold_of(str(row["id"]), folds), engine.assess(str(row["claim"]))[0])
            for path in paths for row in read_jsonl(Path(path))]


CLAIM_ROLES = ("claim_topic", "claim_conflict", "claim_value")


def other_roles(models: Mapping[str, LearnedModel]) -> dict[str, LearnedModel]:
    """A model set's models but the claim ones: what claim models fitted anew are put beside, none inherited."""
    return {role: model for role, model in models.items() if role not in CLAIM_ROLES}


def fit_claim_models(examples: Sequence[ClaimExample], features: Sequence[str] = CLAIM_FEATURES
                     ) -> dict[str, LearnedModel]:
    """The on-topic and contradiction models by role, and the value chooser when the claims teach one. The
    verdict models read the chooser's confidence as a chooser that never saw the claim's fold gives it (stacking):
    one fitted on the claim itself would be surer than it is on new claims. All three are gradient-boosted trees:
    over 2,419 claims the verdict models as trees beat the logistic pair on supported and unsupported in two fold
    assignments, contradicted level (docs/experiments.md, thirty-first session; at ~1,300 claims they did not)."""
    rows = stacked_features(examples)
    topic = fit_trees(rows, [int(ex.row["verdict"] != UNSUPPORTED) for ex in examples], features)
    on_topic = [i for i, ex in enumerate(examples) if ex.row["verdict"] != UNSUPPORTED]
    conflict = fit_trees([rows[i] for i in on_topic],
                         [int(examples[i].row["verdict"] == CONTRADICTED) for i in on_topic], features)
    chooser = fit_value_chooser(examples)
    return {"claim_topic": topic, "claim_conflict": conflict} | ({"claim_value": chooser} if chooser else {})


def stacked_features(examples: Sequence[ClaimExample]) -> list[dict[str, float]]:
    """Each claim's measurements with the value confidence of a chooser fitted on the other folds' claims."""
    choosers = {fold: fit_value_chooser([ex for ex in examples if ex.fold != fold])
                for fold in sorted({ex.fold for ex in examples})}
    return [with_value_confidence(ex.assessment, candidate_scores(ex.assessment, choosers[ex.fold])) for ex in examples]


def value_rows(examples: Sequence[ClaimExample]) -> tuple[list[dict[str, float]], list[int]]:
    """Each candidate figure of a contradicted claim, labelled by whether it is the value its writer gave; claims
    with no candidate of that value teach nothing about choosing and are left out."""
    rows: list[dict[str, float]] = []
    labels: list[int] = []
    for ex in examples:
        if ex.row["verdict"] != CONTRADICTED:
            continue
        right = [value_agrees(str(ex.row["report_value"]), c.verdict.report_value) for c in ex.assessment.candidates]
        if any(right):
            rows += [c.features for c in ex.assessment.candidates]
            labels += [int(r) for r in right]
    return rows, labels


def fit_value_chooser(examples: Sequence[ClaimExample]) -> LearnedModel | None:
    """Trees over the candidates (docs/experiments.md, twenty-third session); None when every candidate of the
    claims is right (or none is), which leaves the rules' choice."""
    rows, labels = value_rows(examples)
    return fit_trees(rows, labels, CANDIDATE_FEATURES) if len(set(labels)) == 2 else None


def score(examples: Sequence[ClaimExample], verdict_of: Callable[[ClaimExample], Verdict]) -> dict[str, Any]:
    """Accuracy per gold label, top citation right for supported ones, the report's value for contradicted ones."""
    per_label: dict[str, list[bool]] = {label: [] for label in LABELS}
    top_right: dict[str, list[bool]] = {"supported": [], "contradicted": []}
    values: list[bool] = []
    for ex in examples:
        verdict, gold = verdict_of(ex), str(ex.row["verdict"])
        per_label[gold].append(verdict.verdict == gold)
        top = verdict.citations[0].chunk if verdict.citations else None
        if gold in top_right:
            top_right[gold].append(top is not None and citation_right(ex.row, top.doc, top.text))
        if gold == CONTRADICTED:
            values.append(verdict.verdict == gold and value_agrees(str(ex.row["report_value"]), verdict.report_value))

    def rate(flags: list[bool]) -> float:
        return round(sum(flags) / len(flags), 4) if flags else 0.0

    return {"claims": len(examples), "accuracy": {k: rate(v) for k, v in per_label.items()},
            "top_citation_correct": {k: rate(v) for k, v in top_right.items()}, "report_value_correct": rate(values)}


def out_of_fold_verdicts(engine: Engine, examples: Sequence[ClaimExample], folds: int) -> dict[int, Verdict]:
    """Each claim's verdict (by `id` of its example) from claim models that never saw its fold."""
    models = {f: fit_claim_models([ex for ex in examples if ex.fold != f]) for f in range(folds)}
    return {id(ex): decided(engine, ex, models[ex.fold]) for ex in examples}


def pooled_out_of_fold(engine: Engine, examples: Sequence[ClaimExample], folds: int) -> dict[str, Any]:
    """Every set together, rules only and the learned verdict out of fold: what a change to the checks is judged by."""
    verdicts = out_of_fold_verdicts(engine, examples, folds)
    return {"rules only": score(examples, lambda ex: ex.assessment.rule),
            "learned (out of fold)": score(examples, lambda ex: verdicts[id(ex)])}


def out_of_fold(engine: Engine, examples: Sequence[ClaimExample], folds: int) -> dict[str, Any]:
    """Per set: rules only and the learned verdict, each claim judged by models that never saw its fold."""
    verdicts = out_of_fold_verdicts(engine, examples, folds)
    report = {}
    for path in dict.fromkeys(ex.source for ex in examples):
        part = [ex for ex in examples if ex.source == path]
        report[path] = {"rules only": score(part, lambda ex: ex.assessment.rule),
                        "learned (out of fold)": score(part, lambda ex: verdicts[id(ex)])}
    return report


def decided(engine: Engine, ex: ClaimExample, models: Mapping[str, LearnedModel]) -> Verdict:
    """The verdict the engine would give with these claim models (retrieval and measurements are the same); a
    role they lack is not taken from the engine's own set."""
    swapped = Engine(engine.index, engine.settings, None,
                     engine.models.with_only(other_roles(engine.models.models) | dict(models)))
    return swapped.cite(str(ex.row["claim"]))


def main(argv: Sequence[str] | None = None) -> int:
    """`python -m reportqa.eval.train_claims`: the claim sets pooled out of fold, retrieved with the shipped QA models
    (`make eval` retrieves with out-of-fold ones instead, so its figures differ by a claim or two)."""
    import argparse
    import json

    from reportqa.eval.harness import ensure_index

    from reportqa.core.settings import load_settings

    parser = argparse.ArgumentParser(prog="python -m reportqa.eval.train_claims", description=__doc__.splitlines()[0])
    parser.add_argument("--index-dir", type=Path, default=Path("var/index"))
    parser.add_argument("--sets", nargs="+", default=list(CLAIM_SETS), help="claim files (JSON lines)")
    parser.add_argument("--folds", type=int, default=5)
    parser.add_argument("--models", type=Path, default=None,
                        help="a model set (reportqa/models): retrieve with its QA models, then refit its two claim "
                             "models on every claim and write them into it, its other models kept")
    args = parser.parse_args(argv)
    overrides = {"learned_models": args.models} if args.models else {}
    engine = ensure_index(load_settings(index_dir=args.index_dir, **overrides))
    examples = collect(engine, args.sets, args.folds)
    print(json.dumps(pooled_out_of_fold(engine, examples, args.folds), ensure_ascii=False, indent=1))
    if args.models:
        refit_into(args.models, examples, args.sets)
    return 0


def refit_into(folder: Path, examples: Sequence[ClaimExample], sets: Sequence[str]) -> None:
    """The claim models refitted on every claim, written beside the set's QA models: a change to the checks is
    shipped in a minute, without retraining what retrieves the evidence."""
    import time

    from reportqa.core.learned import load_model_set, write_model_set

    current = load_model_set(folder)
    claim_models = fit_claim_models(examples)
    facts = {k: v for k, v in current.manifest.items() if k != "files"}
    facts |= {"claims_trained_on": list(sets), "claims": len(examples),
              "claims_refitted": time.strftime("%Y-%m-%dT%H:%M:%S%z")}
    write_model_set(folder, other_roles(current.models) | claim_models, facts, current.adapter,
                    current.manifest.get("verifier"))


if __name__ == "__main__":
    raise SystemExit(main())
