"""What a question asks to be measured in (多少颗, 哪一年, 营业收入, 比例, 时速, 谁), and whether an answer states it:
an answer that gives no value in the asked unit is most likely about something else."""

from __future__ import annotations

import re
from dataclasses import dataclass

from reportqa.index.text import normalize, tagged, without_spaces


@dataclass(frozen=True, slots=True)
class Measure:
    name: str
    value: re.Pattern[str]  # how a value is written, searched in the normalised answer without spaces


# Units a count may be given in interchangeably; 个 is the generic classifier (多少个人员 → 30人), and 大 reads as a
# count word in 39大工业门类 but is never asked for.
_UNIT_GROUPS = (("家", "间", "所"), ("名", "位", "人"), ("颗", "枚"), ("项", "种", "款", "类"), ("公里", "千米", "km"),
                ("美元",), ("欧元",), ("片",), ("台",), ("辆",), ("架",), ("座",), ("艘",), ("条",), ("次",), ("倍",),
                ("吨",), ("gwh",), ("gw",), ("千瓦",))
_SAME_UNIT = {unit: group for group in _UNIT_GROUPS for unit in group} | {
    "个": tuple("个大支队项款种类门部只张件人名位家间所颗枚片台辆架座艘条次")}
_COUNT = r"[0-9一二两三四五六七八九十百千万亿几数]\s*(?:余|多|万|亿|千|百|\+)?\s*"
_COUNTS = {unit: Measure(unit, re.compile(_COUNT + "(?:" + "|".join(map(re.escape, same)) + ")"))
           for unit, same in _SAME_UNIT.items()}
# 哪几家 asks for names, not a count; 多少份额 asks for a share; 公里 is tried before 公, gwh before gw
_ASKED_UNIT = re.compile(r"(?<!哪)(?:多少|几)\s*(" + "|".join(sorted(_SAME_UNIT, key=len, reverse=True)) + r")(?!额)")

# a figure standing alone, followed by another, a cell break or the end: not a year, a list marker (1) or a
# model name (V2, N+2)
_BARE_FIGURE = re.compile(
    r"(?<![\w.,(（+\-])(?!(?:19|20)\d\d(?!\d))\d[\d.,]*(?![\d.,])(?=[ \t]*(?:$|[\d\t\n，。；;、)）]))")

# 2019, 551年, 建安二十四年
YEAR = Measure("year", re.compile(r"(?<!\d)\d{3,4}(?!\d)|[一二三四五六七八九十〇零○元]+年"))
_YEAR_ASKED = re.compile(r"哪一年|哪年|何年|什么年份|which year|what year")

SHARE = Measure("share", re.compile(r"%|％|百分|分之|[\d一二三四五六七八九十]成|半|pp|percent"))
_SHARE_ASKED = re.compile(r"比例|比重|占比|份额|百分比|渗透率|市占率|增长率|增速|cagr|percentage|proportion|\bshare\b")

MONEY = Measure("money", re.compile(r"元|美元|欧元|英镑|\$|€|£|¥|usd|rmb|dollar|yuan|euro"))
_MONEY_ASKED = re.compile(
    r"(?:售价|价格|营收|收入|销售额|金额|额度|总额|融资|投资额|市值|成本|罚款|支出|开支|利润|预算|经费|费用|估值|价码|资金)"
    r"[^，,。？?]{0,6}?多少|多少钱|\b(?:price|revenue|sales|cost|investment|funding|valuation|profit|budget)\b")
_CHANGE_ASKED = re.compile(r"比例|比重|占比|份额|百分|增|降|提高|上升|同比|环比|倍|percent|share|growth|rate|rise|fall")

# 谁/哪位 is answered by a person or a body (an organisation, a ministry): jieba's tagger, or their name parts
PERSON = Measure("person", re.compile(
    r"公司|集团|银行|研究院|研究所|大学|学院|机构|实验室|基金|资本|协会|委员会|部|局|署|政府|[A-Z][a-z]+ [A-Z][a-z]+"))
_PERSON_ASKED = re.compile(r"哪位|谁|何人|\bwho\b")
_NAME_TAGS = frozenset({"nr", "nrfg", "nrt", "nt"})

# a quantity asked for by name, with the units its value comes in
_NAMED_MEASURES = (
    (re.compile(r"参数量|参数规模|参数数量|parameters"),
     Measure("parameters", re.compile(r"亿|万亿|千亿|\db|billion|trillion|\dt"))),
    (re.compile(r"装机|发电量|功率"), Measure("power", re.compile(r"瓦|w|度电"))),
    (re.compile(r"时速|航速"), Measure("speed", re.compile(r"公里|千米|km|米/秒|m/s|马赫|节"))),
    (re.compile(r"航程|续航|里程|距离"), Measure("distance", re.compile(r"公里|千米|km|米|英里|mile"))),
    (re.compile(r"主频|时钟频率|clock speed"), Measure("frequency", re.compile(r"hz|赫兹"))),
    (re.compile(r"重量|载重|weight"), Measure("weight", re.compile(r"吨|千克|公斤|克|kg"))),
    (re.compile(r"算力|计算能力"), Measure("compute", re.compile(r"flops|tops|次/秒|\dp(?![a-z])"))),
)
_NUMBER_ASKED = re.compile(r"多少|多大|多高|多长|多快|多重|几|how much|how many|how fast|how far|how large|what")


def asked_measure(question: str) -> Measure | None:
    lowered = normalize(question)
    if _YEAR_ASKED.search(lowered):
        return YEAR
    if _PERSON_ASKED.search(lowered):
        return PERSON
    found = _ASKED_UNIT.search(lowered)
    if found:
        return _COUNTS[found.group(1)]
    if _SHARE_ASKED.search(lowered):
        return SHARE
    if _CHANGE_ASKED.search(lowered) or not _NUMBER_ASKED.search(lowered):
        return None  # 增长了多少 may be an amount or a percentage
    if _MONEY_ASKED.search(lowered):
        return MONEY
    return next((measure for name, measure in _NAMED_MEASURES if name.search(lowered)), None)


def states(text: str, measure: Measure) -> bool:
    """A value in the unit asked for, or a bare figure as a table cell gives it (784 18 43.6: the unit is in the
    header)."""
    if measure is PERSON:  # names are read from the text as written: capitals, spaces
        return measure.value.search(text) is not None or any(tag in _NAME_TAGS for _, tag in tagged(text))
    if measure.value.search(without_spaces(text)):
        return True
    return measure is not YEAR and _BARE_FIGURE.search(normalize(text)) is not None
