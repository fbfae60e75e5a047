"""Follow-ups made to stand alone, on literal conversations."""

from __future__ import annotations

from reportqa.answer.followup import Turn, is_follow_up, names_of, resolve, substitute


def ask(*pairs: tuple[str, str]) -> str:
    turns = [Turn(role, text) for role, text in pairs]
    return resolve(turns).question


def test_ellipsis_puts_a_year_in_place_of_the_year() -> None:
    assert ask(("user", "2024年中国GPU自给率是多少？"), ("assistant", "约30%。"), ("user", "那2027年呢？")) == \
        "2027年中国GPU自给率是多少？"


def test_ellipsis_puts_a_company_in_place_of_the_company() -> None:
    resolved = ask(("user", "华为拿到了多少个5G商用合同？"), ("assistant", "91个。"), ("user", "那中兴呢？"))
    assert resolved == "中兴拿到了多少个5G商用合同？"


def test_a_latin_name_is_read_whole_not_from_inside_5g_nor_into_the_chinese_after_it() -> None:
    assert names_of("2024年中国5G覆盖率是多少？") == []
    assert names_of("In 2024, how much did NVIDIA earn from 5G chips?") == ["NVIDIA"]


def test_english_what_about_substitutes_the_name() -> None:
    assert ask(("user", "What was Alibaba's R&D spending?"), ("assistant", "…"), ("user", "What about Tencent?")) \
        == "What was Tencent's R&D spending?"


def test_a_pronoun_after_a_which_question_is_the_answer_s_name() -> None:
    resolved = ask(("user", "哪家公司的碳化硅衬底市占率全球第二？"), ("assistant", "天岳先进的市占率达16.7%。"),
                   ("user", "这家企业拿到了多少注资？"))
    assert resolved == "天岳先进拿到了多少注资？"


def test_a_pronoun_otherwise_is_the_previous_question_s_subject() -> None:
    assert ask(("user", "宁德时代动力电池全球市占率是多少？"), ("assistant", "37.9%"), ("user", "它的总部在哪？")) \
        .startswith("宁德时代")


def test_a_subject_switch_stays_as_written() -> None:
    assert ask(("user", "2024年中国GPU自给率是多少？"), ("assistant", "约30%。"),
               ("user", "英伟达2026财年营收有多少？")) == "英伟达2026财年营收有多少？"


def test_a_turn_opening_with_na_and_naming_no_one_is_asked_as_written_within_the_thread() -> None:
    turns = [Turn("user", "美国有多少家活跃的聚变公司？"), Turn("assistant", "25家。"),
             Turn("user", "那中国有多少家聚变公司？")]
    resolved = resolve(turns)
    assert (resolved.question, resolved.kind, resolved.context, resolved.thread) == \
        ("那中国有多少家聚变公司？", "new", None, "美国有多少家活跃的聚变公司？")


def test_a_turn_that_reads_as_new_keeps_the_previous_question_as_its_thread_not_its_context() -> None:
    turns = [Turn("user", "深圳低空经济的产业规模有多大？"), Turn("assistant", "6702.5亿元。"),
             Turn("user", "物流航线开了几条？")]
    resolved = resolve(turns)
    assert (resolved.question, resolved.kind, resolved.context) == ("物流航线开了几条？", "new", None)
    assert resolved.thread == "深圳低空经济的产业规模有多大？"
    assert resolve(turns[:1]).thread is None


def test_same_table_keeps_the_previous_question_as_context() -> None:
    turns = [Turn("user", "BTRAC预测2030年全球AI芯片市场规模是多少？"), Turn("assistant", "1.17万亿美元。"),
             Turn("user", "同一张表里，AI支出到2030年能到多少？")]
    resolved = resolve(turns)
    assert resolved.same_source and resolved.context == "BTRAC预测2030年全球AI芯片市场规模是多少？"


def test_no_substitution_target_asks_the_turn_with_the_previous_question_as_context() -> None:
    assert substitute("芯片的良率是多少？", "2027年") is None
    resolved = resolve([Turn("user", "芯片的良率是多少？"), Turn("user", "单机日均收入呢？")])
    assert (resolved.question, resolved.context, resolved.kind) == \
        ("单机日均收入呢？", "芯片的良率是多少？", "ellipsis")


def test_english_and_opening_a_short_turn_is_an_ellipsis() -> None:
    assert ask(("user", "How many quantum startups does China have?"), ("assistant", "…"), ("user", "And Japan?")) \
        == "How many quantum startups does Japan have?"
    assert ask(("user", "What did China's aerospace industry earn in 2017?"), ("user", "And in 2019?")) == \
        "What did China's aerospace industry earn in 2019?"


def test_an_english_attribute_is_not_swapped_for_a_name() -> None:
    previous = "What is DeepSeek-R1's input price per million tokens?"
    assert substitute(previous, "output price") is None
    resolved = resolve([Turn("user", previous), Turn("user", "And the output price?")])
    assert (resolved.question, resolved.context) == ("And the output price?", previous)
    assert ask(("user", previous), ("user", "And the R&D spending?")) == "And the R&D spending?"


def test_and_before_a_question_word_is_not_an_ellipsis_but_what_about_is() -> None:
    assert ask(("user", "What was Alibaba's R&D spending?"), ("user", "And what about Tencent?")) == \
        "What was Tencent's R&D spending?"
    resolved = resolve([Turn("user", "What did Tencent earn in 2023?"), Turn("user", "And what did Huawei earn?")])
    assert (resolved.question, resolved.kind) == ("And what did Huawei earn?", "new")


def test_a_turn_after_an_ellipsis_asked_with_context_keeps_the_subject() -> None:
    turns = [Turn("user", "2025年芯片的良率是多少？"), Turn("user", "单机日均收入呢？"), Turn("user", "那2026年呢？")]
    assert resolve(turns).question == "单机日均收入 2026年芯片的良率是多少？"


def test_whitespace_runs_are_one_space_before_any_pattern_reads_them() -> None:
    assert ask(("user", "深圳低空经济的产业规模有多大？"), ("user", "物流航线" + " \n\t" * 300 + "开了几条？")) == \
        "物流航线 开了几条？"


def test_long_turns_are_cut_before_any_pattern_reads_them() -> None:
    assert not is_follow_up("量子" + "计算" * 60_000 + "呢？")  # 呢 lies past TURN_CHARS: never scanned
    assert ask(("user", "2025年量子计算市场规模是多少？"), ("assistant", "x" * 100_000), ("user", "那2030年呢？")) \
        == "2030年量子计算市场规模是多少？"


def test_an_english_pronoun_without_a_named_answer_stays_with_the_previous_question_as_context() -> None:
    turns = [Turn("user", "In the CHN Key Ecosystem strategy report, how much computing power does China have?"),
             Turn("assistant", "…"), Turn("user", "What share of the global total does it represent?")]
    resolved = resolve(turns)
    assert resolved.question == "What share of the global total does it represent?"  # not inthechnkeyecosystem…
    assert (resolved.kind, resolved.referent, resolved.context) == ("pronoun", None, turns[0].content)
