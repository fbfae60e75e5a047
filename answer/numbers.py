"""Numbers as numbers: 2.59万亿美元 = 2.59 trillion dollars = 25,900亿美元; 47% = 百分之四十七."""

from __future__ import annotations

import math
import re
import unicodedata
from collections.abc import Iterator
from dataclasses import dataclass
from functools import lru_cache

_CN_DIGIT = {"零": 0, "〇": 0, "一": 1, "二": 2, "两": 2, "三": 3, "四": 4, "五": 5, "六": 6, "七": 7, "八": 8, "九": 9}
_CN_SMALL_UNIT = {"十": 10, "百": 100, "千": 1000}
_SCALE = {
    "万亿": 1e12, "兆": 1e12, "亿": 1e8, "千万": 1e7, "百万": 1e6, "万": 1e4, "千": 1e3,
    "trillion": 1e12, "tn": 1e12, "t": 1e12, "billion": 1e9, "bn": 1e9, "b": 1e9,
    "million": 1e6, "mn": 1e6, "m": 1e6, "thousand": 1e3, "k": 1e3,
}
_CURRENCY = {
    "美元": "usd", "dollars": "usd", "dollar": "usd", "usd": "usd", "$": "usd", "us$": "usd",
    "元": "cny", "人民币": "cny", "yuan": "cny", "rmb": "cny", "cny": "cny", "¥": "cny", "￥": "cny",
    "欧元": "eur", "euro": "eur", "euros": "eur", "€": "eur",
}
_QUALIFIERS = (
    ("over", r"超过|超|逾|多于|高于|突破|以上|出头|more than|over|above|exceed(?:s|ed|ing)?"),
    ("under", r"不足|不到|少于|低于|以下|less than|under|below"),
    ("approx", r"约|大约|近|将近|接近|左右|上下|approximately|about|around|nearly|roughly|almost|~"),
)
ONE_SIDED_REACH = 1.25  # "over 40%" agrees with 42%, not with 90%
# 万 and 亿 inside a numeral (两万五千九百亿, 一亿两千万) belong to it; a lone trailing one is the scale group's
_CN_NUMERAL = ("(?:[零〇一二两三四五六七八九十百千]+[万亿]+)*[零〇一二两三四五六七八九十百千]+[万亿]?"
               "(?:点[零〇一二三四五六七八九]+)?")
# Physical units as (kind, factor to the base unit): energy in kWh, power in kW.
_MEASURE = {
    "太瓦时": ("energy", 1e9), "twh": ("energy", 1e9), "吉瓦时": ("energy", 1e6), "gwh": ("energy", 1e6),
    "兆瓦时": ("energy", 1e3), "mwh": ("energy", 1e3), "千瓦时": ("energy", 1.0), "kwh": ("energy", 1.0),
    "吉瓦": ("power", 1e6), "gw": ("power", 1e6), "兆瓦": ("power", 1e3), "mw": ("power", 1e3),
    "千瓦": ("power", 1.0), "kw": ("power", 1.0), "瓦时": ("energy", 1e-3), "wh": ("energy", 1e-3),
    "瓦": ("power", 1e-3), "w": ("power", 1e-3),
    "公里": ("length", 1e3), "千米": ("length", 1e3), "km": ("length", 1e3), "英里": ("length", 1609.344),
    "miles": ("length", 1609.344), "mile": ("length", 1609.344),
    "zb": ("data", 1e21), "eb": ("data", 1e18), "pb": ("data", 1e15), "tb": ("data", 1e12), "gb": ("data", 1e9),
}
# Classifiers after digits make a count (42个, 310条, 91份, 87种, 18天, 100人); 位/名 are left to ranks (第7名).
_COUNTERS = "个|家|座|条|项|款|颗|台|片|所|件|艘|架|份|篇|次|种|天|人|批|轮"
_COUNTER_WORDS = frozenset(_COUNTERS.split("|"))
# English number words count only with a unit or scale after them (six times, two billion), as Chinese ones do
_EN_NUMBERS = {w: float(n) for n, w in enumerate(
    "zero one two three four five six seven eight nine ten eleven twelve thirteen fourteen fifteen sixteen "
    "seventeen eighteen nineteen twenty".split())} | {"thirty": 30.0, "forty": 40.0, "fifty": 50.0, "hundred": 100.0}
