"""Typed keys for what lives in the application's state."""

from __future__ import annotations

from typing import TYPE_CHECKING

from aiohttp import web

if TYPE_CHECKING:
    from .annotations import Annotator
    from .auth import TokenHashes
    from .client_ids import ClientIds
    from .db import Database
    from .events import Publisher
    from .fulfilment import Fulfilment
    from .holders import Holders
    from .presence import AgentGrace
    from .ratelimit import Limits
    from .rasa_client import RasaClient
    from .resolution_actions import Catalogue
    from .settings import Settings
    from .sockets import SocketRegistry
    from .turns import TurnLocks
    from .writer import MessageWriter

SETTINGS: web.AppKey["Settings"] = web.AppKey("settings")
DB: web.AppKey["Database"] = web.AppKey("db")
RASA: web.AppKey["RasaClient"] = web.AppKey("rasa")
SOCKETS: web.AppKey["SocketRegistry"] = web.AppKey("sockets")
PUBLISHER: web.AppKey["Publisher"] = web.AppKey("publisher")
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
