"""HTTP request and response models, kept apart from the internal frozen types they are mapped from."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict, Field, field_validator

MAX_QUESTION_CHARS = 2000
MAX_TOP_K = 50


def _non_blank(value: str, what: str) -> str:
    if not value.strip():
        raise ValueError(f"the {what} is empty")
    if len(value) > MAX_QUESTION_CHARS:
        raise ValueError(f"the {what} is {len(value)} characters; the limit is {MAX_QUESTION_CHARS}")
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
    text: str
    score: float


class SearchResultOut(CitationOut):
    channels: dict[str, float] = Field(default_factory=dict)


class AnswerOut(BaseModel):
    id: str
    question: str
    answer: str
    abstained: bool
    confidence: float
    citations: list[CitationOut]


class SearchOut(BaseModel):
    results: list[SearchResultOut]


class Health(BaseModel):
    status: str
    index: dict[str, Any] | None = None
    problem: str | None = None


class ErrorOut(BaseModel):
    error: str
    detail: Any = None
