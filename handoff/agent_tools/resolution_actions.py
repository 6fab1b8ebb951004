"""The company's empowered resolution actions, read from a JSON file at startup.

The file (settings.resolutions_file, env BATON_RESOLUTIONS_FILE)::

    {"currency": "EUR",
     "pending_text": "I've asked a supervisor to approve {what}. ...",
     "rejected_text": "I'm sorry, {what} wasn't approved this time. {agent} will ...",
     "actions": [
       {"id": "voucher", "label": "Issue a travel voucher", "takes_amount": true,
        "limits": {"agent": 200, "supervisor": 1000},
        "per_conversation": {"agent": 200, "supervisor": 1000},
        "customer_phrase": "a travel voucher of {amount} {currency} for you",
        "customer_text": "I've issued a travel voucher of {amount} {currency}. Your reference is {reference}; ..."},
       {"id": "rebook_next_flight", "label": "Rebook on the next flight",
        "takes_amount": false, "limits": {"agent": true, "supervisor": true},
        "fields": [{"id": "flight", "label": "New flight", "type": "flight_number"},
                   {"id": "departure", "label": "Departure (local time)", "type": "datetime"}],
        "customer_phrase": "your rebooking on {flight}, departing {departure}",
        "customer_text": "I've rebooked you on {flight}, departing {departure}. Your reference is {reference}; ..."}]}

``limits`` gives each role its authority: for an action with an amount, the largest
amount the role may commit at once (0: always needs approval); for one without, whether
the role may do it at once. A role that is not listed needs approval. For an action with
an amount, ``per_conversation`` (optional, per role; the role's limit when not given)
caps what the role's authority covers in one conversation, counting what was already
committed there, so 170 + 170 + 170 never slips under a limit of 200. Nobody may ask for
more than any role could approve.

What the customer reads is written for them, never the agent's label: ``customer_phrase``
names the action in a sentence ("a travel voucher of 500 EUR for you") and fills
``{what}`` in ``pending_text`` and ``rejected_text`` (which also has ``{agent}``, the
requesting agent's name); ``customer_text``, told once it is done, must give the
``{reference}``. Every text may use ``{amount}``, ``{currency}``, ``{what}`` and the
action's ``fields`` by id (handoff.agent_tools.resolution_fields; every declared field is required).
"""

from __future__ import annotations

import json
import re
import string
from collections.abc import AsyncIterator, Mapping
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import Any

from aiohttp import web

from handoff import keys
from handoff.agent_tools.resolution_fields import FIELD_TYPES, ActionField
from handoff.live.serializers import amount_number
from handoff.shapes import http

ROLES = ("agent", "supervisor")
DEFAULT_PENDING_TEXT = (
    "I've asked a supervisor to approve {what}. Nothing has been changed or charged yet; "
    "I'll tell you here as soon as it's decided."
)
DEFAULT_REJECTED_TEXT = (
    "I'm sorry, {what} wasn't approved this time. {agent} will go through the other "
    "options with you here."
)
# Placeholders every customer text may use, besides the action's fields.
COMMON_PLACEHOLDERS = ("amount", "currency", "what")
FIELD_ID = re.compile(r"[a-z][a-z0-9_]{0,31}")


class ConfigError(ValueError):
    pass


def to_minor(value: Decimal) -> int:
    return int(value * 100)


def format_amount(minor: int) -> str:
    """1500 -> "15", 150050 -> "1,500.50"."""
    units, cents = divmod(minor, 100)
    return f"{units:,}" if cents == 0 else f"{units:,}.{cents:02d}"


