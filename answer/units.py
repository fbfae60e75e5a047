"""The unit a 多少颗/几家/哪一年/营收多少 question asks for, and whether an answer states a value in it."""

from __future__ import annotations

import re

from index.text import normalize, without_spaces

# Units a count may be given in interchangeably; 大 reads as a count word in 39大工业门类 but is never asked for.
_UNIT_GROUPS = (("个", "大", "支", "队", "项", "款", "种"), ("家", "间", "所"), ("名", "位", "人"), ("颗", "枚"),
                ("公里", "千米", "km"), ("美元",), ("欧元",), ("片",), ("台",), ("辆",), ("架",), ("座",),
                ("艘",), ("条",), ("次",), ("倍",), ("吨",), ("gwh",), ("gw",), ("千瓦",))
_SAME_UNIT = {unit: group for group in _UNIT_GROUPS for unit in group}
_ASKABLE = sorted((u for u in _SAME_UNIT if u != "大"), key=len, reverse=True)  # 公里 before 公, gwh before gw
# 哪几家 asks for names, not a count; 多少份额 asks for a share
_ASKED_UNIT = re.compile(r"(?<!哪)(?:多少|几)\s*(" + "|".join(_ASKABLE) + r")(?!额)", re.IGNORECASE)
_YEAR_ASKED = re.compile(r"哪一年|哪年|何年|什么年份|which year|what year", re.IGNORECASE)
_YEAR = re.compile(r"(?<!\d)\d{3,4}(?!\d)|[一二三四五六七八九十〇零○元]+年")  # 2019, 551年, 建安二十四年
# an amount of money asked for by name (营业收入是多少, retail price), unless a share or a change is wanted
_MONEY_ASKED = re.compile(
    r"(?:售价|价格|营收|收入|销售额|金额|融资|投资额|市值|成本|罚款|支出|开支|利润|预算|经费|费用|估值|价码|资金)"
    r"[^，,。？?]{0,6}?多少|多少钱|\b(?:price|revenue|sales|cost|investment|funding|valuation|profit|budget)\b",
    re.IGNORECASE)
_SHARE_ASKED = re.compile(r"比例|比重|占比|份额|百分|增|降|提高|上升|同比|环比|倍|percent|share|growth|rate|rise|fall",
                          re.IGNORECASE)
_MONEY = re.compile(r"元|美元|欧元|英镑|\$|€|£|¥|usd|rmb|dollar|yuan|euro")
_COUNT = r"[0-9一二两三四五六七八九十百千万亿几数]\s*(?:余|多|万|亿|千|百|\+)?\s*"


def asked_unit(question: str) -> str | None:
    """颗 for 多少颗卫星, "year" for 哪一年, "money" for 营业收入是多少."""
    lowered = normalize(question)
    if _YEAR_ASKED.search(lowered):
        return "year"
    found = _ASKED_UNIT.search(lowered)
    if found:
        return found.group(1).lower()
    return "money" if _MONEY_ASKED.search(lowered) and not _SHARE_ASKED.search(lowered) else None


def states_count(text: str, unit: str) -> bool:
    flat = without_spaces(text).lower()
    if unit == "year":
        return _YEAR.search(flat) is not None
    if unit == "money":
        return _MONEY.search(flat) is not None
    return any(re.search(_COUNT + re.escape(same), flat) for same in _SAME_UNIT.get(unit, (unit,)))
