"""State that several Rasa replicas must share: delivery ids seen and per-sender message counts.

With `REDIS_URL` (or, when that is unset, `LOCK_STORE_URL`) set, both live in Redis under keys
prefixed `commonground:` that expire by themselves: a delivery id for its TTL, a sender's counts for
one rate-limit window. Without Redis each process keeps them in its own memory (the single-process
default). When Redis is configured but does not answer within `REDIS_TIMEOUT_SECONDS`, the caller's
in-memory answer is used instead: the failure is logged once with its cause, Redis is tried again
after `REDIS_RETRY_SECONDS`, and its return is logged. Nothing raises to the channel, so a Redis
outage never turns into a 5xx; it only weakens deduplication and the limit to per process.
"""

from __future__ import annotations

import asyncio
import logging
import time
import uuid
from typing import Callable, Optional

import redis
import redis.asyncio as aioredis

from bot.config import get_settings

logger = logging.getLogger(__name__)

KEY_PREFIX = "commonground:"

# A sliding window per sender: drop entries older than the window, count, add this message if
# under the limit. Redis's own clock, so replicas on machines with different clocks agree.
SLIDING_WINDOW = """
local now_t = redis.call('TIME')
local now = tonumber(now_t[1]) * 1000 + math.floor(tonumber(now_t[2]) / 1000)
local window = tonumber(ARGV[2])
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', now - window)
if redis.call('ZCARD', KEYS[1]) >= tonumber(ARGV[1]) then
  return 0
end
redis.call('ZADD', KEYS[1], now, ARGV[3])
redis.call('PEXPIRE', KEYS[1], window)
return 1
"""


class SharedState:
    """Atomic "first time?" and "within the limit?" questions, asked of Redis or of local memory."""

    def __init__(self, url: str, timeout_s: float = 0.5, retry_after_s: float = 5.0,
                 clock: Callable[[], float] = time.monotonic) -> None:
        self.url = url
        self.timeout_s = timeout_s
        self.retry_after_s = retry_after_s
        self.clock = clock
        self._client: Optional[aioredis.Redis] = None
        self._client_loop: Optional[asyncio.AbstractEventLoop] = None
        self._down_until: Optional[float] = None

    @property
    def configured(self) -> bool:
        """Whether a Redis URL is set at all."""
        return bool(self.url)

    @property
    def using_redis(self) -> bool:
        """Whether answers come from Redis right now (configured and not in a fallback period)."""
        return self.configured and (self._down_until is None or self.clock() >= self._down_until)

    async def first_time(self, key: str, ttl_s: float, local: Callable[[], bool]) -> bool:
        """True the first time `key` is seen within `ttl_s` (remembered in the same atomic step)."""
        client = self._redis()
        if client is None:
            return local()
        try:
            was_set = await asyncio.wait_for(
                client.set(KEY_PREFIX + key, "1", nx=True, ex=max(1, int(ttl_s))), self.timeout_s
            )
        except (redis.RedisError, OSError, asyncio.TimeoutError) as error:
            self._failed(error)
            return local()
        self._answered()
        return bool(was_set)

    async def within_limit(self, key: str, limit: int, window_s: float, local: Callable[[], bool]) -> bool:
        """Record one event under `key`; False when `limit` were already recorded in the last `window_s`."""
        client = self._redis()
        if client is None:
            return local()
        try:
            allowed = await asyncio.wait_for(
                client.eval(SLIDING_WINDOW, 1, KEY_PREFIX + key, limit, int(window_s * 1000), uuid.uuid4().hex),
                self.timeout_s,
            )
        except (redis.RedisError, OSError, asyncio.TimeoutError) as error:
            self._failed(error)
            return local()
        self._answered()
        return bool(allowed)

    async def close(self) -> None:
        """Close the Redis connections of this event loop's client, if any."""
        if self._client is not None:
            await self._client.close()
            await self._client.connection_pool.disconnect()
            self._client = None

    def _redis(self) -> Optional[aioredis.Redis]:
        """The client for this event loop, or None while Redis is off or in a fallback period."""
        if not self.using_redis:
            return None
        loop = asyncio.get_running_loop()
        if self._client is None or self._client_loop is not loop:
            self._client = aioredis.Redis.from_url(
                self.url, socket_timeout=self.timeout_s, socket_connect_timeout=self.timeout_s
            )
            self._client_loop = loop
        return self._client

    def _failed(self, error: BaseException) -> None:
        if self._down_until is None:
            logger.error(
                "Redis (%s) did not answer (%s: %s): keeping delivery ids and rate limits in this "
                "process's memory, trying Redis again every %.0f s",
                _redacted(self.url), type(error).__name__, error, self.retry_after_s,
            )
        self._down_until = self.clock() + self.retry_after_s
        self._client = None  # a fresh connection pool next time

    def _answered(self) -> None:
        if self._down_until is not None:
            logger.warning("Redis (%s) answers again: delivery ids and rate limits are shared again", _redacted(self.url))
            self._down_until = None


def _redacted(url: str) -> str:
    """`url` without a password."""
    scheme, _, rest = url.partition("://")
    return f"{scheme}://{rest.rpartition('@')[2]}" if "@" in rest else url


_shared: Optional[SharedState] = None


def shared_state() -> SharedState:
    """The process's SharedState, from the settings (REDIS_URL, else LOCK_STORE_URL)."""
    global _shared
    if _shared is None:
        settings = get_settings()
        _shared = SharedState(settings.shared_state_url, settings.redis_timeout_s, settings.redis_retry_s)
    return _shared
