"""Extractive answers: table rows rendered with their header, answer windows, answer-type bonus."""

from __future__ import annotations

import dataclasses

import pytest
from reportqa.answer.extract import (
    Unit,
    answer_coverage,
    answer_first,
    answer_from_hits,
    answer_terms,
    discriminating,
    join_pieces,
    score_unit,
    select_answer,
    trim,
    type_bonus,
    units_of,
    year_conflict,
)
from reportqa.index.query import Query, analyze
from reportqa.index.units import table_row_units

from reportqa.contract import marked_text
from reportqa.core.types import Answer, Chunk, Hit

TABLE = "产品\t2026年预测\tCAGR\nAI芯片\t约2,400亿美元\t23%\nGPU\t-\t18%\n"
PROSE = "全球AI芯片市场规模持续扩大。预计2026年将达到约2,400亿美元。\n下游需求旺盛。"


def query_with_core(*core: str) -> Query:
    return dataclasses.replace(analyze("量子计算"), core=core)


def make_chunk(text: str, kind: str = "prose", n: int = 0) -> Chunk:
    return Chunk(f"d1#{n:05d}", "d1", "T", "第一章", text, 0, len(text), 1, 1, kind)  # type: ignore[arg-type]


def test_table_row_units_render_header_with_values() -> None:
    assert table_row_units(TABLE) == ["AI芯片：2026年预测 约2,400亿美元；CAGR 23%", "GPU：CAGR 18%"]


def test_table_row_units_header_only() -> None:
    assert table_row_units("只有一行\t数据") == ["只有一行 数据"]


def test_table_row_units_empty_cells_are_skipped() -> None:
    assert table_row_units("公司\t营收\t利润\n甲公司\t\t5\n") == ["甲公司：利润 5"]


def test_units_of_prose_sentences_and_table_rows() -> None:
    hits = [Hit(make_chunk(PROSE), 1.0), Hit(make_chunk(TABLE.strip(), "table", 1), 0.5)]
    topic = "第一章 全球AI芯片市场规模持续扩大。"  # section path and opening sentence
    assert units_of(hits) == [
        Unit("全球AI芯片市场规模持续扩大。", 0, topic),
        Unit("预计2026年将达到约2,400亿美元。", 0, topic),
        Unit("下游需求旺盛。", 0, topic),
        Unit("AI芯片：2026年预测 约2,400亿美元；CAGR 23%", 1, "第一章"),
        Unit("GPU：CAGR 18%", 1, "第一章"),
    ]


def test_units_of_reads_only_the_top_hits() -> None:
    hits = [Hit(make_chunk(f"第{i}句。", n=i), 1.0) for i in range(5)]
    assert [u.text for u in units_of(hits, depth=2)] == ["第0句。", "第1句。"]


def test_trim_keeps_short_text() -> None:
    assert trim("短句子", query_with_core("量子")) == "短句子"
    assert trim("甲" * 150, query_with_core("量子")) == "甲" * 150


def test_trim_window_around_the_term() -> None:
    text = "甲" * 100 + "量子计算" + "乙" * 100
    result = trim(text, query_with_core("量子"))
    assert result == "…" + "甲" * 50 + "量子计算" + "乙" * 94 + "…"
    assert len(result) == 150


def test_trim_term_at_the_start() -> None:
    result = trim("量子" + "甲" * 200, query_with_core("量子"))
    assert result == "量子" + "甲" * 146 + "…"


def test_trim_without_terms_cuts_the_head() -> None:
    assert trim("丙" * 200, query_with_core("量子")) == "丙" * 149 + "…"


def test_trim_prefers_the_window_with_most_terms() -> None:
    text = "量子" + "甲" * 150 + "量子" + "乙" * 10 + "计算" + "丙" * 100
    result = trim(text, query_with_core("量子", "计算"))
    assert "量子乙乙乙乙乙乙乙乙乙乙计算" in result
    assert len(result) <= 150


@pytest.mark.parametrize("tail", ["", "。"])
def test_trim_keeps_a_term_at_the_very_end(tail: str) -> None:
    text = "甲" * 200 + "量子" + tail
    result = trim(text, query_with_core("量子"))
    assert len(result) <= 150
    assert "量子" in result


