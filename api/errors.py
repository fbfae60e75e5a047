"""Every error as JSON {"error": "..."} with a 4xx/5xx status, and no server file-system path in any message."""

from __future__ import annotations

import logging
import re
from collections.abc import Awaitable, Callable, Mapping
from pathlib import Path
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from reportqa.api.deadline import ClientGone, DeadlineExceeded
from reportqa.api.schemas import ErrorOut
from reportqa.index.store import BuildLocked, CollectionUnreadable, IndexProblem
from reportqa.ingest.decoding import SourceError
from starlette.exceptions import HTTPException as StarletteHTTPException

from reportqa.engine import QuestionError

log = logging.getLogger("reportqa.access")
INDEX_PLACEHOLDER = "<index>"
# an absolute path that survived the replacements below: shown by its last part only
_ABSOLUTE_PATH = re.compile(r"(?<![\w.:/~>-])/(?:[^/\s'\"()<>,;]+/)+([^/\s'\"()<>,;]*)")


def error_responses(*codes: int) -> dict[int | str, dict[str, Any]]:
    """OpenAPI entries for error statuses, all answered as ErrorOut."""
    return {code: {"model": ErrorOut} for code in codes}


ERRORS = error_responses(400, 401, 403, 408, 413, 422, 503, 504)  # what any route of the API may answer


def public_message(text: str, index_dir: Path) -> str:
    """The message with the index folder written as <index> and any other absolute path cut to its file name."""
    for folder in sorted({str(Path(index_dir).resolve()), str(Path(index_dir).absolute())}, key=len, reverse=True):
        text = text.replace(folder, INDEX_PLACEHOLDER)
    return _ABSOLUTE_PATH.sub(lambda m: f"…/{m.group(1)}", text)


def _validation_message(exc: RequestValidationError) -> str:
    parts = []
    for error in exc.errors():
        where = ".".join(str(p) for p in error.get("loc", ()) if p != "body") or "body"
        parts.append(f"{where}: {str(error.get('msg', 'invalid')).removeprefix('Value error, ')}")
    return "; ".join(parts) or "invalid request"


def error_response(request: Request, status: int, message: str, headers: Mapping[str, str] | None = None,
                   **extra: Any) -> JSONResponse:
    index_dir = request.app.state.settings.index_dir
    return JSONResponse({"error": public_message(message, index_dir), **extra}, status_code=status,
                        headers=dict(headers) if headers else None)


# the engine's and the collection's own errors: their message is the answer, the status says whose fault it is
STATUS_OF: dict[type[Exception], int] = {
    QuestionError: 422, DeadlineExceeded: 504, ClientGone: 499,  # 499: nginx's 'client closed request'
    BuildLocked: 409, CollectionUnreadable: 503, IndexProblem: 503,
    SourceError: 422,
}


FASTAPI_BODY_ERROR = "There was an error parsing the body"  # FastAPI's words for any body it could not decode


def unreadable_body_message(cause: BaseException | None) -> str:
    """What was wrong with a body FastAPI could not decode (it keeps the reason only as the exception's cause)."""
    if isinstance(cause, UnicodeDecodeError):
        return "the request body is not UTF-8 text: send JSON encoded as UTF-8"
    if isinstance(cause, RecursionError):
        return "the request body's JSON nests too deeply"
    if isinstance(cause, ValueError) and "digits" in str(cause):
        return "a number in the request body's JSON has too many digits"
    return "the request body could not be read as JSON"


def _plain_handler(status: int) -> Callable[[Request, Exception], Awaitable[JSONResponse]]:
    async def handle(request: Request, exc: Exception) -> JSONResponse:
        return error_response(request, status, str(exc))

    return handle


def install_error_handlers(app: FastAPI) -> None:
    @app.exception_handler(RequestValidationError)
    async def on_validation(request: Request, exc: RequestValidationError) -> JSONResponse:
        detail = [{"loc": e.get("loc"), "msg": e.get("msg")} for e in exc.errors()]
        sent = request.headers.get("content-type", "")
        whole_body = all(tuple(e.get("loc", ())) == ("body",) for e in exc.errors())
        if whole_body and "json" not in sent.lower():  # FastAPI reads the body as JSON only when it is labelled so
            message = f"send the body as JSON with Content-Type: application/json (it was {sent or 'unlabelled'!r})"
            return error_response(request, 422, message, detail=detail)
        return error_response(request, 422, _validation_message(exc), detail=detail)

    @app.exception_handler(StarletteHTTPException)
    async def on_http(request: Request, exc: StarletteHTTPException) -> JSONResponse:
        detail = unreadable_body_message(exc.__cause__) if exc.detail == FASTAPI_BODY_ERROR else str(exc.detail)
        return error_response(request, exc.status_code, detail, headers=exc.headers)

    for error_type, status in STATUS_OF.items():
        app.add_exception_handler(error_type, _plain_handler(status))

    @app.exception_handler(Exception)
    async def on_crash(_: Request, exc: Exception) -> JSONResponse:
        log.exception("unhandled error", exc_info=exc)
        return JSONResponse({"error": "internal error; see the server log"}, status_code=500)
