"""A scripted stand-in for Rasa's `baton` channel, for the gateway's own tests.

It speaks the contract in docs/contract.md; the end-to-end tests use the real Rasa.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, field
from typing import Any

from aiohttp import web


@dataclass
class FakeRasa:
    calls: list[dict[str, Any]] = field(default_factory=list)
    state_calls: list[dict[str, Any]] = field(default_factory=list)
    paused: set[str] = field(default_factory=set)
    broken: bool = False
    delay: float = 0.0
    # The Authorization header of every webhook and state call, by route.
    authorizations: list[tuple[str, str | None]] = field(default_factory=list)
    # When set, webhook and state answer 401 without "Bearer <secret>", as the real
    # channel does (bot/channel.py).
    secret: str | None = None
    # What the NLU finds in a message, by its text (none when not listed).
    entities: dict[str, list[dict[str, Any]]] = field(default_factory=dict)
    # Messages the bot cannot answer, by text: their packed vector (bot/nlu/misses.py).
    misses: dict[str, str] = field(default_factory=dict)
    # What the NLU reads of a message's frustration, by its text (calm when not listed).
    frustration: dict[str, dict[str, Any]] = field(default_factory=dict)
    # Webhook calls being answered now, and the most there ever were at once.
    in_flight: int = 0
    max_in_flight: int = 0
    # The conversations /forget was asked to delete, in order (bot/forgetting.py).
    forgotten: list[str] = field(default_factory=list)
    forget_calls: list[list[str]] = field(default_factory=list)

    def app(self) -> web.Application:
        app = web.Application()
        app.router.add_post("/webhooks/baton/webhook", self.webhook)
        app.router.add_post("/webhooks/baton/state", self.state)
        app.router.add_post("/webhooks/baton/forget", self.forget)
        app.router.add_get("/webhooks/baton/", self.health)
        app.router.add_get("/health", self.health)
        return app

    async def health(self, request: web.Request) -> web.Response:
        if self.broken:
            return web.json_response({"status": "down"}, status=500)
        return web.json_response({"status": "ok"})

    def _refuses(self, route: str, request: web.Request) -> bool:
        authorization = request.headers.get("Authorization")
        self.authorizations.append((route, authorization))
        return self.secret is not None and authorization != f"Bearer {self.secret}"

    async def state(self, request: web.Request) -> web.Response:
        if self._refuses("state", request):
            return web.json_response({"error": "unauthorized"}, status=401)
        body = await request.json()
        self.state_calls.append(body)
        self._sync(body["sender"], body["mode"])
        return web.json_response({"paused": body["sender"] in self.paused})

    async def forget(self, request: web.Request) -> web.Response:
        if self.broken:
            return web.json_response({"error": "down"}, status=500)
        if self._refuses("forget", request):
            return web.json_response({"error": "unauthorized"}, status=401)
        senders = (await request.json())["senders"]
        self.forgotten += senders
        self.forget_calls.append(senders)
        return web.json_response({"forgotten": len(senders)})

    def _sync(self, sender: str, mode: str) -> None:
        if mode == "human":
            self.paused.add(sender)
        else:
            self.paused.discard(sender)

    async def webhook(self, request: web.Request) -> web.Response:
        if self.broken:
            return web.json_response({"error": "down"}, status=500)
        if self._refuses("webhook", request):
            return web.json_response({"error": "unauthorized"}, status=401)
        body = await request.json()
        self.calls.append(body)
        if self.delay:
            self.in_flight += 1
            self.max_in_flight = max(self.max_in_flight, self.in_flight)
            try:
                await asyncio.sleep(self.delay)
            finally:
                self.in_flight -= 1
            if self.broken:
                # Broken while this turn was being answered.
                return web.json_response({"error": "down"}, status=500)
        sender, text = body["sender"], body["message"]
        self._sync(sender, body["mode"])
        nlu = {
            "intent": {"name": "ask_check_in", "confidence": 0.91},
            "intent_ranking": [{"name": "ask_check_in", "confidence": 0.91}],
            "entities": self.entities.get(text, []),
            "frustration": {"score": 0.1, "signals": []},
            "disruption": {"type": None},
        }
        if text in self.frustration:
            nlu["frustration"] = self.frustration[text]
        if text in self.misses:
            nlu["intent"] = {"name": "out_of_scope", "confidence": 0.8}
            nlu["miss_vector"] = self.misses[text]
        if sender in self.paused:
            return web.json_response(
                {"messages": [], "nlu": nlu, "paused": True, "handoff": None}
            )
        handoff = None
        if "person" in text or text == "/human_handoff":
            handoff = {"reason": "requested", "disruption": None,
                       "context": {"summary": "The customer asked for a person."}}
        elif "furious" in text:
            handoff = {"reason": "frustration", "disruption": None,
                       "context": {"summary": "Angry.", "frustration": {"score": 0.9}}}
        elif "cancelled" in text:
            handoff = {"reason": "disruption", "disruption": "cancelled",
                       "context": {"summary": "Flight cancelled."}}
        if handoff is not None:
            self.paused.add(sender)
            nlu["intent"] = {"name": "human_handoff", "confidence": 0.99}
            return web.json_response(
                {
                    "messages": [{"text": "A colleague is on the way."}],
                    "nlu": nlu,
                    "paused": True,
                    "handoff": handoff,
                }
            )
        return web.json_response(
            {
                "messages": [
                    {
                        "text": f"Answer to: {text}",
                        "buttons": [{"title": "Baggage", "payload": "/ask_baggage"}],
                    }
                ],
                "nlu": nlu,
                "paused": False,
                "handoff": None,
            }
        )