@dataclass(frozen=True)
class ResolutionAction:
    id: str
    label: str
    takes_amount: bool
    currency: str | None
    # Role -> the largest amount (minor units) it may commit at once; for an action
    # without an amount, 0 (needs approval) or 1 (may do it at once).
    limits: dict[str, int]
    customer_text: str
    # Role -> the most (minor units) its authority covers in one conversation, what was
    # already committed there included; a role not listed: its limit.
    per_conversation: dict[str, int] = field(default_factory=dict)
    # How the customer hears of it in a sentence: "a travel voucher of 500 EUR for you".
    customer_phrase: str = ""
    fields: tuple[ActionField, ...] = ()

    def limit_for(self, role: str) -> int:
        return self.limits.get(role, 0)

    def cap_for(self, role: str) -> int:
        return self.per_conversation.get(role, self.limit_for(role))

    @property
    def max_minor(self) -> int:
        return max(self.limits.values(), default=0)

    def room_for(self, role: str, given_minor: int) -> int:
        """How much more the role may commit in a conversation that already had given_minor."""
        return max(0, min(self.limit_for(role), self.cap_for(role) - given_minor))

    def room(self, given_minor: int) -> int:
        """How much more anyone may approve in that conversation."""
        return max((self.room_for(role, given_minor) for role in self.limits), default=0)

    def within_limit(self, role: str, amount_minor: int | None, given_minor: int = 0) -> bool:
        if not self.takes_amount:
            return self.limit_for(role) > 0
        return amount_minor is not None and amount_minor <= self.room_for(role, given_minor)

    def can_be_approved(self, amount_minor: int | None, given_minor: int = 0) -> bool:
        return amount_minor is None or amount_minor <= self.room(given_minor)

    def customer_message(
        self, amount_minor: int | None, fields: Mapping[str, str], reference: str
    ) -> str:
        return _render(self.customer_text, self, amount_minor, fields, reference=reference)

    def shape(self, role: str) -> http.ResolutionAction:
        """The action as an agent of this role sees it (GET /api/agent/resolutions)."""
        return http.ResolutionAction(
            id=self.id,
            label=self.label,
            takes_amount=self.takes_amount,
            currency=self.currency,
            limit=amount_number(self.limit_for(role)) if self.takes_amount else None,
            per_conversation=amount_number(self.cap_for(role)) if self.takes_amount else None,
            max_amount=amount_number(self.max_minor) if self.takes_amount else None,
            immediate=self.limit_for(role) > 0,
            fields=[f.shape() for f in self.fields],
        )


@dataclass(frozen=True)
class Catalogue:
    actions: dict[str, ResolutionAction]
    pending_text: str = DEFAULT_PENDING_TEXT
    rejected_text: str = DEFAULT_REJECTED_TEXT

    def pending_message(
        self, action: ResolutionAction, amount_minor: int | None, fields: Mapping[str, str]
    ) -> str:
        return _render(self.pending_text, action, amount_minor, fields)

    def rejected_message(
        self, action: ResolutionAction, amount_minor: int | None, fields: Mapping[str, str],
        agent: str,
    ) -> str:
        return _render(self.rejected_text, action, amount_minor, fields, agent=agent)


def _render(
    template: str, action: ResolutionAction, amount_minor: int | None,
    fields: Mapping[str, str], **extra: str,
) -> str:
    values = {
        "amount": format_amount(amount_minor) if amount_minor is not None else "",
        "currency": action.currency or "",
        **{f.id: f.for_customer(fields[f.id]) for f in action.fields if f.id in fields},
    }
    what = action.customer_phrase.format(**values)
    return template.format(**values, what=what, **extra)


def _text(raw: dict[str, Any], key: str, where: str, max_chars: int = 1000) -> str:
    value = raw.get(key)
    if not isinstance(value, str) or not value.strip() or len(value) > max_chars:
        raise ConfigError(f"{where}: '{key}' must be a non-empty string")
    return value.strip()


def _limit(value: Any, takes_amount: bool, where: str) -> int:
    if not takes_amount:
        if not isinstance(value, bool):
            raise ConfigError(f"{where}: a limit must be true or false (the action has no amount)")
        return int(value)
    if isinstance(value, bool) or not isinstance(value, (int, float, str)):
        raise ConfigError(f"{where}: a limit must be an amount")
    try:
        amount = Decimal(str(value))
    except InvalidOperation:
        raise ConfigError(f"{where}: a limit must be an amount") from None
    if not amount.is_finite() or amount < 0 or amount != amount.quantize(Decimal("0.01")):
        raise ConfigError(f"{where}: a limit must be 0 or more, in cents at most")
    return to_minor(amount)


def _check_roles(by_role: dict[str, Any], where: str) -> None:
    unknown = set(by_role) - set(ROLES)
    if unknown:
        raise ConfigError(f"{where}: unknown roles {sorted(unknown)}; roles are {list(ROLES)}")


def _check_template(
    text: str, where: str, allowed: tuple[str, ...], required: tuple[str, ...] = ()
) -> None:
    try:
        used = {name for _, name, _, _ in string.Formatter().parse(text) if name is not None}
    except ValueError as exc:
        raise ConfigError(f"{where}: bad placeholder in text: {exc}") from None
    for name in sorted(used):
        if name not in allowed:
            usable = ", ".join(f"{{{a}}}" for a in allowed)
            raise ConfigError(
                f"{where}: bad placeholder in text: {{{name}}}; "
                + (f"use {usable}" if allowed else "it may use none")
            )
    for name in required:
        if name not in used:
            raise ConfigError(f"{where}: the text must give the customer {{{name}}}")


