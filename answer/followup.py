"""Follow-up questions in a conversation, made to stand alone before retrieval.

Three moves, each on bounded text (a turn is cut to TURN_CHARS before any pattern or tagger reads it):
- ellipsis (那2027年呢？, 三星呢？, What about Tencent?, And China?): the previous question, resolved, with the new
  phrase put in the place of the one of its kind it replaces (a year for a year, a name for a name of the same
  sort); a phrase with no such place (单机日均收入呢？, And the output price?) is asked as written, the previous
  question as context;
- a pronoun (它, 其, 这家公司, 它们, it, they): the name it points at, from the previous answer when the previous
  question asked for a name, else the previous question's subject;
- a reference to what was just cited (同一张表, 那张表, that same table): the previous question stays as context (a
  fixed bonus for the cited section was measured and hurt: docs/experiments.md; the follow-up ranker,
  index.follow_up_rank, learns how much the passage just cited and its section count).
Anything else is asked as written, and retrieval also searches the previous question's words at a lower weight: the
turns of a conversation mostly stay on its subject (物流航线开了几条？ after a question about Shenzhen). The resolved
question is what the page shows.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass, replace

from reportqa.index.text import cjk_share, tagged

TURN_CHARS = 400  # the part of any turn that patterns and the tagger read: a pasted essay must not stall a worker
TAG_CHARS = 200
_WHITESPACE = re.compile(r"\s+")
_PRONOUN = re.compile(r"它们|它的|它|其|该公司|该企业|这家公司|这家企业|这家|该机构|这个司|这款|这种|他们|他|她"
                      r"|\b(?:it|its|they|their|them|this company|that company)\b", re.IGNORECASE)
_WHAT_ABOUT = r"(?:and )?(?:what|how) about"
_ELLIPSIS = re.compile(rf"^(?:那么|那|还有|另外|以及|{_WHAT_ABOUT}|and)?\s*(?P<x>[^？?，,。]{{1,30}}?)\s*"
                       r"(?:呢|in that case)?\s*[？?]?$", re.IGNORECASE)
# And Japan?, And in 2030? read as ellipsis; And what did Huawei earn? is a question of its own
_AND_QUESTION = (r"(?:what|how|which|who|whom|whose|where|when|why|is|are|was|were|do|does|did|can|could|will"
                 r"|would|has|have|had|should)")
_ELLIPSIS_MARK = re.compile(rf"呢\s*[？?]?$|^{_WHAT_ABOUT}\b"
                            rf"|^and\b(?! {_AND_QUESTION}\b)[^?？,，]{{1,30}}[?？]\s*$", re.IGNORECASE)
_SAME_SOURCE = re.compile(r"同一张表|同一个表|那张表|这张表|同一份数据|同一张|同一份|同一表|表里|"
                          r"\b(?:same table|that table|this table|same chart|same data)\b", re.IGNORECASE)
_ASKS_FOR_NAME = re.compile(r"哪家|哪个|哪些|哪位|谁|什么公司|什么机构|哪座|哪一|\b(?:which|who|what company)\b",
                            re.IGNORECASE)
_YEAR = re.compile(r"(?:19|20)\d\d\s*(?:年|财年)?|\b(?:19|20)\d\d\b")
_NAME_TAGS = ("nr", "ns", "nt", "nz", "eng", "x")
_NOMINAL = ("n", "eng", "nr", "ns", "nt", "nz", "nrt", "nrfg", "vn")
_GENERIC = frozenset({"报告", "根据", "数据", "同比", "全球", "中国", "美国", "问题", "情况", "市场"})
_CITATION = re.compile(r"\[\d+\]")


@dataclass(frozen=True, slots=True)
class Turn:
    role: str
    content: str


@dataclass(frozen=True, slots=True)
class Resolved:
    """The question to retrieve with, the earlier question whose words help, and whether the turn refers to
    what the previous answer cited. `thread` is the previous question for a turn that reads as new: retrieval
    still searches with its words (turns of a conversation mostly stay on its subject), the answer's reading not."""

    question: str
    context: str | None
    same_source: bool = False
    kind: str = "first"  # first, ellipsis, pronoun, same_source, new
    referent: str | None = None  # what the resolver brought in from earlier turns (the pronoun's name)
    thread: str | None = None


@dataclass(frozen=True, slots=True)
class FollowUp:
    """A conversation's later turn as the user wrote it and the answer shown before it: what the follow-up ranker
    (index.follow_up_rank) reads beside the resolved question."""

    asked: str
    previous_answer: str


