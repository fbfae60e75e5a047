"""The limits a request is held to, read from Settings (one source for each), checked before any engine code runs.

The request models check shape (types, blank text); the sizes that depend on configuration are checked here, as
FastAPI dependencies, and reported like any validation error: 422 naming the field.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Annotated, Any

from fastapi import Depends
from fastapi.exceptions import RequestValidationError
from reportqa.answer.followup import Turn
from reportqa.api.deps import SettingsDep
from reportqa.api.schemas import AskRequest, ChatRequest, CiteRequest, CompletionRequest, Message, SearchRequest

from reportqa.core.settings import Settings

Problem = dict[str, Any]


def _problem(where: tuple[str | int, ...], message: str) -> Problem:
    return {"loc": ("body", *where), "msg": message, "type": "value_error"}


def _refuse(problems: Sequence[Problem]) -> None:
    if problems:
        raise RequestValidationError(list(problems))


def text_problems(where: tuple[str | int, ...], what: str, text: str, limit: int) -> list[Problem]:
    size = len(text.strip())
    return [_problem(where, f"the {what} is {size} characters; the limit is {limit}")] if size > limit else []


def top_k_problems(top_k: int | None, settings: Settings) -> list[Problem]:
    if top_k is not None and top_k > settings.max_top_k:
        return [_problem(("top_k",), f"Input should be less than or equal to {settings.max_top_k}")]
    return []


def checked_ask(body: AskRequest, settings: SettingsDep) -> AskRequest:
    _refuse(text_problems(("question",), "question", body.question, settings.max_question_chars)
            + top_k_problems(body.top_k, settings))
    return body


def checked_search(body: SearchRequest, settings: SettingsDep) -> SearchRequest:
    _refuse(text_problems(("query",), "query", body.query, settings.max_question_chars)
            + top_k_problems(body.top_k, settings))
    return body


def checked_cite(body: CiteRequest, settings: SettingsDep) -> CiteRequest:
    if body.statements is not None:
        if len(body.statements) > settings.max_claims:
            _refuse([_problem(("statements",), f"List should have at most {settings.max_claims} items, "
                                               f"not {len(body.statements)}")])
        _refuse([p for i, s in enumerate(body.statements)
                 for p in text_problems(("statements", i), f"statement {i + 1}", s, settings.max_question_chars)])
    elif body.text is not None:
        _refuse(text_problems(("text",), "draft", body.text, settings.max_draft_chars))
    return body


def _checked_conversation(body: ChatRequest, settings: Settings) -> None:
    if len(body.messages) > settings.max_chat_messages:
        _refuse([_problem(("messages",), f"List should have at most {settings.max_chat_messages} items, "
                                         f"not {len(body.messages)}")])
    _refuse(text_problems(("messages",), "question", body.question(), settings.max_question_chars))


def checked_chat(body: ChatRequest, settings: SettingsDep) -> ChatRequest:
    _checked_conversation(body, settings)
    _refuse(top_k_problems(body.top_k, settings))
    return body


def checked_completion(body: CompletionRequest, settings: SettingsDep) -> CompletionRequest:
    _checked_conversation(body, settings)
    _refuse(top_k_problems(body.top_k, settings))
    return body


def bounded_turns(messages: Sequence[Message], settings: Settings) -> list[Turn]:
    """The conversation as the answer code sees it: the last user turn as asked (already held to the limit),
    every earlier turn with its runs of whitespace collapsed and cut to max_question_chars (a turn is read for its
    opening subject and its ending, and a pasted essay in it must not cost more than a question)."""
    turns = [Turn(m.role, m.text()) for m in messages if m.role in {"user", "assistant"}]
    asked = max((k for k, t in enumerate(turns) if t.role == "user"), default=-1)
    limit = settings.max_question_chars
    return [t if k == asked else Turn(t.role, " ".join(t.content.split())[:limit]) for k, t in enumerate(turns)]


def cpu_budget(settings: Settings, claims: int = 0) -> float:
    """The CPU seconds one request may use: the base, plus a share for every claim it asks to check."""
    return settings.request_cpu_seconds + settings.claim_cpu_seconds * claims


AskBody = Annotated[AskRequest, Depends(checked_ask)]
SearchBody = Annotated[SearchRequest, Depends(checked_search)]
CiteBody = Annotated[CiteRequest, Depends(checked_cite)]
ChatBody = Annotated[ChatRequest, Depends(checked_chat)]
CompletionBody = Annotated[CompletionRequest, Depends(checked_completion)]
