"""Conflicts a claim and a passage may have beyond their figures: another rank (第二 vs 首位), the comparison the
other way round (落后 vs 领先), another name for the same statement (上海 vs 北京)."""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass

from reportqa.answer.numbers import Quantity, prepare
from reportqa.index.query import english_names
from reportqa.index.text import bigrams, is_english, normalize, proper_nouns

CLAUSE_OVERLAP = 0.3  # share of a claim clause's character bigrams its passage clause must repeat
CLAUSE_SAME = 0.6  # …and at this share the clauses say the same, whatever sort of name jieba gives each
_ORDINAL = re.compile(r"第([一二三四五六七八九十\d]+)(?:位|名|大)?|首位|榜首|居首|位居首位|排名第一")
_CN_ORDINALS = {"一": 1, "二": 2, "三": 3, "四": 4, "五": 5, "六": 6, "七": 7, "八": 8, "九": 9, "十": 10}
_CLAUSE = re.compile(r"[，,。；;！!？?：:\n]")
# comparison words by direction; one followed by a figure is a qualifier (超过1200家, 超过九成), not a comparison
_HIGHER = "高于|超过|超越|领先|多于|大于|快于|优于|强于|胜过|远超|更快|更高|更多|更大|更强"
_LOWER = "低于|落后|少于|小于|慢于|逊色|不及|不如|弱于|次于|更慢|更低|更少|更小|更弱"
_COMPARISON = re.compile(rf"({_HIGHER})|({_LOWER})")
_FIGURE_NEXT = re.compile(r"\s*(?:于|了|约|近)?\s*[\d零一二两三四五六七八九十百千万亿半]")


def ordinal(text: str) -> int | None:
    match = _ORDINAL.search(text)
    if not match:
        return None
    if match.group(1) is None:
        return 1
    value = match.group(1)
    return int(value) if value.isdigit() else _CN_ORDINALS.get(value)


def clause_span(text: str, position: int) -> tuple[int, int]:
    """Start and end of the clause (between ，。；：…) holding a position."""
    start = max((m.end() for m in _CLAUSE.finditer(text, 0, position)), default=0)
    end = next((m.start() for m in _CLAUSE.finditer(text, position)), len(text))
    return start, end


def names_in(text: str) -> list[tuple[str, str]]:
    """The names of a text with jieba's sort of each; of English text, the words no dictionary translates (jieba
    tags every Latin word a name, the and in too)."""
    if is_english(text):
        return [(name, "eng") for name in english_names(text)]
    return proper_nouns(text)


def clauses(text: str) -> list[str]:
    return [c for c in _CLAUSE.split(normalize(text)) if c]


def rank_conflict(claim: str, passage: str, context: str = "") -> tuple[str, str] | None:
    """(claimed rank, stated rank) when they differ: 第二 vs 首位, compared for the claim's subject
    (中国…位居首位 against 美国依然位于首位，中国居第二位) when the passage ranks it, else rank against rank."""
    for clause in clauses(claim):
        claimed = _ORDINAL.search(clause)
        subjects = [w for w, _ in names_in(clause)]
        if claimed is None or not subjects:
            continue
        for stated_clause in clauses(context or passage):
            stated = _ORDINAL.search(stated_clause)
            if stated is not None and subjects[0] in stated_clause:
                if ordinal(claimed.group(0)) != ordinal(stated.group(0)):
                    return claimed.group(0), stated.group(0)
                return None
    claimed_any, stated_any = _ORDINAL.search(claim), _ORDINAL.search(passage)
    if claimed_any and stated_any and ordinal(claimed_any.group(0)) != ordinal(stated_any.group(0)):
        return claimed_any.group(0), stated_any.group(0)
    return None


@dataclass(frozen=True, slots=True)
class Comparison:
    """One name said to be above or below another (中国…领先美国): the direction and who is compared with whom."""

    word: str  # the comparison word as written (领先, 低于, 更快)
    higher: bool
    subject: str  # the last name written before the word
    other: str | None  # the first name after it in its clause (None: 中国的增速更快)


