"""Reading request bodies and socket frames: a clear 400 for anything malformed, before
anything is stored.

A body or frame is decoded by its shape (the ``...In`` Structs of handoff/shapes/http.py,
the client frames of handoff/shapes/events.py) with read_body or decode; its texts are
then trimmed and checked. Whatever the Struct refuses is answered with the same message
and ``field`` the checks below give, for the first wrong field in the order the Struct
declares them. Views parse nothing themselves (tests/gateway/test_layers.py).
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass, replace
from functools import cache
from typing import Any, TypeVar

import msgspec
import msgspec.inspect as mi
from aiohttp import web

from handoff.http_errors import json_error


# Every integer column fits a signed 32-bit value.
MAX_INT = 2**31 - 1
# How much of an unknown field's name an answer repeats.
SHOWN_NAME_CHARS = 64

S = TypeVar("S", bound=msgspec.Struct)


def _json_object(raw: bytes | str) -> dict[str, Any]:
    try:
        body = json.loads(raw or b"null")
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise json_error(web.HTTPBadRequest, f"body is not valid JSON: {exc}") from None
    if not isinstance(body, dict):
        raise json_error(web.HTTPBadRequest, "body must be a JSON object")
    return body


def _text(name: str, value: Any, *, max_chars: int, required: bool) -> str | None:
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
        raise _too_long(name, max_chars)
    return value or None


def _too_long(name: str, max_chars: int) -> web.HTTPException:
    return json_error(
        web.HTTPRequestEntityTooLarge,
        f"'{name}' is longer than {max_chars} characters",
        field=name,
    )


@dataclass(frozen=True)
class Text:
    """A text field: trimmed (blank is none), no NUL, valid Unicode, at most max_chars
    (413), which defaults to the shape's max_length. required defaults to the shape's
    (a field without a default); then, given the trimmed text, checks or changes it."""

    max_chars: int | None = None
    required: bool | None = None
    then: Callable[[str], str] | None = None


@dataclass(frozen=True)
class Refusal:
    """A field whose every problem (missing, wrong type, out of range) is one message."""

    message: str


@dataclass(frozen=True)
class ByCaller:
    """A field the caller checks against the others (what is wrong with it depends on
    them): decode's ``explain`` says so when the shape refuses the body."""


Rule = Text | Refusal | ByCaller


@dataclass(frozen=True)
class _Field:
    name: str
    default: Any
    required: bool
    type: Any
    rule: Rule
    text: mi.StrType | None  # the shape's own limits on a text
    nullable: bool


async def read_body(
    request: web.Request,
    shape: type[S],
    /,
    *,
    explain: Callable[[dict[str, Any]], object] | None = None,
    **rules: Rule,
) -> S:
    """The JSON body as ``shape``, its texts trimmed and checked (blank: None)."""
    return decode(await request.read(), shape, explain=explain, **rules)


def decode(
    raw: bytes | str,
    shape: type[S],
    /,
    *,
    explain: Callable[[dict[str, Any]], object] | None = None,
    **rules: Rule,
) -> S:
    """``raw`` JSON as ``shape``, its texts trimmed and checked (blank: None).

    A text field needs no rule unless its limit or requiredness is not the shape's; any
    other field needs a Refusal, or ByCaller when ``explain`` raises its 400: explain gets
    the plain JSON object, before the other fields are checked. An unknown field is
    refused too: the shapes forbid them.
    """
    fields = _fields(shape, tuple(rules.items()))
    assert (explain is None) == all(not isinstance(f.rule, ByCaller) for f in fields)
    try:
        parsed = msgspec.json.decode(raw, type=shape)
    except (msgspec.DecodeError, msgspec.ValidationError, UnicodeDecodeError):
        # Refused, or beyond msgspec's parser only (a BOM, a lone surrogate's escape):
        # the checks, run on the plain JSON, say what is wrong as they always did.
        body = _json_object(raw)
        if explain is not None:
            explain(body)
        _first_problem(body, fields, _tag_field(shape))
        try:
            parsed = msgspec.convert(body, shape)
        except (msgspec.ValidationError, UnicodeEncodeError) as exc:  # not expected
            raise json_error(web.HTTPBadRequest, f"body is not valid: {exc}") from None
    changes: dict[str, Any] = {}
    for field in fields:
        if isinstance(field.rule, Text):
            value = getattr(parsed, field.name)
            changes[field.name] = _checked_text(field, None if value is msgspec.UNSET else value)
    return msgspec.structs.replace(parsed, **changes)


async def read_one_of(
    request: web.Request, shapes: tuple[type[msgspec.Struct], ...], refusal: str
) -> msgspec.Struct:
    """The JSON body as the first of ``shapes`` that takes it (they have no tag to tell
    them apart), or one 400 saying what may be given."""
    raw = await request.read()
    for shape in shapes:
        try:
            return msgspec.json.decode(raw, type=shape)
        except (msgspec.DecodeError, msgspec.ValidationError, UnicodeDecodeError):
            continue
    _json_object(raw)  # not JSON, or not an object: say that first
    raise json_error(web.HTTPBadRequest, refusal)


