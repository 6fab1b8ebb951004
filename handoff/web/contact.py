"""The details a waiting customer leaves: each field checked on its own, in plain words."""

from __future__ import annotations

import re

from aiohttp import web

from handoff.http_errors import json_error
from handoff.shapes.http import ContactIn

NEITHER = "Please give an e-mail address or a phone number, so we can get back to you."
BAD_EMAIL = "That e-mail address doesn't look right: "
BAD_PHONE = "That phone number doesn't look right: "
PHONE_CHARS = re.compile(r"\+?[0-9 ()./-]+")
DOMAIN_LABEL = re.compile(r"[^\s@.]+")


def email_problem(email: str) -> str | None:
    """What is wrong with an address, said so that its owner can fix it; None if nothing."""
    if any(ch.isspace() for ch in email):
        return BAD_EMAIL + "it has a space in it."
    if "@" not in email:
        return BAD_EMAIL + "it needs an @, like name@example.com."
    local, _, domain = email.rpartition("@")
    if "@" in local:
        return BAD_EMAIL + "it has more than one @."
    if not local:
        return BAD_EMAIL + "there is nothing before the @."
    labels = domain.split(".")
    if len(labels) < 2 or not all(DOMAIN_LABEL.fullmatch(label) for label in labels):
        return BAD_EMAIL + "after the @ comes a domain with a dot, like example.com."
    return None


def phone_problem(phone: str) -> str | None:
    if not PHONE_CHARS.fullmatch(phone):
        return BAD_PHONE + "use digits, spaces and an optional + in front, like +44 20 7946 0958."
    # E.164: at most 15 digits; fewer than 6 reach nobody.
    digits = sum(ch.isdigit() for ch in phone)
    if digits < 6:
        return BAD_PHONE + "it has too few digits."
    if digits > 15:
        return BAD_PHONE + "it has too many digits."
    return None


def parse_contact(body: ContactIn) -> tuple[dict[str, str], str | None]:
    """The contact details and the message (each already trimmed, blank as None); a 400
    naming every field that is wrong.

    The answer's ``field`` and ``message`` are the first problem, ``errors`` all of them
    by field, so the widget can show each next to its own field.
    """
    name, email, phone = body.name, body.email, body.phone
    errors: dict[str, str] = {}
    if not email and not phone:
        errors["email"] = NEITHER
    if email and (problem := email_problem(email)):
        errors["email"] = problem
    if phone and (problem := phone_problem(phone)):
        errors["phone"] = problem
    if errors:
        field, first = next(iter(errors.items()))
        raise json_error(web.HTTPBadRequest, first, field=field, errors=errors)
    contact = {key: value for key, value in (("name", name), ("email", email), ("phone", phone)) if value}
    return contact, body.message