@pytest.mark.parametrize(
    ("text", "wants", "bonus"),
    [
        ("营收增长23%", "number", 0.15),
        ("营收增长", "number", -0.1),
        ("成立于2015年", "date", 0.15),
        ("成立已久", "date", -0.1),
        ("英伟达公司", "org", 0.1),
        ("NVIDIA领先", "org", 0.1),
        ("市场领先", "org", 0.0),
        ("大模型是一种算法", "definition", 0.15),
        ("大模型参数量大", "definition", 0.0),
        ("提高了eCPM（每千次有效成本）", "definition", 0.15),
        ("高带宽内存（HBM）", "definition", 0.15),
        ("收入（亿元）", "definition", 0.0),
        ("分布于印度太平洋区", "place", 0.1),
        ("体长可达70公分", "place", 0.0),
        ("因习武风潮日渐衰退而关闭", "reason", 0.1),
        ("武馆关闭", "reason", 0.0),
        ("任意文本", None, 0.0),
        ("任意文本", "list", 0.0),
    ],
)
def test_type_bonus(text: str, wants: str | None, bonus: float) -> None:
    assert type_bonus(text, wants) == bonus


@pytest.mark.parametrize(
    ("flat", "penalty"),
    [
        ("截至2025年底，中国已发布超过300个大模型", 0.15),  # another year only
        ("到2024年底，中国达到了93个", 0.0),
        ("2023至2024年间增长了一倍", 0.0),  # the asked year among others
        ("中国达到了93个", 0.0),  # no year stated: nothing contradicts
        ("型号20256已量产", 0.0),  # digits of a longer number are no year
    ],
)
def test_year_conflict(flat: str, penalty: float) -> None:
    assert year_conflict(flat, analyze("截至2024年底，中国累计推出了多少个大语言模型？")) == penalty


def test_year_conflict_needs_a_year_in_the_question() -> None:
    assert year_conflict("截至2025年底", analyze("中国累计推出了多少个大语言模型？")) == 0.0


def test_answer_abstains_below_threshold() -> None:
    query = analyze("2026年全球AI芯片市场规模是多少？")
    answer = answer_from_hits("q", [Hit(make_chunk(PROSE), 1.0, {"confidence": 0.2})], query, {}, 0.5, "q1")
    assert (answer.text, answer.abstained, answer.citations, answer.id, answer.confidence) == (
        "", True, (), "q1", 0.2,
    )


def test_answer_abstains_without_hits() -> None:
    answer = answer_from_hits("q", [], analyze("市场规模是多少？"), {}, 0.0)
    assert answer.abstained is True
    assert answer.confidence == 0.0


def test_answer_cites_hits_in_order() -> None:
    query = analyze("2026年全球AI芯片市场规模是多少？")
    hits = [Hit(make_chunk(PROSE), 0.9, {"confidence": 0.8}), Hit(make_chunk("下游需求旺盛。", n=1), 0.4)]
    answer = answer_from_hits("q", hits, query, {}, 0.5)
    assert answer.abstained is False
    assert [(c.n, c.chunk.id, c.score) for c in answer.citations] == [
        (1, "d1#00000", 0.9),
        (2, "d1#00001", 0.4),
    ]
    assert "2,400亿美元" in answer.text
    assert len(answer.text) <= 150


def test_the_answers_passage_is_cited_first_and_the_others_keep_their_order() -> None:
    query = analyze("2026年全球AI芯片市场规模是多少？")
    hits = [Hit(make_chunk("下游需求旺盛。", n=0), 0.9, {"confidence": 0.8}),
            Hit(make_chunk("封装产能紧张。", n=1), 0.6),
            Hit(make_chunk(PROSE, n=2), 0.5)]
    answer = answer_from_hits("q", hits, query, {}, 0.5)
    assert [(c.n, c.chunk.id, c.score) for c in answer.citations] == [
        (1, "d1#00002", 0.5),
        (2, "d1#00000", 0.9),
        (3, "d1#00001", 0.6),
    ]
    assert answer.source == 1 and "2,400亿美元" in answer.text
    assert answer.confidence == 0.8  # still the top search hit's: the order changes, not the refusal


@pytest.mark.parametrize(("source", "order"), [(None, [0, 1, 2]), (0, [0, 1, 2]), (1, [1, 0, 2]), (2, [2, 0, 1])])
def test_answer_first(source: int | None, order: list[int]) -> None:
    hits = [Hit(make_chunk(f"第{i}段。", n=i), 1.0 - i / 10) for i in range(3)]
    assert answer_first(hits, source) == [hits[i] for i in order]


MARKET = ("全球AI芯片市场规模持续扩大。预计2026年芯片市场规模将达到约2,400亿美元。"
          "消费电子回暖。芯片市场规模的增长主要来自数据中心。")
