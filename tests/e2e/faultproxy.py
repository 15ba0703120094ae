"""A TCP proxy the tests control, in front of a real dependency: passes, hangs, slows, errs or dies."""

from __future__ import annotations

import asyncio
import threading
from typing import Optional, Set

from tests.e2e.conftest import free_port

PASS, HUNG, SLOW, ERRORING, DEAD = "pass", "hung", "slow", "erroring", "dead"
SLOW_DELAY_S = 15.0


class FaultProxy:
    """Forwards 127.0.0.1:`port` to `target_port` in one of these modes, switchable at any time:

    pass: forward both ways; hung: accept and read, answer nothing until the mode changes (like a
    SIGSTOPped server: the kernel still accepts, and what was sent is served after SIGCONT); slow: forward, each chunk SLOW_DELAY_S late; erroring: answer every
    chunk with `error_reply` (an HTTP 500, a Redis error) or, without one, reset the connection;
    dead: nothing listens and open connections are closed (connection refused).
    """

    def __init__(self, target_port: int, error_reply: Optional[bytes] = None) -> None:
        self.target_port = target_port
        self.error_reply = error_reply
        self.port = free_port()
        self.mode = PASS
        self._loop = asyncio.new_event_loop()
        self._server: Optional[asyncio.AbstractServer] = None
        self._writers: Set[asyncio.StreamWriter] = set()
        self._thread = threading.Thread(target=self._loop.run_forever, daemon=True)
        self._thread.start()
        self._run(self._listen())

    def _run(self, coroutine) -> None:  # type: ignore[no-untyped-def]
        asyncio.run_coroutine_threadsafe(coroutine, self._loop).result(timeout=10)

    async def _listen(self) -> None:
        self._server = await asyncio.start_server(self._serve, "127.0.0.1", self.port)

    async def _close_all(self) -> None:
        if self._server is not None:
            self._server.close()
            await self._server.wait_closed()
            self._server = None
        for writer in list(self._writers):
            writer.close()
        self._writers.clear()

    def set_mode(self, mode: str) -> None:
        """Switch to `mode`; `dead` closes the listener and every connection, leaving it revives it."""
        if mode == DEAD and self.mode != DEAD:
            self._run(self._close_all())
        elif mode != DEAD and self.mode == DEAD:
            self._run(self._listen())
        self.mode = mode

    def close(self) -> None:
        """Stop the proxy and its thread."""
        self._run(self._close_all())
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join(timeout=10)
        self._loop.close()

    async def _serve(self, client_reader: asyncio.StreamReader, client_writer: asyncio.StreamWriter) -> None:
        self._writers.add(client_writer)
        try:
            upstream_reader, upstream_writer = await asyncio.open_connection("127.0.0.1", self.target_port)
        except OSError:
            client_writer.close()
            return
        self._writers.add(upstream_writer)
        await asyncio.gather(
            self._pipe(client_reader, upstream_writer, client_writer, towards_server=True),
            self._pipe(upstream_reader, client_writer, client_writer, towards_server=False),
            return_exceptions=True,
        )
        for writer in (client_writer, upstream_writer):
            writer.close()
            self._writers.discard(writer)

    async def _pipe(
        self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter, client: asyncio.StreamWriter, towards_server: bool
    ) -> None:
        while True:
            chunk = await reader.read(65536)
            if not chunk:
                writer.close()
                return
            while self.mode == HUNG:  # held, as by a stopped process, and delivered when it resumes
                await asyncio.sleep(0.05)
            mode = self.mode
            if mode == ERRORING and towards_server:
                if self.error_reply is None:
                    client.transport.abort()  # connection reset
                    return
                client.write(self.error_reply)
                await client.drain()
                continue
            if mode == SLOW:
                await asyncio.sleep(SLOW_DELAY_S)
            writer.write(chunk)
            await writer.drain()
