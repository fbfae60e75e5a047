"""Question analysis: content terms, alias expansion, an English-to-Chinese bridge, expected answer type."""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, replace
from functools import cache
from pathlib import Path
from typing import Literal

from reportqa.index.measures import Measure, asked_measure
from reportqa.index.text import (
    STOPWORDS,
    bigrams,
    cjk_share,
    is_content,
    is_english,
    is_question_word,
    latin_words,
    normalize,
    query_bigrams,
    query_tokens,
    short_bigrams,
    tagged,
    tokens,
    words,
)

ALIAS_WEIGHT = 0.3
GLOSSARY_WEIGHT = 0.8
DICTIONARY_WEIGHT = 0.5  # CC-CEDICT senses are many and generic: they widen recall, they don't decide
_NUMBER_CUES = re.compile(
    r"多少|几(?!乎)|多大|多高|多长|比例|占比|份额|规模|金额|增速|增长率|增幅|cagr|百分之"
    r"|how much|how many|what share|what percentage|size"
)
_ORG_CUES = re.compile(
    r"哪家|哪些公司|哪些企业|哪个公司|哪个企业|哪个机构|哪家机构|什么公司|which company|which firm|who"
)
_DATE_CUES = re.compile(r"哪一年|何时|什么时候|哪年|哪天|日期|when|what year")
_LIST_CUES = re.compile(r"哪些|哪几|包括什么|有什么|列举|which .*s\b|what are")
_PLACE_CUES = re.compile(r"哪里|在哪|何处|何地|什么地方|哪个(?:国家|城市|省|地区|洋|州|岛)|where")
_REASON_CUES = re.compile(r"为什么|为何|什么原因|原因是|\bwhy\b")
_DEFINITION_CUES = re.compile(r"是什么|指什么|什么是|含义|定义|what is|what does .* mean")


AnswerType = Literal["number", "org", "date", "place", "reason", "definition", "list"]


@dataclass(frozen=True, slots=True)
class Query:
    """The question analysed once: what every later stage reads instead of parsing the text again."""

    text: str
    terms: dict[str, float]  # weighted lexical tokens
    grams: dict[str, float]  # weighted character bigrams
    core: tuple[str, ...]  # the question's own content terms (after translation), for coverage
    words: tuple[str, ...]  # whole content words as the question writes them, to spot what the corpus lacks
    dense_text: str
    english: bool
    wants: AnswerType | None
    asked: str = ""  # the question as written: what a multilingual encoder reads
    measure: Measure | None = None  # the unit a value must come in (多少颗, 哪一年, 营业收入), when it asks for one


def _read_data(name: str) -> str:
    return (Path(__file__).parent / "data" / name).read_text(encoding="utf-8")


@cache
def aliases() -> dict[str, tuple[str, ...]]:
    """Interchangeable terms: the hand-kept alias list plus the domain thesaurus."""
    table: dict[str, list[str]] = {}
    for name in ("aliases.txt", "synonyms_zh.txt"):
        for line in _read_data(name).splitlines():
            if not line.strip() or line.startswith("#"):
                continue
            group = [normalize(t.strip()) for t in line.split("|") if t.strip()]
            for term in group:
                known = table.setdefault(term, [])
                known.extend(t for t in group if t != term and t not in known)
    return {term: tuple(others) for term, others in table.items()}


def token_aliases(vocabulary: Iterable[str]) -> dict[str, tuple[str, ...]]:
    """The aliases of corpus words that are single search tokens themselves: what the embedding fit can use."""
    table, found = aliases(), dict[str, tuple[str, ...]]()
    for word in vocabulary:
        single = tuple(a for a in table.get(word, ()) if _is_one_token(a))
        if single:
            found[word] = single
    return found


@cache
def _is_one_token(term: str) -> bool:
    return tokens(term) == [term]


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