QUESTION = "2026年全球AI芯片市场规模是多少？"


def chunk_of(doc: str, text: str, start: int, n: int = 0) -> Chunk:
    return Chunk(f"{doc}#{n:05d}", doc, "T", "第一章", text, start, start + len(text), 1, 1)


def test_select_answer_joins_sentences_about_the_question_in_reading_order() -> None:
    hits = [Hit(chunk_of("d1", MARKET, 100), 0.9), Hit(chunk_of("d2", "芯片市场规模在另一份报告里。", 0, 1), 0.8)]
    pieces, source = select_answer(hits, analyze(QUESTION), {})
    assert source == 0
    assert pieces == [  # 消费电子回暖 shares no question term; the other report never joins
        ("全球AI芯片市场规模持续扩大。", 0),
        ("预计2026年芯片市场规模将达到约2,400亿美元。", 0),
        ("芯片市场规模的增长主要来自数据中心。", 0),
    ]


def test_select_answer_joins_an_earlier_passage_of_the_same_report() -> None:
    hits = [Hit(chunk_of("d1", "预计2026年全球AI芯片市场规模约2,400亿美元。", 500), 0.9),
            Hit(chunk_of("d1", "芯片市场规模此前连续三年增长。", 100, 1), 0.8)]
    pieces, _ = select_answer(hits, analyze(QUESTION), {})
    assert pieces == [("芯片市场规模此前连续三年增长。", 1), ("预计2026年全球AI芯片市场规模约2,400亿美元。", 0)]


def test_select_answer_stops_at_150_characters() -> None:
    filler = "芯片市场规模" + "很" * 130 + "大。"
    pieces, _ = select_answer([Hit(chunk_of("d1", "预计2026年全球AI芯片市场规模约2,400亿美元。" + filler, 0), 0.9)],
                              analyze(QUESTION), {})
    assert pieces == [("预计2026年全球AI芯片市场规模约2,400亿美元。", 0)]


def test_answer_pieces_carry_their_citation_numbers() -> None:
    hits = [Hit(chunk_of("d1", "下游需求旺盛。", 900), 0.95, {"confidence": 0.8}),
            Hit(chunk_of("d1", "芯片市场规模此前连续三年增长。", 100, 1), 0.9),
            Hit(chunk_of("d1", "预计2026年全球AI芯片市场规模约2,400亿美元。", 500, 2), 0.8)]
    answer = answer_from_hits(QUESTION, hits, analyze(QUESTION), {}, 0.5)
    assert [c.chunk.id for c in answer.citations] == ["d1#00002", "d1#00000", "d1#00001"]
    assert answer.pieces == (("芯片市场规模此前连续三年增长。", 3), ("预计2026年全球AI芯片市场规模约2,400亿美元。", 1))
    assert answer.text == "芯片市场规模此前连续三年增长。预计2026年全球AI芯片市场规模约2,400亿美元。"
    assert marked_text(answer) == "芯片市场规模此前连续三年增长。[3]预计2026年全球AI芯片市场规模约2,400亿美元。[1]"


def test_join_pieces_ends_a_clause_that_has_no_stop() -> None:
    assert join_pieces(["甲增长", "乙。", "丙"]) == "甲增长；乙。丙"


@pytest.mark.parametrize(("pieces", "source", "marked"), [
    ((("甲。", 1), ("乙增长", 1), ("丙。", 2)), 1, "甲。乙增长；[1]丙。[2]"),  # a run from one passage, one marker
    ((("甲。", 1), ("乙。", 1)), 1, "甲。乙。[1]"),
    ((), 2, "甲。乙。[2]"),
])
def test_marked_text_names_each_run_of_sentences_by_its_passage(
        pieces: tuple[tuple[str, int], ...], source: int, marked: str) -> None:
    answer = Answer("q", join_pieces([p for p, _ in pieces]) or "甲。乙。", False, (), source=source, pieces=pieces)
    assert marked_text(answer) == marked


def test_units_of_skips_a_line_that_only_restates_the_title() -> None:
    chunk = dataclasses.replace(make_chunk("全球人工智能产业展望\n预计2026年将达到约2,400亿美元。"),
                                title="全球人工智能产业展望")
    assert [u.text for u in units_of([Hit(chunk, 1.0)])] == ["预计2026年将达到约2,400亿美元。"]


