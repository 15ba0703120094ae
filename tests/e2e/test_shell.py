"""`make shell`: the terminal chat starts (on free ports, next to anything else) and answers typed input."""

from __future__ import annotations

import os
import pty
import re
import select
import signal
import subprocess
import sys
import time
from pathlib import Path

from bot.config import PROJECT_ROOT
from tests.e2e.conftest import MODEL, free_port

ANSI = re.compile(r"\x1b\[[0-9;?]*[A-Za-z]|\x1b[()][A-Z0-9]|\r")
START_TIMEOUT_S = 300
REPLY_TIMEOUT_S = 60


def read_until(fd: int, pattern: str, seen: str, timeout_s: float) -> str:
    """Terminal output up to and including `pattern`; fails with what was seen when it does not come."""
    deadline = time.monotonic() + timeout_s
    while pattern not in ANSI.sub("", seen):
        remaining = deadline - time.monotonic()
        assert remaining > 0, f"{pattern!r} did not appear; terminal showed:\n{ANSI.sub('', seen)[-3000:]}"
        ready, _, _ = select.select([fd], [], [], min(remaining, 1.0))
        if ready:
            try:
                seen += os.read(fd, 65536).decode("utf-8", errors="replace")
            except OSError:  # the program closed the terminal
                break
    return seen


def test_make_shell_answers_typed_questions(tmp_path: Path) -> None:
    """Typing a question into `make shell` gets the knowledge-base answer; the default ports may be busy."""
    assert MODEL.exists(), "run the tests through `make test`, which trains the model first"
    env = {
        **os.environ,
        "VENV": str(Path(sys.executable).parent.parent),
        "DATABASE_URL": f"sqlite:///{tmp_path / 'commonground.db'}",
        "TRACKER_STORE_URL": f"sqlite:///{tmp_path / 'tracker.db'}",
        "COMMONGROUND_VAR_DIR": str(tmp_path),
        "RASA_PORT": str(free_port()),
        "ACTION_PORT": str(free_port()),
        "TERM": "xterm",
        "COLUMNS": "200",
        "LINES": "50",
    }
    subprocess.run([sys.executable, "-m", "bot.knowledge.load"], cwd=PROJECT_ROOT, env=env, check=True)
    controller, terminal = pty.openpty()
    shell = subprocess.Popen(
        ["make", "--no-print-directory", "shell"], cwd=PROJECT_ROOT, env=env,
        stdin=terminal, stdout=terminal, stderr=terminal, start_new_session=True,
    )
    os.close(terminal)
    try:
        seen = read_until(controller, "Your input", "", START_TIMEOUT_S)
        os.write(controller, b"what is the difference between mediation and negotiation?\r")
        seen = read_until(controller, "mediator", seen, REPLY_TIMEOUT_S)
        assert "went wrong" not in ANSI.sub("", seen)
    finally:
        os.killpg(shell.pid, signal.SIGINT)
        try:
            shell.wait(timeout=30)
        except subprocess.TimeoutExpired:
            os.killpg(shell.pid, signal.SIGKILL)
            shell.wait()
        os.close(controller)
