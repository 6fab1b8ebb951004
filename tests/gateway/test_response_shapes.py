"""The check every test client runs on the API's answers (tests/shapes_check.py) fails
on an answer off its shape, on one the OpenAPI document does not declare, and on an API
path it does not describe."""

from __future__ import annotations

import json
from collections.abc import Awaitable, Callable
from typing import Any

import pytest
from aiohttp import web
from aiohttp.test_utils import TestClient

from handoff.shapes import http

from ..shapes_check import CHECK_RESPONSES, check_response

ME = {"id": 1, "name": "Maya", "email": "maya@example.com", "role": "agent"}
JSON = "application/json"


def _raw(body: Any) -> bytes:
    return json.dumps(body).encode()


def test_an_answer_is_decoded_by_the_shape_of_its_path_method_and_status() -> None:
    messages = check_response("GET", "/api/conversations/c1/messages", 200, JSON,
                              _raw({"messages": []}))
    refused = check_response("GET", "/api/conversations/c1/messages", 401, JSON,
                             _raw({"error": {"status": 401, "message": "no"}}))

    assert messages == http.Messages(messages=[])
    assert refused == http.Error(error=http.ErrorDetail(status=401, message="no"))


@pytest.mark.parametrize(
    ("method", "path", "status", "body", "problem"),
    [
        ("GET", "/api/agent/me", 200, {**ME, "extra": 1},
         "off its shape AgentAccount: Object contains unknown field `extra`"),
        ("GET", "/api/agent/me", 200, {**ME, "id": "1"},
         "off its shape AgentAccount: Expected `int`, got `str` - at `$.id`"),
        ("GET", "/api/agent/me", 404, {"error": {"status": 404, "message": "gone"}},
         "GET /api/agent/me answered 404, which the OpenAPI document does not declare"),
        ("DELETE", "/api/agent/me", 200, {"ok": True},
         "DELETE /api/agent/me answered 200, which the OpenAPI document does not declare"),
        ("GET", "/api/agent/nowhere", 404, {"error": {"status": 404, "message": "Not Found"}},
         "GET /api/agent/nowhere (404) has no declared shape"),
        ("POST", "/api/agent/canned", 400,
         {"error": {"status": 400, "message": "no", "hint": "x"}},
         "off its shape Error: Object contains unknown field `hint` - at `$.error`"),
    ],
)
def test_an_answer_off_the_document_fails(
    method: str, path: str, status: int, body: Any, problem: str
) -> None:
    with pytest.raises(AssertionError) as raised:
        check_response(method, path, status, JSON, _raw(body))

    assert problem in str(raised.value)


def test_only_the_api_is_checked_and_the_document_itself_is_exempt() -> None:
    assert check_response("GET", "/widget.js", 200, "application/javascript", b"x") is None
    assert check_response("GET", "/api/openapi.json", 200, JSON, b"{}") is None
    assert check_response("GET", "/healthz", 200, JSON, b'{"status": "ok"}') == http.Health(
        status="ok"
    )
    with pytest.raises(AssertionError, match="application/json"):
        check_response("GET", "/api/agent/me", 200, "text/plain", b"Maya")


async def test_a_client_with_the_check_fails_on_a_drifted_answer(
    aiohttp_client: Callable[..., Awaitable[TestClient]],
) -> None:
    async def me(request: web.Request) -> web.Response:
        return web.json_response({**ME, "avatar": None})

    app = web.Application()
    app.router.add_get("/api/agent/me", me)
    client = await aiohttp_client(app, middlewares=CHECK_RESPONSES)

    with pytest.raises(AssertionError, match="unknown field `avatar`"):
        await client.get("/api/agent/me")