def follow_up_of(turns: Sequence[Turn]) -> FollowUp | None:
    """The last user turn and the assistant turn before it; None for a conversation's first question."""
    users = [i for i, t in enumerate(turns) if t.role == "user" and t.content.strip()]
    if len(users) < 2:
        return None
    last = users[-1]
    previous = next((t.content for t in reversed(turns[:last]) if t.role == "assistant"), "")
    return FollowUp(_cut(turns[last].content), previous)


def _cut(text: str) -> str:
    """The turn with each run of whitespace made one space (the patterns' optional spaces must not meet a run of
    hundreds, which made one match take seconds), then cut to TURN_CHARS."""
    return _WHITESPACE.sub(" ", text).strip()[:TURN_CHARS]


def is_follow_up(question: str) -> bool:
    text = _cut(question)
    return bool(_PRONOUN.search(text) or _ELLIPSIS_MARK.search(text) or _SAME_SOURCE.search(text))


def words_of(text: str) -> list[tuple[str, str]]:
    return [(w, f) for w, f in tagged(text[:TAG_CHARS]) if w.strip()]


def leading_noun_phrase(text: str) -> str | None:
    """The subject a sentence opens with: its first run of nouns and Latin names (SK海力士, 台积电). None for an
    English sentence: the tagger calls every English word a noun ('In the CHN Key Ecosystem report, …' came back as
    inthechnkeyecosystemreport), and its first capitalised words, tried instead, named the report more often than
    the subject; the previous question stays the turn's context (docs/experiments.md, thirty-first session)."""
    if not cjk_share(text):
        return None
    phrase: list[str] = []
    for word, flag in words_of(_CITATION.sub("", text)):
        if flag.startswith(_NOMINAL) and not _ASKS_FOR_NAME.search(word) and word not in _GENERIC:
            phrase.append(word)
        elif phrase:
            break
    joined = "".join(phrase).strip()
    return joined if len(joined) >= 2 else None


def named_in(text: str, exclude: str = "") -> list[str]:
    """Names a text writes (people, places, organisations, Latin names) with the nouns that follow them
    (天岳 先进 → 天岳先进), in order, leaving out those in `exclude`."""
    found: list[str] = []
    words = words_of(_CITATION.sub("", text))
    for i, (word, flag) in enumerate(words):
        if not flag.startswith(_NAME_TAGS) or len(word.strip()) < 2 or word in exclude or word in _GENERIC:
            continue
        if i > 0 and words[i - 1][1].startswith(_NAME_TAGS) and found and found[-1].endswith(words[i - 1][0]):
            continue  # already part of the previous name
        phrase = word
        for follower, kind in words[i + 1 : i + 4]:
            if not (kind.startswith(_NOMINAL) or (kind == "a" and len(follower) == 2)) or follower in _GENERIC \
                    or kind == "vn":
                break  # 天岳 先进: a company's name often ends in a word jieba calls an adjective
            phrase += follower
        found.append(phrase)
    return found


def referent(last_question: str, last_answer: str) -> str | None:
    """What a pronoun points at: the name the previous answer gave when the previous question asked for one,
    else the previous question's subject."""
    if _ASKS_FOR_NAME.search(last_question) and last_answer:
        named = named_in(last_answer, exclude=last_question)
        if named:
            return named[0]
    return leading_noun_phrase(last_question)


def substitute(previous: str, phrase: str) -> str | None:
    """The previous question with `phrase` in the place of the year or name it replaces; None when none fits.

    A name replaces the previous question's first name, of the same script when there is one (jieba's sorts of
    names are not reliable enough to match 中兴 with 华为: it tags one a place, the other a person).
    """
    phrase = phrase.strip()
    if _YEAR.fullmatch(phrase) or re.fullmatch(r"(?:19|20)\d\d", phrase):
        found = _YEAR.search(previous)
        return previous[: found.start()] + phrase + previous[found.end():] if found else None
    if phrase.isascii() and not all(word[0].isupper() or word[0].isdigit() for word in phrase.split()):
        return None  # the output price, R&D spending: an attribute, not a name to swap for the previous question's
    names = names_of(previous) or _leading_name(previous)
    same_script = [n for n in names if n.isascii() == phrase.isascii()]
    for name in [*same_script, *(n for n in names if n not in same_script)]:  # AMD may replace 英伟达
        at = previous.lower().find(name.lower())
        if at >= 0:
            return previous[:at] + phrase + previous[at + len(name):]
    return None


