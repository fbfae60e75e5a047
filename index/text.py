"""Chinese-aware text normalisation and tokenisation shared by chunking, BM25 and query analysis."""

from __future__ import annotations

import logging
import re
import unicodedata
from collections.abc import Mapping, Sequence, Set
from functools import cache, lru_cache

import jieba

_THOUSANDS = re.compile(r"(?<=\d),(?=\d{3}(?!\d))")
_CONTENT = re.compile(r"[0-9a-z\u3400-\u9fff]")
_INVISIBLE = re.compile(r"[\u200b-\u200f\u202a-\u202e\u2060-\u2064\ufeff]")
_LATIN_WORD = re.compile(r"[a-z][a-z0-9\-]*(?:'[a-z]+)?|\d+(?:\.\d+)?%?")

STOPWORDS = frozenset(
    "的 了 和 与 及 或 是 在 为 对 等 也 将 并 而 且 之 其 由 从 被 把 以 于 就 都 又 还 个 这 那 该 此 有 中 "
    "上 下 里 内 a an the of to in on for and or is are was were be been by with as "
    "at from that this these those it its which what who whom how when "
    "where why does do did has have had".split()
)
QUESTION_WORDS = frozenset(
    "多少 哪些 哪个 哪家 哪位 哪里 哪 什么 是 吗 呢 吧 啊 如何 怎样 怎么 为什么 为何 几 多大 多高 多长 请问 根据 报告 "
    "提到 指出 认为 显示 是否 有没有 分别 达到 达 大约 约 左右 具体 情况 以下 一下 哪一 何 谁 何时 啥 么 "
    "多 目前 已 已经 一共 总共 大概 所 被 让 能 会 可以 可能 起来 用于 处于 报告中 文中 该 其中 这一 那么 当时 "
    "白皮书 报告里 文章".split()
)


_QUESTION_MORPHEME = re.compile(
    r"^(?:哪|几(?!乎)|多少|多大|多久|多长|多高|什么|怎|谁|何)|(?:所说|意思|名字|列举|号称)$"
)


def is_question_word(token: str) -> bool:
    """Words that only shape the question (哪几个, 多少倍, 所说): they name nothing to look for."""
    return token in QUESTION_WORDS or bool(_QUESTION_MORPHEME.search(token))


@cache
def _jieba() -> jieba.Tokenizer:
    jieba.setLogLevel(logging.WARNING)  # its loader chats on stderr at INFO
    tokenizer = jieba.Tokenizer()
    tokenizer.initialize()
    return tokenizer


@cache
def _tagger() -> object:
    import jieba.posseg

    return jieba.posseg.POSTokenizer(_jieba())


PROPER_FLAGS = frozenset({"nr", "ns", "nt", "nz", "eng"})


def tagged(text: str) -> list[tuple[str, str]]:
    """(word, part-of-speech flag) pairs from jieba's tagger."""
    return [(p.word, p.flag) for p in _tagger().cut(normalize(text))]  # type: ignore[attr-defined]


def proper_nouns(text: str) -> list[tuple[str, str]]:
    """(word, kind) for names of people, places, organisations and Latin-script names, as jieba tags them."""
    return list(_proper_nouns(normalize(text)))


@lru_cache(maxsize=16384)
def _proper_nouns(flat: str) -> tuple[tuple[str, str], ...]:
    """Cached by normalised text: claim checks tag the same passage sentences again and again, raw and
    normalised (POS tagging is the slow part)."""
    tagged = _tagger().cut(flat)  # type: ignore[attr-defined]
    return tuple((p.word, "name" if p.flag in {"nt", "nz", "eng"} else p.flag) for p in tagged
                 if p.flag in PROPER_FLAGS and len(p.word) >= 2)


def word_frequency(word: str) -> int:
    """How common a word is in general Chinese (jieba's dictionary count; 0 when unknown)."""
    return int(_jieba().FREQ.get(word) or 0)


def normalize(text: str) -> str:
    """NFKC, lower case, no invisible marks, no thousands separators: the form every channel compares."""
    text = _INVISIBLE.sub("", unicodedata.normalize("NFKC", text)).lower()
    return _THOUSANDS.sub("", text)


def without_invisible(text: str) -> str:
    """Text with its zero-width, bidi and byte-order marks gone: they mean nothing, and an encoder reading them
    between every character sees another sentence."""
    return _INVISIBLE.sub("", text)


def without_spaces(text: str) -> str:
    """Normalised text with its spaces gone (line breaks and tabs kept): what substring look-ups compare,
    as PDF extraction and translations space CJK text unevenly."""
    return normalize(text).replace(" ", "")


def words(text: str) -> list[str]:
    """jieba words of raw text, spaces and punctuation included (lengths add up to len(text))."""
    return _jieba().lcut(text)


