"""make train-reader's pipeline end to end on a tiny slice: k-fold stages, a model set, an engine that uses it.

This checks the pipeline, not the quality: a dozen questions cannot teach anything worth measuring.
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import numpy as np
import pytest
from reportqa.eval.answerability_rows import (
    ROWS_FILE,
    AnswerabilityData,
    figures,
    read_rows,
    refit,
    rows_of,
    write_into,
    write_rows,
)
from reportqa.eval.datasets import item_from_row
from reportqa.eval.learn import refusal_threshold
from reportqa.eval.train import answerability_weight, shipped_facts, train, train_claim_models
from reportqa.eval.train_claims import pooled_out_of_fold, refit_into, value_rows
from reportqa.eval.train_data import Example, load_turns
from reportqa.index.follow_up_rank import FOLLOW_UP_FEATURES
from reportqa.index.query import analyze

from reportqa.core.learned import QueryAdapter, load_model_set, write_model_set
from reportqa.core.settings import Settings
from reportqa.engine import open_engine

from ..conftest import AI_DOC, BATTERY_DOC, CHIP_DOC, QUANTUM_DOC

pytestmark = pytest.mark.integration

ROWS = [
    ("2026年全球AI支出预计达到多少？", "2.59万亿美元", AI_DOC, "2026年全球AI支出预计达到2.59万亿美元"),
    ("北美三家云厂商的资本开支合计超过多少？", "2500亿美元", AI_DOC, "资本开支合计超过2500亿美元"),
    ("AI软件2026年支出是多少？", "6100亿美元", AI_DOC, "AI软件\t4200亿美元\t6100亿美元\t45%"),
    ("星河半导体2025年营业收入是多少？", "128亿元", CHIP_DOC, "星河半导体在2025年实现营业收入128亿元"),
    ("星河半导体的研发人员有多少？", "2100人", CHIP_DOC, "星河半导体的研发人员超过2100人"),
    ("比亚迪的采购占比是多少？", "22%", CHIP_DOC, "比亚迪\t22%\t6年"),
    ("截至2025年底中国新型储能累计装机多少？", "95吉瓦", BATTERY_DOC, "中国新型储能累计装机规模达到95吉瓦"),
    ("全固态电池的能量密度有望达到多少？", "500瓦时", BATTERY_DOC, "能量密度有望达到每公斤500瓦时"),
    ("2025年全球量子计算市场规模约为多少？", "15亿美元", QUANTUM_DOC, "全球量子计算市场规模在2025年约为15亿美元"),
    ("超导量子比特数量2025年超过了多少个？", "1000个", QUANTUM_DOC, "在2025年已经超过1000个"),
]
UNANSWERABLE = ["星河半导体的董事长是谁？", "2024年全球量子计算市场规模是多少？", "苹果公司的市值是多少？",
                "固态电池的售价是多少？", "蔚来汽车2025年的营业收入是多少？", "今天天气怎么样？"]


def items() -> list[dict[str, object]]:
    rows: list[dict[str, object]] = [
        {"id": f"t{n}", "question": q, "answers": [a], "doc": d, "evidence": e, "type": "numeric", "lang": "zh"}
        for n, (q, a, d, e) in enumerate(ROWS)]
    rows += [{"id": f"u{n}", "question": q, "answers": [], "doc": None, "evidence": None, "type": "unanswerable",
              "lang": "zh"} for n, q in enumerate(UNANSWERABLE)]
    return rows


def test_the_training_pipeline_runs_end_to_end(small_index: Settings, tmp_path: Path) -> None:
    engine = open_engine(small_index.model_copy(update={"learned_models": tmp_path / "none"}))
    examples = [Example(item_from_row(row), "tiny", engine, n % 2) for n, row in enumerate(items())]
    result = train(examples, 2, lambda _: None)
    assert set(result["models"]) == {"ranker", "relevance", "reader", "answerability"}
    assert set(result["fold_models"]) == {0, 1} and 0.0 <= result["threshold"] <= 1.0
    adapter = result["adapter"]  # fitted on the ten answerable questions, for the index's encoder
    assert adapter is not None and adapter.fits(str(engine.index.manifest["embed_model"]), 384)
    assert set(result["fold_adapters"]) == {0, 1} and all(a is not None for a in result["fold_adapters"].values())
    # each question was asked of its fold's view: the fold's adapter, not the one fitted on every question
    assert all(ex.engine.index.query_adapter is result["fold_adapters"][ex.fold] for ex in examples)
    again = train(examples, 2, lambda _: None)  # the same candidates: the fold adapters they were asked with stay
    assert all(again["fold_adapters"][f] is result["fold_adapters"][f] for f in (0, 1))
    assert len(result["oof_probability"]) == len(examples)
    # the answerability rows kept beside a report: refitted with the training's features, the same probabilities
    kept = tmp_path / "report" / ROWS_FILE
    write_rows(kept, AnswerabilityData(tuple(result["models"]["answerability"].features), 2,
                                       rows_of(examples, result["judged"], answerability_weight)))
    data = read_rows(kept)
    assert data.folds == 2 and [r.id for r in data.rows] == [ex.item.id for ex in examples]
    refitted = refit(data.rows, data.features, data.folds)
    assert np.allclose(refitted, [result["oof_probability"][id(ex)] for ex in examples], atol=1e-12)
    numbers = figures(data.rows, refitted)
    assert numbers["threshold"] == round(result["threshold"], 4)
    assert 0.0 <= numbers["report unanswerable refused"] <= 1.0
    claims = tmp_path / "claims.jsonl"
    claims.write_text("\n".join(json.dumps(c, ensure_ascii=False) for c in (
        {"id": "c1", "claim": "2026年全球AI支出预计达到2.59万亿美元。", "verdict": "supported"},
        {"id": "c2", "claim": "星河半导体2025年营业收入为150亿元。", "verdict": "contradicted",
         "report_value": "128亿元"},
        {"id": "c3", "claim": "全球量子计算市场2025年约为15亿美元。", "verdict": "supported"},
        {"id": "c4", "claim": "固态电池的能量密度已达到每公斤900瓦时。", "verdict": "contradicted",
         "report_value": "每公斤500瓦时"},
        {"id": "c5", "claim": "蔚来汽车2025年交付了30万辆车。", "verdict": "unsupported"},
        {"id": "c6", "claim": "苹果公司2025年市值突破4万亿美元。", "verdict": "unsupported"},
        {"id": "c7", "claim": "2026年全球AI支出预计约为2.59万亿美元。", "verdict": "supported"},
        {"id": "c8", "claim": "星河半导体2025年营业收入为180亿元。", "verdict": "contradicted",
         "report_value": "128亿元"},
        {"id": "c11", "claim": "特斯拉2025年在中国卖出了60万辆车。", "verdict": "unsupported"})), encoding="utf-8")
    import reportqa.eval.train as train_module

    original = train_module.CLAIM_SETS
    train_module.CLAIM_SETS = (str(claims),)
    try:
        trained_claims = train_claim_models(engine, result, 2, lambda _: None)
    finally:
        train_module.CLAIM_SETS = original

    folder = tmp_path / "models"
    write_model_set(folder, {**result["models"], **trained_claims["models"]}, {"threshold": result["threshold"]},
                    adapter)
    # c2 and c8 have two differing figures each, one the report's 128亿元 (c4 one, its value): a chooser is fitted
    assert value_rows(trained_claims["examples"])[1] == [0, 1, 1, 0, 1]
    assert set(load_model_set(folder).models) == {"ranker", "relevance", "reader", "answerability", "claim_topic",
                                                  "claim_conflict", "claim_value"}
    # c1-c4 and c11 fall in fold 0, the rest in fold 1 (eval.learn.fold_of): each training side holds every verdict
    pooled = pooled_out_of_fold(trained_claims["engine"], trained_claims["examples"], 2)
    assert set(pooled) == {"rules only", "learned (out of fold)"}
    assert all(m["claims"] == 9 and set(m["accuracy"]) == {"supported", "contradicted", "unsupported"}
               for m in pooled.values())
    # the claims are clear-cut: the rules' checks, which the learned verdict reads, get each right
    assert pooled["rules only"]["accuracy"] == {"supported": 1.0, "contradicted": 1.0, "unsupported": 1.0}
    # the claim models alone refitted into the set: the QA models and their facts stay as they were
    before = load_model_set(folder)
    refit_into(folder, trained_claims["examples"], ["claims.jsonl"])
    after = load_model_set(folder)
    assert after.manifest["files"]["ranker"] == before.manifest["files"]["ranker"]
    assert after.manifest["threshold"] == result["threshold"] and after.manifest["claims"] == 9
    assert after.models["claim_conflict"].features == before.models["claim_conflict"].features
    assert after.adapter is not None and (after.adapter.matrix == adapter.matrix).all()
    # the answerability model refitted from the kept rows into the set: the training's own trees and threshold
    shutil.copytree(folder, tmp_path / "rewritten")
    write_into(tmp_path / "rewritten", data, None)
    rewritten = load_model_set(tmp_path / "rewritten")
    assert rewritten.manifest["threshold"] == result["threshold"]
    assert rewritten.manifest["files"]["ranker"] == after.manifest["files"]["ranker"]
    assert rewritten.models["answerability"].to_json() == result["models"]["answerability"].to_json()
    with pytest.raises(ValueError, match="verifier"):
        write_into(tmp_path / "rewritten", data, (tmp_path / "verifier.npz", 1))
    learned = open_engine(small_index.model_copy(update={"learned_models": folder}))
    assert learned.index.query_adapter is not None and engine.index.query_adapter is None
    query = analyze("星河半导体2025年营业收入是多少？")
    mapped, plain = learned.index.query_vector(query), engine.index.query_vector(query)
    assert np.allclose(mapped, adapter.apply(plain), atol=1e-6) and not np.allclose(mapped, plain, atol=1e-3)
    other = QueryAdapter("another-encoder", adapter.matrix)
    assert engine.index.with_query_adapter(other).query_adapter is None  # fitted for another encoder: not applied
    trace = learned.run("星河半导体2025年营业收入是多少？")
    assert "ranker" in trace.hits[0].channel_scores  # the learned ranker ordered the hits
    cosines = learned.unit_sims(query)
    assert cosines is not None  # the reader reads each unit's cosine to the mapped and to the encoder's vector
    position = learned.index.position(trace.hits[0].chunk.id)
    searched, encoded = cosines(trace.hits[0])
    assert np.allclose(searched, learned.index.unit_similarities(query, position))
    assert np.allclose(encoded, engine.index.unit_similarities(query, position))
    assert not np.allclose(searched, encoded, atol=1e-3)
    assert trace.reading.signals is not None and 0.0 <= trace.answer.confidence <= 1.0
    assert learned.cite("2026年全球AI支出预计达到2.59万亿美元。").verdict in {"supported", "contradicted",
                                                                             "unsupported"}


def test_conversation_turns_are_answerability_data_judged_as_resolved(small_index: Settings, tmp_path: Path) -> None:
    engine = open_engine(small_index.model_copy(update={"learned_models": tmp_path / "none"}))
    examples = [Example(item_from_row(row), "tiny", engine, n % 2) for n, row in enumerate(items())]
    chat = tmp_path / "chat.jsonl"
    chat.write_text(json.dumps({"id": "v1", "lang": "zh", "turns": [
        {"question": FIRST_TURN, "standalone": FIRST_TURN, "kind": "first", "answers": [ROWS[8][1]],
         "doc": QUANTUM_DOC, "evidence": ROWS[8][3]},
        {"question": "那2024年呢？", "standalone": UNANSWERABLE[1], "kind": "unanswerable", "answers": [],
         "doc": None, "evidence": None},
        {"question": "那2025年呢？", "standalone": FIRST_TURN, "kind": "ellipsis", "answers": [ROWS[8][1]],
         "doc": QUANTUM_DOC, "evidence": ROWS[8][3]}]}, ensure_ascii=False), encoding="utf-8")
    turns = load_turns(engine, [str(chat)], 2)
    assert [(t.turn.position, t.item.qtype) for t in turns if t.turn] == [(0, "first"), (1, "unanswerable"),
                                                                          (2, "ellipsis")]
    asked_alone = examples[len(ROWS) + 1]  # UNANSWERABLE[1]: the follow-up's year put into the first turn
    turns = [replace_fold(t, asked_alone.fold) for t in turns]
    result = train(examples + turns, 2, lambda _: None)
    assert all(not t.candidates for t in turns)  # no ranker or reader data: answerability and the follow-up ranker
    # the follow-up ranker learns from the answerable later turn's candidates: fitted on every fold's rows, and for
    # the fold that does not hold the conversation; the fold that holds it has no rows to learn from elsewhere
    assert result["models"]["follow_up_ranker"].features == FOLLOW_UP_FEATURES
    assert [f for f, models in result["fold_models"].items() if "follow_up_ranker" in models] == [
        1 - asked_alone.fold]
    judged = result["judged"]
    assert judged[id(turns[1])].signals == judged[id(asked_alone)].signals  # 那2024年呢？ read as its rewrite
    assert not judged[id(turns[1])].answerable and judged[id(turns[0])].answerable
    assert id(turns[1]) in result["oof_probability"]
    assert result["threshold"] == refusal_threshold(  # the threshold reads the report questions alone
        [result["oof_probability"][id(ex)] for ex in examples if ex.item.gold.answerable])
    # a later turn's threshold reads the answerable turns after the first alone: here the one ellipsis
    assert result["follow_up_threshold"] == result["oof_probability"][id(turns[2])]
    facts = shipped_facts(result, examples + turns, [], 2, False)
    assert facts["follow_up_threshold"] == result["follow_up_threshold"] and facts["conversation_turns"] == 3
    folder = tmp_path / "models"
    write_model_set(folder, result["models"], facts, result["adapter"])
    learned = open_engine(small_index.model_copy(update={"learned_models": folder}))
    assert (learned.threshold, learned.follow_up_threshold) == (result["threshold"], result["follow_up_threshold"])
    assert learned.models.get("follow_up_ranker") is not None


FIRST_TURN = UNANSWERABLE[1].replace("2024年", "2025年")


def replace_fold(example: Example, fold: int) -> Example:
    return Example(example.item, example.source, example.engine, fold, example.turn)
