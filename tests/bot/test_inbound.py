"""Cleaning user text, the length limit, the per-sender rate limit, and never staying silent."""

from __future__ import annotations

import gc
from typing import Dict, Iterator, List

import pytest

from bot.channels import inbound
from bot.channels.inbound import MAX_MESSAGE_CHARS, SenderRateLimiter, handle_text, prepare_text


@pytest.fixture(autouse=True)
def keep_test_objects_collectable(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """handle_text freezes the server's loaded objects once; the test process itself stays unfrozen."""
    monkeypatch.setattr(inbound, "_loaded_objects_frozen", True)
    yield
    gc.unfreeze()


@pytest.mark.parametrize(
    "raw, text, truncated",
    [
        ("what is mediation?", "what is mediation?", False),
        ("  what\tis\n\nmediation?  ", "what is mediation?", False),
        ("medi\x00ation\x07 \x1b[31mred", "mediation [31mred", False),
        ("zero\u200bwidth\u202eflip", "zerowidthflip", False),
        ("emoji 🙂 and ünïcödé", "emoji 🙂 and ünïcödé", False),
        ("\x00\x01\x02", "", False),
        ("a" * (MAX_MESSAGE_CHARS + 5), "a" * MAX_MESSAGE_CHARS, True),
    ],
)
def test_prepare_text(raw: str, text: str, truncated: bool) -> None:
    """Control and invisible format characters go, whitespace collapses, long text is cut."""
    prepared = prepare_text(raw)
    assert (prepared.text, prepared.truncated) == (text, truncated)


def test_rate_limit_per_sender_and_window() -> None:
    """The limit applies per sender and frees up as the window moves on."""
    limiter = SenderRateLimiter(limit=3, window_s=10)
    assert [limiter.allow("a", now=t) for t in (0, 1, 2, 3)] == [True, True, True, False]
    assert limiter.allow("b", now=3)
    assert limiter.allow("a", now=10.5)


async def run_handle(raw: str, dispatched_replies: int, limiter: SenderRateLimiter) -> Dict[str, List]:
    """Run handle_text with a fake Rasa that sends `dispatched_replies` replies."""
    seen: Dict[str, List] = {"replies": [], "dispatched": []}

    async def reply(message: dict) -> None:
        seen["replies"].append(message)

    async def dispatch(text: str) -> int:
        seen["dispatched"].append(text)
        if dispatched_replies < 0:
            raise RuntimeError("action server down")
        return dispatched_replies

    await handle_text(raw, "s", None, limiter, reply, dispatch)
    return seen


async def test_silence_becomes_an_apology() -> None:
    """When Rasa sends nothing (or fails), the user gets the apology with the firm's contact."""
    for replies in (0, -1):
        seen = await run_handle("hello", replies, SenderRateLimiter(limit=5, window_s=10))
        assert [r["custom"]["kind"] for r in seen["replies"]] == ["error"]
        assert "Sorry, something went wrong" in seen["replies"][0]["text"]


async def test_long_message_is_cut_with_a_note_and_floods_are_answered() -> None:
    """A long message is processed cut, with a note; the message over the limit is not processed."""
    limiter = SenderRateLimiter(limit=1, window_s=10)
    seen = await run_handle("x" * 5000, 1, limiter)
    assert len(seen["dispatched"][0]) == MAX_MESSAGE_CHARS
    assert "first 1,000 characters" in seen["replies"][0]["text"]
    flooded = await run_handle("again", 1, limiter)
    assert flooded["dispatched"] == []
    assert "faster than I can answer" in flooded["replies"][0]["text"]


async def test_loaded_objects_leave_full_collections_after_the_first_message(monkeypatch: pytest.MonkeyPatch) -> None:
    """After the first message, what the process had loaded is no longer walked by garbage collections."""
    monkeypatch.setattr(inbound, "_loaded_objects_frozen", False)
    gc.unfreeze()
    loaded_model = {"weights": [[0.5] * 4]}
    await run_handle("hello", 1, SenderRateLimiter(limit=5, window_s=10))
    assert gc.get_freeze_count() > 0
    assert not any(tracked is loaded_model for tracked in gc.get_objects())
    frozen = gc.get_freeze_count()
    await run_handle("again", 1, SenderRateLimiter(limit=5, window_s=10))
    # Once per process, not per message: a second freeze would add this message's objects; the
    # count may only shrink, as objects of the first message that were alive at the freeze go.
    assert gc.get_freeze_count() <= frozen