def comparisons(text: str) -> list[Comparison]:
    """The comparisons a sentence makes between names jieba tags, leaving out qualifiers before figures."""
    flat = normalize(text)
    names = {w for w, _ in proper_nouns(flat) if not re.search(rf"\d\s*{re.escape(w)}", flat)}  # not 139mbps
    found = []
    for match in _COMPARISON.finditer(flat):
        if _FIGURE_NEXT.match(flat, match.end()):
            continue
        before = [(flat.rfind(n, 0, match.start()), n) for n in names]
        subject = max(((at, n) for at, n in before if at >= 0), default=None)
        if subject is None:
            continue
        _, clause_end = clause_span(flat, match.end())
        after = [(flat.find(n, match.end(), clause_end), n) for n in names if n != subject[1]]
        other = min(((at, n) for at, n in after if at >= 0), default=None)
        found.append(Comparison(match.group(0), match.group(1) is not None, subject[1],
                                other[1] if other else None))
    return found


def direction_conflict(claim: str, passage: str) -> tuple[str, str] | None:
    """(claimed, stated) comparison words when the sentence puts the claim's subject the other way round:
    中国落后于美国 against 中国领先美国 (or against 中国的增速更快), or 美国领先中国 against 中国领先美国."""
    stated = comparisons(passage)
    for ours in comparisons(claim):
        for theirs in stated:
            swapped = ours.subject == theirs.other and ours.other == theirs.subject
            if (ours.subject == theirs.subject and ours.higher != theirs.higher) or (
                    swapped and ours.higher == theirs.higher):
                return ours.word, theirs.word
    return None


def _name_before(text: str, position: int, skip: str) -> tuple[str, str] | None:
    """The last name written before a figure in its clause, leaving out names both sides share."""
    start, _ = clause_span(text, position)
    names = [(w, k) for w, k in names_in(text[start:position]) if w not in skip]
    return names[-1] if names else None


def anchored_name_conflict(claim: str, passage: str, agreed: Sequence[tuple[Quantity, Quantity]]
                           ) -> tuple[str, str] | None:
    """The same figure credited to another name (上海以84.04… against 北京硬科技指数为84.04)."""
    flat_claim, flat_passage = normalize(prepare(claim)), normalize(prepare(passage))
    for claim_q, stated_q in agreed:
        if claim_q.kind == "year":
            continue
        ours = _name_before(flat_claim, claim_q.start, flat_passage)
        theirs = _name_before(flat_passage, stated_q.start, flat_claim)
        if ours and theirs and _same_sort(ours[1], theirs[1]) and (
                not is_english(claim) or ours[0].isascii() == theirs[0].isascii()):
            return ours[0], theirs[0]
    return None


def clause_name_conflict(claim: str, passage: str, context: str = "") -> tuple[str, str] | None:
    """Another name in the passage clause that says the same as a claim clause (由法国原子能委员会发起 against
    由美国能源部发起): the clauses share most of their characters but not the name."""
    flat_claim, flat_passage, flat_context = normalize(claim), normalize(passage), normalize(context)
    english = is_english(claim)
    for clause in clauses(claim):
        ours = [(w, k) for w, k in names_in(clause)
                if w not in flat_passage and not (k == "ns" and w in flat_context)]
        if not ours:
            continue
        grams = set(bigrams(clause))
        best = max(clauses(passage), key=lambda c: len(grams & set(bigrams(c))), default="")
        shared = len(grams & set(bigrams(best)))
        if not grams or shared < CLAUSE_OVERLAP * len(grams):
            continue
        theirs = [(w, k) for w, k in names_in(best) if w not in flat_claim]
        same = shared >= CLAUSE_SAME * len(grams)
        for word, kind in ours:
            other = next((w for w, k in theirs if (same or _same_sort(kind, k)) and (not english or
                                                                               w.isascii() == word.isascii())), None)
            if other is not None:
                return word, other
    return None


def _same_sort(a: str, b: str) -> bool:
    """Places against places; people and organisations against each other (jieba confuses the two)."""
    return (a == "ns") == (b == "ns")


def name_conflict(claim: str, passage: str, context: str = "") -> tuple[str, str] | None:
    """A name in the claim the passage replaces with another of the same kind (上海 vs 北京).

    A place must be absent from the whole passage (context), not just the sentence: sentences often
    leave the country implied.
    """
    flat_claim, flat_passage, flat_context = normalize(claim), normalize(passage), normalize(context)
    claimed = [(w, k) for w, k in names_in(claim)
               if w not in flat_passage and not (k == "ns" and w in flat_context)]
    stated = [(w, k) for w, k in names_in(passage) if w not in flat_claim]
    english = is_english(claim)
    for word, kind in claimed:
        others = [w for w, k in stated if k == kind and (not english or word.isascii() == w.isascii())]
        if len(others) == 1:
            return word, others[0]
    return None
