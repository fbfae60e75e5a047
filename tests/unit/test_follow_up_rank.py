"""The follow-up ranker's features on hand-made hits: two readings joined, the previous answer's passage found."""

from __future__ import annotations

import math

from reportqa.answer.followup import FollowUp, Turn, follow_up_of
from reportqa.index.follow_up_rank import FOLLOW_UP_FEATURES, follow_up_rows

from reportqa.core.types import Chunk, Hit


def hit(n: int, text: str, score: float, doc: str = "a.txt", section: str = "1 市场") -> Hit:
    chunk = Chunk(id=f"{doc}#{n}", doc=doc, title="t", section=section, text=text, start=0, end=len(text),
                  line_start=1, line_end=1)
    return Hit(chunk, score)


SHENZHEN = hit(0, "深圳已建成1200+低空起降设施，开通310条低空物流航线", 2.0)
NATIONAL = hit(1, "全国已开通低空物流航线超过500条", 1.5, doc="b.txt", section="2 全国")
SAME_SECTION = hit(2, "深圳低空经济产业规模超过900亿元", 0.5)
OTHER_SECTION = hit(3, "无人机企业数量超过1700家", 0.2, section="3 企业")


def test_each_passage_of_either_reading_gets_one_row_the_thread_s_first() -> None:
    rows = follow_up_rows([SHENZHEN, SAME_SECTION], [SHENZHEN, NATIONAL], "")
    assert [h.chunk.id for h, _ in rows] == ["a.txt#0", "a.txt#2", "b.txt#1"]
    assert all(tuple(row) == FOLLOW_UP_FEATURES for _, row in rows)
    shenzhen, same_section, national = (row for _, row in rows)
    assert (shenzhen["thread"], shenzhen["thread_gap"], shenzhen["turn"], shenzhen["turn_gap"]) == (2.0, 0.0, 2.0, 0.0)
    assert same_section["thread_gap"] == -1.5 and math.isnan(same_section["turn"])
    assert math.isnan(same_section["turn_gap"])
    assert math.isnan(national["thread"]) and national["turn_gap"] == -0.5


def test_the_passage_that_wrote_the_previous_answer_anchors_its_report_and_section() -> None:
    answer = "深圳已建成1200+低空起降设施[1]。"
    rows = dict((h.chunk.id, row) for h, row in
                follow_up_rows([SAME_SECTION, OTHER_SECTION], [NATIONAL, SHENZHEN], answer))
    assert rows["a.txt#0"]["answer_overlap"] > 0.9 > rows["a.txt#2"]["answer_overlap"]
    assert rows["b.txt#1"]["answer_overlap"] < 0.5
    assert (rows["a.txt#2"]["same_doc"], rows["a.txt#2"]["same_section"]) == (1.0, 1.0)
    assert (rows["a.txt#3"]["same_doc"], rows["a.txt#3"]["same_section"]) == (1.0, 0.0)
    assert (rows["b.txt#1"]["same_doc"], rows["b.txt#1"]["same_section"]) == (0.0, 0.0)


def test_without_a_previous_answer_nothing_is_anchored() -> None:
    rows = follow_up_rows([SHENZHEN], [NATIONAL], "（报告中没有找到答案）")
    assert all(row["same_doc"] == 0.0 and row["answer_overlap"] == 0.0 for _, row in rows)


def test_a_pasted_essay_as_the_previous_answer_is_read_only_in_part() -> None:
    said = "全国已开通低空物流航线超过500条。" * 200  # 3,400 characters: those past the first 2,000 go unread
    tail = "深圳已建成1200+低空起降设施，开通310条低空物流航线。" * 10_000
    read = follow_up_rows([SHENZHEN, NATIONAL], [], said + tail)
    assert read == follow_up_rows([SHENZHEN, NATIONAL], [], said[:2000])
    assert read[1][1]["answer_overlap"] == 1.0 and read[0][1]["answer_overlap"] < 0.6


def test_the_follow_up_is_the_last_user_turn_and_the_answer_before_it() -> None:
    turns = [Turn("user", "深圳低空经济的产业规模有多大？"), Turn("assistant", "超过900亿元[1]"),
             Turn("user", "  物流航线开了几条？ ")]
    assert follow_up_of(turns) == FollowUp("物流航线开了几条？", "超过900亿元[1]")
    assert follow_up_of(turns[:1]) is None
    assert follow_up_of([Turn("user", "  "), Turn("user", "物流航线开了几条？")]) is None
    assert follow_up_of([Turn("user", "a"), Turn("user", "b")]) == FollowUp("b", "")
