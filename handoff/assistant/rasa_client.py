"""The gateway's client of Rasa's `baton` input channel (see docs/contract.md)."""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from typing import Any

import aiohttp
import orjson
from aiohttp import web

from handoff import keys
from handoff.assistant.rasa_http import JsonPoster, NotSent

log = logging.getLogger(__name__)

# Rasa's server (Sanic) closes an idle connection after 5 s; one reused just as it does
# is lost, so the connector lets its own go sooner.
KEEPALIVE_SECONDS = 3.0
# Connections kept to Rasa and the action server; turns are few at a time already
# (handoff.assistant.admission), so a turn never waits for one.
CONNECTIONS = 100


class BotUnavailable(Exception):
    """Rasa or its action server did not give a usable answer in time."""


class RasaDown(BotUnavailable):
    """Rasa itself did not answer: refused, reset, a non-200, or no answer in time.

    Unlike an empty or garbled answer (one turn gone wrong), this says the next turns
    would fail too (handoff.assistant.admission).
    """


class TurnNotSent(BotUnavailable):
    """The turn never reached Rasa: the process was down, refused the connection, or
    failed while the turn waited for its place. Another process may take it without the
    turn being answered twice (handoff.assistant.pool)."""


class RasaUnreached(RasaDown, TurnNotSent):
    """Rasa could not be connected to: down, and nothing was sent."""


@dataclass(frozen=True)
class BotMessage:
    text: str
    buttons: list[dict[str, str]] = field(default_factory=list)


@dataclass(frozen=True)
class BotTurn:
    messages: list[BotMessage]
    nlu: dict[str, Any]
    paused: bool
    handoff: dict[str, Any] | None


def _parse_turn(body: Any) -> BotTurn:
    if not isinstance(body, dict) or not isinstance(body.get("messages"), list):
        raise BotUnavailable(f"unexpected answer from Rasa: {body!r:.200}")
    messages = []
    for item in body["messages"]:
        if not isinstance(item, dict):
            continue
        text = item.get("text")
        buttons = [
            {"title": str(b.get("title", "")), "payload": str(b.get("payload", ""))}
            for b in item.get("buttons") or []
            if isinstance(b, dict)
        ]
        if isinstance(text, str) and text:
            messages.append(BotMessage(text=text, buttons=buttons))
    handoff = body.get("handoff")
    return BotTurn(
        messages=messages,
        nlu=body.get("nlu") if isinstance(body.get("nlu"), dict) else {},
        paused=bool(body.get("paused")),
        handoff=handoff if isinstance(handoff, dict) else None,
    )


def _refusal(status: int) -> str:
    if status == 401:
        return "Rasa answered 401: it was not given the same BATON_INTERNAL_SECRET"
    return f"Rasa answered {status}"


class RasaClient:
    def __init__(
        self,
        session: aiohttp.ClientSession,
        rasa_url: str,
        actions_url: str,
        secret: str,
        timeout: float,
        timezone: dt.tzinfo = dt.timezone.utc,
    ) -> None:
        self._session = session
        # The NLU counts "tomorrow" from each message's time in this zone (bot/nlu/dates.py).
        self._timezone = timezone
        # Only Rasa's channel needs it; the action server's /health is open.
        self._auth = {"Authorization": f"Bearer {secret}"} if secret else {}
        # The bot turn's POST, on every turn's path, has a client of its own (rasa_http).
        self._webhook = JsonPoster(f"{rasa_url}/webhooks/baton/webhook", self._auth,
                                   limit=CONNECTIONS, idle_seconds=KEEPALIVE_SECONDS)
        self._timeout = timeout
        self._state = f"{rasa_url}/webhooks/baton/state"
        self._forget = f"{rasa_url}/webhooks/baton/forget"
        self._health = f"{rasa_url}/webhooks/baton/"
        self._actions_health = f"{actions_url}/health"

    async def send(
        self,
        conversation_id: str,
        text: str,
        message_id: str,
        mode: str,
        sent_at: dt.datetime | None = None,
    ) -> BotTurn:
        """`sent_at`: when the customer sent it, for a message that waited; without it
        Rasa counts from its own clock in the same zone (BATON_TIMEZONE). Metadata on
        every turn cost Rasa about 1 ms of a 30 ms turn (bench/README.md)."""
        payload: dict[str, Any] = {
            "sender": conversation_id,
            "message": text,
            "message_id": message_id,
            "mode": mode,
        }
        if sent_at is not None:
            payload["metadata"] = {"sent_at": sent_at.astimezone(self._timezone).isoformat()}
        try:
            status, raw = await self._webhook.post(orjson.dumps(payload), self._timeout)
        except NotSent as exc:
            raise RasaUnreached(f"Cannot connect to Rasa: {exc}") from exc
        except (OSError, TimeoutError) as exc:
            raise RasaDown(str(exc) or type(exc).__name__) from exc
        if status != 200:
            raise RasaDown(_refusal(status))
        try:
            body = orjson.loads(raw)
        except ValueError as exc:
            raise BotUnavailable(str(exc) or type(exc).__name__) from exc
        turn = _parse_turn(body)
        if turn.handoff is None and not turn.paused and mode == "bot" and not turn.messages:
            # Rasa answers an empty turn when the action server fails.
            raise BotUnavailable("Rasa gave no answer")
        return turn

    async def set_mode(self, conversation_id: str, mode: str) -> None:
        try:
            async with self._session.post(
                self._state, json={"sender": conversation_id, "mode": mode}, headers=self._auth
            ) as response:
                if response.status != 200:
                    raise BotUnavailable(_refusal(response.status))
        except (aiohttp.ClientError, TimeoutError) as exc:
            raise BotUnavailable(str(exc) or type(exc).__name__) from exc

    async def forget(self, conversation_ids: list[str]) -> None:
        """Deletes Rasa's trackers of these conversations (bot/channel.py's /forget)."""
        try:
            async with self._session.post(
                self._forget, json={"senders": conversation_ids}, headers=self._auth
            ) as response:
                if response.status != 200:
                    raise BotUnavailable(_refusal(response.status))
        except (aiohttp.ClientError, TimeoutError) as exc:
            raise BotUnavailable(str(exc) or type(exc).__name__) from exc

    def close(self) -> None:
        self._webhook.close()

    async def ready(self) -> dict[str, bool]:
        return {
            "rasa": await self._answers(self._health),
            "actions": await self._answers(self._actions_health),
        }

    async def rasa_ready(self) -> bool:
        return await self._answers(self._health)

    async def actions_ready(self) -> bool:
        return await self._answers(self._actions_health)

    async def _answers(self, url: str) -> bool:
        try:
            async with self._session.get(url, timeout=aiohttp.ClientTimeout(total=2)) as response:
                return response.status == 200
        except (aiohttp.ClientError, TimeoutError):
            return False


def rasa_session(timeout: float) -> aiohttp.ClientSession:
    """Kept-alive connections to Rasa and its action server, every call within `timeout`."""
    connector = aiohttp.TCPConnector(limit=CONNECTIONS, keepalive_timeout=KEEPALIVE_SECONDS)
    return aiohttp.ClientSession(
        connector=connector, timeout=aiohttp.ClientTimeout(total=timeout)
    )


async def setup_rasa_client(app: web.Application) -> AsyncIterator[None]:
    settings = app[keys.SETTINGS]
    async with rasa_session(settings.rasa_timeout) as session:
        client = RasaClient(
            session,
            settings.rasa_url,
            settings.actions_url,
            settings.internal_secret,
            settings.rasa_timeout,
            settings.tzinfo,
        )
        app[keys.RASA] = client
        try:
            yield
        finally:
            client.close()
