"""Conversation endpoints: /chat, and the OpenAI-compatible /v1/chat/completions and /v1/models."""

from __future__ import annotations

import json
import time
import uuid
from collections.abc import Iterator
from typing import Any

from fastapi import APIRouter
from fastapi.responses import StreamingResponse
from reportqa.api.bounds import ChatBody, CompletionBody, bounded_turns, cpu_budget
from reportqa.api.deadline import run_within
from reportqa.api.deps import EngineDep, SettingsDep
from reportqa.api.schemas import ChatRequest

from reportqa.contract import ChatOut, citations_out, is_low_confidence, marked_text
from reportqa.core.settings import Settings
from reportqa.core.types import Answer
from reportqa.engine import Engine

MODEL_ID = "reportqa-extractive"
STREAM_PIECE_CHARS = 16

router = APIRouter()


def answer_conversation(body: ChatRequest, engine: Engine, settings: Settings) -> Answer:
    """The last question of a conversation answered under the request's CPU budget, from bounded turns."""
    turns = bounded_turns(body.messages, settings)
    return run_within(cpu_budget(settings), lambda: engine.chat(turns, body.top_k))


@router.post("/chat", response_model=ChatOut)
def chat(body: ChatBody, engine: EngineDep, settings: SettingsDep) -> ChatOut:
    return ChatOut.of(answer_conversation(body, engine, settings))


@router.get("/v1/models")
def models() -> dict[str, Any]:
    return {"object": "list", "data": [{"id": MODEL_ID, "object": "model", "created": 0, "owned_by": "reportqa"}]}


def _completion(answer: Answer, model: str) -> dict[str, Any]:
    content = marked_text(answer)
    return {
        "id": f"chatcmpl-{uuid.uuid4().hex}",
        "object": "chat.completion",
        "created": int(time.time()),
        "model": model,
        "choices": [{"index": 0, "message": {"role": "assistant", "content": content}, "finish_reason": "stop"}],
        "usage": {"prompt_tokens": len(answer.question), "completion_tokens": len(content),
                  "total_tokens": len(answer.question) + len(content)},
        "citations": [c.model_dump() for c in citations_out(answer.citations)],
        "resolved_question": answer.resolved_question,
        "degraded": list(answer.degraded),
    }


def _stream(answer: Answer, model: str) -> Iterator[str]:
    """Server-sent events in the chat.completion.chunk format, citations on the last chunk, then [DONE]."""
    ident, created = f"chatcmpl-{uuid.uuid4().hex}", int(time.time())

    def event(delta: dict[str, Any], finish: str | None = None, **extra: Any) -> str:
        chunk = {"id": ident, "object": "chat.completion.chunk", "created": created, "model": model,
                 "choices": [{"index": 0, "delta": delta, "finish_reason": finish}], **extra}
        return f"data: {json.dumps(chunk, ensure_ascii=False)}\n\n"

    yield event({"role": "assistant", "content": ""})
    content = marked_text(answer)
    for start in range(0, len(content), STREAM_PIECE_CHARS):
        yield event({"content": content[start : start + STREAM_PIECE_CHARS]})
    yield event({}, "stop", citations=[c.model_dump() for c in citations_out(answer.citations)],
                resolved_question=answer.resolved_question, abstained=answer.abstained,
                confidence=round(answer.confidence, 4), low_confidence=is_low_confidence(answer),
                degraded=list(answer.degraded))
    yield "data: [DONE]\n\n"


@router.post("/v1/chat/completions", response_model=None)
def completions(body: CompletionBody, engine: EngineDep, settings: SettingsDep
                ) -> dict[str, Any] | StreamingResponse:
    answer = answer_conversation(body, engine, settings)
    model = body.model or MODEL_ID
    if body.stream:
        return StreamingResponse(_stream(answer, model), media_type="text/event-stream",
                                 headers={"Cache-Control": "no-cache"})
    return _completion(answer, model)
