"""Question analysis: content terms, alias expansion, an English-to-Chinese bridge, expected answer type."""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import cache
from pathlib import Path

from index.text import cjk_share, latin_words, normalize, query_tokens, tokens

ALIAS_WEIGHT = 0.5
GLOSSARY_WEIGHT = 0.8
_NUMBER_CUES = re.compile(r"多少|几|多大|多高|多长|比例|占比|份额|规模|金额|增速|增长率|增幅|cagr|百分之|how much|how many|what share|what percentage|size")
_ORG_CUES = re.compile(r"哪家|哪些公司|哪些企业|哪个公司|哪个企业|哪个机构|哪家机构|什么公司|which company|which firm|who")
_DATE_CUES = re.compile(r"哪一年|何时|什么时候|哪年|哪天|日期|when|what year")
_LIST_CUES = re.compile(r"哪些|哪几|包括什么|有什么|列举|which .*s\b|what are")
_DEFINITION_CUES = re.compile(r"是什么|指什么|什么是|含义|定义|what is|what does .* mean")


@dataclass(frozen=True, slots=True)
class Query:
    text: str
    terms: dict[str, float]  # weighted lexical tokens
    core: tuple[str, ...]  # the question's own content terms (after translation), for coverage
    dense_text: str
    english: bool
    wants: str | None  # "number", "org", "date", "list", "definition" or None


def _read_data(name: str) -> str:
    return (Path(__file__).parent / "data" / name).read_text(encoding="utf-8")


@cache
def aliases() -> dict[str, tuple[str, ...]]:
    table: dict[str, tuple[str, ...]] = {}
    for line in _read_data("aliases.txt").splitlines():
        if not line.strip() or line.startswith("#"):
            continue
        group = tuple(normalize(t.strip()) for t in line.split("|") if t.strip())
        for term in group:
            table[term] = tuple(t for t in group if t != term)
    return table


@cache
def glossary() -> dict[str, tuple[str, ...]]:
    try:
        text = _read_data("en_zh.tsv")
    except FileNotFoundError:
        return {}
    table: dict[str, tuple[str, ...]] = {}
    for line in text.splitlines():
        english, _, chinese = line.partition("\t")
        if english.strip() and chinese.strip():
            table[english.strip().lower()] = tuple(c.strip() for c in chinese.split("|") if c.strip())
    return table


def _singular(word: str) -> str:
    if len(word) > 4 and word.endswith("ies"):
        return word[:-3] + "y"
    if len(word) > 3 and word.endswith("s") and not word.endswith("ss"):
        return word[:-1]
    return word


def translate_english(text: str) -> tuple[list[str], list[str]]:
    """(Chinese renderings, untranslated Latin words) by greedy longest-phrase glossary lookup."""
    table = glossary()
    words = latin_words(text)
    found: list[str] = []
    kept: list[str] = []
    i = 0
    while i < len(words):
        for span in (4, 3, 2, 1):
            phrase = " ".join(words[i : i + span])
            hit = table.get(phrase) or (table.get(_singular(phrase)) if span == 1 else None)
            if hit and len(words[i : i + span]) == span:
                found.extend(hit[:2])
                i += span
                break
        else:
            kept.append(words[i])
            i += 1
    return found, kept


def expected_answer(text: str) -> str | None:
    lowered = normalize(text)
    for kind, pattern in (("date", _DATE_CUES), ("org", _ORG_CUES), ("definition", _DEFINITION_CUES),
                          ("number", _NUMBER_CUES), ("list", _LIST_CUES)):
        if pattern.search(lowered):
            return kind
    return None


def analyze(question: str) -> Query:
    english = cjk_share(question) < 0.3 and bool(latin_words(question))
    terms: dict[str, float] = {}
    if english:
        chinese, kept = translate_english(question)
        core = [t for c in chinese for t in tokens(c)] + [w for w in kept if w not in _ENGLISH_STOP]
        for term in core:
            terms[term] = max(terms.get(term, 0.0), GLOSSARY_WEIGHT)
        dense_text = " ".join(chinese + kept)
    else:
        core = query_tokens(question)
        for term in core:
            terms[term] = 1.0
        dense_text = question
    for term in list(terms):
        for alias in aliases().get(term, ()):
            for token in tokens(alias):
                terms.setdefault(token, ALIAS_WEIGHT)
    return Query(question, terms, tuple(dict.fromkeys(core)), dense_text, english, expected_answer(question))


_ENGLISH_STOP = frozenset(
    "what which who whom how when where why is are was were be been the a an of to in on for and or by with as at "
    "from that this these those it its do does did has have had will would can could should much many according "
    "report reports say says said mention mentioned".split()
)