# a Latin word whole: not the G of 5G, not running on into the Chinese after it (\w would take 覆盖率)
_LATIN_WORD = re.compile(r"(?<![A-Za-z0-9])[A-Za-z][A-Za-z0-9\-&]*")
_LEADING_NAME = re.compile(r"^([\u4e00-\u9fffA-Za-z]{2,6}?)(?=\d)")


def _leading_name(question: str) -> list[str]:
    """A name the tagger does not know (英伟达 → 英/伟达) opening the question before its first figure."""
    found = _LEADING_NAME.match(question)
    return [found.group(1)] if found else []


def names_of(question: str) -> list[str]:
    """Names a question writes, in order: tagged Chinese names, and Latin words capitalised past the first."""
    latin = [w for w in _LATIN_WORD.findall(question)[1:] if w[0].isupper() or w.isupper()]
    chinese = [w for w in named_in(question) if not w.isascii()]
    return sorted(dict.fromkeys([*chinese, *latin]), key=lambda w: question.lower().find(w.lower()))


def _elliptical_phrase(question: str) -> str | None:
    if not _ELLIPSIS_MARK.search(question):
        return None
    match = _ELLIPSIS.match(question)
    if match is None:
        return None
    phrase = re.sub(r"^(?:the|that|this|in|by|for)\s+", "", match.group("x").strip(), flags=re.IGNORECASE)
    return phrase or None


def resolve_turn(question: str, previous: Resolved | None, last_question: str, last_answer: str) -> Resolved:
    """One user turn made to stand alone against the conversation so far."""
    text = _cut(question)
    if previous is None:
        return Resolved(text, None)
    if not is_follow_up(text):
        return Resolved(text, None, kind="new", thread=previous.question)
    context = previous.question
    same_source = bool(_SAME_SOURCE.search(text))
    phrase = _elliptical_phrase(text)
    if phrase is not None and not _PRONOUN.search(phrase):
        rewritten = substitute(previous.question, phrase)
        if rewritten is not None:
            return Resolved(rewritten, None, same_source, "ellipsis")
        return Resolved(text, context, same_source, "ellipsis")
    pronoun = _PRONOUN.search(text)
    if pronoun is not None:
        name = referent(last_question, last_answer)
        if name:
            text = text[: pronoun.start()] + name + text[pronoun.end():]
        return Resolved(text, context, same_source, "pronoun", name)
    # a turn opening with 那/另外 and naming nothing is asked as written within the thread: putting the previous
    # question's leading nouns before it (中国政府中国有多少家聚变公司？) lost more than it found (docs/experiments.md,
    # thirty-fifth session)
    if same_source:
        return Resolved(text, context, same_source, "same_source")
    return Resolved(text, None, kind="new", thread=context)


def resolve(turns: Sequence[Turn]) -> Resolved:
    """Make the last user turn stand alone, resolving every earlier one in order."""
    resolved: Resolved | None = None
    carried: Resolved | None = None
    last_question, last_answer = "", ""
    for turn in turns:
        content = _cut(turn.content)
        if turn.role == "assistant":
            last_answer = content
            continue
        if turn.role != "user" or not content:
            continue
        resolved = resolve_turn(content, carried, last_question, last_answer)
        carried = _carried(resolved)
        last_question, last_answer = carried.question, ""
    if resolved is None:
        raise ValueError("the conversation has no user message")
    return resolved


def _carried(resolved: Resolved) -> Resolved:
    """What later turns build on: an ellipsis asked as written with the previous question as context carries
    both (单机日均收入 2025年芯片的良率是多少？), or the turn after it would lose the conversation's subject."""
    if resolved.kind != "ellipsis" or resolved.context is None:
        return resolved
    phrase = _elliptical_phrase(resolved.question) or resolved.question
    return replace(resolved, question=f"{phrase} {resolved.context}"[:TURN_CHARS], context=None)


REWRITE_OVERLAP = 0.5  # share of the resolver's question's character pairs a model's rewrite must keep


def accept_rewrite(rewrite: str, turn: str, resolved: Resolved) -> bool:
    """A model's stand-alone rewrite is used only when it keeps what the resolver brought in from earlier turns
    (the referent it found), shares most of the resolver's question, and is of sensible length; else the
    resolver's question stands."""
    text = rewrite.strip().lower()
    if not text or len(text) > 2 * len(resolved.question) + 60:
        return False
    if resolved.referent and resolved.referent.lower() not in text:
        return False
    pairs = {resolved.question.lower()[i : i + 2] for i in range(len(resolved.question) - 1)}
    kept = {text[i : i + 2] for i in range(len(text) - 1)}
    return not pairs or len(pairs & kept) >= REWRITE_OVERLAP * len(pairs)