_EN_NUMERAL = "(?<![a-z])(?:" + "|".join(sorted(_EN_NUMBERS, key=len, reverse=True)) + ")(?![a-z])"
_NUMBER = re.compile(
    r"(?P<prefix>[$¥￥€]|us\$|(?:usd|rmb|cny|eur)(?=\s*\d))?\s*"
    rf"(?P<num>\d+(?:\.\d+)?|{_CN_NUMERAL}|{_EN_NUMERAL})"
    r"(?:\s*(?:-|–|—|~|～|至|到|to)\s*(?P<high>\d+(?:\.\d+)?))?"
    r"(?:\s*(?P<more_scaled>多|余)(?=\s*(?:万亿|亿|千万|百万|万)))?"  # 400多万座, 300余亿元
    r"\s*(?P<scale>万亿|兆(?!瓦)|亿|千万|百万|万|千(?!瓦)|trillion|billion|million|thousand|tn|bn|mn|[tbmk](?![a-z]))?"
    r"\s*(?P<more>多|余)?\s*(?P<unit>%|％|个百分点|成(?![本果为立功熟长员])|倍|times(?![a-z])|美元|人民币|元|欧元|dollars?|usd|yuan|rmb|cny|euros?|年"
    r"|percent|太瓦时|吉瓦时|兆瓦时|千瓦时|twh|gwh|mwh|kwh|吉瓦|兆瓦|千瓦|瓦时|瓦|gw(?![a-z])|mw(?![a-z])|kw(?![a-z])|wh(?![a-z])|w(?![a-z+])(?![台个家辆人次件部])"
    r"|公里|千米|英里|km(?![a-z])|miles?(?![a-z])|[zepgt]b(?![a-z])"
    rf"|{_COUNTERS})?",
    re.IGNORECASE,
)
_MODEL_BEFORE = re.compile(r"[a-z][\-]?$", re.IGNORECASE)
_MODEL_AFTER = re.compile(r"[a-z]{1,2}(?![a-z])(?=[\u4e00-\u9fff、，,。)）/\-]|$)", re.IGNORECASE)
# a space and an English word after a whole number that no unit claimed: a count (units, months and scales excluded)
_EN_NOUN_AFTER = re.compile(r"\s*(?!(?:percent|per|times|years?|months?|weeks?|days?|hours?|minutes?|seconds?|bits?"
                            r"|billion|million|thousand|trillion|bn|mn|and|the|for|with|from|than|into|over|out"
                            r"|jan|feb|mar|apr|may|jun|jul|aug|sep|oct|nov|dec)\b)[a-z]{3,}")
# …unless a capitalised label or name comes right before it (Tier 1, Phase 3, Llama 3, Windows 11, Wi-Fi 6)
_EN_LABEL_BEFORE = re.compile(r"[A-Z][A-Za-z\-]*\s*$")
_WORD_AFTER = re.compile(r"[\u4e00-\u9fffa-z]")  # 2100英里 is a distance, "by 2030" a year
_DATE = re.compile(r"(\d{4})\s*年\s*(\d{1,2})\s*月")
_PERCENT_WORDS = re.compile(rf"百分之({_CN_NUMERAL})")
_FIRST_NUMERAL = re.compile(r"[0-9零〇一二两三四五六七八九十百千万亿]")


