"""Follow-ups resolved right over the real reports: each kind of resolution on a literal conversation."""

from __future__ import annotations

import pytest
from reportqa.answer.followup import Resolved, Turn
from reportqa.index.follow_up_rank import FOLLOW_UP_FEATURES
from reportqa.index.query import analyze

from reportqa.core.settings import Settings
from reportqa.core.trees import tree_model
from reportqa.engine import Engine, Trace, open_engine

pytestmark = pytest.mark.integration


@pytest.fixture(scope="module")
def engine(real_index: Settings) -> Engine:
    return open_engine(real_index)


def converse(engine: Engine, *questions: str) -> tuple[str, str]:
    """Ask each question after the system's own answers; (the last resolved question, the last answer)."""
    turns: list[Turn] = []
    resolved, answer = "", ""
    for question in questions:
        turns.append(Turn("user", question))
        result, trace = engine.chat_trace(turns)
        resolved, answer = result.question, trace.answer.text
        turns.append(Turn("assistant", answer))
    return resolved, answer


def test_ellipsis_substitutes_a_year(engine: Engine) -> None:
    resolved, answer = converse(engine, "2024年中国智能算力规模是多少？", "那2025年呢？")
    assert resolved == "2025年中国智能算力规模是多少？"
    assert "1590" in answer.replace(",", "")


def test_ellipsis_substitutes_a_company(engine: Engine) -> None:
    resolved, _ = converse(engine, "英伟达2026财年营收有多少？", "那AMD呢？")
    assert resolved == "AMD2026财年营收有多少？"


def test_a_pronoun_points_at_the_previous_subject(engine: Engine) -> None:
    resolved, _ = converse(engine, "宁德时代的动力电池全球市占率是多少？", "它已经连续几年拿全球第一了？")
    assert resolved.startswith("宁德时代")


def test_a_subject_switch_is_asked_as_written(engine: Engine) -> None:
    switched = "截至2025年，中国一共建成了多少个万卡智算集群？"
    resolved, answer = converse(engine, "2024年中国智能算力规模是多少？", switched)
    assert resolved == switched and "42" in answer


def test_a_turn_that_names_no_subject_is_searched_within_the_thread(engine: Engine) -> None:
    resolved, answer = converse(engine, "深圳低空经济的产业规模有多大？", "物流航线开了几条？")
    assert resolved == "物流航线开了几条？" and "310" in answer  # asked alone, it answers with the national count


def test_english_follow_up_substitutes_the_year(engine: Engine) -> None:
    resolved, _ = converse(engine, "What was China's intelligent computing power scale in 2024?", "What about 2025?")
    assert resolved == "What was China's intelligent computing power scale in 2025?"


def same_table_follow_up(engine: Engine) -> tuple[Resolved, Trace]:
    turns = [Turn("user", "BTRAC预测2030年全球AI芯片市场规模是多少？")]
    _, first = engine.chat_trace(turns)
    turns += [Turn("assistant", first.answer.text), Turn("user", "同一张表里，AI支出到2030年预计能到多少？")]
    return engine.chat_trace(turns)


def test_same_table_keeps_the_thread(engine: Engine) -> None:
    resolved, _ = same_table_follow_up(engine)
    assert resolved.same_source and resolved.context is not None


# a known miss from the reader's asked term until the models retrained on 2026-12-03 (tenth session): the question's
# last content term is 预计, not 支出, and the answer led with the AI-chip row of the same table
def test_same_table_answers_from_the_asked_row(engine: Engine) -> None:
    _, trace = same_table_follow_up(engine)
    assert "4-5万亿美元" in trace.answer.text.replace(" ", "")


def test_a_thread_turn_encodes_its_two_readings_together(engine: Engine, monkeypatch: pytest.MonkeyPatch) -> None:
    """The thread-joined question (for retrieval) and the question as asked (for the reader) are encoded in one
    call, two at a time, before either is read; the answer is the one each reading gives."""
    batches: list[list[str]] = []
    prime = engine.index.query_vectors.prime
    monkeypatch.setattr(engine.index.query_vectors, "prime", lambda texts: batches.append(list(texts)) or prime(texts))
    engine.index.query_vectors.clear()
    _, answer = converse(engine, "深圳低空经济的产业规模有多大？", "物流航线开了几条？")
    assert batches == [["物流航线开了几条？ 深圳低空经济的产业规模有多大？", "物流航线开了几条？"]]
    assert "310" in answer


def test_a_later_turn_is_refused_below_the_follow_up_threshold(real_index: Settings) -> None:
    engine = open_engine(real_index)
    engine.refuse_below(-1.0, follow_up_threshold=1.01)  # a question asked alone is never refused, a later turn always
    turns = [Turn("user", "2024年中国智能算力规模是多少？")]
    _, first = engine.chat_trace(turns)
    assert not first.answer.abstained and "智能算力" in first.answer.text
    turns += [Turn("assistant", first.answer.text), Turn("user", "那2025年呢？")]
    _, later = engine.chat_trace(turns)
    assert later.answer.abstained
    assert not engine.run("2025年中国智能算力规模是多少？").answer.abstained  # the same question alone


# a follow-up ranker that puts the turn's own best passage first: +5 where the turn-as-written reading's gap to
# its best is 0, nothing elsewhere (missing: a passage that reading did not find)
TURN_FIRST = tree_model(FOLLOW_UP_FEATURES, 0.0, [[(FOLLOW_UP_FEATURES.index("turn_gap"), -1e-9, 1, 2, 0.0, False,
                                                    True), (0, 0.0, 0, 0, 0.0, True, False),
                                                   (0, 0.0, 0, 0, 5.0, True, False)]])


def test_a_later_turn_s_pool_is_ordered_by_the_follow_up_ranker(real_index: Settings) -> None:
    engine = open_engine(real_index)
    engine.models = engine.models.with_models({"follow_up_ranker": TURN_FIRST})
    turns = [Turn("user", "深圳低空经济的产业规模有多大？")]
    _, first = engine.chat_trace(turns)
    assert all("follow_up" not in hit.channel_scores for hit in first.hits)  # a first question is not reordered
    turns += [Turn("assistant", first.answer.text), Turn("user", "物流航线开了几条？")]
    _, later = engine.chat_trace(turns)
    alone = engine.retrieve(analyze("物流航线开了几条？"), 1)[0]
    assert later.hits[0].chunk.id == alone.chunk.id and later.hits[0].score == 5.0
    assert all(hit.channel_scores["follow_up"] == hit.score for hit in later.hits)
    assert len(later.hits) == len(first.hits)
