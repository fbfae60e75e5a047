"""Question analysis: content terms, English detection and glossary bridge, expected answer type."""

from __future__ import annotations

import pytest
from reportqa.index.query import analyze, english_names, expected_answer, token_aliases, translate_english


@pytest.mark.parametrize(
    ("question", "question_words"),
    [
        ("人工智能的市场规模是多少？", ["多少", "是"]),
        ("哪些公司布局了AI芯片？", ["哪些"]),
        ("大模型是什么？", ["是", "什么", "是什么"]),
    ],
)
def test_question_words_are_not_terms(question: str, question_words: list[str]) -> None:
    query = analyze(question)
    assert query.english is False
    for word in question_words:
        assert word not in query.terms
        assert word not in query.core


def test_chinese_question_core_terms() -> None:
    query = analyze("人工智能的市场规模是多少？")
    assert query.core == ("人工", "智能", "人工智能", "市场", "规模")
    assert {t: query.terms[t] for t in query.core} == dict.fromkeys(query.core, 1.0)
    assert query.dense_text == "人工智能的市场规模是多少？"
    assert query.wants == "number"


def test_aliases_are_added_at_lower_weight() -> None:
    query = analyze("人工智能的市场规模是多少？")
    assert query.terms["ai"] == 0.3  # ALIAS_WEIGHT: an alias counts, but less than the words asked


def test_english_question_gets_chinese_glossary_terms() -> None:
    query = analyze("How big is the semiconductor market in China?")
    assert query.english is True
    assert "半导体" in query.terms
    assert "市场" in query.terms
    assert "中国" in query.terms
    assert query.terms["半导体"] == 0.8
    assert "半导体" in query.core


def test_translate_english_counts_overlapping_phrases() -> None:
    # words inside a longer matched phrase ("market share") weigh half: they may be another sense
    assert translate_english("semiconductor market share growth foobar") == (
        {"半导体": 0.8, "集成电路": 0.8, "市场份额": 0.8, "市占率": 0.8, "市场": 0.4, "份额": 0.4, "占比": 0.4,
         "增长": 0.8, "增速": 0.8},
        ["foobar"],
    )


def test_translate_english_plural_falls_back_to_singular() -> None:
    assert translate_english("chiplets") == ({"Chiplet": 0.8, "芯粒": 0.8}, [])
    assert translate_english("semiconductors") == ({"半导体": 0.8}, [])


@pytest.mark.parametrize(
    ("question", "wants"),
    [
        ("全球AI芯片市场规模是多少？", "number"),
        ("哪家公司市占率最高？", "org"),
        ("英伟达成立于哪一年？", "date"),
        ("大模型是什么？", "definition"),
        ("有哪些主要厂商？", "list"),
        ("大沙地站在哪里？", "place"),
        ("单线天竺鲷分布在哪个洋区？", "place"),
        ("莫桂兰为什么关闭武馆？", "reason"),
        ("Why did exports fall?", "reason"),
        ("你好", None),
        ("Which company leads the market?", "org"),
        ("When was it founded?", "date"),
        ("How many data centers were built?", "number"),
    ],
)
def test_expected_answer(question: str, wants: str | None) -> None:
    assert expected_answer(question) == wants


def test_english_size_question_expects_a_number() -> None:
    # the English twin of "半导体市场规模是多少？" asks for a number, not a definition
    assert expected_answer("半导体市场规模是多少？") == "number"
    assert expected_answer("What is the market size of the semiconductor industry?") == "number"


def test_dictionary_senses_become_english_phrases() -> None:
    from reportqa.index.dictionary import english_phrases

    assert english_phrases("to exceed; to surpass") == ["exceed", "surpass"]
    assert english_phrases("search engine (computing)") == ["search engine"]
    assert english_phrases("see 自給自足|自给自足") == []
    assert english_phrases("CL:個|个[ge4]") == []


def test_english_words_the_glossary_lacks_are_bridged_by_the_dictionary() -> None:
    from reportqa.index.query import DICTIONARY_WEIGHT, translate_english

    found, kept = translate_english("How high is the self-sufficiency of chips?")
    assert found["自给自足"] == DICTIONARY_WEIGHT
    assert "self" not in kept and "sufficiency" not in kept


def test_the_document_itself_and_locative_suffixes_are_not_searched_for() -> None:
    query = analyze("白皮书里提到的eCPM是什么意思？")
    assert list(query.terms) == ["ecpm"]


def test_an_english_question_naming_the_whitepaper_does_not_search_for_it() -> None:
    query = analyze("Which company dominates lithography, according to the whitepaper?")
    assert not {"白皮书", "白皮", "皮书"} & set(query.terms)
    assert "光刻" in query.terms


def test_english_names_stop_at_chinese_characters() -> None:
    assert english_names("What share does ZQXM长鑫存储 hold of QQRAM?") == ("qqram", "zqxm")


@pytest.mark.parametrize(("question", "core", "wants"), [
    ("算力资源闲置的比例有多高？", ("算力", "资源", "闲置", "比例"), "number"),  # not 高: jieba cuts 有多高 as 有/多/高
    ("企业有多大比例实现了商业化？", ("企业", "比例", "实现", "商业", "商业化"), "number"),
    ("为什么莫桂兰关闭武馆？", ("莫", "桂兰", "关闭", "武馆"), "reason"),  # cues are read from the question as asked
])
def test_question_forms_leave_no_residue(question: str, core: tuple[str, ...], wants: str) -> None:
    query = analyze(question)
    assert (query.core, query.wants) == (core, wants)


def test_token_aliases_keep_the_aliases_that_are_one_search_token() -> None:
    # the thesaurus row 闲置|空置|未利用|未使用|没被用起来|闲着: 未利用 and the rest segment into several tokens
    assert token_aliases(["闲置", "不存在的词"]) == {"闲置": ("空置", "闲着")}


def test_an_english_questions_names_keep_the_order_the_question_writes_them() -> None:
    core = analyze("Did TSMC, NVIDIA and Huawei all reach 3nm by 2025?").core
    assert [t for t in core if t in {"tsmc", "nvidia", "3nm"}] == ["tsmc", "nvidia", "3nm"]


def test_question_analysis_is_the_same_in_every_process() -> None:
    """Set order changes with the hash seed: two processes (two server workers, two training runs) must read a
    question alike, or the same question gets two answers."""
    import os
    import subprocess
    import sys

    script = ("from reportqa.index.query import analyze; "
              "print([analyze(q).core for q in ('What yield rate did TSMC reach in 2025, according to BTRAC?', "
              "'What share of the consumer drone market does DJI hold, according to the SCSP report?')])")
    outputs = {subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, check=True,
                              env={**os.environ, "PYTHONHASHSEED": seed}).stdout for seed in ("1", "2", "3")}
    assert len(outputs) == 1
