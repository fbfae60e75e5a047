"""Property-based fuzzing of every operation in the OpenAPI schema (schemathesis, in-process over ASGI).

Each operation gets positive (schema-valid) and negative (schema-violating) bodies. Whatever is sent, the
service must not answer 5xx, every 4xx must be a JSON object with a non-empty "error" string, and every
response must match the status codes, content types and bodies the schema declares.
"""

from __future__ import annotations

import json
from typing import Any

import pytest
import schemathesis
from fastapi import FastAPI
from hypothesis import HealthCheck, settings
from schemathesis import checks as st_checks

from api.app import create_app
from reportqa.settings import Settings

MAX_EXAMPLES = 30
UNPARSEABLE = "There was an error parsing the body"
TRACE_MARKERS = ("Traceback (most recent call last)", 'File "')


def error_is_json_message(ctx: Any, response: Any, case: Any) -> bool | None:
    """A 4xx/5xx answer is a JSON object whose "error" is a non-empty human-readable string."""
    text = response.text if isinstance(response.text, str) else ""
    for marker in TRACE_MARKERS:
        assert marker not in text, f"stack trace text {marker!r} in a {response.status_code} body"
    if response.status_code < 400:
        return None
    content_type = response.headers.get("content-type", [""])
    content_type = content_type[0] if isinstance(content_type, list) else content_type
    assert content_type.startswith("application/json"), f"{response.status_code} with content-type {content_type}"
    body = json.loads(text)
    assert isinstance(body, dict), f"{response.status_code} body is not an object: {text[:200]}"
    assert isinstance(body.get("error"), str) and body["error"].strip(), f"no error message: {text[:200]}"
    return True


def documented_status(ctx: Any, response: Any, case: Any) -> bool | None:
    """The status is one the schema declares.

    Tolerated: FastAPI's own 400 for a body it cannot decode (e.g. invalid UTF-8 under application/json), which
    the schema does not list; it is still a JSON {"error": ...} (checked above). Reported as a schema gap.
    """
    if response.status_code == 400 and UNPARSEABLE in response.text:
        return None
    return st_checks.status_code_conformance(ctx, response, case)


CHECKS = [st_checks.not_a_server_error, documented_status, st_checks.content_type_conformance,
          st_checks.response_schema_conformance, error_is_json_message]


# The schema does not depend on the index: read it from an app that is never asked a question.
schema = schemathesis.openapi.from_dict(create_app(Settings()).openapi())


@pytest.fixture(scope="module")
def app(small_index: Settings) -> FastAPI:
    # a lower body limit so that large generated bodies also exercise the 413 path
    return create_app(small_index.model_copy(update={"max_body_bytes": 64_000}))


@schema.parametrize()
@settings(max_examples=MAX_EXAMPLES, deadline=None, suppress_health_check=list(HealthCheck), derandomize=True)
def test_every_operation_survives_fuzzing(case: Any, app: FastAPI) -> None:
    case.call_and_validate(checks=CHECKS, app=app)
