"""Rasa's Redis lock store, with every change to a conversation's lock made atomically.

Several Rasa processes take turns on a conversation through a ticket lock kept in Redis. Rasa's
`RedisLockStore` changes that lock by reading it, editing it in Python and writing it back, so two
processes that receive messages of the same conversation at the same moment can both read "no
lock", both take the first ticket and handle the conversation at once; the tracker store then keeps
only one of the two messages (RasaHQ/rasa#9213; tests/e2e/test_scaleout.py reproduced it for about
one conversation in eight). Here each read-edit-write is one Redis transaction (WATCH/MULTI/EXEC):
when another process changed the lock in between, the edit is redone on the fresh lock.

Rasa calls Redis synchronously on the event loop, so a hung Redis would freeze every conversation
of the process: here every call runs in threads of the store's own, with connect and socket
timeouts of LOCK_STORE_TIMEOUT_SECONDS (bot/deadlines.py), and fails with a `LockError`.
"""

from __future__ import annotations

import asyncio
import json
import logging
from contextlib import asynccontextmanager
from typing import Any, AsyncGenerator, Callable, Optional, Tuple, TypeVar

import redis
from rasa.core.lock import TicketLock
from rasa.core.lock_store import DEFAULT_SOCKET_TIMEOUT_IN_SECONDS, LOCK_LIFETIME, LockError, RedisLockStore

from bot import deadlines

logger = logging.getLogger(__name__)

LOCK_STORE = "the lock store (Redis)"

MAX_ATTEMPTS = 100

Result = TypeVar("Result")
Edit = Callable[[Optional[TicketLock]], Tuple[Optional[TicketLock], Result]]


class AtomicRedisLockStore(RedisLockStore):
    """`RedisLockStore` whose ticket issuing, expiry, release and clean-up are atomic in Redis."""

    def __init__(
        self, *args: Any, socket_timeout: float = DEFAULT_SOCKET_TIMEOUT_IN_SECONDS, lock_lifetime: float = LOCK_LIFETIME, **kwargs: Any
    ) -> None:
        super().__init__(*args, socket_timeout=socket_timeout, **kwargs)
        # Rasa asks for a lock without a lifetime; this one (TICKET_LOCK_LIFETIME) applies then.
        self.lock_lifetime = lock_lifetime
        self.red.connection_pool.connection_kwargs["socket_connect_timeout"] = socket_timeout
        self.timeout_s = socket_timeout
        self._executor = deadlines.blocking_executor("lock-store")

    async def _call(self, function: Callable[..., Result], *args: Any) -> Result:
        """A blocking lock operation in a thread; LockError when Redis fails or is too slow."""
        try:
            # The socket timeout ends the thread's wait; the margin covers a connect plus a command.
            return await deadlines.call_blocking(self._executor, LOCK_STORE, 2 * self.timeout_s + 0.5, function, *args)
        except deadlines.DependencyFailure as failure:
            raise LockError(str(failure)) from failure

    @asynccontextmanager
    async def lock(
        self, conversation_id: str, lock_lifetime: Optional[float] = None, wait_time_in_seconds: float = 1
    ) -> AsyncGenerator[TicketLock, None]:
        """Rasa's `lock`, off the event loop: take a ticket, wait for its turn, give the ticket up."""
        ticket = await self._call(self.issue_ticket, conversation_id, lock_lifetime)
        try:
            yield await self._acquire_lock_off_loop(conversation_id, ticket, wait_time_in_seconds)
        finally:
            try:
                await self._call(self.cleanup, conversation_id, ticket)
            except LockError as error:  # the ticket expires by itself after its lifetime
                logger.warning("could not give up a conversation's lock ticket: %s", error)

    async def _acquire_lock_off_loop(self, conversation_id: str, ticket: int, wait_time_in_seconds: float) -> TicketLock:
        """Rasa's `_acquire_lock`: poll until the ticket is served; LockError if the lock vanished."""
        while True:
            lock = await self._call(self.get_lock, conversation_id)
            if not lock:
                break
            if not lock.is_locked(ticket):
                return lock
            await asyncio.sleep(wait_time_in_seconds)
            await self._call(self.update_lock, conversation_id)
        raise LockError(f"Could not acquire lock for conversation_id '{conversation_id}'.")

    def _edit(self, conversation_id: str, edit: Edit[Result]) -> Result:
        """Apply `edit` (old lock -> new lock or None to delete, result) atomically; its result."""
        key = self.key_prefix + conversation_id
        for _ in range(MAX_ATTEMPTS):
            with self.red.pipeline() as transaction:
                try:
                    transaction.watch(key)
                    stored = transaction.get(key)
                    lock = TicketLock.from_dict(json.loads(stored)) if stored else None
                    changed, result = edit(lock)
                    transaction.multi()
                    if changed is not None:
                        transaction.set(key, changed.dumps())
                    elif lock is not None:
                        transaction.delete(key)
                    transaction.execute()
                    return result
                except redis.WatchError:
                    continue
        raise LockError(f"the lock of conversation '{conversation_id}' kept changing; gave up after {MAX_ATTEMPTS} attempts")

    def issue_ticket(self, conversation_id: str, lock_lifetime: Optional[float] = None) -> int:
        """Queue for the conversation: a new ticket, numbered after the last one issued, valid `lock_lifetime` seconds."""
        lifetime = self.lock_lifetime if lock_lifetime is None else lock_lifetime

        def issue(lock: Optional[TicketLock]) -> Tuple[TicketLock, int]:
            lock = lock or self.create_lock(conversation_id)
            return lock, lock.issue_ticket(lifetime)

        try:
            return self._edit(conversation_id, issue)
        except redis.RedisError as error:
            raise LockError(f"Error while acquiring lock. Error:\n{error}") from error

    def update_lock(self, conversation_id: str) -> None:
        """Drop expired tickets from the conversation's lock."""

        def drop_expired(lock: Optional[TicketLock]) -> Tuple[Optional[TicketLock], None]:
            if lock is not None:
                lock.remove_expired_tickets()
            return lock, None

        self._edit(conversation_id, drop_expired)

    def finish_serving(self, conversation_id: str, ticket_number: int) -> None:
        """Give up ticket `ticket_number`."""

        def release(lock: Optional[TicketLock]) -> Tuple[Optional[TicketLock], None]:
            if lock is not None:
                lock.remove_ticket_for(ticket_number)
            return lock, None

        self._edit(conversation_id, release)

    def cleanup(self, conversation_id: str, ticket_number: int) -> None:
        """Give up ticket `ticket_number`; delete the lock in the same step when nobody else waits."""

        def release_and_maybe_delete(lock: Optional[TicketLock]) -> Tuple[Optional[TicketLock], None]:
            if lock is None:
                return None, None
            lock.remove_ticket_for(ticket_number)
            return (lock if lock.is_someone_waiting() else None), None

        self._edit(conversation_id, release_and_maybe_delete)
