"""Rate limits: token buckets per client address and per conversation, and login throttling.

In-process state; several gateways sharing a Redis keep them there instead, behind the
same methods (handoff.web.shared_limits), so a client gets one limit whichever gateway
it reaches.
"""

from __future__ import annotations

import asyncio
import math
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass, field

from aiohttp import web

from handoff import keys
from handoff.access.auth import bearer_token
from handoff.http_errors import json_error
from handoff.web.answers import error_answer
from handoff.web.shared_limits import SharedLoginThrottle, SharedTokenBuckets

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


@dataclass
class Bucket:
    tokens: float
    updated: float


@dataclass
class TokenBuckets:
    """`rate` tokens a second, up to `burst`; a request takes one."""

    rate: float
    burst: float
    buckets: dict[str, Bucket] = field(default_factory=dict)
    clock: Callable[[], float] = time.monotonic

    async def take(self, key: str) -> float:
        """0 when allowed, else the seconds until a token is free."""
        if self.rate <= 0:
            return 0.0
        now = self.clock()
        bucket = self.buckets.get(key)
        if bucket is None:
            bucket = self.buckets[key] = Bucket(self.burst, now)
            if len(self.buckets) > 100_000:
                self._forget_full(now)
        bucket.tokens = min(self.burst, bucket.tokens + (now - bucket.updated) * self.rate)
        bucket.updated = now
        if bucket.tokens >= 1:
            bucket.tokens -= 1
            return 0.0
        return (1 - bucket.tokens) / self.rate

    def _forget_full(self, now: float) -> None:
        # A bucket that has refilled is the same as no bucket.
        for key in [k for k, b in self.buckets.items()
                    if b.tokens + (now - b.updated) * self.rate >= self.burst]:
            del self.buckets[key]


@dataclass
class LoginThrottle:
    """After `free` failures in `window` seconds, each further try waits twice as long."""

    free: int = 5
    window: float = 900.0
    longest: float = 900.0
    failures: dict[str, list[float]] = field(default_factory=dict)
    clock: Callable[[], float] = time.monotonic

    def _recent(self, key: str) -> list[float]:
        now = self.clock()
        recent = [t for t in self.failures.get(key, []) if now - t < self.window]
        if recent:
            self.failures[key] = recent
        else:
            self.failures.pop(key, None)
        return recent

    async def wait(self, *keys_: str) -> float:
        """Seconds before another try is allowed for these keys (0: go ahead)."""
        longest_wait = 0.0
        for key in keys_:
            recent = self._recent(key)
            if len(recent) < self.free:
                continue
            delay = min(self.longest, 2.0 ** (len(recent) - self.free))
            longest_wait = max(longest_wait, recent[-1] + delay - self.clock())
        return max(0.0, longest_wait)

    async def failed(self, *keys_: str) -> None:
        for key in keys_:
            self.failures.setdefault(key, []).append(self.clock())

    async def succeeded(self, *keys_: str) -> None:
        for key in keys_:
            self.failures.pop(key, None)


@dataclass
class Limits:
    per_address: TokenBuckets | SharedTokenBuckets
    per_conversation: TokenBuckets | SharedTokenBuckets
    login: LoginThrottle | SharedLoginThrottle


# A refused client waits this long for its 429 (it would have to wait as long before
# retrying anyway): a flood then costs the gateway one cheap answer per second per
# connection instead of as many as the client can send.
TARPIT_SECONDS = 1.0


MESSAGES_TOO_FAST = "too many messages; slow down a little"


async def throttle_conversation(app: web.Application, token: str) -> None:
    """The conversation's message limit, for a message sent on its socket: a 429 error
    after the same tarpit as a refused POST (this socket reads nothing more meanwhile)."""
    wait = await app[keys.LIMITS].per_conversation.take(f"conv:{token}")
    if wait:
        await asyncio.sleep(TARPIT_SECONDS)
        raise json_error(
            web.HTTPTooManyRequests, MESSAGES_TOO_FAST,
            retry_after=max(1, math.ceil(wait - TARPIT_SECONDS)),
        )


async def refuse(retry_after: float, message: str) -> web.Response:
    await asyncio.sleep(TARPIT_SECONDS)
    return too_many(max(0.0, retry_after - TARPIT_SECONDS), message)


def too_many(retry_after: float, message: str) -> web.Response:
    seconds = max(1, math.ceil(retry_after))
    return error_answer(
        429, message, retry_after=seconds, headers={"Retry-After": str(seconds)}
    )


def client_address(request: web.Request) -> str:
    if request.app[keys.SETTINGS].trust_forwarded:
        forwarded = request.headers.get("X-Forwarded-For", "")
        if forwarded:
            # The last hop is the one our own proxy added.
            return forwarded.split(",")[-1].strip()
    return request.remote or "unknown"


@web.middleware
async def rate_limit_middleware(request: web.Request, handler: Handler) -> web.StreamResponse:
    if not request.path.startswith("/api/") or request.method == "OPTIONS":
        return await handler(request)
    limits = request.app[keys.LIMITS]
    wait = await limits.per_address.take(f"addr:{client_address(request)}")
    if wait:
        return await refuse(wait, "too many requests from this address")
    if request.method == "POST" and request.path.startswith("/api/conversations/"):
        token = bearer_token(request)
        if token:
            # Keyed by the token, not the conversation id: one noisy client, one bucket.
            wait = await limits.per_conversation.take(f"conv:{token}")
            if wait:
                return await refuse(wait, MESSAGES_TOO_FAST)
    return await handler(request)


async def setup_limits(app: web.Application) -> AsyncIterator[None]:
    settings = app[keys.SETTINGS]
    shared = app[keys.REDIS]
    if shared is None:
        app[keys.LIMITS] = Limits(
            per_address=TokenBuckets(settings.rate_per_address, settings.burst_per_address),
            per_conversation=TokenBuckets(
                settings.rate_per_conversation, settings.burst_per_conversation
            ),
            login=LoginThrottle(),
        )
    else:
        app[keys.LIMITS] = Limits(
            per_address=SharedTokenBuckets(
                shared, settings.rate_per_address, settings.burst_per_address
            ),
            per_conversation=SharedTokenBuckets(
                shared, settings.rate_per_conversation, settings.burst_per_conversation
            ),
            login=SharedLoginThrottle(shared),
        )
    yield
