"""Whose figure it is: a claimed figure the passage states too, but written after another name.

美国以6001项领先，中国为3909项 against 中国……拥有 6001 项专利,而美国为 3909 项: every figure matches, yet the
passage gives 3909 to 美国. The words before a figure, back to the figure before it, hold the name it belongs to;
when the passage names the claim's entity elsewhere but gives this figure after another name, the figure is bound
to someone else. The learned claim verdict reads the share of such figures (`misbound`) and weighs it.
"""

from __future__ import annotations

from functools import lru_cache

from reportqa.answer.numbers import Quantity, prepare, quantities
from reportqa.index.text import proper_nouns

BINDING_CHARS = 400  # the sentence and claim length read: names are tagged, and tagging must stay bounded
_SKIPPED_KINDS = frozenset({"year", "date"})  # a year is the claim's time, not a figure owned by a name


def misbound_share(claim: str, sentence: str) -> float:
    """Of the claim's figures the sentence also states, the share it states after other names than the claim's,
    while naming the claim's one elsewhere (0 when no figure matches)."""
    matched, misbound = _binding(claim, sentence)
    return len(misbound) / matched if matched else 0.0


def misbound_figures(claim: str, sentence: str) -> tuple[Quantity, ...]:
    """The claim's figures the sentence states only after other names than the claim's (see misbound_share)."""
    return _binding(claim, sentence)[1]


@lru_cache(maxsize=4096)
def _binding(claim: str, sentence: str) -> tuple[int, tuple[Quantity, ...]]:
    """How many of the claim's figures the sentence states, and those of them it gives to another name; cached, as
    the claim verdict reads the same pairs for its misbound share and for the value's alternatives."""
    claim_text = prepare(claim[:BINDING_CHARS])[:BINDING_CHARS]  # cut again: NFKC may lengthen the text
    sentence_text = prepare(sentence[:BINDING_CHARS])[:BINDING_CHARS]
    claimed = _figures(claim_text)
    stated = _figures(sentence_text)
    if not claimed or not stated:
        return 0, ()
    sentence_names = _names(sentence_text)
    stated_leads: dict[int, set[str]] = {}  # tagged once per stated figure, however many claimed ones match it
    matched, misbound = 0, []  # the figures given to another name
    for c_index, figure in enumerate(claimed):
        same = [i for i, s in enumerate(stated) if figure.matches(s)]
        if not same:
            continue
        matched += 1
        own = _names(_lead(claim_text, claimed, c_index))
        if not own or not own & sentence_names:
            continue  # the claim names nobody for it, or nobody the sentence knows: nothing to compare
        for i in same:
            if i not in stated_leads:
                stated_leads[i] = _names(_lead(sentence_text, stated, i))
        if all(stated_leads[i] and not stated_leads[i] & own for i in same):
            misbound.append(figure)
    return matched, tuple(misbound)


def _figures(text: str) -> list[Quantity]:
    """The figures a name can own: not years, not the 6 of 6G or 5G."""
    return [q for q in quantities(text) if q.kind not in _SKIPPED_KINDS and q.start >= 0
            and not (q.kind == "" and _latin_letter(text[q.end : q.end + 1]))]


def _latin_letter(char: str) -> bool:
    return char.isascii() and char.isalpha()


def _lead(text: str, figures: list[Quantity], index: int) -> str:
    """The words before a figure, back to the end of the figure before it."""
    start = figures[index - 1].end if index else 0
    return text[start : figures[index].start]


def _names(text: str) -> set[str]:
    return {word for word, _ in proper_nouns(text) if len(word.strip()) >= 2}
