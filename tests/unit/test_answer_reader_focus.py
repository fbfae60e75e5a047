"""The reader's features for the term a question asks the value of, on literal sentences."""

from __future__ import annotations

from reportqa.answer.extract import Unit, answer_terms
from reportqa.answer.reader import UNIT_FEATURES, unit_features
from reportqa.index.query import analyze
from reportqa.index.text import bigram_overlap

from reportqa.core.types import Chunk, Hit

QUESTION = "2019年中国OLED面板的出货量是多少？"


def features(texts: list[str], topic: str = "") -> list[dict[str, float]]:
    chunk = Chunk(id="r#0", doc="r.txt", title="t", section=topic, text="".join(texts), start=0, end=10,
                  line_start=1, line_end=1)
    query = analyze(QUESTION)
    units = [Unit(text, 0, topic) for text in texts]
    return unit_features(units, [0.5] * len(units), [Hit(chunk, 1.0, {})], query, answer_terms(query, {}))


def test_a_sentence_that_writes_the_asked_term_is_marked_and_a_neighbouring_one_is_not() -> None:
    asked, neighbour = features(["2019年中国OLED面板出货量达到1.05亿片。", "2019年中国OLED面板产能为30万片。"])
    assert (asked["focus_in"], asked["focus_topic"]) == (1.0, 1.0)
    assert (neighbour["focus_in"], neighbour["focus_topic"]) == (0.0, 0.0)


def test_a_table_rows_topic_can_write_the_asked_term() -> None:
    (row,) = features(["2019 | 1.05亿片"], topic="中国OLED面板出货量")
    assert (row["focus_in"], row["focus_topic"]) == (0.0, 1.0)


def test_every_feature_the_reader_learns_from_is_measured() -> None:
    (row,) = features(["2019年中国OLED面板出货量达到1.05亿片。"])
    assert set(UNIT_FEATURES) == set(row)


def test_the_encoders_own_cosine_is_read_beside_the_searched_one() -> None:
    chunk = Chunk(id="r#0", doc="r.txt", title="t", section="", text="ab", start=0, end=2, line_start=1, line_end=1)
    query = analyze(QUESTION)
    units = [Unit("2019年中国OLED面板出货量达到1.05亿片。", 0, ""), Unit("2019年中国OLED面板产能为30万片。", 0, "")]
    hits, terms = [Hit(chunk, 1.0, {})], answer_terms(query, {})
    first, second = unit_features(units, [0.9, 0.7], hits, query, terms, encoded=[0.4, 0.6])
    assert (first["sim"], first["sim_raw"], first["sim_raw_gap"]) == (0.9, 0.4, 0.4 - 0.6)
    assert (second["sim_gap"], second["sim_raw"], second["sim_raw_gap"]) == (0.7 - 0.9, 0.6, 0.0)
    alone, _ = unit_features(units, [0.9, 0.7], hits, query, terms)  # no adapter: the same cosine twice
    assert (alone["sim_raw"], alone["sim_raw_gap"]) == (0.9, 0.0)


def test_each_unit_is_read_beside_its_neighbours_and_against_the_best_candidate() -> None:
    chunk = Chunk(id="r#0", doc="r.txt", title="t", section="", text="ab", start=0, end=2, line_start=1, line_end=1)
    query = analyze("面板出货量是多少？")
    units = [Unit("面板产业发展迅速。", 0, ""), Unit("出货量达到1.05亿片。", 0, ""), Unit("产能为30万片。", 1, "")]
    hits, terms = [Hit(chunk, 1.0, {}), Hit(chunk, 0.5, {})], answer_terms(query, {})
    first, second, third = unit_features(units, [0.5, 0.8, 0.6], hits, query, terms)
    assert (first["prev_own"], first["prev_sim"], first["next_sim"], first["position"]) == (-1.0, -1.0, 0.8, 0.0)
    assert (second["prev_sim"], second["next_sim"], second["position"]) == (0.5, -1.0, 1.0)
    assert (third["prev_sim"], third["next_sim"], third["position"]) == (-1.0, -1.0, 0.0)  # another passage
    assert second["prev_own"] == first["own_cov"] and first["next_own"] == second["own_cov"]
    # the question as asked has 7 bigrams (面板 板出 出货 货量 量是 是多 多少): the first unit writes one, the next two
    assert (first["bigram_cov"], second["bigram_cov"], third["bigram_cov"]) == (1 / 7, 2 / 7, 0.0)
    assert (first["bigram_cov_gap"], second["bigram_cov_gap"]) == (1 / 7 - 2 / 7, 0.0)
    assert second["prev_bigram"] == 1 / 7 and second["own_cov_gap"] == 0.0 > third["own_cov_gap"]
    assert third["novelty"] == 1.0 and 0.0 < second["novelty"] < 1.0


def test_bigram_overlap_is_what_a_sentence_shares_with_the_question_and_what_it_adds() -> None:
    asked = {"面板", "出货", "货量"}
    assert bigram_overlap(asked, "出货量达到") == (2 / 3, 2 / 4)  # 出货 货量 shared; 量达 达到 new
    assert bigram_overlap(asked, "") == (0.0, 0.0)
    assert bigram_overlap(set(), "出货量") == (0.0, 1.0)


def test_each_unit_carries_the_kind_of_collection_its_passage_came_from() -> None:
    chunk = Chunk(id="r#0", doc="r.txt", title="t", section="", text="ab", start=0, end=2, line_start=1, line_end=1)
    query = analyze(QUESTION)
    units = [Unit("出货量达到1.05亿片。", 0, "")]
    (ranked,) = unit_features(units, [0.5], [Hit(chunk, 1.0, {"quant": 0.4})], query, answer_terms(query, {}))
    (plain,) = unit_features(units, [0.5], [Hit(chunk, 1.0, {})], query, answer_terms(query, {}))
    assert (ranked["quant"], plain["quant"]) == (0.4, 0.0)