def translate_english(text: str) -> tuple[dict[str, float], list[str]]:
    """Chinese renderings with weights, and the Latin words no glossary phrase covers.

    Every glossary phrase in the question counts, overlapping ones too ("intelligent computing" and
    "computing power"); a single word inside a longer matched phrase weighs less, as it may be another sense.
    """
    table = glossary()
    words = [w for token in latin_words(text) for w in _split_hyphens(token)]
    matches: list[tuple[int, int, tuple[str, ...]]] = []
    for i in range(len(words)):
        for span in (4, 3, 2, 1):
            if i + span > len(words):
                continue
            phrase = " ".join(words[i : i + span])
            if span == 1 and phrase in _ENGLISH_STOP:
                continue
            hit = _look_up(table, phrase, span)
            if hit:
                matches.append((i, i + span, hit[:2]))
    covered_long = {j for a, b, _ in matches if b - a > 1 for j in range(a, b)}
    found: dict[str, float] = {}
    for a, b, renderings in matches:
        weight = GLOSSARY_WEIGHT if (b - a > 1 or a not in covered_long) else GLOSSARY_WEIGHT * 0.5
        for chinese in renderings:
            found[chinese] = max(found.get(chinese, 0.0), weight)
    covered = {j for a, b, _ in matches for j in range(a, b)}
    for a, b, renderings in _dictionary_matches(words, covered):
        covered.update(range(a, b))
        for chinese in renderings:
            found.setdefault(chinese, DICTIONARY_WEIGHT)
    kept = [w for j, w in enumerate(words) if j not in covered]
    return found, kept


def _dictionary_matches(words: Sequence[str], covered: set[int]) -> list[tuple[int, int, tuple[str, ...]]]:
    """CC-CEDICT renderings of the content words the glossary left, longest phrase first."""
    from reportqa.index.dictionary import english_to_chinese

    table, matches, taken = english_to_chinese(), [], set(covered)
    for span in (3, 2, 1):
        for i in range(len(words) - span + 1):
            if taken & set(range(i, i + span)):
                continue
            phrase = " ".join(words[i : i + span])
            if words[i] in _ENGLISH_STOP or words[i + span - 1] in _ENGLISH_STOP:
                continue
            if span == 1 and (not phrase.isalpha() or len(phrase) < 3):
                continue
            hit = _look_up(table, phrase, span)
            if hit:
                matches.append((i, i + span, hit))
                taken.update(range(i, i + span))
    return matches


def _look_up(table: Mapping[str, tuple[str, ...]], phrase: str, span: int) -> tuple[str, ...] | None:
    """A phrase's renderings; a single word is also tried in the singular (chips → chip)."""
    return table.get(phrase) or (table.get(_singular(phrase)) if span == 1 else None)


def _split_hyphens(token: str) -> list[str]:
    """low-earth-orbit → low earth orbit; GPT-5 and H100 stay whole."""
    if "-" in token and not any(ch.isdigit() for ch in token):
        return [part for part in token.split("-") if part]
    return [token]


def _names(text: str) -> tuple[str, ...]:
    """Latin words that can occur verbatim in Chinese text: acronyms, model names, numbers (H100, GPT-5, 2027),
    in the order the question writes them (a set's order changes from process to process, and the last term is
    the one the question asks the value of)."""
    return tuple(dict.fromkeys(w.lower().removesuffix("'s") for w in re.findall(r"[A-Za-z0-9][\w\-.']*", text, re.ASCII)
                               if any(ch.isdigit() for ch in w) or sum(ch.isupper() for ch in w) >= 2))


def _capitalised(text: str) -> set[str]:
    """Capitalised words past the first of an English question: likely names (Neuralink, Stargate)."""
    tokens_ = re.findall(r"[A-Za-z][\w\-']*", text, re.ASCII)
    return {w.lower().removesuffix("'s") for w in tokens_[1:] if w[0].isupper() and w.lower() not in _ENGLISH_STOP}


def expected_answer(text: str) -> AnswerType | None:
    lowered = normalize(text)
    kinds: tuple[tuple[AnswerType, re.Pattern[str]], ...] = (
        ("date", _DATE_CUES), ("org", _ORG_CUES), ("number", _NUMBER_CUES), ("place", _PLACE_CUES),
        ("reason", _REASON_CUES), ("definition", _DEFINITION_CUES), ("list", _LIST_CUES))
    for kind, pattern in kinds:
        if pattern.search(lowered):
            return kind
    return None


_QUESTION_PHRASE = re.compile(r"(多大|多少|多高|多长|多久|多远|哪些|哪个|哪家|什么)")


_SELF_REFERENCE = re.compile(r"(?:该|本|这份)?(?:白皮书|报告书)(?:里|中|内)?")


