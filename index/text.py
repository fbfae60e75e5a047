"""Chinese-aware text normalisation and tokenisation shared by chunking, BM25 and query analysis."""

from __future__ import annotations

import logging
import re
import unicodedata
from functools import cache

import jieba

_THOUSANDS = re.compile(r"(?<=\d),(?=\d{3}(?!\d))")
_CONTENT = re.compile(r"[0-9a-z\u3400-\u9fff]")
_INVISIBLE = re.compile(r"[\u200b-\u200f\u202a-\u202e\u2060-\u2064\ufeff]")
_LATIN_WORD = re.compile(r"[a-z][a-z0-9\-']*|\d+(?:\.\d+)?%?")

STOPWORDS = frozenset(
    "的 了 和 与 及 或 是 在 为 对 等 也 将 并 而 且 之 其 由 从 被 把 以 于 就 都 又 还 个 这 那 该 此 有 中 上 下 "
    "a an the of to in on for and or is are was were be been by with as at from that this these those it its "
    "which what who whom how when where why does do did has have had".split()
)
QUESTION_WORDS = frozenset(
    "多少 哪些 哪个 哪家 哪位 哪里 哪 什么 是 吗 呢 吧 啊 如何 怎样 怎么 为什么 为何 几 多大 多高 多长 请问 根据 "
    "报告 提到 指出 认为 显示 是否 有没有 分别 达到 达 大约 约 左右 具体 情况 以下 一下 哪一 何 谁 何时 啥 么".split()
)


@cache
def _jieba() -> jieba.Tokenizer:
    jieba.setLogLevel(logging.WARNING)  # its loader chats on stderr at INFO
    tokenizer = jieba.Tokenizer()
    tokenizer.initialize()
    return tokenizer


def normalize(text: str) -> str:
    """NFKC, lower case, no invisible marks, no thousands separators: the form every channel compares."""
    text = _INVISIBLE.sub("", unicodedata.normalize("NFKC", text)).lower()
    return _THOUSANDS.sub("", text)


def words(text: str) -> list[str]:
    """jieba words of raw text, spaces and punctuation included (lengths add up to len(text))."""
    return _jieba().lcut(text)


def is_content(token: str) -> bool:
    return bool(_CONTENT.search(token)) and token not in STOPWORDS


def tokens(text: str) -> list[str]:
    """Search tokens: jieba search-mode words of normalised text, without stopwords and punctuation."""
    return [t for t in _jieba().lcut_for_search(normalize(text)) if t.strip() and is_content(t)]


def query_tokens(text: str) -> list[str]:
    """Tokens of a question, without the question words that carry no content."""
    return [t for t in tokens(text) if t not in QUESTION_WORDS]


def latin_words(text: str) -> list[str]:
    return _LATIN_WORD.findall(normalize(text))


def cjk_share(text: str) -> float:
    letters = [ch for ch in text if ch.isalpha()]
    if not letters:
        return 0.0
    return sum(1 for ch in letters if "\u3400" <= ch <= "\u9fff") / len(letters)


def strip_space(text: str) -> str:
    return re.sub(r"\s+", "", normalize(text))
