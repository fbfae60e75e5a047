"""index.titles: which report a question names, weighted by how few titles write the term."""

from __future__ import annotations

import math

import pytest
from reportqa.index.titles import TitleTerms

DOCUMENTS = {
    "a.txt": {"title": "摩根士丹利：中国 人工智能"},
    "b.txt": {"title": "BTRAC 2026—2030前沿产业研究报告"},
    "c.txt": {"title": "中国人工智能与数字产业战略发展报告"},
    "d.txt": {"title": ""},
}


def test_a_term_only_one_title_writes_names_that_report_fully() -> None:
    assert TitleTerms.of(DOCUMENTS).named(["摩根士丹利", "自给率"]) == {"a.txt": 1.0}


def test_a_term_several_titles_write_names_each_less_and_the_rarest_term_counts() -> None:
    named = TitleTerms.of(DOCUMENTS).named(["人工智能", "btrac", "报告"])
    assert named == {"a.txt": pytest.approx(math.log(2) / math.log(4)), "b.txt": 1.0,
                     "c.txt": pytest.approx(math.log(2) / math.log(4))}


def test_latin_names_match_whatever_their_case_and_years_and_one_letter_words_never_do() -> None:
    titles = TitleTerms.of(DOCUMENTS)
    assert titles.named(["BTRAC"]) == {"b.txt": 1.0}
    assert titles.named(["2026", "中", "a"]) == {}


def test_one_document_or_none_names_nothing() -> None:
    assert TitleTerms.of({"a.txt": {"title": "摩根士丹利"}}).named(["摩根士丹利"]) == {}
    assert TitleTerms.of({}).named(["摩根士丹利"]) == {}
