"""The verifier's training pairs: a rightly answered question also meets a sentence that does not answer it."""

from reportqa.eval.train_verifier import decoy_sentence

SENTENCES = ["星河半导体2025年营业收入128亿元。", "星河半导体2025年毛利率提升至41%。", "公司总部位于苏州。"]


def test_the_decoy_is_the_closest_sentence_without_the_answer() -> None:
    question = "星河半导体2025年营业收入是多少？"
    assert decoy_sentence(question, SENTENCES, SENTENCES[0], ["128亿元"]) == SENTENCES[1]


def test_a_sentence_holding_the_answer_is_never_the_decoy() -> None:
    question = "星河半导体2025年营业收入是多少？"
    assert decoy_sentence(question, SENTENCES, SENTENCES[2], ["128 亿元"]) == SENTENCES[1]
    assert decoy_sentence(question, SENTENCES[:1], "", ["128亿元"]) == ""


def test_an_unanswerable_question_has_no_decoy() -> None:
    assert decoy_sentence("星河半导体的创始人是谁？", SENTENCES, SENTENCES[2], []) == ""
