"""The rate limits of several gateways, kept in the Redis they share.

The same answers as handoff.web.ratelimit's in-process TokenBuckets and LoginThrottle,
so a client flooding through two gateways gets one limit, not two. A bucket is a hash
updated by one script (atomic in Redis, timed by Redis's clock, so the gateways' clocks
need not agree); a key's failed logins are a sorted set of their times.
"""

from __future__ import annotations

import secrets
import time

import redis.asyncio as aioredis

# KEYS[1]: the bucket; ARGV: rate, burst. Answers the wait (a string: Lua's numbers
# come back as integers), 0 when a token was taken.
_TAKE = """
local clock = redis.call('TIME')
local now = tonumber(clock[1]) + tonumber(clock[2]) / 1000000
local rate, burst = tonumber(ARGV[1]), tonumber(ARGV[2])
local saved = redis.call('HMGET', KEYS[1], 'tokens', 'updated')
local tokens = tonumber(saved[1]) or burst
local updated = tonumber(saved[2]) or now
tokens = math.min(burst, tokens + math.max(0, now - updated) * rate)
local wait = 0
if tokens >= 1 then tokens = tokens - 1 else wait = (1 - tokens) / rate end
redis.call('HSET', KEYS[1], 'tokens', tostring(tokens), 'updated', tostring(now))
redis.call('EXPIRE', KEYS[1], math.ceil(burst / rate) + 1)
return tostring(wait)
"""


class SharedTokenBuckets:
    """`rate` tokens a second, up to `burst`; a request takes one (see TokenBuckets)."""

    def __init__(self, shared: aioredis.Redis, rate: float, burst: float) -> None:
        self.rate = rate
        self.burst = burst
        self._take = shared.register_script(_TAKE)

    async def take(self, key: str) -> float:
        """0 when allowed, else the seconds until a token is free."""
        if self.rate <= 0:
            return 0.0
        wait = await self._take(keys=[f"baton:rate:{key}"], args=[self.rate, self.burst])
        return float(wait)


class SharedLoginThrottle:
    """After `free` failures in `window` seconds, each further try waits twice as long
    (see LoginThrottle)."""

    def __init__(
        self, shared: aioredis.Redis, free: int = 5, window: float = 900.0, longest: float = 900.0
    ) -> None:
        self._shared = shared
        self.free = free
        self.window = window
        self.longest = longest

    async def wait(self, *keys_: str) -> float:
        """Seconds before another try is allowed for these keys (0: go ahead)."""
        now = time.time()
        longest_wait = 0.0
        for key in keys_:
            name = _failures(key)
            async with self._shared.pipeline(transaction=True) as pipe:
                pipe.zremrangebyscore(name, "-inf", now - self.window)
                pipe.zrange(name, -1, -1, withscores=True)
                pipe.zcard(name)
                _, last, count = await pipe.execute()
            if count < self.free:
                continue
            delay = min(self.longest, 2.0 ** (count - self.free))
            longest_wait = max(longest_wait, last[0][1] + delay - now)
        return max(0.0, longest_wait)

    async def failed(self, *keys_: str) -> None:
        now = time.time()
        async with self._shared.pipeline(transaction=True) as pipe:
            for key in keys_:
                pipe.zadd(_failures(key), {f"{now}:{secrets.token_hex(4)}": now})
                pipe.expire(_failures(key), int(self.window) + 1)
            await pipe.execute()

    async def succeeded(self, *keys_: str) -> None:
        await self._shared.delete(*[_failures(key) for key in keys_])


def _failures(key: str) -> str:
    return f"baton:login-failures:{key}"
