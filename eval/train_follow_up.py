"""The follow-up ranker's data: each later turn of the conversation sets, asked after the fold engine's own earlier
answers, with every candidate of its two readings (index.follow_up_rank) labelled relevant or not. Only answerable
turns: with the unanswerable ones among the data (every candidate irrelevant) the training run refused fewer of
them still (docs/experiments.md, thirty-third session).

Its model reorders a later turn's pool (engine.Engine.run); in the lab, out of fold over the 24 conversation sets'
1,256 answerable follow-ups (folds by set), it put a relevant passage first for 0.829 of them against the ranker's
0.799 (docs/experiments.md, thirty-third session).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

from reportqa.answer.followup import follow_up_of
from reportqa.eval.metrics import is_relevant
from reportqa.eval.train_data import Example, asked_in_turn

from reportqa.engine import Engine

Rows = tuple[list[dict[str, float]], list[int]]


def follow_up_rows(turns: Sequence[Example], engine: Engine) -> dict[int, Rows]:
    """One conversation's answerable later turns (in order, by `id` of their example): candidate rows and labels."""
    found: dict[int, Rows] = {}
    for ex, history, trace in asked_in_turn(turns, engine):
        follow_up = follow_up_of(history)
        if follow_up is not None and ex.item.gold.answerable:
            rows = engine.follow_up_candidates(trace.hits, follow_up)
            found[id(ex)] = ([row for _, row in rows],
                             [int(is_relevant(hit.chunk.doc, hit.chunk.text, ex.item.gold)) for hit, _ in rows])
    return found


def collect_follow_up_rows(conversations: Sequence[Sequence[Example]], engine_of: Callable[[Example], Engine]
                           ) -> dict[int, Rows]:
    """Every conversation's rows, each asked of its fold's engine (whose models never saw its fold)."""
    found: dict[int, Rows] = {}
    for turns in conversations:
        found |= follow_up_rows(turns, engine_of(turns[0]))
    return found
