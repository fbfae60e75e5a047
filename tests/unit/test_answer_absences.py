"""What of the question the chosen answer does not write: the measurements the answerability model reads."""

from __future__ import annotations

import pytest
from reportqa.answer.answerability import SIGNALS, Absences, absences, character_pairs


def measured(core: list[str], answer: str, passage: str | None = None, question: str = "") -> Absences:
    return absences(question or "".join(core), core, core, answer, passage if passage is not None else answer, {},
                    10.0)


def test_a_chinese_term_is_read_as_its_character_pairs_and_a_latin_one_whole() -> None:
    assert character_pairs("大尺寸") == ["大尺", "尺寸"]
    assert character_pairs("出货量") == ["出货", "货量"]
    assert character_pairs("oled") == ["oled"]
    assert character_pairs("量") == []


def test_a_near_miss_lacks_a_pair_that_whole_word_coverage_does_not_see() -> None:
    # 大尺寸 asked, 中小尺寸 written: every pair but 大尺 is there
    near = measured(["2019", "大尺寸", "oled", "出货量"], "2019年中国中小尺寸oled面板出货量达到1.05亿片")
    assert near.pairs_missing_count == 1
    assert near.pairs_missing == pytest.approx(1 / 5)
    exact = measured(["2019", "大尺寸", "oled", "出货量"], "2019年中国大尺寸oled面板出货量为2000万片")
    assert exact.pairs_missing_count == 0
    assert exact.pairs_missing == 0.0


def test_the_asked_term_is_the_questions_last_content_term() -> None:
    # 净利润 asked, 营收 written: the focus is missing from the answer but may be in the passage around it
    answer = "英伟达2026财年营收达2,159亿美元，同比增长65%。"
    passage = answer + "净利润另见附表。"
    asked = measured(["英伟达", "2026", "净利润"], answer, passage)
    assert asked.focus_missing is True
    assert asked.focus_missing_passage is False
    assert measured(["英伟达", "2026", "营收"], answer).focus_missing is False


def test_the_passage_shares_are_measured_on_the_passage() -> None:
    absent = measured(["县级市", "规划"], "69个地级市出台发展规划", passage="全国县级市规划")
    assert absent.pairs_missing == pytest.approx(1 / 3)  # 县级 missing; 级市 (in 地级市) and 规划 written
    assert absent.pairs_missing_passage == 0.0


def test_every_absence_is_a_signal_the_model_can_read() -> None:
    assert set(Absences.__dataclass_fields__) <= set(SIGNALS)


def test_a_question_with_no_term_to_look_for_reads_as_missing_everything() -> None:
    # "Hi there! How are you doing today?" leaves no term after stop words: nothing of it is in the answer
    empty = measured([], "2025年中国AI核心产业规模突破1.2万亿元", question="Hi there! How are you doing today?")
    assert (empty.terms_missing, empty.rarest_missing, empty.pairs_missing, empty.pairs_missing_passage) == (
        1.0, 1.0, 1.0, 1.0)
    assert (empty.focus_missing, empty.focus_missing_passage, empty.pairs_missing_count) == (True, True, 0)
    assert (empty.names_missing, empty.years_missing) == (0, 0)
    numbers_only = measured(["2024"], "2024年")  # a year alone is no term either
    assert (numbers_only.terms_missing, numbers_only.pairs_missing, numbers_only.focus_missing) == (1.0, 1.0, True)
    asked = measured(["ai", "产业规模"], "2025年中国ai核心产业规模突破1.2万亿元")
    assert (asked.terms_missing, asked.focus_missing) == (0.0, False)


def test_english_questions_get_their_own_copy_of_the_signals_read_differently_in_english() -> None:
    from dataclasses import fields

    from reportqa.answer.answerability import ENGLISH_READ, Signals

    def signals(english: bool) -> Signals:
        values = {f.name: 0.5 for f in fields(Signals)}
        return Signals(**values | {"english": english, "unit_sim": 0.8, "coverage": 0.25})  # type: ignore[arg-type]

    english, chinese = signals(True).row(), signals(False).row()
    assert (english["english_unit_sim"], english["english_coverage"], english["english_ranker_top"]) == (0.8, 0.25, 0.5)
    assert all(chinese[f"english_{name}"] == 0.0 for name in ENGLISH_READ)
    assert english["unit_sim"] == chinese["unit_sim"] == 0.8
    assert set(SIGNALS) <= set(english)