@dataclass(frozen=True, slots=True)
class Quantity:
    """A value with its kind: percent, usd, cny, eur, year, date (yyyymm), times, energy (kWh), power (kW),
    length (m), count (a number with a classifier), or '' for a bare number."""

    value: float
    kind: str
    text: str
    high: float | None = None
    qualifier: str | None = None
    start: int = -1  # offset in the prepared text

    @property
    def end(self) -> int:
        """Where the figure ends in the prepared text: `start` is its number's, and `text` may open with a
        currency sign (US$ 8.5 billion)."""
        number = _FIRST_NUMERAL.search(self.text)
        return self.start + len(self.text) - (number.start() if number else 0)

    def matches(self, other: Quantity, tolerance: float = 0.01) -> bool:
        """Same kind and the same value within rounding, ranges and 超过/约 qualifiers allowing."""
        if family(self.kind) != family(other.kind):
            return False
        low_a, high_a = self.value, self.high or self.value
        low_b, high_b = other.value, other.high or other.value
        slack = tolerance * max(abs(low_a), abs(low_b), 1e-9)
        if self.kind in {"year", "date"}:
            slack = 0.0
        elif self.qualifier == "approx" or other.qualifier == "approx":
            slack = max(slack, 0.05 * max(abs(low_a), abs(low_b)))
        if low_a - slack <= high_b and low_b - slack <= high_a:
            return True
        if self.qualifier == "over" and other.qualifier == "over":
            return abs(low_a - low_b) <= 0.1 * max(abs(low_a), abs(low_b))
        for bound, exact in ((self, other), (other, self)):  # 超过40% and 42%: the figure keeps the bound
            if exact.qualifier in {None, "approx"} and bound.qualifier == "over":
                return bound.value - slack <= exact.value <= bound.value * ONE_SIDED_REACH
            if exact.qualifier in {None, "approx"} and bound.qualifier == "under":
                return bound.value / ONE_SIDED_REACH <= exact.value <= bound.value + slack
        return False


def _model_suffix(prepared: str, match: re.Match[str]) -> bool:
    """Letters glued to a number before Chinese text (910B已…) name a model unless they are a unit (39GW)."""
    suffix = _MODEL_AFTER.match(prepared[match.end("num") :])
    if suffix is None or match.group("prefix"):
        return False
    return suffix.group(0).lower() not in _UNIT_LETTERS


_UNIT_LETTERS = frozenset({"w", "wh", "gw", "mw", "kw", "tw", "nm", "mm", "cm", "km", "kg", "gb", "tb", "mb", "ms",
                           "pb", "eb", "zb"})


def family(kind: str) -> str:
    """A count (42个) and a bare number (42) are the same sort of figure."""
    return "" if kind == "count" else kind


def chinese_numeral(text: str) -> float | None:
    """Value of 四十七, 一百二十, 两千零二十六, 三点五, 两万五千九百亿 (read by cn2an, a maintained parser);
    None when it is not one."""
    import cn2an

    try:
        return float(cn2an.cn2an(text, "smart"))
    except (ValueError, KeyError, IndexError, TypeError):
        if len(text) > 1 and text[-1] in "万亿":  # 千万: cn2an wants a digit before 千
            head = chinese_numeral(text[:-1])
            return None if head is None else head * _SCALE[text[-1]]
        return _own_numeral(text)


def _own_numeral(text: str) -> float | None:
    """The reading of numerals cn2an refuses (二〇二六 digit by digit); None when it is not one."""
    whole, _, fraction = text.partition("点")
    total, current = 0, 0
    digits_only = all(ch in _CN_DIGIT for ch in whole)
    if digits_only and len(whole) > 1:  # 二〇二六 read digit by digit
        total = int("".join(str(_CN_DIGIT[ch]) for ch in whole))
    else:
        for ch in whole:
            if ch in _CN_DIGIT:
                current = _CN_DIGIT[ch]
            elif ch in _CN_SMALL_UNIT:
                total += (current or 1) * _CN_SMALL_UNIT[ch]
                current = 0
            else:
                return None
        total += current
    if fraction:
        if not all(ch in _CN_DIGIT for ch in fraction):
            return None
        return float(f"{total}.{''.join(str(_CN_DIGIT[ch]) for ch in fraction)}")
    return float(total)