def is_content(token: str) -> bool:
    return bool(_CONTENT.search(token)) and token not in STOPWORDS


def tokenizer_fingerprint() -> str:
    """What the tokens of a text depend on besides the text: cached tokens are reused only while it holds."""
    import hashlib

    material = "|".join([str(getattr(jieba, "__version__", "")), *sorted(STOPWORDS), _CONTENT.pattern])
    return hashlib.sha256(material.encode("utf-8")).hexdigest()[:16]


def tokens(text: str) -> list[str]:
    """Search tokens: jieba search-mode words of normalised text, without stopwords and punctuation."""
    return list(_short_tokens(text) if len(text) <= SHORT_TEXT else _search_tokens(text))


SHORT_TEXT = 64


def _search_tokens(text: str) -> tuple[str, ...]:
    return tuple(t for t in _jieba().lcut_for_search(normalize(text)) if t.strip() and is_content(t))


# cached for short texts: questions expand into the same aliases again and again
_short_tokens = lru_cache(maxsize=65536)(_search_tokens)


def query_tokens(text: str) -> list[str]:
    """Tokens of a question, without the question words that carry no content."""
    return [t for t in tokens(text) if not is_question_word(t)]


def latin_words(text: str) -> list[str]:
    """Latin words and numbers of a text, lower-cased, possessive 's dropped."""
    return [w.removesuffix("'s").strip("'") for w in _LATIN_WORD.findall(normalize(text))]


def is_english(text: str) -> bool:
    """More Latin words than CJK characters: "DeepSeek开源的FlashMLA是什么" is Chinese, though its letters are not."""
    words_ = latin_words(text)
    return bool(words_) and len(words_) > sum(1 for ch in text if "\u3400" <= ch <= "\u9fff")


def cjk_share(text: str) -> float:
    letters = [ch for ch in text if ch.isalpha()]
    if not letters:
        return 0.0
    return sum(1 for ch in letters if "\u3400" <= ch <= "\u9fff") / len(letters)


def strip_space(text: str) -> str:
    return re.sub(r"\s+", "", normalize(text))


_CJK_RUN = re.compile(r"[\u3400-\u9fff]+")


def bigrams(text: str) -> list[str]:
    """Overlapping CJK character bigrams plus Latin words and numbers: robust to segmentation differences."""
    flat = normalize(text)
    grams = [run[i : i + 2] for run in _CJK_RUN.findall(flat) for i in range(max(len(run) - 1, 1))]
    return grams + [w for w in latin_words(flat) if w not in STOPWORDS]


def bigram_overlap(asked: Set[str], text: str) -> tuple[float, float]:
    """(share of `asked`'s bigrams the text writes, share of the text's bigrams `asked` lacks)."""
    own = set(bigrams(text))
    return len(asked & own) / max(1, len(asked)), len(own - asked) / max(1, len(own))


def query_bigrams(question_words: Sequence[str]) -> list[str]:
    """Bigrams of a question, given as its jieba words of normalised text, after its question words and
    stopwords are blanked out."""
    kept = [w if not (is_question_word(w) or w in STOPWORDS) else " " for w in question_words]
    return bigrams("".join(kept))


@lru_cache(maxsize=65536)
def short_bigrams(text: str) -> tuple[str, ...]:
    """bigrams() of an alias or glossary rendering: the same few thousand short texts come back every question."""
    return tuple(bigrams(text))


def weighted_coverage(terms: Sequence[str], flat_text: str, idf: Mapping[str, float], unknown_idf: float) -> float:
    """IDF-weighted share of terms found in a whitespace-free normalised text."""
    return covered_share(weighted_terms(terms, idf, unknown_idf), flat_text)


WeightedTerms = tuple[tuple[tuple[str, float], ...], float]


def weighted_terms(terms: Sequence[str], idf: Mapping[str, float], unknown_idf: float) -> WeightedTerms:
    """(term without spaces, weight) pairs and their total: worked out once per question, not per passage."""
    pairs = tuple((t.replace(" ", ""), idf.get(t, unknown_idf)) for t in terms)
    return pairs, sum(w for _, w in pairs)


def covered_share(weighted: WeightedTerms, flat_text: str) -> float:
    pairs, total = weighted
    if not pairs:
        return 0.0
    return sum(w for t, w in pairs if contains_term(flat_text, t)) / max(total, 1e-9)


def contains_term(flat_text: str, term: str) -> bool:
    """A number is found whole: 28 is not in 128 or 2.28 (it is in 28nm)."""
    if term not in flat_text:
        return False
    return not term.isdigit() or _whole_number(term).search(flat_text) is not None


@lru_cache(maxsize=4096)
def _whole_number(digits: str) -> re.Pattern[str]:
    return re.compile(rf"(?<![\d.]){digits}(?!\.?\d)")
