"""Questions, searches and claim checks: each runs under the request's CPU budget and answers in the contract."""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Callable
from typing import TypeVar

from fastapi import APIRouter, Request
from fastapi.concurrency import run_in_threadpool
from reportqa.api.bounds import AskBody, CiteBody, SearchBody, cpu_budget
from reportqa.api.deadline import run_within
from reportqa.api.deps import EngineDep, SettingsDep

from reportqa.contract import AnswerOut, CiteOut, PlacedVerdictOut, SearchOut
from reportqa.draft import CheckedClaim, placed_results, render_markdown

router = APIRouter()
T = TypeVar("T")
DISCONNECT_POLL_S = 0.25


async def run_while_connected(request: Request, seconds: float, work: Callable[[], T]) -> T:
    """`work()` in a worker thread under its CPU budget, stopped (ClientGone) once the client disconnects: a claim
    check of a thousand statements nobody waits for would go on holding its place and the CPU."""
    gone = threading.Event()

    async def watch() -> None:
        while not await request.is_disconnected():
            await asyncio.sleep(DISCONNECT_POLL_S)
        gone.set()

    watcher = asyncio.create_task(watch())
    try:
        return await run_in_threadpool(run_within, seconds, work, gone)
    finally:
        watcher.cancel()


@router.post("/ask", response_model=AnswerOut)
async def ask(body: AskBody, engine: EngineDep, settings: SettingsDep) -> AnswerOut:
    def answer() -> AnswerOut:
        return AnswerOut.of(engine.ask(body.question, body.top_k, body.id))

    budget = cpu_budget(settings)
    # a few milliseconds of CPU run inline (a thread hop and GIL hand-off cost as much again: measured
    # 112 → 192 requests/s in process); a configured LLM or shards on a cluster wait on the network: a thread
    if not engine.waits:
        return run_within(budget, answer)
    return await run_in_threadpool(run_within, budget, answer)


@router.post("/search", response_model=SearchOut)
async def search(body: SearchBody, engine: EngineDep, settings: SettingsDep) -> SearchOut:
    def found() -> SearchOut:
        return SearchOut.of(engine.search(body.query, body.top_k))

    budget = cpu_budget(settings)
    return await run_in_threadpool(run_within, budget, found) if engine.waits else run_within(budget, found)


@router.post("/cite", response_model=CiteOut)
async def cite(request: Request, body: CiteBody, engine: EngineDep, settings: SettingsDep) -> CiteOut:
    if body.statements is not None:
        statements = body.statements
        return await run_while_connected(request, cpu_budget(settings, len(statements)), lambda: CiteOut(results=[
            PlacedVerdictOut.placed(engine.cite(s), f"claim-{i}") for i, s in enumerate(statements, start=1)]))
    draft = body.text or ""
    claims = await run_while_connected(request, cpu_budget(settings), lambda: engine.draft_claims(draft))
    checked = await run_while_connected(request, cpu_budget(settings, len(claims)),
                                        lambda: [CheckedClaim(claim, engine.cite(claim.text)) for claim in claims])
    return CiteOut(results=placed_results(checked),
                   markdown=render_markdown(draft, checked) if body.format == "markdown" else None)
