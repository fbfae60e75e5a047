"""Conversation endpoints: /chat, and the OpenAI-compatible /v1/chat/completions and /v1/models."""

from __future__ import annotations

import json
import time
import uuid
from collections.abc import Iterator
from typing import Any

from fastapi import APIRouter
from fastapi.responses import StreamingResponse
from reportqa.answer.followup import Turn
from reportqa.api.deps import EngineDep
from reportqa.api.schemas import ChatOut, ChatRequest, CompletionRequest, Message

from reportqa.contract import chat_json, citations_json, marked_text
from reportqa.core.types import Answer

MODEL_ID = "reportqa-extractive"
STREAM_PIECE_CHARS = 16

router = APIRouter()


def turns_of(messages: list[Message]) -> list[Turn]:
    return [Turn(m.role, m.text()) for m in messages if m.role in {"user", "assistant"}]


@router.post("/chat", response_model=ChatOut)
def chat(body: ChatRequest, engine: EngineDep) -> dict[str, Any]:
    return chat_json(engine.chat(turns_of(body.messages), body.top_k))


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
        "citations": citations_json(answer.citations),
        "resolved_question": answer.resolved_question,
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
    yield event({}, "stop", citations=citations_json(answer.citations),
                resolved_question=answer.resolved_question, abstained=answer.abstained,
                confidence=round(answer.confidence, 4))
    yield "data: [DONE]\n\n"


@router.post("/v1/chat/completions", response_model=None)
def completions(body: CompletionRequest, engine: EngineDep) -> dict[str, Any] | StreamingResponse:
    answer = engine.chat(turns_of(body.messages), body.top_k)
    model = body.model or MODEL_ID
    if body.stream:
        return StreamingResponse(_stream(answer, model), media_type="text/event-stream",
                                 headers={"Cache-Control": "no-cache"})
    return _completion(answer, model)
