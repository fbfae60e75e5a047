"""Answers over the real corpus: a known fact, an absent one, an English question, where each sentence came from."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
from reportqa.index.query import analyze

from reportqa.contract import AnswerOut
from reportqa.core.learned import ModelSet
from reportqa.core.settings import Settings
from reportqa.engine import Engine, open_engine

from ..conftest import REAL_CORPUS

pytestmark = pytest.mark.integration
AI_REPORT = "000_c793e46a93b3560b.txt"


@pytest.fixture(scope="module")
def engine(real_index: Settings) -> Engine:
    return open_engine(real_index)


def corpus_text() -> str:
    return "\n".join(p.read_text(encoding="utf-8") for p in sorted(Path(REAL_CORPUS).glob("*.txt")))


def test_known_fact_is_answered_and_cited(engine: Engine) -> None:
    answer = AnswerOut.of(engine.ask("2026年全球AI支出预计是多少？", qid="fact-1")).model_dump()
    assert answer["id"] == "fact-1"
    assert answer["abstained"] is False
    assert "2.59万亿美元" in answer["answer"]
    docs = [c["doc"] for c in answer["citations"]]
    assert AI_REPORT in docs
    cited = next(c for c in answer["citations"] if c["doc"] == AI_REPORT)
    assert cited["title"] == "BTRAC 2026—2030前沿产业研究报告"
    source = (Path(REAL_CORPUS) / AI_REPORT).read_text(encoding="utf-8")
    spans = [source[c["start"] : c["end"]] for c in answer["citations"] if c["doc"] == AI_REPORT]
    assert any("2.59万亿美元" in span for span in spans)


# Questions about companies the five reports never name, asked as a reader would; the refusal is learned, and out of
# fold it misses a quarter of the unanswerable questions (fewer of these), so the test asks most of them refused.
ABSENT = {"Neuralink": ["脑机接口公司Neuralink在2024年完成了多少融资？", "What was Neuralink's funding in 2024?"],
          "Theranos": ["Theranos的血液检测技术估值是多少？"],
          "Rivian": ["Rivian在2025年交付了多少辆电动车？", "How many vehicles did Rivian deliver in 2025?"],
          "Snowflake": ["Snowflake的数据云平台有多少客户？"],
          "Palantir": ["Palantir在2024年的政府合同收入是多少？", "Palantir的AIP平台用户增长了多少？"],
          "Figma": ["Figma被收购的价格是多少？"], "Zoox": ["Zoox的无人驾驶出租车在哪些城市运营？"],
          "Databricks": ["Databricks在2025年的估值是多少？"], "Klarna": ["Klarna的先买后付业务覆盖多少用户？"],
          "Stripe": ["What was Stripe's payment volume in 2024?"], "蜜雪冰城": ["蜜雪冰城在全国有多少家门店？"],
          "Airbnb": ["Airbnb在中国市场的房源数量是多少？"]}
ABSENT_MAY_ANSWER = 2


def test_questions_about_companies_the_reports_never_name_are_refused(engine: Engine) -> None:
    text = corpus_text().lower()
    answered = []
    for name, questions in ABSENT.items():
        assert name.lower() not in text
        for question in questions:
            answer = engine.ask(question)
            if answer.abstained:
                assert answer.citations == () and answer.text == ""
            else:
                answered.append(f"{question} -> {answer.text[:60]!r} ({answer.confidence:.3f} >= {engine.threshold})")
    assert len(answered) <= ABSENT_MAY_ANSWER, answered


# answered at 0.181 against the threshold 0.161 until questions took the int8 route (models of 2026-12-03 08:42):
# refused at 0.151 against 0.183
def test_invented_entity_abstains(engine: Engine) -> None:
    assert "Zorblax" not in corpus_text()
    answer = engine.ask("量子引力望远镜公司Zorblax的估值是多少？")
    assert answer.abstained is True and answer.citations == ()


def test_unknown_names_are_names_not_paraphrase(engine: Engine) -> None:
    """拓荆 (a company) is in no report and lowers confidence; 差着 is colloquial for the reports' 差距."""
    assert "拓荆" not in corpus_text() and "差着" not in corpus_text()
    assert engine.index.unknown_names(analyze("拓荆科技2024年的营业收入是多少？")) == ["拓荆"]
    question = "论研发能力，我国新材料行业与发达国家之间大约差着几年？"
    assert "差着" in engine.index.unknown_words(analyze(question))  # claims still treat it as something missing
    assert engine.index.unknown_names(analyze(question)) == []
    assert engine.ask(question).abstained is False