def test_units_of_skips_source_notes() -> None:
    text = "来源：IDC，摩根士丹利研究。\n到2028年中国AI算力将超过2782 EFLOPS。\nSource: IDC."
    assert [u.text for u in units_of([Hit(make_chunk(text), 1.0)])] == ["到2028年中国AI算力将超过2782 EFLOPS。"]


def test_select_answer_never_repeats_a_sentence() -> None:
    repeated = "芯片市场规模此前连续三年增长。"
    hits = [Hit(chunk_of("d1", "预计2026年全球AI芯片市场规模约2,400亿美元。" + repeated, 0), 0.9),
            Hit(chunk_of("d1", repeated, 300, 1), 0.8)]
    pieces, _ = select_answer(hits, analyze(QUESTION), {})
    assert pieces == [("预计2026年全球AI芯片市场规模约2,400亿美元。", 0), (repeated, 0)]


def test_answer_coverage_counts_an_alias_as_the_term() -> None:
    query = dataclasses.replace(analyze("量子计算"), core=("份额", "hbm", "第一"))
    terms = answer_terms(query, {"份额": 2.0, "hbm": 1.0, "第一": 1.0})
    assert answer_coverage(terms, "sk海力士以54%hbm占有率第一") == 1.0  # 占有率 is written for 份额
    assert answer_coverage(terms, "hbm产能领跑") == 0.25
    assert answer_coverage(answer_terms(dataclasses.replace(query, core=()), {}), "任意") == 0.0


def test_discriminating_lowers_the_terms_most_candidate_sentences_share() -> None:
    terms = answer_terms(dataclasses.replace(analyze("量子计算"), core=("鸲鹟", "食物")), {"鸲鹟": 3.0, "食物": 1.0})
    units = [Unit("鸲鹟长18厘米。", 0), Unit("鸲鹟喜欢在地面上觅食。", 0), Unit("主要食物是无脊椎动物。", 0)]
    spread = discriminating(terms, units)
    assert spread.weights == pytest.approx((3.0 * 0.8, 1.0 * 0.9))  # in 2 of 3 sentences, in 1 of 3
    assert spread.total == pytest.approx(3.3)
    assert discriminating(terms, []).weights == terms.weights


def test_answer_terms_carry_the_aliases_of_each_term() -> None:
    terms = answer_terms(dataclasses.replace(analyze("量子计算"), core=("营收", "量子位")), {"营收": 2.0})
    assert terms.forms == (("营收", "收入", "营业收入", "销售额", "营业额", "销售收入"), ("量子位",))
    assert (terms.weights, terms.total) == ((2.0, 3.0), 5.0)  # a term the corpus never uses weighs UNKNOWN_IDF


def test_a_sentence_that_writes_an_alias_outscores_one_that_writes_fewer_terms() -> None:
    query = analyze("HBM市场上份额排名第一的厂商是哪家？")
    terms = answer_terms(query, {})
    alias, other = Unit("HBM领域，海力士占有率第一。", 0), Unit("厂商排名变化不大。", 0)
    assert answer_coverage(terms, "hbm领域,海力士占有率第一。") == 0.5  # hbm, 份额 (as 占有率), 第一 of six
    assert score_unit(alias, query, terms) > score_unit(other, query, terms)


def test_an_answer_sentence_cut_at_a_semicolon_loses_the_mark() -> None:
    hits = [Hit(chunk_of("d1", "全球半导体市场预计2026年突破1万亿美元；其中存储增长最快。", 0), 1.0)]
    pieces, _ = select_answer(hits, analyze("2026年全球半导体市场预计多大？"), {})
    assert pieces[0] == ("全球半导体市场预计2026年突破1万亿美元", 0)


def test_a_count_question_answered_without_that_count_is_refused_unless_confident() -> None:
    question = "该中心有多少名研发人员？"
    passage = make_chunk("该中心吸纳当地150余家科技企业加入生态。")
    query = analyze(question)
    doubtful = answer_from_hits(question, [Hit(passage, 1.0, {"confidence": 0.6})], query, {}, 0.2)
    assert (doubtful.abstained, round(doubtful.confidence, 2)) == (True, 0.15)  # 0.6 × UNIT_MISSING
    sure = answer_from_hits(question, [Hit(passage, 1.0, {"confidence": 0.9})], query, {}, 0.2)
    assert (sure.abstained, round(sure.confidence, 3)) == (False, 0.225)
    counted = make_chunk("该中心有研发人员300名。")
    answered = answer_from_hits(question, [Hit(counted, 1.0, {"confidence": 0.6})], query, {}, 0.2)
    assert (answered.abstained, answered.confidence) == (False, 0.6)
