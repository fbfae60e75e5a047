"""The answerability model's data kept beside an experiment's report: a change to that model's features or weights is
then measured out of fold in a minute, not in a training run.

    python -m reportqa.eval.answerability_rows eval/reports/experiment/answerability_rows.jsonl.gz --add unknown_names

prints the figures out of fold with the features the training used and with the variant asked for.

Each row is one question or conversation turn as its fold's engine answered it (eval.train.judge_all): the signals
the model reads, whether the answer was right, and what places it in the figures. Refitting with the training's own
features reproduces the training's out-of-fold probabilities (tests/integration/test_training.py).
"""

from __future__ import annotations

import argparse
import gzip
import json
from collections.abc import Callable, Mapping, Sequence
from dataclasses import asdict, dataclass
from pathlib import Path

from reportqa.eval.learn import fit_trees, refusal_threshold
from reportqa.eval.train import refusal_facts, served_probability
from reportqa.eval.train_data import CONVERSATION, OFF_TOPIC_SOURCES, Example, Judged, from_reports, learns_from
from reportqa.eval.train_folds import fit_each_fold

from reportqa.core.learned import UNVERIFIED, VERIFIER_SIGNAL, matrix
from reportqa.core.trees import TreeModel

ROWS_FILE = "answerability_rows.jsonl.gz"


@dataclass(frozen=True, slots=True)
class AnswerabilityRow:
    """One answered question: the answerability model's row and where it counts."""

    id: str
    source: str  # the set it came from (a conversation's turns: eval.train_data.CONVERSATION)
    fold: int
    weight: float  # its weight in the model (eval.train.answerability_weight)
    learned: bool  # the model learns from it (eval.train_data.learns_from)
    reports: bool  # it counts in the report sets' figures (eval.train_data.from_reports)
    later_turn: bool  # a conversation's turn after the first: refused below the follow-up threshold
    answerable: bool
    right: bool
    signals: dict[str, float]


@dataclass(frozen=True, slots=True)
class AnswerabilityData:
    """The rows with the features the training's model read and its number of folds."""

    features: tuple[str, ...]
    folds: int
    rows: list[AnswerabilityRow]


def rows_of(examples: Sequence[Example], judged: Mapping[int, Judged], weight_of: Callable[[Example], float]
            ) -> list[AnswerabilityRow]:
    """The rows in the examples' order (the order the training fitted them in); `weight_of(example)`: its weight."""
    return [AnswerabilityRow(ex.item.id, ex.source, ex.fold, float(weight_of(ex)), learns_from("answerability", ex),
                             from_reports(ex), ex.turn is not None and ex.turn.position > 0,
                             ex.item.gold.answerable, judged[id(ex)].right, dict(judged[id(ex)].signals))
            for ex in examples]


def write_rows(path: Path, data: AnswerabilityData) -> None:
    """JSON lines, gzipped: a first line with the features and folds, then one line a row."""
    path.parent.mkdir(parents=True, exist_ok=True)
    with gzip.open(path, "wt", encoding="utf-8") as out:
        out.write(json.dumps({"features": list(data.features), "folds": data.folds}) + "\n")
        for row in data.rows:
            out.write(json.dumps(asdict(row), ensure_ascii=False) + "\n")


def read_rows(path: Path) -> AnswerabilityData:
    with gzip.open(path, "rt", encoding="utf-8") as lines:
        head = json.loads(next(lines))
        rows = [AnswerabilityRow(**json.loads(line)) for line in lines if line.strip()]
    return AnswerabilityData(tuple(head["features"]), int(head["folds"]), rows)


def fitted(rows: Sequence[AnswerabilityRow], features: Sequence[str], folds: int
           ) -> tuple[dict[int, TreeModel], TreeModel]:
    """The trees per fold (on the other folds' rows) and on every learned row, fitted as the training fits them."""
    def fit(x: list[dict[str, float]], y: list[int], w: list[float] | None) -> TreeModel:
        return fit_trees(x, y, features, w)

    return fit_each_fold(rows, folds, lambda r: ([r.signals], [int(r.right)]) if r.learned else ([], []), fit,
                         weight_of=lambda r: r.weight)


def refit(rows: Sequence[AnswerabilityRow], features: Sequence[str], folds: int) -> list[float]:
    """Each row's probability from trees fitted, as the training fits them, on the other folds' rows."""
    models, _ = fitted(rows, features, folds)
    return [float(models[r.fold].probabilities(matrix([r.signals], features))[0]) for r in rows]


def served(rows: Sequence[AnswerabilityRow], features: Sequence[str], folds: int
           ) -> tuple[list[float], dict[str, TreeModel]]:
    """Each row's out-of-fold probability as the engine would give it, and the final models by role: with the
    verifier among the features, the model without it where that one is sure (eval.train.served_probability)."""
    fold_models, final = fitted(rows, features, folds)
    models = {"answerability": final}
    first: dict[int, TreeModel] = {}
    if VERIFIER_SIGNAL in features:
        first, models[UNVERIFIED] = fitted(rows, [f for f in features if f != VERIFIER_SIGNAL], folds)
    return [served_probability(r.signals, fold_models[r.fold], first.get(r.fold)) for r in rows], models


def thresholds(rows: Sequence[AnswerabilityRow], probabilities: Sequence[float]) -> tuple[float, float | None]:
    """The refusal threshold and the later turns' one (None without later turns), chosen as eval.train.train does."""
    pairs = list(zip(rows, probabilities, strict=True))
    later = [p for r, p in pairs if r.later_turn and r.answerable]
    return (refusal_threshold([p for r, p in pairs if r.reports and r.answerable]),
            refusal_threshold(later) if later else None)


