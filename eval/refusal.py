"""How well each refusal signal tells answerable questions from unanswerable ones (AUC; 0.5 is chance).

    python -m reportqa.eval.refusal [--qa eval/fresh/qa.jsonl] [--index-dir var/index]
"""

from __future__ import annotations

import argparse
import json
from collections.abc import Sequence
from pathlib import Path

import numpy as np
from reportqa.answer.extract import answer_coverage, answer_from_hits, answer_terms
from reportqa.eval.datasets import DEFAULT_QA, load_qa
from reportqa.eval.metrics import auc
from reportqa.index.query import analyze
from reportqa.index.text import without_spaces

from reportqa.core.settings import load_settings
from reportqa.engine import Engine, open_engine

SIGNALS = ("confidence", "answer_coverage", "answer_similarity")


def signals(engine: Engine, question: str) -> dict[str, float]:
    """confidence: the refusal score served today; answer_coverage: weighted share of the question's terms (or
    their aliases) in the chosen answer; answer_similarity: cosine of question and answer in the dense model."""
    query = analyze(question)
    hits = engine.index.search(query, engine.settings.top_k, engine.weights)
    if not hits:
        return dict.fromkeys(SIGNALS, 0.0)
    chosen = answer_from_hits(question, hits, query, engine.index.idf, 0.0)  # threshold 0: never refused
    vectors = engine.index.embedder.encode([query.dense_text, chosen.text or " "])
    norms = np.linalg.norm(vectors, axis=1).clip(min=1e-9)
    return {"confidence": chosen.confidence,
            "answer_coverage": answer_coverage(answer_terms(query, engine.index.idf),
                                               without_spaces(chosen.text)),
            "answer_similarity": float(vectors[0] @ vectors[1] / (norms[0] * norms[1]))}


def separation(engine: Engine, qa: Path) -> dict[str, float]:
    rows = [(item.gold.answerable, signals(engine, item.question)) for item in load_qa(qa)]
    return {name: round(auc([s[name] for ok, s in rows if ok], [s[name] for ok, s in rows if not ok]), 3)
            for name in SIGNALS}


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m reportqa.eval.refusal", description=__doc__.splitlines()[0])
    parser.add_argument("--qa", type=Path, default=DEFAULT_QA)
    parser.add_argument("--index-dir", type=Path, default=None)
    args = parser.parse_args(argv)
    settings = load_settings(**({"index_dir": args.index_dir} if args.index_dir else {}))
    print(json.dumps({"qa": str(args.qa), "auc": separation(open_engine(settings), args.qa)}, ensure_ascii=False))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
