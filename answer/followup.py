"""Follow-up questions in a conversation: spot them and make them stand alone before retrieval."""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass

from reportqa.index.text import tagged

_PRONOUN = re.compile(r"它们|它|其|该公司|该企业|这家公司|这家企业|这家|该机构|他们|他|她")
_ELLIPSIS_START = re.compile(r"^(?:那么|那|还有|另外|以及|and|what about|how about)\s*", re.IGNORECASE)
_ASKS_FOR_NAME = re.compile(r"哪家|哪个|哪些|谁|什么公司|什么机构|which|who", re.IGNORECASE)
CONTEXT_CHARS = 300  # earlier questions lend their gist; a pasted essay must not become the query
TAG_CHARS = 200  # the subject is at the start; tagging a long earlier turn whole would stall the request
_NOMINAL = ("n", "eng", "nr", "ns", "nt", "nz", "nrt", "nrfg", "vn")


@dataclass(frozen=True, slots=True)
class Turn:
    role: str
    content: str


@dataclass(frozen=True, slots=True)
class Resolved:
    """The question to retrieve with, and the earlier question whose words fill in what it leaves out."""

    question: str
    context: str | None


def is_follow_up(question: str) -> bool:
    """A pronoun (它, 其, 该公司), or an elliptical opening or ending (那…, 还有…, …呢？)."""
    text = question.strip()
    return bool(_PRONOUN.search(text)) or bool(_ELLIPSIS_START.match(text)) or bool(
        re.search(r"呢\s*[？?]?\s*$", text))


def leading_noun_phrase(text: str) -> str | None:
    """The subject a sentence opens with: its first run of nouns and Latin names (SK海力士, 台积电)."""
    phrase: list[str] = []
    for word, flag in tagged(text[:TAG_CHARS]):
        if flag.startswith(_NOMINAL) and not _ASKS_FOR_NAME.search(word):
            phrase.append(word)
        elif phrase:
            break
    joined = "".join(phrase)
    return joined if len(joined) >= 2 else None


def _referent(history: Sequence[Turn]) -> str | None:
    """What a pronoun points at: the answer's subject when the last question asked for a name, else the
    last question's own subject."""
    last_user = next((t.content for t in reversed(history) if t.role == "user"), "")
    last_answer = next((t.content for t in reversed(history) if t.role == "assistant"), "")
    if _ASKS_FOR_NAME.search(last_user) and last_answer:
        return leading_noun_phrase(re.sub(r"\[\d+\]", "", last_answer))
    return leading_noun_phrase(last_user)


def resolve(turns: Sequence[Turn]) -> Resolved:
    """Make the last user turn stand alone: a pronoun becomes the name it points at, and an elliptical
    question ("那中国呢？") carries the previous question, itself resolved, as context."""
    history: list[Turn] = []
    resolved: Resolved | None = None
    for turn in turns:
        question = turn.content.strip()
        if turn.role != "user" or not question:
            history.append(turn)
            continue
        if resolved is not None and is_follow_up(question):
            name = _referent(history) if _PRONOUN.search(question) else None
            if name:
                question = _PRONOUN.sub(name, question, count=1)
            context = resolved.question + (f" {resolved.context}" if resolved.context else "")
            resolved = Resolved(question, context[:CONTEXT_CHARS])
        else:
            resolved = Resolved(question, None)
        history.append(turn)
    if resolved is None:
        raise ValueError("the conversation has no user message")
    return resolved
