"""The contact form: each field checked on its own, the error about the field that is wrong."""

from __future__ import annotations

from typing import Any

import pytest
from aiohttp.test_utils import TestClient

from .conftest import Customer

NEITHER = "Please give an e-mail address or a phone number, so we can get back to you."
NO_AT = "That e-mail address doesn't look right: it needs an @, like name@example.com."
BAD_DOMAIN = (
    "That e-mail address doesn't look right: after the @ comes a domain with a dot, "
    "like example.com."
)
PHONE_WORDS = (
    "That phone number doesn't look right: use digits, spaces and an optional + in front, "
    "like +44 20 7946 0958."
)


async def _contact(client: TestClient, customer: Customer, body: dict[str, Any]) -> Any:
    response = await client.post(
        f"/api/conversations/{customer.id}/contact", json=body, headers=customer.headers
    )
    return response.status, await response.json()


@pytest.mark.parametrize(
    ("body", "field", "errors"),
    [
        ({"email": "ana.example.com"}, "email", {"email": NO_AT}),
        # The case of the issue: a wrong e-mail next to a good phone is about the e-mail.
        ({"email": "ana.example.com", "phone": "+44 20 7946 0958"}, "email", {"email": NO_AT}),
        ({"email": "ana@example"}, "email", {"email": BAD_DOMAIN}),
        ({"email": "ana @example.com"}, "email",
         {"email": "That e-mail address doesn't look right: it has a space in it."}),
        ({"email": "a@b@example.com"}, "email",
         {"email": "That e-mail address doesn't look right: it has more than one @."}),
        ({"email": "@example.com"}, "email",
         {"email": "That e-mail address doesn't look right: there is nothing before the @."}),
        ({"phone": "call me"}, "phone", {"phone": PHONE_WORDS}),
        ({"email": "ana@example.com", "phone": "123"}, "phone",
         {"phone": "That phone number doesn't look right: it has too few digits."}),
        ({"phone": "+1 234 567 890 123 456"}, "phone",
         {"phone": "That phone number doesn't look right: it has too many digits."}),
        ({"email": "nope", "phone": "call me"}, "email",
         {"email": NO_AT, "phone": PHONE_WORDS}),
        ({"name": "Ana", "message": "call me back"}, "email", {"email": NEITHER}),
    ],
)
async def test_each_wrong_field_gets_its_own_plain_error(
    client: TestClient, customer: Customer, body: dict[str, Any], field: str,
    errors: dict[str, str],
) -> None:
    await customer.say("can I talk to a real person")
    before = await customer.messages()

    status, answer = await _contact(client, customer, body)

    assert status == 400
    assert answer == {"error": {"status": 400, "message": errors[field], "field": field,
                                "errors": errors}}
    assert await customer.messages() == before


async def test_after_a_wrong_e_mail_the_corrected_form_is_taken(
    client: TestClient, customer: Customer
) -> None:
    await customer.say("can I talk to a real person")
    form = {"name": "Ana", "email": "ana.example.com", "message": "Please email me."}
    status, _ = await _contact(client, customer, form)
    assert status == 400

    status, answer = await _contact(client, customer, {**form, "email": "ana@example.com"})

    assert status == 200
    assert [(m["sender"], m["text"]) for m in answer["messages"]] == [
        ("customer", "Please email me."),
        ("system", "Thank you. We'll get back to you at ana@example.com as soon as a colleague "
                   "is free, and they'll have this whole conversation in front of them."),
    ]