def test_an_unknown_word_named_as_a_company_is_a_name(engine: Engine) -> None:
    """jieba does not tag 脑虎 as a name, but 脑虎科技 is written as a company's name. The rules-only confidence
    uses this (the learned answerability model does not: removing it lowered no out-of-fold figure)."""
    assert "脑虎" not in corpus_text()
    assert engine.index.unknown_names(analyze("脑虎科技在2024年完成的融资金额是多少？")) == ["脑虎"]
    assert engine.index.unknown_names(analyze("脑虎在2024年完成的融资金额是多少？")) == []
    rules_only = Engine(engine.index, engine.settings, None, ModelSet(Path(), {}, {}))
    assert rules_only.ask("脑虎科技在2024年完成的融资金额是多少？").abstained is True


def test_english_dictionary_words_are_not_unknown_names(engine: Engine) -> None:
    query = analyze("On what date did the Political Bureau meeting propose the dual circulation pattern?")
    assert engine.index.unknown_names(query) == []
    assert engine.index.unknown_names(analyze("How much did Zorblax raise in 2024?")) == ["zorblax"]


# a known miss (issue 16, English): the BTRAC passage ranks third behind Morgan Stanley's "AI capex" page, and the
# models of 2026-12-04 refuse the question (confidence 0.188 against 0.208) where those of 2026-12-03 answered at 0.221
def test_english_question_finds_the_chinese_report(engine: Engine) -> None:
    answer = engine.ask("What is the forecast for global AI spending in 2026?", top_k=5)
    assert answer.abstained or AI_REPORT in [c.chunk.doc for c in answer.citations[:5]]
    hits = engine.search("What is the forecast for global AI spending in 2026?", top_k=5)
    assert AI_REPORT in [h.chunk.doc for h in hits]


def reference_questions() -> list[str]:
    path = Path(__file__).resolve().parents[2] / "eval" / "qa.jsonl"
    items = [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]
    return [item["question"] for item in items if item["type"] != "unanswerable"][::4]


def test_every_answer_sentence_is_found_in_the_passage_it_cites(engine: Engine) -> None:
    """Rendered table rows ("行：列 值；…") are checked piece by piece; trimmed sentences without their "…"."""
    checked = 0
    for question in reference_questions():
        answer = AnswerOut.of(engine.ask(question)).model_dump()
        if answer["abstained"]:
            continue
        assert "".join(s["text"] for s in answer["sentences"]).replace("；", "") == answer["answer"].replace("；", "")
        for sentence in answer["sentences"]:  # a row may be read with its section's title (index.units)
            cited = answer["citations"][sentence["citation"] - 1]
            passage = re.sub(r"\s", "", cited["text"] + cited["section"])
            pieces = [p for p in re.split(r"[\s…：；]+", sentence["text"]) if p]
            assert all(p in passage for p in pieces), (question, sentence)
            checked += 1
    assert checked >= 40


@pytest.mark.parametrize("question", ["台积电的市场份额是多少？", "2026年全球AI支出预计是多少？",
                                      "中国5G基站数量是多少？",
                                      "What share of global fermentation capacity does China hold?"])
def test_the_answer_does_not_depend_on_top_k(engine: Engine, question: str) -> None:
    """The answer comes from a fixed pool of passages; top_k only limits the citations listed."""
    answers = {k: engine.ask(question, top_k=k) for k in range(1, 11)}
    assert len({(a.text, a.abstained, round(a.confidence, 9)) for a in answers.values()}) == 1
    if answers[1].abstained:  # refused alike at every top_k (台积电's share: four sources, four figures)
        assert all(a.citations == () for a in answers.values())
        return
    for k, answer in answers.items():  # k passages listed, plus any the answer quotes from further down
        quoted = {n for _, n in answer.pieces}
        assert quoted <= {c.n for c in answer.citations}
        assert min(k, 10) <= len(answer.citations) <= k + len(quoted)


OFF_TOPIC = ["How tall is Mount Everest?", "Who won the 2022 FIFA World Cup?", "埃菲尔铁塔有多高？",
             "周杰伦的第一张专辑叫什么？", "What is the capital of France?", "红烧肉怎么做？"]
# known misses (issue 17), answered from the reports' sentence on the west's cooler weather and from lists of
# founders: 0.257 and 0.335 against the threshold 0.199 (models of 2026-12-03 12:54; the second is fragile: an index
# whose vectors differ in the seventh decimal refuses it at 0.187); the CEO of Apple 0.210 against 0.208 (2026-12-04)
OFF_TOPIC_ANSWERED = ["今天天气怎么样？", "谁是苹果公司的创始人？", "Who is the CEO of Apple?"]


@pytest.mark.parametrize("question", OFF_TOPIC)
def test_off_topic_questions_are_refused(engine: Engine, question: str) -> None:
    answer = engine.ask(question)
    assert answer.abstained, f"answered {answer.text[:60]!r} at confidence {answer.confidence:.3f}"


@pytest.mark.parametrize("question", OFF_TOPIC_ANSWERED)
def test_off_topic_questions_still_answered_say_they_are_low_confidence(engine: Engine, question: str) -> None:
    answer = engine.ask(question)
    assert answer.abstained or AnswerOut.of(answer).low_confidence, f"confidence {answer.confidence:.3f}"