def _fields(raw: Any, where: str) -> tuple[ActionField, ...]:
    if not isinstance(raw, list):
        raise ConfigError(f"{where}: 'fields' must be a list")
    fields: list[ActionField] = []
    for index, item in enumerate(raw):
        at = f"{where}: fields[{index}]"
        if not isinstance(item, dict):
            raise ConfigError(f"{at} must be an object")
        field_id = _text(item, "id", at, max_chars=32)
        if not FIELD_ID.fullmatch(field_id) or field_id in (*COMMON_PLACEHOLDERS, "reference",
                                                           "agent"):
            raise ConfigError(f"{at}: the id '{field_id}' must be a lower-case name that no "
                              "text placeholder uses")
        if field_id in {f.id for f in fields}:
            raise ConfigError(f"{at}: the id '{field_id}' is used twice")
        kind = item.get("type")
        if kind not in FIELD_TYPES:
            raise ConfigError(f"{at}: 'type' must be one of {list(FIELD_TYPES)}")
        fields.append(ActionField(field_id, _text(item, "label", at, max_chars=80), kind))
    return tuple(fields)


def parse_catalogue(data: Any) -> Catalogue:
    if not isinstance(data, dict) or not isinstance(data.get("actions"), list):
        raise ConfigError("the file must be an object with an 'actions' list")
    currency = data.get("currency")
    if currency is not None and (not isinstance(currency, str) or len(currency) != 3):
        raise ConfigError("'currency' must be a three-letter code such as EUR")
    texts = {}
    for key, default in (("pending_text", DEFAULT_PENDING_TEXT),
                         ("rejected_text", DEFAULT_REJECTED_TEXT)):
        texts[key] = data.get(key, default)
        if not isinstance(texts[key], str) or not texts[key].strip():
            raise ConfigError(f"'{key}' must be a non-empty string")
        texts[key] = texts[key].strip()
    _check_template(texts["pending_text"], "pending_text", COMMON_PLACEHOLDERS)
    _check_template(texts["rejected_text"], "rejected_text", (*COMMON_PLACEHOLDERS, "agent"))
    actions: dict[str, ResolutionAction] = {}
    for index, raw in enumerate(data["actions"]):
        where = f"actions[{index}]"
        if not isinstance(raw, dict):
            raise ConfigError(f"{where}: must be an object")
        action_id = _text(raw, "id", where, max_chars=64)
        where = f"action '{action_id}'"
        if action_id in actions:
            raise ConfigError(f"{where}: the id is used twice")
        takes_amount = raw.get("takes_amount", False)
        if not isinstance(takes_amount, bool):
            raise ConfigError(f"{where}: 'takes_amount' must be true or false")
        action_currency = raw.get("currency", currency) if takes_amount else None
        if takes_amount and (not isinstance(action_currency, str) or len(action_currency) != 3):
            raise ConfigError(f"{where}: an action with an amount needs a currency")
        limits = raw.get("limits")
        if not isinstance(limits, dict) or not limits:
            raise ConfigError(f"{where}: 'limits' must map roles to their authority")
        _check_roles(limits, where)
        caps = raw.get("per_conversation", {})
        if not isinstance(caps, dict):
            raise ConfigError(f"{where}: 'per_conversation' must map roles to amounts")
        if caps and not takes_amount:
            raise ConfigError(f"{where}: 'per_conversation' is for actions with an amount")
        _check_roles(caps, where)
        action = ResolutionAction(
            id=action_id,
            label=_text(raw, "label", where, max_chars=120),
            takes_amount=takes_amount,
            currency=action_currency,
            limits={role: _limit(value, takes_amount, where) for role, value in limits.items()},
            customer_text=_text(raw, "customer_text", where),
            per_conversation={role: _limit(value, True, where) for role, value in caps.items()},
            customer_phrase=_text(raw, "customer_phrase", where, max_chars=300),
            fields=_fields(raw.get("fields", []), where),
        )
        if action.max_minor == 0:
            raise ConfigError(f"{where}: no role may carry it out or approve it")
        # Texts name only what the action has: no {amount} for one without.
        own = (*(("amount", "currency") if takes_amount else ()), *(f.id for f in action.fields))
        _check_template(action.customer_phrase, f"{where}: customer_phrase", own)
        _check_template(action.customer_text, f"{where}: customer_text",
                        (*own, "what", "reference"), required=("reference",))
        actions[action_id] = action
    return Catalogue(actions=actions, **texts)


def load_catalogue(path: Path) -> Catalogue:
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except OSError as exc:
        raise ConfigError(f"cannot read the resolution actions file {path}: {exc}") from None
    except ValueError as exc:
        raise ConfigError(f"{path} is not valid JSON: {exc}") from None
    try:
        return parse_catalogue(data)
    except ConfigError as exc:
        raise ConfigError(f"{path}: {exc}") from None


async def setup_catalogue(app: web.Application) -> AsyncIterator[None]:
    # Read once at startup, so a broken file stops the gateway instead of an agent.
    app[keys.RESOLUTIONS] = load_catalogue(app[keys.SETTINGS].resolutions_file)
    yield
