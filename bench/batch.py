"""Benchmarks 5 and 6: JSONL batches through the CLI, timed as a user would see them (process start included).

5. the 3,219 CMRC 2018 questions through `reportqa ask --batch`, on an index built from the CMRC corpus;
6. 1,000 distinct claims through `reportqa cite --batch` on the five-report index (target: under 30 s, issue 18):
   the project's claim sets (eval/claims.jsonl, eval/dev, eval/fresh), then sentences of the reports that give a
   figure, so that no claim's vector is cached from an earlier line.
"""

from __future__ import annotations

import contextlib
import json
import re
from pathlib import Path
from typing import Any

from bench.common import CLAIMS, CMRC, CORPUS, Completed, log, reportqa_cmd, run_bounded

CITE_CLAIMS = 1000
CITE_TARGET_S = 30.0
CLAIM_SETS = (CLAIMS, CLAIMS.parent / "dev" / "claims.jsonl", CLAIMS.parent / "fresh" / "claims.jsonl")
_SENTENCE_END = re.compile(r"(?<=[。！？])")
_FIGURE = re.compile(r"\d")


def distinct_claims(n: int) -> list[str]:
    """n different claims: the claim sets' first, then report sentences that state a figure (15–150 characters)."""
    claims: dict[str, None] = {}
    for path in CLAIM_SETS:
        if path.is_file():
            claims.update((json.loads(line)["claim"], None)
                          for line in path.read_text(encoding="utf-8").splitlines() if line.strip())
    for report in sorted(CORPUS.glob("*.txt")):
        for sentence in _SENTENCE_END.split(report.read_text(encoding="utf-8")):
            sentence = " ".join(sentence.split())
            if 15 <= len(sentence) <= 150 and _FIGURE.search(sentence):
                claims.setdefault(sentence, None)
    return list(claims)[:n]


def _count_output(path: Path) -> dict[str, Any]:
    rows = errors = abstained = 0
    verdicts: dict[str, int] = {}
    if path.is_file():
        for line in path.read_text(encoding="utf-8").splitlines():
            if not line.strip():
                continue
            row = json.loads(line)
            rows += 1
            errors += 1 if row.get("error") else 0
            abstained += 1 if row.get("abstained") else 0
            if "verdict" in row:
                verdicts[str(row["verdict"])] = verdicts.get(str(row["verdict"]), 0) + 1
    counts: dict[str, Any] = {"output_rows": rows, "error_rows": errors}
    if verdicts:
        counts["verdicts"] = verdicts
    else:
        counts["abstained_rows"] = abstained
    return counts


def _timing(done: Completed, command: str) -> dict[str, Any]:
    record: dict[str, Any] = {"command": command, "wall_s": round(done.wall_s, 3), "returncode": done.returncode}
    if done.timed_out:
        record["error"] = f"killed at the time limit after {done.wall_s:.0f} s"
    elif done.returncode:
        record["error"] = done.tail()
    return record


def cmrc(work: Path, timeout_s: float, limit: int | None = None) -> dict[str, Any]:
    qa, corpus = CMRC / "qa.jsonl", CMRC / "corpus.jsonl"
    if not qa.is_file() or not corpus.is_file():
        return {"skipped": f"CMRC data not found under {CMRC}"}
    lines = [json.loads(line) for line in qa.read_text(encoding="utf-8").splitlines() if line.strip()]
    lines = lines[:limit] if limit else lines
    questions = work / "cmrc-questions.jsonl"
    questions.write_text("".join(json.dumps({"id": r["id"], "question": r["question"]}, ensure_ascii=False) + "\n"
                                 for r in lines), encoding="utf-8")
    index_dir = work / "cmrc-index"
    log(f"batch: reportqa index --corpus {corpus} (CMRC)")
    done = run_bounded([*reportqa_cmd(), "index", "--corpus", str(corpus), "--index-dir", str(index_dir)],
                       timeout_s, capture=True)
    result: dict[str, Any] = {"questions": len(lines),
                              "index": _timing(done, "reportqa index --corpus cmrc2018/corpus.jsonl")}
    with contextlib.suppress(ValueError, IndexError, KeyError):
        result["index"]["chunks"] = json.loads(done.stdout.strip().splitlines()[-1])["chunks"]
    if done.returncode:
        return result
    out = work / "cmrc-answers.jsonl"
    log(f"batch: reportqa ask --batch ({len(lines)} CMRC questions)")
    done = run_bounded([*reportqa_cmd(), "ask", "--batch", str(questions), "--index-dir", str(index_dir),
                        "--out", str(out)], timeout_s)
    result["ask"] = _timing(done, "reportqa ask --batch cmrc-questions.jsonl --out answers.jsonl")
    result["ask"].update(_count_output(out))
    if result["ask"]["wall_s"] > 0:
        result["ask"]["questions_per_s"] = round(len(lines) / result["ask"]["wall_s"], 1)
    return result


def cite(work: Path, index_dir: Path, timeout_s: float, n_claims: int = CITE_CLAIMS) -> dict[str, Any]:
    claims = distinct_claims(n_claims)
    path = work / "claims-batch.jsonl"
    path.write_text("".join(json.dumps({"id": f"c{i:04d}", "claim": claim}, ensure_ascii=False) + "\n"
                            for i, claim in enumerate(claims)), encoding="utf-8")
    out = work / "claims-verdicts.jsonl"
    log(f"batch: reportqa cite --batch ({n_claims} claims)")
    done = run_bounded([*reportqa_cmd(), "cite", "--batch", str(path), "--index-dir", str(index_dir),
                        "--out", str(out)], timeout_s)
    result = _timing(done, f"reportqa cite --batch claims-{n_claims}.jsonl --out verdicts.jsonl")
    result.update(_count_output(out), claims=len(claims), distinct_claims=len(claims), target_s=CITE_TARGET_S)
    result["meets_target"] = done.returncode == 0 and done.wall_s < CITE_TARGET_S
    if result["wall_s"] > 0:
        result["claims_per_s"] = round(len(claims) / result["wall_s"], 1)
    return result


def main() -> int:
    """`python -m bench.batch`: the cite benchmark alone, over the project's index (var/index), written to
    bench/results/batch-cite.json."""
    from bench.common import ROOT, WORK, result_path, write_json

    WORK.mkdir(parents=True, exist_ok=True)
    result = cite(WORK, ROOT / "var" / "index", timeout_s=600)
    write_json(result_path("batch-cite", quick=False), result)
    print(json.dumps(result, ensure_ascii=False))
    return 0 if result.get("meets_target") else 1


if __name__ == "__main__":
    raise SystemExit(main())
