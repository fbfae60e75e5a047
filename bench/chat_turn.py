"""What a conversation turn costs beyond a single question (issue 23: at most 10 ms more).

    python -m bench.chat_turn [--chat eval/chat.jsonl] [--rounds 3] [--out bench/results/chat-turn.json]

Every follow-up turn of the conversations is timed twice on the built index, interleaved so that both see the
same machine: as a chat turn (`Engine.chat_trace` with the conversation so far: resolution, context terms and
the answer) and as a single question (`Engine.run` of the question the turn resolved to). The question vectors
are cleared before each timing, so both pay for encoding.
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path

from bench.common import RESULTS, ROOT, log, percentiles, write_json


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--chat", type=Path, default=ROOT / "eval" / "chat.jsonl")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--out", type=Path, default=RESULTS / "chat-turn.json")
    args = parser.parse_args(argv)

    from reportqa.answer.followup import Turn
    from reportqa.eval.datasets import read_jsonl
    from reportqa.eval.train_data import NO_ANSWER
    from reportqa.index.query import preload

    from reportqa.core.settings import load_settings
    from reportqa.engine import open_engine

    engine = open_engine(load_settings())
    preload()
    cases: list[tuple[list[Turn], str]] = []  # (the conversation up to a follow-up, the question it resolved to)
    for row in read_jsonl(args.chat):
        turns: list[Turn] = []
        for n, turn in enumerate(row["turns"]):
            turns.append(Turn("user", str(turn["question"])))
            resolved, trace = engine.chat_trace(turns)
            if n:
                cases.append((list(turns), resolved.question))
            turns.append(Turn("assistant", trace.answer.text or NO_ANSWER))
    chat_s: list[float] = []
    single_s: list[float] = []
    for _ in range(args.rounds):
        for turns, question in cases:
            engine.index.query_vectors.clear()
            start = time.perf_counter()
            engine.chat_trace(turns)
            chat_s.append(time.perf_counter() - start)
            engine.index.query_vectors.clear()
            start = time.perf_counter()
            engine.run(question)
            single_s.append(time.perf_counter() - start)
    extra = [c - s for c, s in zip(chat_s, single_s, strict=True)]  # paired: the same turn, back to back
    result = {"turns": len(cases), "rounds": args.rounds, "chat_turn": percentiles(chat_s),
              "single_question": percentiles(single_s), "extra": percentiles(extra)}
    write_json(args.out, result)
    log(f"chat turn p50 {result['chat_turn']['p50_ms']} ms, single question p50 "
        f"{result['single_question']['p50_ms']} ms, extra p50 {result['extra']['p50_ms']} ms over {len(cases)} turns")


if __name__ == "__main__":
    main()