def separate_question_words(question: str) -> str:
    """有多大规模 → 有 多大 规模: so that segmentation keeps the question form whole (not 多/大, nor 大规模);
    the document's name for itself (白皮书里) goes, as its pieces (白皮, 皮书) would be searched for."""
    return _QUESTION_PHRASE.sub(r" \1 ", _SELF_REFERENCE.sub(" ", question))


def analyze(asked: str) -> Query:
    question = separate_question_words(asked)
    english = is_english(question)
    terms: dict[str, float] = {}
    if english:
        chinese, kept = translate_english(question)
        names = _names(question)
        for rendering, weight in chinese.items():
            for token in tokens(rendering):
                terms[token] = max(terms.get(token, 0.0), weight)
        for name in names:
            terms[name] = GLOSSARY_WEIGHT
        core = [t for t, w in terms.items() if w >= GLOSSARY_WEIGHT]
        dense_text = " ".join([*chinese, *kept])
        grams = {g: GLOSSARY_WEIGHT for g in bigrams(" ".join([*chinese, *sorted(names)]))}
        named = english_names(question)
    else:
        core = query_tokens(question)
        for term in core:
            terms[term] = 1.0
        dense_text = asked
        question_words = words(normalize(question))  # segmented once, read twice
        grams = dict.fromkeys(query_bigrams(question_words), 1.0)
        named = content_words(question, question_words)
    table = aliases()
    expansions = [a for w in (*named, *terms) for a in table.get(w, ())]
    for alias in expansions:
        for token in tokens(alias):
            terms.setdefault(token, ALIAS_WEIGHT)
        for gram in short_bigrams(alias):
            grams.setdefault(gram, ALIAS_WEIGHT)
    return Query(question, terms, grams, tuple(dict.fromkeys(core)), named, dense_text, english,
                 expected_answer(asked), asked, asked_measure(asked))


def preload() -> None:
    """Load what question analysis otherwise loads on first use: CC-CEDICT (~2 s) and jieba's tagger (~1.6 s)."""
    from reportqa.index.dictionary import english_to_chinese

    english_to_chinese()
    tagged("拓荆科技")


def english_names(question: str) -> tuple[str, ...]:
    """Names in an English question that neither the glossary nor CC-CEDICT translates: what the corpus may lack
    (September, North and Bureau are dictionary words, capitalised or not)."""
    from reportqa.index.dictionary import english_to_chinese

    table, dictionary = glossary(), english_to_chinese()
    return tuple(sorted(n for n in set(_names(question)) | _capitalised(question)
                        if any(c.isalpha() for c in n) and n not in table and n not in dictionary))


def content_words(question: str, question_words: Sequence[str]) -> tuple[str, ...]:
    """Words that name something: multi-character CJK words, and Latin names or model numbers
    (`question_words`: the question's jieba words of normalised text)."""
    table = glossary()
    found = [w.lower() for w in re.findall(r"[A-Za-z][A-Za-z0-9\-]{2,}", question) if w.lower() not in table]
    for word in question_words:
        if is_question_word(word) or word in STOPWORDS or not is_content(word):
            continue
        if (len(word) >= 2 and cjk_share(word) == 1.0) or (
                word.isascii() and any(c.isdigit() for c in word) and any(c.isalpha() for c in word)):
            found.append(word)
    return tuple(dict.fromkeys(found))


_ENGLISH_STOP = frozenset(
    "what which who whom how when where why is are was were be been the a "
    "an of to in on for and or by with as at from that this these those it "
    "its do does did has have had will would can could should much many "
    "according report reports whitepaper whitepapers say says said mention mentioned".split()
)


def with_context(query: Query, context: Query, weight: float = 0.4) -> Query:
    """A follow-up's query with the earlier question's terms added at a lower weight; its years count as
    the follow-up's own (那中国呢？ after a question about 2026 still asks about 2026)."""
    terms = dict(query.terms)
    for term, w in context.terms.items():
        terms.setdefault(term, w * weight)
    grams = dict(query.grams)
    for gram, w in context.grams.items():
        grams.setdefault(gram, w * weight)
    years = tuple(t for t in context.core if t.isdigit() and len(t) == 4 and t not in query.core)
    return replace(query, terms=terms, grams=grams, core=query.core + years,
                   dense_text=f"{query.dense_text} {context.dense_text}", wants=query.wants or context.wants,
                   asked=f"{query.asked} {context.asked}")
