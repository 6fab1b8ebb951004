"""Typed keys for what lives in the application's state."""

from __future__ import annotations

from typing import TYPE_CHECKING

from aiohttp import web

if TYPE_CHECKING:
    import asyncio

    import redis.asyncio as aioredis
    from handoff.assistant.misses import Misses
    from handoff.assistant.pool import RasaPool
    from handoff.conversations.annotations import Annotator
    from handoff.conversations.customer_turns import WaitingTurn
    from handoff.access.auth import TokenHashes
    from handoff.storage.client_ids import ClientIds
    from handoff.storage.db import Database
    from handoff.live.fanout import FanoutPublisher
    from handoff.live.publisher import Publisher
    from handoff.metrics import Metrics
    from handoff.agent_tools.fulfilment import Fulfilment
    from handoff.storage.holders import Holders
    from handoff.routing.presence import AgentGrace
    from handoff.web.ratelimit import Limits
    from handoff.agent_tools.resolution_actions import Catalogue
    from handoff.settings import Settings
    from handoff.live.sockets import SocketRegistry
    from handoff.routing.turns import TurnLocks
    from handoff.storage.writer import MessageWriter

SETTINGS: web.AppKey["Settings"] = web.AppKey("settings")
DB: web.AppKey["Database"] = web.AppKey("db")
# Rasa's processes, each with its client and admission (handoff.assistant.pool).
RASA: web.AppKey["RasaPool"] = web.AppKey("rasa")
METRICS: web.AppKey["Metrics"] = web.AppKey("metrics")
# Each conversation's bot turn waiting for Rasa, which the customer's "Talk to a person" cancels.
WAITING_BOT_TURNS: web.AppKey[dict[str, "WaitingTurn"]] = web.AppKey("waiting_bot_turns")
SOCKETS: web.AppKey["SocketRegistry"] = web.AppKey("sockets")
# A FanoutPublisher when several gateways share Redis (handoff.live.fanout).
PUBLISHER: web.AppKey["Publisher | FanoutPublisher"] = web.AppKey("publisher")
TURN_LOCKS: web.AppKey["TurnLocks"] = web.AppKey("turn_locks")
AGENT_GRACE: web.AppKey["AgentGrace"] = web.AppKey("agent_grace")
LIMITS: web.AppKey["Limits"] = web.AppKey("limits")
RESOLUTIONS: web.AppKey["Catalogue"] = web.AppKey("resolutions")
FULFILMENT: web.AppKey["Fulfilment"] = web.AppKey("fulfilment")
TOKEN_HASHES: web.AppKey["TokenHashes"] = web.AppKey("token_hashes")
ANNOTATOR: web.AppKey["Annotator"] = web.AppKey("annotator")
HOLDERS: web.AppKey["Holders"] = web.AppKey("holders")
CLIENT_IDS: web.AppKey["ClientIds"] = web.AppKey("client_ids")
WRITER: web.AppKey["MessageWriter"] = web.AppKey("writer")
# The Redis several gateway processes share, None when this one is alone (handoff.storage.shared).
REDIS: web.AppKey["aioredis.Redis | None"] = web.AppKey("redis")
# What the bot could not answer, grouped into topics (handoff.assistant.misses).
MISSES: web.AppKey["Misses"] = web.AppKey("misses")
# Held while the learned training data is read and written (handoff.web.views.insights).
LEARNED_WRITES: web.AppKey["asyncio.Lock"] = web.AppKey("learned_writes")
# Conversations whose open handoff has its first reply recorded (handoff.conversations.agent_side).
FIRST_REPLIES: web.AppKey[set[str]] = web.AppKey("first_replies")
