"""Reading request bodies: a clear 400 for anything malformed, before anything is stored."""

from __future__ import annotations

import json
from typing import Any

from aiohttp import web

from handoff.http_errors import json_error


# Every integer column fits a signed 32-bit value.
MAX_INT = 2**31 - 1


async def read_json(request: web.Request) -> dict[str, Any]:
    try:
        raw = await request.read()
        body = json.loads(raw or b"null")
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise json_error(web.HTTPBadRequest, f"body is not valid JSON: {exc}") from None
    if not isinstance(body, dict):
        raise json_error(web.HTTPBadRequest, "body must be a JSON object")
    return body


def text_field(
    body: dict[str, Any], name: str, *, max_chars: int, required: bool = True
) -> str | None:
    value = body.get(name)
    if value is None:
        if required:
            raise json_error(web.HTTPBadRequest, f"'{name}' is required", field=name)
        return None
    if not isinstance(value, str):
        raise json_error(web.HTTPBadRequest, f"'{name}' must be a string", field=name)
    if "\x00" in value:
        raise json_error(web.HTTPBadRequest, f"'{name}' must not contain NUL", field=name)
    if not value.isascii():
        try:
            value.encode("utf-8")
        except UnicodeEncodeError:  # a lone surrogate ("\ud800" in the JSON): no text
            raise json_error(
                web.HTTPBadRequest, f"'{name}' is not valid Unicode", field=name
            ) from None
    value = value.strip()
    if required and not value:
        raise json_error(web.HTTPBadRequest, f"'{name}' must not be empty", field=name)
    if len(value) > max_chars:
        raise json_error(
            web.HTTPRequestEntityTooLarge,
            f"'{name}' is longer than {max_chars} characters",
            field=name,
        )
    return value or None


def int_query(request: web.Request, name: str, default: int) -> int:
    raw = request.query.get(name)
    if raw is None or raw == "":
        return default
    try:
        value = int(raw)
    except ValueError:
        raise json_error(web.HTTPBadRequest, f"'{name}' must be an integer", field=name) from None
    if value < 0:
        raise json_error(web.HTTPBadRequest, f"'{name}' must not be negative", field=name)
    if value > MAX_INT:
        raise json_error(web.HTTPBadRequest, f"'{name}' is too large", field=name)
    return value
