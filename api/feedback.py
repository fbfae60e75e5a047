"""Thumbs up / down on an answer, appended to a JSONL file (REPORTQA_FEEDBACK_FILE) for later evaluation."""

from __future__ import annotations

import fcntl
import json
import os
import time
from pathlib import Path
from typing import Any, Literal

from fastapi import APIRouter
from pydantic import BaseModel, ConfigDict, Field
from reportqa.api.deps import SettingsDep

MAX_QUESTION_CHARS = 2000  # a question quoted back with its feedback; the server refuses longer ones before

MAX_ANSWER_CHARS = 10_000
MAX_COMMENT_CHARS = 2_000
MAX_CITED = 50

router = APIRouter()


class CitedPassage(BaseModel):
    """Where a cited passage is: enough to find it again, not its text."""

    model_config = ConfigDict(extra="ignore")
    n: int
    doc: str = Field(max_length=300)
    start: int
    end: int


class FeedbackIn(BaseModel):
    rating: Literal["up", "down"]
    question: str = Field(min_length=1, max_length=MAX_QUESTION_CHARS)
    answer: str = Field(default="", max_length=MAX_ANSWER_CHARS)
    abstained: bool = False
    citations: list[CitedPassage] = Field(default_factory=list, max_length=MAX_CITED)
    conversation: str = Field(default="", max_length=100, description="the page's id for the conversation")
    comment: str = Field(default="", max_length=MAX_COMMENT_CHARS)


class FeedbackOut(BaseModel):
    stored: bool
    time: str


def append_line(path: Path, row: dict[str, Any]) -> None:
    """One JSON line, written whole under an exclusive lock: workers append to the same file."""
    path.parent.mkdir(parents=True, exist_ok=True)
    data = (json.dumps(row, ensure_ascii=False) + "\n").encode("utf-8")
    fd = os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)
        os.write(fd, data)
    finally:
        os.close(fd)


@router.post("/feedback", response_model=FeedbackOut, status_code=201)
def feedback(body: FeedbackIn, settings: SettingsDep) -> dict[str, Any]:
    stamp = time.strftime("%Y-%m-%dT%H:%M:%S%z")
    append_line(settings.feedback_file, {"time": stamp, **body.model_dump()})
    return {"stored": True, "time": stamp}
