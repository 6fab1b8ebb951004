"""read_body decodes a body by its shape and answers what is wrong as the hand-written
checks did: the same message and field, for the first wrong field in the shape's order."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

import msgspec
import pytest
from aiohttp import web
from aiohttp.test_utils import TestClient

from handoff.shapes.http import CannedIn, CustomerMessageIn, LoginIn, RatingIn
from handoff.web.validation import Refusal, Text, read_body

MakeClient = Callable[..., Awaitable[TestClient]]


def _upper_shortcut(shortcut: str) -> str:
    if not shortcut.startswith("/"):
        raise web.HTTPBadRequest(text="shortcut without a slash")
    return shortcut.upper()


READERS: dict[str, Callable[[web.Request], Awaitable[msgspec.Struct]]] = {
    "message": lambda request: read_body(request, CustomerMessageIn, text=Text(10)),
    "rating": lambda request: read_body(
        request, RatingIn, score=Refusal("'score' must be an integer from 1 to 5")
    ),
    "login": lambda request: read_body(
        request, LoginIn, password=Refusal("'password' is required")
    ),
    "canned": lambda request: read_body(
        request, CannedIn, shortcut=Text(then=_upper_shortcut), text=Text(100)
    ),
}


@pytest.fixture
async def post(aiohttp_client: MakeClient) -> Callable[[str, bytes], Awaitable[tuple[int, Any]]]:
    async def read(request: web.Request) -> web.Response:
        body = await READERS[request.match_info["shape"]](request)
        return web.Response(body=msgspec.json.encode(body), content_type="application/json")

    app = web.Application()
    app.router.add_post("/{shape}", read)
    client = await aiohttp_client(app)

    async def send(shape: str, raw: bytes) -> tuple[int, Any]:
        response = await client.post(f"/{shape}", data=raw)
        if response.content_type == "application/json":
            return response.status, await response.json()
        return response.status, await response.text()

    return send


def _error(status: int, message: str, field: str | None = None) -> tuple[int, Any]:
    detail: dict[str, Any] = {"status": status, "message": message}
    if field is not None:
        detail["field"] = field
    return status, {"error": detail}


@pytest.mark.parametrize(
    ("raw", "answer"),
    [
        (b"", _error(400, "body must be a JSON object")),
        (b"[1]", _error(400, "body must be a JSON object")),
        (b"{nope", _error(400, "body is not valid JSON: Expecting property name enclosed in "
                               "double quotes: line 1 column 2 (char 1)")),
        (b"{}", _error(400, "'text' is required", "text")),
        (b'{"text": null}', _error(400, "'text' is required", "text")),
        (b'{"text": 5}', _error(400, "'text' must be a string", "text")),
        (b'{"text": ""}', _error(400, "'text' must not be empty", "text")),
        (b'{"text": " \\n "}', _error(400, "'text' must not be empty", "text")),
        (b'{"text": "a\\u0000"}', _error(400, "'text' must not contain NUL", "text")),
        (b'{"text": "a\\ud800"}', _error(400, "'text' is not valid Unicode", "text")),
        (b'{"text": "12345678901"}', _error(413, "'text' is longer than 10 characters", "text")),
        # The first wrong field in the shape's order, whichever the JSON puts first.
        (b'{"payload": 5, "text": "  "}', _error(400, "'text' must not be empty", "text")),
        (b'{"payload": 5}', _error(400, "'text' is required", "text")),
        (b'{"text": "hi", "payload": 5}', _error(400, "'payload' must be a string", "payload")),
        (b'{"text": "hi", "payload": "' + b"p" * 201 + b'"}',
         _error(413, "'payload' is longer than 200 characters", "payload")),
        # Refused by the shape alone: counted before trimming, or not a field at all.
        (b'{"text": "hi", "payload": "' + b"p" * 200 + b' "}',
         _error(413, "'payload' is longer than 200 characters", "payload")),
        (b'{"text": "hi", "client_message_id": ""}',
         _error(400, "'client_message_id' must not be empty", "client_message_id")),
        (b'{"text": "hi", "txet": "hi"}',
         _error(400, "unknown field 'txet'; the fields are text, payload, client_message_id",
                "txet")),
        # Trimmed; blank is none; what only Python's parser takes (a BOM) is read as before.
        (b'{"text": "  hi  ", "payload": " ", "client_message_id": " c1 "}',
         (200, {"text": "hi", "payload": None, "client_message_id": "c1"})),
        (b'\xef\xbb\xbf{"text": "hi"}',
         (200, {"text": "hi", "payload": None, "client_message_id": None})),
        (b'{"text": 5, "text": "hi"}',
         (200, {"text": "hi", "payload": None, "client_message_id": None})),
    ],
)
async def test_a_customer_message(post: Any, raw: bytes, answer: tuple[int, Any]) -> None:
    assert await post("message", raw) == answer


@pytest.mark.parametrize(
    ("shape", "raw", "answer"),
    [
        ("rating", b'{"comment": 5, "score": 9}',
         _error(400, "'score' must be an integer from 1 to 5", "score")),
        ("rating", b'{"score": true}',
         _error(400, "'score' must be an integer from 1 to 5", "score")),
        ("rating", b'{"score": 4.0}',
         _error(400, "'score' must be an integer from 1 to 5", "score")),
        ("rating", b'{"comment": "quick"}',
         _error(400, "'score' must be an integer from 1 to 5", "score")),
        ("rating", b'{"score": 5, "comment": 5}', _error(400, "'comment' must be a string", "comment")),
        ("rating", b'{"score": 5, "comment": " quick "}', (200, {"score": 5, "comment": "quick"})),
        ("login", b'{"email": "maya@example.com", "password": ""}',
         _error(400, "'password' is required", "password")),
        ("login", b'{"password": 5}', _error(400, "'email' is required", "email")),
        ("login", b'{"email": " Maya@example.com ", "password": " pw "}',
         (200, {"email": "Maya@example.com", "password": " pw "})),
        # A field's own check runs in its turn, before the next field's.
        ("canned", b'{"title": 5, "shortcut": "bags"}', (400, "shortcut without a slash")),
        ("canned", b'{"title": 5, "shortcut": "/bags"}', _error(400, "'title' must be a string", "title")),
        ("canned", b'{"title": null}', _error(400, "'title' must be a string", "title")),
        ("canned", b'{"shortcut": " /bags ", "text": "  "}', (200, {"shortcut": "/BAGS"})),
    ],
)
async def test_other_shapes(post: Any, shape: str, raw: bytes, answer: tuple[int, Any]) -> None:
    assert await post(shape, raw) == answer
