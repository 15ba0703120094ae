"""Bounded waits on the Rasa server's dependencies: the action server, the tracker store's database
and the lock store (Redis).

Rasa 3.6 waits up to 300 s for an action, and its SQL tracker store and Redis lock store talk to
their servers synchronously on the event loop, so one hung database or Redis freezes every
conversation of the process. Here:

- each call to the action server gives up after ACTION_TIMEOUT_SECONDS (`install()`);
- the tracker and lock stores run their blocking calls in threads of their own and stop waiting
  after TRACKER_STORE_TIMEOUT_SECONDS / LOCK_STORE_TIMEOUT_SECONDS (`call_blocking`), so the event
  loop keeps serving the other conversations;
- Rasa's `FailSafeTrackerStore` is not put around our tracker store: on a database error it
  answers from an empty in-memory conversation (the user's context silently gone) and keeps the
  outage's messages in memory only; the apology, with the stored conversation intact, is better;
- the channels (bot/channels/inbound.py) give each message REPLY_TIMEOUT_SECONDS in all and then
  apologise; `MessageProgress` tells them what the message was waiting on, or what failed, so the
  failure is logged once with its cause.
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
from concurrent.futures import ThreadPoolExecutor
from contextvars import ContextVar
from dataclasses import dataclass, field
from typing import Any, Callable, Iterator, List, Optional, TypeVar

from rasa.core.actions import action as rasa_action
from rasa.core.actions.action import ActionExecutionRejection, RemoteAction
from rasa.core.agent import Agent
from rasa.core.tracker_store import TrackerStore
from rasa.shared.core.domain import Domain

from bot.config import get_settings

Result = TypeVar("Result")


class DependencyFailure(RuntimeError):
    """A dependency failed or did not answer in time; the message names it and says why."""


@dataclass
class MessageProgress:
    """What handling one message is waiting on right now, and which dependency calls failed."""

    waiting_on: List[str] = field(default_factory=list)
    failures: List[str] = field(default_factory=list)

    def describe(self) -> str:
        """The cause of a missing reply, in a few words, for the log."""
        if self.failures:
            return "; ".join(self.failures)
        if self.waiting_on:
            return f"still waiting for {self.waiting_on[-1]}"
        return "no dependency call failed"


_PROGRESS: ContextVar[Optional[MessageProgress]] = ContextVar("commonground_message_progress", default=None)


@contextlib.contextmanager
def tracking_message() -> Iterator[MessageProgress]:
    """Record the progress of the message handled in the block (and the tasks it starts)."""
    progress = MessageProgress()
    token = _PROGRESS.set(progress)
    try:
        yield progress
    finally:
        _PROGRESS.reset(token)


def note_failure(cause: str) -> None:
    """Record that a dependency call of the current message failed."""
    progress = _PROGRESS.get()
    if progress is not None:
        progress.failures.append(cause)


@contextlib.contextmanager
def waiting_on(dependency: str) -> Iterator[None]:
    """Mark the current message as waiting on `dependency` for the duration of the block."""
    progress = _PROGRESS.get()
    if progress is None:
        yield
        return
    progress.waiting_on.append(dependency)
    try:
        yield
    finally:
        progress.waiting_on.pop()


def describe_error(error: BaseException) -> str:
    """An exception as "Type: message", or just the type when it has no message."""
    text = " ".join(line.strip() for line in str(error).splitlines() if line.strip())
    return f"{type(error).__name__}: {text}" if text else type(error).__name__


def blocking_executor(name: str, max_workers: int = 4) -> ThreadPoolExecutor:
    """Threads of one dependency's own: a hung dependency never starves the others (or DNS look-ups)."""
    return ThreadPoolExecutor(max_workers=max_workers, thread_name_prefix=name)


async def call_blocking(
    executor: ThreadPoolExecutor, dependency: str, timeout_s: float, function: Callable[..., Result], *args: Any
) -> Result:
    """`function(*args)` in a thread of `executor`; DependencyFailure when it fails or takes over `timeout_s`.

    A call that times out keeps its thread until the dependency answers or its socket times out;
    calls still queued behind it are dropped.
    """
    loop = asyncio.get_running_loop()
    with waiting_on(dependency):
        try:
            return await asyncio.wait_for(loop.run_in_executor(executor, functools.partial(function, *args)), timeout_s)
        except asyncio.TimeoutError:
            cause = f"{dependency} did not answer within {timeout_s:g} s"
            note_failure(cause)
            raise DependencyFailure(cause) from None
        except Exception as error:
            cause = f"{dependency} failed ({describe_error(error)})"
            note_failure(cause)
            raise DependencyFailure(cause) from error


_RASA_REMOTE_RUN = RemoteAction.run


async def run_remote_action(self: RemoteAction, *args: Any, **kwargs: Any) -> Any:
    """Rasa's `RemoteAction.run`, with the current message marked as waiting on the action server."""
    dependency = f"the action server ({self.action_endpoint.url if self.action_endpoint else 'no endpoint'})"
    with waiting_on(dependency):
        try:
            return await _RASA_REMOTE_RUN(self, *args, **kwargs)
        except ActionExecutionRejection:
            raise  # a form rejecting a value is conversation, not a failure
        except asyncio.TimeoutError:
            note_failure(f"{dependency} did not answer action '{self.name()}' within {rasa_action.DEFAULT_REQUEST_TIMEOUT:g} s")
            raise
        except Exception as error:
            cause = error.__cause__ or error
            note_failure(f"{dependency} failed on action '{self.name()}' ({describe_error(cause)})")
            raise


_RASA_CREATE_TRACKER_STORE = Agent._create_tracker_store


def create_tracker_store(store: Optional[TrackerStore], domain: Domain) -> TrackerStore:
    """Rasa's choice of tracker store for the agent, without the fail-safe wrapper around ours."""
    if store is not None and getattr(store, "fails_loudly", False):
        store.domain = domain
        return store
    return _RASA_CREATE_TRACKER_STORE(store, domain)


def install() -> None:
    """Bound Rasa's wait for the action server to ACTION_TIMEOUT_SECONDS, track action calls, and let
    our tracker store's failures reach the channels (idempotent)."""
    rasa_action.DEFAULT_REQUEST_TIMEOUT = get_settings().action_timeout_s  # type: ignore[attr-defined]
    RemoteAction.run = run_remote_action  # type: ignore[method-assign]
    Agent._create_tracker_store = staticmethod(create_tracker_store)  # type: ignore[method-assign]
