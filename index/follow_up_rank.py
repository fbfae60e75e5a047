"""What a follow-up ranker knows about each candidate passage of a conversation's later turn.

A later turn is searched with its resolved question and the thread before it (engine.Engine.run); the ranker's
order for that reading misses the right passage of the right report when the turn's own words point elsewhere or
the conversation stays on the passage just cited. A learned model (eval.train, role `follow_up_ranker`) reorders
the union of two readings with what the conversation said: the ranker's logit for the thread's reading and for
the turn as written (each with its gap to that reading's best), how much of the previous answer the passage
writes, and whether it shares the report and section of the passage that wrote most of that answer. Pure: hits
and text in, one feature row per candidate out. The previous answer is text (an HTTP client sends only that).
"""

from __future__ import annotations

import math
import re
from collections.abc import Sequence

from reportqa.index.text import bigram_overlap, bigrams

from reportqa.core.types import Hit

FOLLOW_UP_FEATURES = ("thread", "thread_gap", "turn", "turn_gap", "answer_overlap", "same_doc", "same_section")
PREVIOUS_ANSWER_CHARS = 2000  # the part of the previous answer read: a pasted essay must not stall a worker
_MARKER = re.compile(r"\[\d+\]")
ABSENT = math.nan  # a reading that did not retrieve the passage: the trees send it down its own branch


def answer_grams(previous_answer: str) -> frozenset[str]:
    """The previous answer's character bigrams and Latin words, its citation markers left out."""
    return frozenset(bigrams(_MARKER.sub(" ", previous_answer[:PREVIOUS_ANSWER_CHARS])))


def follow_up_rows(thread: Sequence[Hit], turn: Sequence[Hit], previous_answer: str
                   ) -> list[tuple[Hit, dict[str, float]]]:
    """Every passage of either reading (the thread's first, in its order) with its FOLLOW_UP_FEATURES row."""
    pool: dict[str, Hit] = {}
    for hit in (*thread, *turn):
        pool.setdefault(hit.chunk.id, hit)
    by_thread = {h.chunk.id: h.score for h in thread}
    by_turn = {h.chunk.id: h.score for h in turn}
    top_thread = max(by_thread.values(), default=0.0)
    top_turn = max(by_turn.values(), default=0.0)
    said = answer_grams(previous_answer)
    overlap = {cid: bigram_overlap(said, hit.chunk.text)[0] for cid, hit in pool.items()}
    source = max(pool, key=lambda cid: overlap[cid], default=None)
    anchor = pool[source].chunk if source is not None and overlap[source] > 0 else None
    rows = []
    for cid, hit in pool.items():
        same_doc = anchor is not None and hit.chunk.doc == anchor.doc
        rows.append((hit, {
            "thread": by_thread.get(cid, ABSENT),
            "thread_gap": by_thread[cid] - top_thread if cid in by_thread else ABSENT,
            "turn": by_turn.get(cid, ABSENT),
            "turn_gap": by_turn[cid] - top_turn if cid in by_turn else ABSENT,
            "answer_overlap": overlap[cid],
            "same_doc": float(same_doc),
            "same_section": float(same_doc and anchor is not None and hit.chunk.section == anchor.section),
        }))
    return rows