def decode_frame(raw: str, frames: Any) -> msgspec.Struct | dict[str, Any] | None:
    """A socket frame as the one of ``frames`` (a tagged union) it is; else the plain JSON
    object, so that a malformed message can be answered with what is wrong; None when the
    frame is no JSON object at all."""
    try:
        return msgspec.json.decode(raw, type=frames)
    except (msgspec.DecodeError, msgspec.ValidationError, UnicodeDecodeError):
        pass
    try:
        data = json.loads(raw)
    except ValueError:
        return None
    return data if isinstance(data, dict) else None


def _tag_field(shape: type[msgspec.Struct]) -> str | None:
    """The field a tagged shape (a socket frame's ``type``) is told apart by."""
    return shape.__struct_config__.tag_field


@cache
def _fields(
    shape: type[msgspec.Struct], given: tuple[tuple[str, Rule], ...]
) -> tuple[_Field, ...]:
    """The shape's fields with the rules given; cached, as a socket decodes every frame.
    (Rules are frozen dataclasses; an explain callable is not part of the key.)"""
    rules = dict(given)
    fields = tuple(
        replace(field, rule=rules.pop(field.name, field.rule)) for field in _shape(shape)
    )
    assert not rules, f"{shape.__name__} has no field {', '.join(rules)}"
    for field in fields:
        assert not isinstance(field.rule, Text) or field.text, f"'{field.name}' needs a Refusal"
    return fields


@cache
def _shape(shape: type[msgspec.Struct]) -> tuple[_Field, ...]:
    """The shape's fields in their order, each a text by default."""
    return tuple(
        _Field(info.name, info.default, info.required, info.type, Text(), *text_type)
        for info in msgspec.structs.fields(shape)
        for text_type in [_text_type(mi.type_info(info.type))]
    )


def _text_type(info: mi.Type) -> tuple[mi.StrType | None, bool]:
    """A field's text type, if it is one (or one or null), and whether it may be null."""
    types = info.types if isinstance(info, mi.UnionType) else (info,)
    types = tuple(t.type if isinstance(t, mi.Metadata) else t for t in types)
    nullable = any(isinstance(t, mi.NoneType) for t in types)
    texts = [t for t in types if isinstance(t, mi.StrType)]
    if len(texts) == 1 and len(types) == 1 + nullable:
        return texts[0], nullable
    return None, nullable


def _checked_text(field: _Field, value: Any) -> Any:
    rule = field.rule
    assert isinstance(rule, Text) and field.text is not None
    max_chars = rule.max_chars or field.text.max_length
    assert max_chars is not None, f"'{field.name}' has no limit"
    required = field.required if rule.required is None else rule.required
    text = _text(field.name, value, max_chars=max_chars, required=required)
    if text is None:
        return field.default if field.default is not msgspec.NODEFAULT else None
    return rule.then(text) if rule.then else text


def _first_problem(body: dict[str, Any], fields: tuple[_Field, ...], tag: str | None) -> None:
    """Raise the 400 (or 413) for the first wrong field, if any."""
    for field in fields:
        value = body.get(field.name)
        if isinstance(field.rule, ByCaller):
            continue
        if isinstance(field.rule, Refusal):
            if field.name in body:
                try:
                    msgspec.convert(value, field.type)
                except (msgspec.ValidationError, UnicodeEncodeError):
                    raise _refused(field) from None
            elif field.required:
                raise _refused(field)
            continue
        _checked_text(field, value)
        # What only the shape refuses: a null it does not take, a length counted before
        # the text is trimmed.
        if field.name not in body:
            continue
        if value is None and not field.nullable:
            raise json_error(
                web.HTTPBadRequest, f"'{field.name}' must be a string", field=field.name
            )
        if isinstance(value, str):
            if field.text.max_length is not None and len(value) > field.text.max_length:
                raise _too_long(field.name, field.text.max_length)
            if field.text.min_length is not None and len(value) < field.text.min_length:
                raise json_error(
                    web.HTTPBadRequest, f"'{field.name}' must not be empty", field=field.name
                )
    names = [field.name for field in fields]
    for name in body:
        if name not in names and name != tag:
            shown = name[:SHOWN_NAME_CHARS].encode("utf-8", "backslashreplace").decode()
            raise json_error(
                web.HTTPBadRequest,
                f"unknown field '{shown}'; the fields are {', '.join(names)}",
                field=shown,
            )


def _refused(field: _Field) -> web.HTTPException:
    assert isinstance(field.rule, Refusal)
    return json_error(web.HTTPBadRequest, field.rule.message, field=field.name)


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
