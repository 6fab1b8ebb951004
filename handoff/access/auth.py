"""Who is asking: customers hold a conversation's token, agents a session token."""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import secrets
from collections import OrderedDict

from aiohttp import web
from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession


from handoff import keys
from handoff.http_errors import json_error
from handoff.storage.models import Agent, AgentSession, Conversation, utcnow

SESSION_COOKIE = "baton_session"
_hasher = PasswordHasher()
# Verified against when the e-mail is unknown, so both failures take the same time.
_DUMMY_HASH = _hasher.hash(secrets.token_urlsafe(16))


def hash_password(password: str) -> str:
    return _hasher.hash(password)


def verify_password(password_hash: str, password: str) -> bool:
    try:
        return _hasher.verify(password_hash, password)
    except (VerificationError, InvalidHashError):
        return False


def new_token() -> str:
    return secrets.token_urlsafe(32)


def token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def bearer_token(request: web.Request) -> str | None:
    header = request.headers.get("Authorization", "")
    scheme, _, token = header.partition(" ")
    if scheme.lower() == "bearer" and token.strip():
        return token.strip()
    return None


async def authenticate_agent(
    db: AsyncSession, email: str, password: str
) -> Agent | None:
    agent = await db.scalar(select(Agent).where(Agent.email == email.strip().lower()))
    if agent is None:
        verify_password(_DUMMY_HASH, password)
        return None
    return agent if verify_password(agent.password_hash, password) else None


async def open_session(db: AsyncSession, agent: Agent, ttl_seconds: int) -> str:
    token = new_token()
    db.add(
        AgentSession(
            token_hash=token_hash(token),
            agent_id=agent.id,
            expires_at=utcnow() + dt.timedelta(seconds=ttl_seconds),
        )
    )
    return token


async def agent_for_token(db: AsyncSession, token: str) -> Agent | None:
    session = await session_for_token(db, token)
    return session.agent if session is not None else None


async def session_for_token(db: AsyncSession, token: str) -> AgentSession | None:
    """The live session behind a token (with its agent); None if unknown, revoked or expired."""
    session = await db.scalar(
        select(AgentSession).where(AgentSession.token_hash == token_hash(token))
    )
    if session is None or session.revoked_at is not None or session.expires_at <= utcnow():
        return None
    return session


async def revoke_session(db: AsyncSession, token: str) -> None:
    """Log a session out: its token authenticates nothing from now on."""
    session = await db.scalar(
        select(AgentSession).where(AgentSession.token_hash == token_hash(token))
    )
    if session is not None:
        session.revoked_at = utcnow()


def _same_origin(request: web.Request) -> bool:
    origin = request.headers.get("Origin")
    if origin is None:
        return False
    return origin in (f"{request.scheme}://{request.host}", f"http://{request.host}", f"https://{request.host}")


async def require_agent(request: web.Request, db: AsyncSession) -> Agent:
    """The agent behind a Bearer token or the console's session cookie, or 401.

    A state-changing request or a socket authenticated by the cookie alone must come from
    the console's own origin (CSRF, cross-site WebSocket hijacking).
    """
    return (await require_session(request, db)).agent


async def require_session(request: web.Request, db: AsyncSession) -> AgentSession:
    """require_agent's check, answering with the session itself.

    Never a token from the query string: a URL ends up in logs (the sockets take theirs
    from the header or their first frame, handoff.web.socket_auth).
    """
    token = bearer_token(request)
    from_cookie = False
    if token is None:
        token = request.cookies.get(SESSION_COOKIE)
        from_cookie = token is not None
    if not token:
        raise json_error(web.HTTPUnauthorized, "authentication required")
    session = await session_for_token(db, token)
    if session is None:
        raise json_error(web.HTTPUnauthorized, "invalid or expired session")
    # A WebSocket upgrade is a GET that browsers send cross-site with cookies: guard it
    # like a state change, or any site could read the console's events.
    guarded = request.method not in ("GET", "HEAD", "OPTIONS") or (
        request.headers.get("Upgrade", "").lower() == "websocket"
    )
    if from_cookie and guarded and not _same_origin(request):
        raise json_error(web.HTTPForbidden, "cross-origin request refused")
    return session


class TokenHashes:
    """Conversation id -> its token's hash, for the ids seen lately.

    A token changes only when its conversation is redacted, and the redacting process
    forgets it here, so a cached hash is as good as the row; it spares every customer
    request a database read.
    """

    def __init__(self, size: int = 100_000) -> None:
        self._size = size
        self._hashes: OrderedDict[str, str] = OrderedDict()

    def get(self, conversation_id: str) -> str | None:
        found = self._hashes.get(conversation_id)
        if found is not None:
            self._hashes.move_to_end(conversation_id)
        return found

    def forget(self, conversation_id: str) -> None:
        """A redacted conversation's token no longer works (handoff.conversations.retention)."""
        self._hashes.pop(conversation_id, None)

    def put(self, conversation_id: str, hashed: str) -> None:
        self._hashes[conversation_id] = hashed
        self._hashes.move_to_end(conversation_id)
        if len(self._hashes) > self._size:
            self._hashes.popitem(last=False)


def _refuse_token(token: str | None) -> str:
    if not token:
        raise json_error(web.HTTPUnauthorized, "conversation token required")
    return token


def _not_found() -> web.HTTPException:
    # One answer for an unknown conversation and a wrong token: nothing to probe.
    return json_error(web.HTTPNotFound, "conversation not found")


async def check_conversation_token(
    request: web.Request, conversation_id: str, token: str | None = None
) -> None:
    """401 without a token, 404 unless it is this conversation's; no row is loaded."""
    token = _refuse_token(token or bearer_token(request))
    hashes = request.app[keys.TOKEN_HASHES]
    known = hashes.get(conversation_id)
    if known is None:
        async with request.app[keys.DB].read() as db:
            known = await db.scalar(
                select(Conversation.token_hash).where(Conversation.id == conversation_id)
            )
        if known is None:
            raise _not_found()
        hashes.put(conversation_id, known)
    if not hmac.compare_digest(known, token_hash(token)):
        raise _not_found()


async def current_agent(request: web.Request) -> Agent:
    """require_agent in a read session of its own, for views that need only the agent."""
    async with request.app[keys.DB].read() as db:
        return await require_agent(request, db)


SUPERVISOR = "supervisor"


async def current_supervisor(request: web.Request) -> Agent:
    """current_agent, who must be a supervisor (403 otherwise)."""
    agent = await current_agent(request)
    if agent.role != SUPERVISOR:
        raise json_error(web.HTTPForbidden, "only a supervisor may do this")
    return agent
