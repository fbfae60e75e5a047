"""HTTP request models (shape only: the sizes configuration sets are checked in api/bounds.py) and the few
responses that exist only over HTTP; answers, searches and claim checks use reportqa.contract."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator
from reportqa.index.text import without_invisible


def _valid_unicode(value: str, what: str) -> str:
    """JSON can carry lone surrogates (\\ud800) that are not text; refuse them here rather than fail later."""
    try:
        value.encode("utf-8")
    except UnicodeEncodeError as exc:
        raise ValueError(f"the {what} is not valid Unicode text (unpaired surrogate)") from exc
    return value


def _non_blank(value: str, what: str) -> str:
    """Blank also when only invisible marks are left (zero-width, direction): the engine would find it empty."""
    _valid_unicode(value, what)
    if not without_invisible(value).strip():
        raise ValueError(f"the {what} is empty")
    return value


class AskRequest(BaseModel):
    model_config = ConfigDict(extra="ignore")
    question: str = Field(description="the question, in Chinese or English (REPORTQA_MAX_QUESTION_CHARS)",
                          examples=["2026年全球AI支出预计是多少？"])
    top_k: int | None = Field(default=None, ge=1, description="how many passages to cite (REPORTQA_MAX_TOP_K)")
    id: str = ""

    @field_validator("question")
    @classmethod
    def _check(cls, value: str) -> str:
        return _non_blank(value, "question")

    @field_validator("id")
    @classmethod
    def _check_id(cls, value: str) -> str:
        return _valid_unicode(value, "id")


class SearchRequest(BaseModel):
    query: str = Field(examples=["台积电 市占率"])
    top_k: int | None = Field(default=None, ge=1)

    @field_validator("query")
    @classmethod
    def _check(cls, value: str) -> str:
        return _non_blank(value, "query")


class CiteRequest(BaseModel):
    """Either a list of statements or a whole draft (Markdown or plain text)."""

    statements: list[str] | None = Field(
        default=None, description="at most REPORTQA_MAX_CLAIMS", examples=[["2026年全球AI支出达到2.59万亿美元。"]]
    )
    text: str | None = Field(default=None, description="a whole draft; split into claim sentences")
    format: str = Field(default="json", pattern="^(json|markdown)$")

    @model_validator(mode="after")
    def _one_of(self) -> CiteRequest:
        if (self.statements is None) == (self.text is None):
            raise ValueError('give either "statements" or "text"')
        if self.statements is not None:
            if not self.statements:
                raise ValueError("statements is empty")
            for i, statement in enumerate(self.statements):
                _non_blank(statement, f"statement {i + 1}")
        elif self.text is not None:
            _valid_unicode(self.text, "draft")
            if not self.text.strip():
                raise ValueError("the draft is empty")
        return self


class Message(BaseModel):
    """A chat message; OpenAI-style content parts are accepted and their text joined."""

    model_config = ConfigDict(extra="ignore")
    role: Literal["system", "user", "assistant", "tool", "developer"]
    content: str | list[dict[str, Any]] | None = None

    @field_validator("content")
    @classmethod
    def _text_parts_are_text(cls, value: str | list[dict[str, Any]] | None) -> str | list[dict[str, Any]] | None:
        """A text part whose `text` is a list or an object was joined as its Python spelling; refuse it instead."""
        for part in value if isinstance(value, list) else []:
            if part.get("type", "text") == "text" and not isinstance(part.get("text") or "", str):
                raise ValueError("a text part's 'text' must be a string")
        return value

    def text(self) -> str:
        if isinstance(self.content, list):
            return "".join(str(part.get("text") or "") for part in self.content if part.get("type", "text") == "text")
        return self.content or ""


class ChatRequest(BaseModel):
    model_config = ConfigDict(extra="ignore")
    messages: list[Message] = Field(min_length=1, description="at most REPORTQA_MAX_CHAT_MESSAGES")
    top_k: int | None = Field(default=None, ge=1)

    @model_validator(mode="after")
    def _has_question(self) -> ChatRequest:
        for i, message in enumerate(self.messages, start=1):
            _valid_unicode(message.text(), f"message {i}")
        if not self.question().strip():
            raise ValueError("the last user message is empty")
        return self

    def question(self) -> str:
        """The text of the last user message: what the conversation asks now."""
        return next((m.text() for m in reversed(self.messages) if m.role == "user"), "")


class CompletionRequest(ChatRequest):
    """The OpenAI chat-completions request; sampling parameters are accepted and ignored (answers are extractive)."""

    model: str = Field(default="reportqa", max_length=200)
    stream: bool = Field(default=False, strict=True)  # true or false: "yes" or 1 is a mistake, not a wish

    @field_validator("model")
    @classmethod
    def _check_model(cls, value: str) -> str:
        return _valid_unicode(value, "model")


class Health(BaseModel):
    status: str = Field(description="ok; degraded when shards of a sharded index do not answer (still served, "
                        "without their documents); unhealthy (503) when the current index version cannot be read")
    index: dict[str, Any] | None = None
    degraded: list[str] = Field(default_factory=list, description="shards that do not answer just now")
    problem: str | None = None
    worker: int | None = Field(None, description="process id of the server worker that answered")


class ErrorOut(BaseModel):
    error: str
    detail: Any = None
