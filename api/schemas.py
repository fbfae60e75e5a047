"""HTTP request and response models, kept apart from the internal frozen types they are mapped from."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

MAX_QUESTION_CHARS = 2000
MAX_TOP_K = 50


def _valid_unicode(value: str, what: str) -> str:
    """JSON can carry lone surrogates (\\ud800) that are not text; refuse them here rather than fail later."""
    try:
        value.encode("utf-8")
    except UnicodeEncodeError as exc:
        raise ValueError(f"the {what} is not valid Unicode text (unpaired surrogate)") from exc
    return value


def _non_blank(value: str, what: str) -> str:
    _valid_unicode(value, what)
    if not value.strip():
        raise ValueError(f"the {what} is empty")
    if len(value.strip()) > MAX_QUESTION_CHARS:
        raise ValueError(f"the {what} is {len(value.strip())} characters; the limit is {MAX_QUESTION_CHARS}")
    return value


class AskRequest(BaseModel):
    model_config = ConfigDict(extra="ignore")
    question: str = Field(description="the question, in Chinese or English", examples=["2026年全球AI支出预计是多少？"])
    top_k: int | None = Field(default=None, ge=1, le=MAX_TOP_K, description="how many passages to cite")
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
    top_k: int | None = Field(default=None, ge=1, le=MAX_TOP_K)

    @field_validator("query")
    @classmethod
    def _check(cls, value: str) -> str:
        return _non_blank(value, "query")


class CitationOut(BaseModel):
    n: int
    doc: str
    title: str
    section: str
    start: int
    end: int
    line_start: int
    line_end: int
    page: int | None
    page_end: int | None = Field(None, description="last page of a passage that crosses a page break")
    text: str
    score: float


class SearchResultOut(CitationOut):
    channels: dict[str, float] = Field(default_factory=dict)


class SentenceOut(BaseModel):
    text: str
    citation: int = Field(description="number of the citation this sentence of the answer was taken from")


class AnswerOut(BaseModel):
    id: str
    question: str
    answer: str
    abstained: bool
    confidence: float
    source: int | None = None
    sentences: list[SentenceOut] = Field(default_factory=list)
    citations: list[CitationOut]


class SearchOut(BaseModel):
    results: list[SearchResultOut]


class Health(BaseModel):
    status: str
    index: dict[str, Any] | None = None
    problem: str | None = None
    worker: int | None = Field(None, description="process id of the server worker that answered")


class ErrorOut(BaseModel):
    error: str
    detail: Any = None


class CiteRequest(BaseModel):
    """Either a list of statements or a whole draft (Markdown or plain text)."""

    statements: list[str] | None = Field(
        default=None, max_length=1000, examples=[["2026年全球AI支出达到2.59万亿美元。"]]
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


class CiteResult(BaseModel):
    id: str
    claim: str
    verdict: str
    report_value: str | None
    claim_value: str | None
    support: float
    citations: list[CitationOut]
    start: int | None = None
    end: int | None = None
    line: int | None = None


class CiteOut(BaseModel):
    results: list[CiteResult]
    markdown: str | None = None


class Message(BaseModel):
    """A chat message; OpenAI-style content parts are accepted and their text joined."""

    model_config = ConfigDict(extra="ignore")
    role: Literal["system", "user", "assistant", "tool", "developer"]
    content: str | list[dict[str, Any]] | None = None

    def text(self) -> str:
        if isinstance(self.content, list):
            return "".join(str(part.get("text") or "") for part in self.content if part.get("type", "text") == "text")
        return self.content or ""


class ChatRequest(BaseModel):
    model_config = ConfigDict(extra="ignore")
    messages: list[Message] = Field(min_length=1, max_length=100)
    top_k: int | None = Field(default=None, ge=1, le=MAX_TOP_K)

    @model_validator(mode="after")
    def _has_question(self) -> ChatRequest:
        for i, message in enumerate(self.messages, start=1):
            _valid_unicode(message.text(), f"message {i}")
        users = [m for m in self.messages if m.role == "user"]
        if not users or not users[-1].text().strip():
            raise ValueError("the last user message is empty")
        _non_blank(users[-1].text(), "question")
        return self


class ChatOut(AnswerOut):
    source: int | None = None
    resolved_question: str | None = None
    generated: bool = False
    flagged: list[str] = Field(default_factory=list, description="generated sentences whose passage didn't back them")


class CompletionRequest(ChatRequest):
    """The OpenAI chat-completions request; sampling parameters are accepted and ignored (answers are extractive)."""

    model: str = Field(default="reportqa", max_length=200)
    stream: bool = False

    @field_validator("model")
    @classmethod
    def _check_model(cls, value: str) -> str:
        return _valid_unicode(value, "model")