def _number(text: str) -> float | None:
    if text[0].isdigit():
        return float(text)
    return _EN_NUMBERS[text.lower()] if text.lower() in _EN_NUMBERS else chinese_numeral(text)


def _qualifier(before: str, after: str) -> str | None:
    for name, pattern in _QUALIFIERS:
        if re.search(rf"(?:{pattern})\s*$", before, re.IGNORECASE) or re.match(rf"\s*(?:{pattern})", after,
                                                                            re.IGNORECASE):
            return name
    return None


def prepare(text: str) -> str:
    """NFKC (full-width digits become ASCII), thousands separators dropped, 百分之N rewritten as N%, fractions
    (三分之二, 2/3) as the percentage they are."""
    text = unicodedata.normalize("NFKC", text)
    text = re.sub(r"(?<=\d),(?=\d{3}(?!\d))", "", text)
    text = _PERCENT_WORDS.sub(lambda m: f"{_plain(chinese_numeral(m.group(1))) or m.group(1)}%", text)
    text = _FRACTION_WORDS.sub(_fraction, text)
    return _FRACTION.sub(_fraction, text)


_FRACTION_WORDS = re.compile(rf"(?P<den>{_CN_NUMERAL}|\d+)分之(?P<num>{_CN_NUMERAL}|\d+)")
_FRACTION = re.compile(r"(?<![\d./])(?P<num>[1-9])/(?P<den>[2-9]|10)(?![\d./])")


def _fraction(match: re.Match[str]) -> str:
    num, den = _number(match.group("num")), _number(match.group("den"))
    if not num or not den or num >= den:
        return match.group(0)
    return f"{round(100 * num / den, 1):g}%"


def _plain(value: float | None) -> str:
    """47.0 → 47, 3.5 → 3.5: how a figure is written."""
    return "" if value is None else f"{value:g}"


def _figure_matches(prepared: str) -> Iterator[re.Match[str]]:
    """_NUMBER's matches, a "range" whose high end is below its low read as two figures (from 4.1% in 2020 to
    13.9%: the year is not the low end of a range)."""
    pos = 0
    while (match := _NUMBER.search(prepared, pos)) is not None:
        low = _number(match.group("num")) if match.group("high") else None
        if low is not None and float(match.group("high")) < low:
            match = _NUMBER.match(prepared, match.start(), match.end("num")) or match
        pos = match.end()
        yield match


def quantities(text: str) -> list[Quantity]:
    """Every quantity in a text, scaled to plain units (2.59万亿美元 → 2.59e12 usd); a new list each call."""
    return list(_quantities(text))


