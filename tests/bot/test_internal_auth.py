"""The internal secret's check, shared by the baton channel and the action server."""

from __future__ import annotations

from typing import Optional

import pytest

from bot.internal_auth import authorized, internal_secret


@pytest.mark.parametrize(
    ("authorization", "secret", "expected"),
    [
        ("Bearer s3cret", "s3cret", True),
        ("bearer s3cret", "s3cret", True),
        ("Bearer  s3cret ", "s3cret", True),
        ("Bearer s3cre", "s3cret", False),
        ("Bearer s3cret2", "s3cret", False),
        ("s3cret", "s3cret", False),
        ("Basic s3cret", "s3cret", False),
        ("Bearer ", "s3cret", False),
        (None, "s3cret", False),
        ("Bearer ", None, False),
        ("Bearer ", "", False),
        ("Bearer None", None, False),
        ("Bearer s3cret", None, False),
        ("Bearer sécret", "s3cret", False),
    ],
)
def test_only_the_secret_as_a_bearer_token_is_authorized(
    authorization: Optional[str], secret: Optional[str], expected: bool
) -> None:
    assert authorized(authorization, secret) is expected


@pytest.mark.parametrize(
    ("environ", "expected"),
    [({}, None), ({"BATON_INTERNAL_SECRET": ""}, None), ({"BATON_INTERNAL_SECRET": "  "}, None),
     ({"BATON_INTERNAL_SECRET": " abc "}, "abc")],
)
def test_a_blank_secret_is_no_secret(environ: dict, expected: Optional[str]) -> None:
    assert internal_secret(environ) == expected