def write_into(folder: Path, data: AnswerabilityData, verifier: tuple[Path, int] | None) -> dict[str, float]:
    """The answerability trees fitted on every learned row and their out-of-fold thresholds, written into a model
    set, its other models kept: a change to that model ships without a training run. `verifier`: the weights whose
    fold siblings gave the rows' verifier logits, and the pairs they were trained on; required when the rows read it.
    Returns the out-of-fold figures."""
    import shutil
    import time

    from reportqa.answer.verifier import read_weights, verifier_entry

    from reportqa.core.learned import VERIFIER_FILE, load_model_set, write_model_set

    if (VERIFIER_SIGNAL in data.features) != (verifier is not None):
        raise ValueError("the answer verifier's weights are needed exactly when the rows' features read its logit")
    current = load_model_set(folder)
    probabilities, models = served(data.rows, data.features, data.folds)
    threshold, follow_up = thresholds(data.rows, probabilities)
    refusing = refusal_facts(threshold, follow_up, verifier is not None)
    facts = {k: v for k, v in current.manifest.items()
             if k not in {"files", "follow_up_threshold", "follow_up_threshold_rule", "verifier_band", *refusing}}
    facts |= refusing | {"answerability_trained_on": sorted({r.source for r in data.rows if r.learned}),
                         "answerability_refitted": time.strftime("%Y-%m-%dT%H:%M:%S%z")}
    entry = None
    if verifier is not None:
        weights, pairs = verifier
        if weights.resolve() != (folder / VERIFIER_FILE).resolve():
            shutil.copyfile(weights, folder / VERIFIER_FILE)
        entry = verifier_entry(read_weights(folder / VERIFIER_FILE), pairs)
    kept = {role: model for role, model in current.models.items() if role != UNVERIFIED}
    write_model_set(folder, kept | models, facts, current.adapter, entry)
    return figures(data.rows, probabilities)


def figures(rows: Sequence[AnswerabilityRow], probabilities: Sequence[float]) -> dict[str, float]:
    """The figures the thresholds decide, as the training chooses them: refuse at most 5% of the answerable report
    questions (later turns: of the answerable later turns)."""
    pairs = list(zip(rows, probabilities, strict=True))
    threshold, later_threshold = thresholds(rows, probabilities)
    follow_up = threshold if later_threshold is None else later_threshold

    def refused(r: AnswerabilityRow, p: float) -> bool:
        return p < (follow_up if r.later_turn else threshold)

    def share(flags: list[bool]) -> float:
        return round(sum(flags) / len(flags), 4) if flags else 0.0

    turns = [(r, p) for r, p in pairs if r.source == CONVERSATION]
    out = {
        "report answer_ok": share([(r.right and not refused(r, p)) if r.answerable else refused(r, p)
                                   for r, p in pairs if r.reports]),
        "report unanswerable refused": share([refused(r, p) for r, p in pairs if r.reports and not r.answerable]),
        "report answerable refused": share([refused(r, p) for r, p in pairs if r.reports and r.answerable]),
        "turns unanswerable refused": share([refused(r, p) for r, p in turns if not r.answerable]),
        "later turns answerable refused": share([refused(r, p) for r, p in turns if r.later_turn and r.answerable]),
        "later turns answer_ok": share([r.right and not refused(r, p) for r, p in turns
                                        if r.later_turn and r.answerable]),
        "cmrc answerable refused": share([refused(r, p) for r, p in pairs if r.source == "cmrc"]),
    }
    for source in sorted(OFF_TOPIC_SOURCES):
        out[f"{source} refused"] = share([refused(r, p) for r, p in pairs if r.source == source])
    return out | {"threshold": round(threshold, 4), "follow-up threshold": round(follow_up, 4)}


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m reportqa.eval.answerability_rows",
                                     description=__doc__.splitlines()[0])
    parser.add_argument("rows", type=Path, help=f"an experiment report's {ROWS_FILE}")
    parser.add_argument("--add", nargs="*", default=[], help="signals to learn from beside the trained ones")
    parser.add_argument("--drop", nargs="*", default=[], help="trained features to leave out")
    parser.add_argument("--write-into", type=Path, default=None, metavar="MODELS",
                        help="a model set (reportqa/models): refit its answerability model and thresholds on these "
                             "rows with the trained features and write them into it, its other models kept")
    parser.add_argument("--verifier", type=Path, default=None, metavar="WEIGHTS",
                        help="with --write-into, when the rows read the verifier's logit: the verifier.npz to ship "
                             "(one of the run's fold verifiers)")
    parser.add_argument("--verifier-pairs", type=int, default=0, help="the pairs those weights were trained on")
    args = parser.parse_args(argv)
    data = read_rows(args.rows)
    if args.write_into is not None:
        try:
            written = write_into(args.write_into, data,
                                 (args.verifier, args.verifier_pairs) if args.verifier is not None else None)
        except ValueError as exc:
            parser.error(str(exc))
        print(json.dumps(written, indent=1))
        return 0
    held = set(data.rows[0].signals) if data.rows else set()
    unknown = sorted((set(args.add) - held) | (set(args.drop) - set(data.features)))
    if unknown:
        parser.error(f"not a signal of these rows or not a trained feature: {', '.join(unknown)}")
    variant = tuple(f for f in data.features if f not in set(args.drop)) + tuple(
        f for f in args.add if f not in data.features)
    report = {"trained features": figures(data.rows, served(data.rows, data.features, data.folds)[0]),
              "variant": figures(data.rows, served(data.rows, variant, data.folds)[0])}
    print(json.dumps(report, indent=1))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
