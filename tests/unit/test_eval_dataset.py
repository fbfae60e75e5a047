"""The reference sets are checked against the reports themselves: evidence is verbatim, answers are in it."""

from __future__ import annotations

import json
import re
from collections import Counter
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


def read(*parts: str) -> list[dict[str, object]]:
    return [json.loads(line) for line in (ROOT / "eval").joinpath(*parts).read_text(encoding="utf-8").splitlines()
            if line]


QA = read("qa.jsonl")
CLAIMS = read("claims.jsonl")
# the second sets, written after the first had been used for tuning: the same checks, smaller quotas
FRESH_QA = read("fresh", "qa.jsonl")
FRESH_CLAIMS = read("fresh", "claims.jsonl")
# the third, written by helpers who read only the reports, never the system or the other sets
FRESH2_QA = read("fresh2", "qa.jsonl")
# a development set for refusal: when / who / which-organisation questions, half of them unanswerable
REFUSAL_DEV_QA = read("refusal_dev", "qa.jsonl")
REPORTS = {p.name: re.sub(r"\s+", "", p.read_text(encoding="utf-8")) for p in (ROOT / "corpus").glob("*.txt")}


def squash(text: str) -> str:
    return re.sub(r"\s+", "", text)


def test_qa_set_size_and_type_quotas() -> None:
    types = Counter(item["type"] for item in QA)
    assert len(QA) >= 150
    assert types["paraphrase"] >= 25 and types["table"] >= 15 and types["english"] >= 10
    assert types["unanswerable"] >= 15
    assert {item["doc"] for item in QA if item["doc"]} == set(REPORTS)  # all five reports
    assert len({item["id"] for item in QA}) == len(QA)


def test_fresh_sets_mix_and_ids_of_their_own() -> None:
    assert Counter(item["type"] for item in FRESH_QA)["unanswerable"] >= 10 and len(FRESH_QA) >= 60
    assert Counter(c["verdict"] for c in FRESH_CLAIMS) == {"supported": 30, "contradicted": 20, "unsupported": 10}
    assert not {i["id"] for i in FRESH_QA} & {i["id"] for i in QA}
    assert not {c["id"] for c in FRESH_CLAIMS} & {c["id"] for c in CLAIMS}
    assert Counter(item["type"] for item in FRESH2_QA)["unanswerable"] >= 15 and len(FRESH2_QA) >= 60
    assert not {i["id"] for i in FRESH2_QA} & {i["id"] for i in QA + FRESH_QA}
    assert len({i["id"] for i in FRESH2_QA}) == len(FRESH2_QA)
    assert Counter(item["type"] for item in REFUSAL_DEV_QA)["unanswerable"] >= 40
    earlier = QA + FRESH_QA + FRESH2_QA
    assert not {i["id"] for i in REFUSAL_DEV_QA} & {i["id"] for i in earlier}
    assert not {i["question"] for i in REFUSAL_DEV_QA} & {i["question"] for i in earlier}  # fresh2 stays unseen


ALL_QA = QA + FRESH_QA + FRESH2_QA + REFUSAL_DEV_QA


@pytest.mark.parametrize("item", ALL_QA, ids=[item["id"] for item in ALL_QA])
def test_qa_item_is_grounded_in_its_report(item: dict[str, object]) -> None:
    if item["type"] == "unanswerable":
        assert item["answers"] == [] and item["doc"] is None and item["evidence"] is None
        return
    evidence = squash(str(item["evidence"]))
    assert 15 <= len(str(item["evidence"]).strip()) <= 200
    assert evidence in REPORTS[str(item["doc"])]
    answers = item["answers"]
    assert isinstance(answers, list) and answers
    assert all(squash(str(a)) in evidence for a in answers)
    assert squash(str(item["question"])) not in evidence  # a question, not a copy of the evidence


def test_claims_set_size_and_mix() -> None:
    verdicts = Counter(claim["verdict"] for claim in CLAIMS)
    assert len(CLAIMS) >= 80
    assert verdicts["supported"] >= len(CLAIMS) * 0.45 and verdicts["contradicted"] >= len(CLAIMS) * 0.3
    assert verdicts["unsupported"] >= 10


@pytest.mark.parametrize("claim", CLAIMS + FRESH_CLAIMS, ids=[claim["id"] for claim in CLAIMS + FRESH_CLAIMS])
def test_claim_is_grounded_in_its_report(claim: dict[str, object]) -> None:
    if claim["verdict"] == "unsupported":
        assert claim["doc"] is None and claim["evidence"] is None
        return
    evidence = squash(str(claim["evidence"]))
    assert evidence in REPORTS[str(claim["doc"])]
    if claim["verdict"] == "contradicted":
        assert squash(str(claim["report_value"])) in evidence
        assert squash(str(claim["claim_value"])) in squash(str(claim["claim"]))