@lru_cache(maxsize=16384)
def _quantities(text: str) -> tuple[Quantity, ...]:
    """Cached by text: a claim check reads the same passage sentences, and the claim, again and again."""
    prepared = prepare(text)
    found: list[Quantity] = []
    for match in _figure_matches(prepared):
        raw = match.group("num")
        if not raw or (not raw[0].isdigit() and not (match.group("scale") or match.group("unit"))
                       and not any(ch in raw for ch in "万亿")):
            continue  # a lone Chinese numeral such as 一 in 一些 is not a quantity (一亿两千万 is)
        if prepared[max(0, match.start("num") - 1) : match.start("num")] == "第":
            continue  # 第二 is a rank, compared as one elsewhere
        if _MODEL_BEFORE.search(prepared[: match.start("num")]) or _model_suffix(prepared, match):
            continue  # H100, 910B, GPT-4o: model names, not figures
        value = _number(raw)
        if value is None:
            continue
        scale_word = (match.group("scale") or "").lower()
        unit_word = (match.group("unit") or "").lower()
        after = prepared[match.end() : match.end() + 12].lower()
        currency = _CURRENCY.get((match.group("prefix") or "").lower()) or _CURRENCY.get(unit_word)
        factor = 1.0
        if currency is None:
            currency = next((c for w, c in _CURRENCY.items() if len(w) > 1 and after.lstrip().startswith(w)), None)
        if unit_word in {"%", "％", "percent", "个百分点"}:
            kind = "percent"
        elif unit_word == "成":  # 九成 = 90%
            kind, value = "percent", value * 10
        elif unit_word in {"倍", "times"}:
            kind = "times"
        elif (unit_word == "年" or not (unit_word or currency or match.group("prefix") or _WORD_AFTER.match(after))) \
                and not scale_word and raw.isdigit() and len(raw) == 4 and 1900 <= value <= 2100:
            kind = "year"  # 2026年, or a bare 2026 as English writes it ("by 2030")
        elif unit_word in _MEASURE:
            if unit_word in {"瓦", "瓦时", "w", "wh"} and not raw[0].isdigit():
                continue  # 千 of 元/千瓦时 is the unit's, not a figure
            kind, factor = _MEASURE[unit_word]
        elif unit_word in _COUNTER_WORDS:
            if not raw[0].isdigit() and value < 3:
                continue  # 一个, 两家: words, not figures (三项, 两百多个 are)
            kind = "count"
        elif currency is None and raw.isdigit() and len(raw) <= 3 and _EN_NOUN_AFTER.match(after) \
                and not _EN_LABEL_BEFORE.search(prepared[max(0, match.start() - 24) : match.start()]):
            kind = "count"  # 72 qubits, 61 commercial contracts: an English count
        else:
            kind = currency or ""
        scale = _SCALE.get(scale_word, 1.0) if kind not in {"percent", "year", "times"} else 1.0
        scale *= factor
        high = float(match.group("high")) * scale if match.group("high") else None
        before = prepared[max(0, match.start() - 6) : match.start()]
        more = match.group("more") or match.group("more_scaled")
        qualifier = "over" if more else _qualifier(before, prepared[match.end() : match.end() + 4])
        found.append(Quantity(value * scale, kind, match.group(0).strip(), high, qualifier, match.start("num")))
    for match in _DATE.finditer(prepared):
        year, month = int(match.group(1)), int(match.group(2))
        if 1900 <= year <= 2100 and 1 <= month <= 12:
            found.append(Quantity(year * 100 + month, "date", match.group(0), start=match.start()))
    return tuple(sorted(found, key=lambda q: q.start))


_DIGITS_READ = 12  # digits of each figure compared: the distance is quadratic in them


def digit_likeness(stated: str | None, claimed: str | None) -> float:
    """1 - the edit distance (a swap of neighbours counts one) between the digits of the report's figure and the
    claim's, over the longer: a mistyped or transposed figure (4706 for 3706, 260 for 206) scores high; 0 when
    either has no digit."""
    a = "".join(ch for ch in (stated or "") if ch.isdigit())[:_DIGITS_READ]
    b = "".join(ch for ch in (claimed or "") if ch.isdigit())[:_DIGITS_READ]
    if not a or not b:
        return 0.0
    rows = [list(range(len(b) + 1))]
    for i in range(1, len(a) + 1):
        row = [i] + [0] * len(b)
        for j in range(1, len(b) + 1):
            row[j] = min(rows[-1][j] + 1, row[j - 1] + 1, rows[-1][j - 1] + (a[i - 1] != b[j - 1]))
            if i > 1 and j > 1 and a[i - 1] == b[j - 2] and a[i - 2] == b[j - 1]:
                row[j] = min(row[j], rows[-2][j - 2] + 1)
        rows.append(row)
    return 1.0 - rows[-1][-1] / max(len(a), len(b))


def magnitude_apart(stated: str | None, claimed: str | None) -> float:
    """How many powers of ten lie between the two figures' values, over 3 and at most 1 (1 when either is not a
    positive figure): a claim's wrong figure is seldom thousands of times off (30万家 against 15个)."""
    a = next(iter(quantities(stated or "")), None)
    b = next(iter(quantities(claimed or "")), None)
    if a is None or b is None or a.value <= 0 or b.value <= 0:
        return 1.0
    return min(abs(math.log10(a.value / b.value)), 3.0) / 3.0
