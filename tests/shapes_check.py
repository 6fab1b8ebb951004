"""Every frame and every API answer a test reads from the gateway is checked against its shape.

Test clients open sockets with ``ws_response_class=CheckedWebSocket``: each text frame
is decoded strictly (handoff/shapes/events.py, unknown fields forbidden) by the union of
what that socket may receive, so a drift between code and shapes fails the test.

They also pass ``middlewares=CHECK_RESPONSES``: each answer under /api (and the health
routes) is decoded strictly by the Struct (handoff/shapes/http.py) that the OpenAPI
document names for its path, method and status, error answers included. The lookup is
read from the document itself, so the document and this check cannot drift apart.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

import msgspec
from aiohttp import ClientRequest, ClientResponse, ClientWebSocketResponse, WSMessage, WSMsgType
from aiohttp.client_middlewares import ClientHandlerType

from handoff.shapes import http, insights, privacy
from handoff.shapes.events import ConsoleEvent, WidgetEvent
from handoff.web.openapi import openapi_document

WIDGET = msgspec.json.Decoder(WidgetEvent)
CONSOLE = msgspec.json.Decoder(ConsoleEvent)


def check_frame(path: str, data: str | bytes) -> Any:
    """The frame as its Struct; AssertionError naming the frame if it is off shape."""
    if path == "/api/agent/ws":
        decoder = CONSOLE
    elif path.startswith("/api/conversations/") and path.endswith("/ws"):
        decoder = WIDGET
    else:  # not a gateway socket (the floor harness's own server)
        return None
    try:
        return decoder.decode(data)
    except msgspec.ValidationError as exc:
        raise AssertionError(f"{path} sent a frame off its shape: {exc}: {data!r}") from None


class CheckedWebSocket(ClientWebSocketResponse):
    async def receive(self, timeout: float | None = None) -> WSMessage:
        message = await super().receive(timeout)
        if message.type == WSMsgType.TEXT:
            check_frame(self._response.url.path, message.data)
        return message


# Answers under /api that have no shape of their own, and why.
EXEMPT = {
    "/api/openapi.json": "the document itself (tests/gateway/test_openapi.py reads it)",
    "/api/agent/insights/training-data": "Rasa NLU YAML (tests/gateway/test_learning.py "
    "reads it exactly)",
}
_REF = re.compile(r"#/components/schemas/(\w+)")


def _pattern(template: str) -> re.Pattern[str]:
    """The raw paths a template matches: a {parameter} is one non-empty path segment."""
    parts = re.split(r"(\{[^}/]+\})", template)
    return re.compile(
        "".join("[^/]+" if part.startswith("{") else re.escape(part) for part in parts)
    )


def _shape(response: dict[str, Any]) -> type[msgspec.Struct] | None:
    if "application/json" not in response["content"]:
        return None  # not JSON: its path is EXEMPT
    schema = response["content"]["application/json"]["schema"]
    match = _REF.fullmatch(schema.get("$ref", ""))
    assert match, f"a response schema that is not one shape: {schema}"
    name = match.group(1)
    return getattr(http, name, None) or getattr(insights, name, None) or getattr(privacy, name)


def _operations() -> Iterator[tuple[re.Pattern[str], str, dict[tuple[str, int], type]]]:
    document = openapi_document()
    for template, operations in document["paths"].items():
        yield _pattern(template), template, {
            (method.upper(), int(status)): _shape(response)
            for method, operation in operations.items()
            for status, response in operation["responses"].items()
        }
    for template, socket in document["x-websockets"].items():
        # The upgrade is a GET; a refused one is an HTTP answer (101 is not checked).
        yield _pattern(template), template, {
            ("GET", int(status)): _shape(response)
            for status, response in socket["responses"].items()
        }


OPERATIONS = list(_operations())
DECODERS: dict[type, msgspec.json.Decoder[Any]] = {}


def declared_shape(method: str, path: str, status: int) -> type[msgspec.Struct] | None:
    """The shape the document gives this answer; None for a path it does not describe.

    AssertionError for a path it describes but not with this method and status.
    """
    for pattern, template, shapes in OPERATIONS:
        if pattern.fullmatch(path):
            shape = shapes.get((method.upper(), status))
            assert shape is not None, (
                f"{method} {template} answered {status}, which the OpenAPI document does "
                f"not declare (it declares {sorted(shapes)})"
            )
            return shape
    return None


def check_response(
    method: str, path: str, status: int, content_type: str, body: bytes
) -> Any:
    """The answer as its Struct (None when it is not the gateway API's); AssertionError
    naming the answer if it is off its shape or has none."""
    if status == 101 or path in EXEMPT:
        return None
    if method.upper() == "OPTIONS" and _checked(path):
        # A browser's CORS preflight (handoff/app.py): no body, or refused as an error.
        if status == 204:
            assert body == b"", f"{method} {path} answered 204 with a body: {body[:300]!r}"
            return None
        return _decode(http.Error, method, path, status, content_type, body)
    shape = declared_shape(method, path, status)
    if shape is None:
        assert not path.startswith("/api/"), f"{method} {path} ({status}) has no declared shape"
        return None
    return _decode(shape, method, path, status, content_type, body)


def _decode(
    shape: type[msgspec.Struct], method: str, path: str, status: int, content_type: str,
    body: bytes,
) -> Any:
    assert content_type == "application/json", (
        f"{method} {path} answered {status} as {content_type}, not application/json: "
        f"{body[:300]!r}"
    )
    decoder = DECODERS.setdefault(shape, msgspec.json.Decoder(shape))
    try:
        return decoder.decode(body)
    except msgspec.ValidationError as exc:
        raise AssertionError(
            f"{method} {path} answered {status} off its shape {shape.__name__}: {exc}: "
            f"{body[:1000]!r}"
        ) from None


def _checked(path: str) -> bool:
    return path.startswith("/api/") or any(p.fullmatch(path) for p, _, _ in OPERATIONS)


async def _check_responses(request: ClientRequest, handler: ClientHandlerType) -> ClientResponse:
    response = await handler(request)
    path = request.url.raw_path
    if response.status != 101 and request.method != "HEAD" and _checked(path):
        body = await response.read()
        check_response(request.method, path, response.status, response.content_type, body)
    return response


# For a ClientSession (or aiohttp_client): ``middlewares=CHECK_RESPONSES``.
CHECK_RESPONSES = (_check_responses,)
