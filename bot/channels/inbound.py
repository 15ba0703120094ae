"""What every channel does with a user's text before Rasa sees it, and when Rasa says nothing."""

from __future__ import annotations

import asyncio
import gc
import logging
import time
import unicodedata
from collections import OrderedDict, deque
from dataclasses import dataclass
from typing import Any, Awaitable, Callable, Deque, Dict, Optional

from rasa.core.lock_store import LockError

from bot import deadlines
from bot.channels.guard import screen_for_conversation
from bot.config import get_settings
from bot.messages import message
from bot.shared_state import SharedState, shared_state

logger = logging.getLogger(__name__)

MAX_MESSAGE_CHARS = 1000
MAX_TRACKED_SENDERS = 10_000


@dataclass(frozen=True)
class PreparedText:
    """User text made safe to process, and whether it had to be shortened."""

    text: str
    truncated: bool


def prepare_text(raw: str, limit: int = MAX_MESSAGE_CHARS) -> PreparedText:
    """Drop control and format characters, collapse whitespace, cut to `limit` characters."""
    visible = "".join(
        " " if char in "\t\n\r" else char
        for char in raw
        if char in "\t\n\r" or unicodedata.category(char) not in ("Cc", "Cf", "Cs", "Co", "Cn")
    )
    text = " ".join(visible.split())
    if len(text) <= limit:
        return PreparedText(text=text, truncated=False)
    return PreparedText(text=text[:limit].rstrip(), truncated=True)


def info_reply(key: str, **values: str) -> Dict[str, object]:
    """A reply the channel gives itself (text plus an `info` payload), worded in data/messages.yml."""
    return {"text": message(key, **values), "custom": {"kind": "info", "follow_ups": []}}


def truncation_reply() -> Dict[str, object]:
    """The note that only the first part of a long message was read."""
    return info_reply("message_truncated", limit=f"{MAX_MESSAGE_CHARS:,}")


def silence_reply(firm_contact: str) -> Dict[str, object]:
    """The apology when the assistant produced no reply at all (a failing action or database)."""
    return {"text": message("service_problem", firm_contact=firm_contact), "custom": {"kind": "error", "follow_ups": []}}


class SenderRateLimiter:
    """At most `limit` messages per sender in any `window_s` seconds (RATE_LIMIT_MESSAGES per
    RATE_LIMIT_WINDOW_SECONDS, default 15 per 10 s); floods get a polite answer, not a queue.

    With Redis configured (bot/shared_state.py) the window is kept in Redis, so the limit holds
    across replicas; otherwise, or while Redis is away, each process counts what it receives.
    """

    def __init__(self, limit: Optional[int] = None, window_s: Optional[float] = None,
                 shared: Optional[SharedState] = None) -> None:
        settings = get_settings()
        self.limit = settings.rate_limit_messages if limit is None else limit
        self.window_s = settings.rate_limit_window_s if window_s is None else window_s
        self.shared = shared_state() if shared is None else shared
        self._recent: "OrderedDict[str, Deque[float]]" = OrderedDict()

    async def check(self, sender_id: str) -> bool:
        """Record a message from `sender_id` in the shared window (else this process's); False when over."""
        return await self.shared.within_limit(
            f"rate:{sender_id}", self.limit, self.window_s, lambda: self.allow(sender_id)
        )

    def allow(self, sender_id: str, now: Optional[float] = None) -> bool:
        """Record a message from `sender_id`; False when it is over the limit."""
        now = time.monotonic() if now is None else now
        recent = self._recent.pop(sender_id, None) or deque()
        while recent and now - recent[0] >= self.window_s:
            recent.popleft()
        allowed = len(recent) < self.limit
        if allowed:
            recent.append(now)
        self._recent[sender_id] = recent
        while len(self._recent) > MAX_TRACKED_SENDERS:
            self._recent.popitem(last=False)
        return allowed


_loaded_objects_frozen = False


def freeze_loaded_objects() -> None:
    """Exempt what the server has loaded so far (model, domain, spaCy) from Python's full GC passes.

    Runs once, after the first message: only then has the model traced its prediction functions.
    Without it every full collection walks the whole model: under `make bench` load one came about
    every 500 messages and stalled every conversation in flight for 290-360 ms.
    """
    global _loaded_objects_frozen
    if _loaded_objects_frozen:
        return
    _loaded_objects_frozen = True
    gc.collect()  # free start-up garbage first: frozen objects are never collected
    gc.freeze()


async def handle_text(
    raw: str,
    sender_id: str,
    agent: Optional[Any],
    limiter: SenderRateLimiter,
    reply: Callable[[Dict[str, object]], Awaitable[None]],
    dispatch: Callable[[str], Awaitable[int]],
) -> None:
    """Rate-limit, clean, screen and hand a message to Rasa; apologise rather than stay silent.

    `reply` sends a reply the channel makes itself; `dispatch` runs Rasa on the text and returns
    how many replies the assistant sent. The whole handling gets REPLY_TIMEOUT_SECONDS: when a
    dependency hangs, the user gets the apology then, and the unfinished work is abandoned.
    """
    if not await limiter.check(sender_id):
        await reply(info_reply("rate_limited"))
        return
    prepared = prepare_text(raw)
    if prepared.truncated:
        await reply(truncation_reply())
    settings = get_settings()
    failure = await _dispatch_within_deadline(
        lambda: _screen_and_dispatch(agent, sender_id, prepared.text, dispatch), settings.reply_timeout_s
    )
    freeze_loaded_objects()
    if failure:
        logger.error("%s; sending the apology instead", failure)
        await reply(silence_reply(settings.firm_contact))


async def _screen_and_dispatch(
    agent: Optional[Any], sender_id: str, text: str, dispatch: Callable[[str], Awaitable[int]]
) -> int:
    """Screen typed commands, then run Rasa on the text; how many replies it sent."""
    return await dispatch(await screen_for_conversation(agent, sender_id, text))


async def _dispatch_within_deadline(run: Callable[[], Awaitable[int]], timeout_s: float) -> Optional[str]:
    """Run the message's handling for at most `timeout_s`; None if it replied, else why it did not."""
    with deadlines.tracking_message() as progress:
        handling = asyncio.ensure_future(run())
        done, _ = await asyncio.wait({handling}, timeout=timeout_s)
        if not done:
            # Not awaited: a cancelled call may still wait on its dependency, and the user must not.
            handling.cancel()
            handling.add_done_callback(_drop_outcome)
            return f"no reply within {timeout_s:g} s ({progress.describe()})"
        error = handling.exception()
        if error is None:
            return None if handling.result() else f"the assistant produced no reply ({progress.describe()})"
        if isinstance(error, (deadlines.DependencyFailure, LockError)):
            return f"handling a message failed: {error}"
        logger.error("handling a message failed", exc_info=error)  # the channel is the last line of defence
        return "handling a message failed (the error is logged above)"


def _drop_outcome(task: "asyncio.Future[Any]") -> None:
    """Retrieve an abandoned task's outcome so asyncio does not report it as never retrieved."""
    if not task.cancelled():
        task.exception()
