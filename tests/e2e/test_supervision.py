"""`make run` supervision: a crashed server is restarted with backoff and says so, the conversation
goes on; a crash loop gives up with a clear message; Ctrl-C stops without restarts."""

from __future__ import annotations

import os
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path
from typing import List

import requests

from bot.config import PROJECT_ROOT
from tests.e2e.conftest import start_servers

SUPERVISE = [sys.executable, str(PROJECT_ROOT / "scripts" / "supervise.py")]
RESTART_TIMEOUT_S = 240


def supervise(command: List[str], limit: int = 2) -> "subprocess.Popen[str]":
    """scripts/supervise.py running `command`, with a fast backoff."""
    env = {**os.environ, "RESTART_LIMIT": str(limit), "RESTART_BACKOFF_SECONDS": "0.2"}
    return subprocess.Popen(
        [*SUPERVISE, "--name", "test server", "--", *command], env=env, text=True,
        stdout=subprocess.PIPE, stderr=subprocess.STDOUT, start_new_session=True,
    )


def test_a_crash_loop_gives_up_with_a_clear_message() -> None:
    """A server that always exits is restarted RESTART_LIMIT times with backoff, then given up on."""
    supervisor = supervise([sys.executable, "-c", "import sys; print('starting'); sys.exit(3)"], limit=2)
    output, _ = supervisor.communicate(timeout=60)
    assert supervisor.returncode == 1
    assert output.splitlines().count("starting") == 3
    assert output.count("restarting it in") == 2
    assert "restarting it in 0.2 s" in output and "restarting it in 0.4 s" in output
    assert "error: the test server keeps crashing (exit status 3; restarted 2 times in a row); giving up" in output


def test_ctrl_c_stops_the_server_without_a_restart() -> None:
    """Ctrl-C (SIGINT to the group) stops the server and the supervisor, which restarts nothing."""
    supervisor = supervise([sys.executable, "-c", "import time; print('up', flush=True); time.sleep(120)"])
    assert supervisor.stdout is not None and supervisor.stdout.readline().strip() == "up"
    os.killpg(supervisor.pid, signal.SIGINT)
    output, _ = supervisor.communicate(timeout=30)
    assert supervisor.returncode == 0
    assert "restarting" not in output


def children_of(pid: int) -> List[int]:
    """Process ids whose parent is `pid`."""
    found = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
            except OSError:
                continue
            if int(fields[1]) == pid:
                found.append(int(entry.name))
    return found


def command_line(pid: int) -> str:
    """A process's command line, spaces between the arguments."""
    return (Path("/proc") / str(pid) / "cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")


def test_make_run_restarts_a_killed_server_and_keeps_the_conversation(tmp_path: Path) -> None:
    """SIGKILL the Rasa server and the action server under scripts/run.sh: each comes back by itself,
    the log says so, and the conversation stored before goes on."""
    servers = start_servers(tmp_path, {"RESTART_BACKOFF_SECONDS": "1"})
    try:
        assert servers.say("keeper", "communication broke down")[0]["custom"]["kind"] == "answer"
        stored_before = sqlite3.connect(tmp_path / "tracker.db").execute(
            "select count(*) from events where sender_id = 'keeper'").fetchone()[0]
        supervisors = children_of(servers.process.pid)
        for name, marker in (("Rasa server", "rasa run --model"), ("action server", "rasa run actions")):
            server = next(child for sup in supervisors for child in children_of(sup) if marker in command_line(child))
            os.kill(server, signal.SIGKILL)
            deadline = time.monotonic() + RESTART_TIMEOUT_S
            while f"the {name} stopped unexpectedly" not in servers.log.read_text(errors="replace"):
                assert time.monotonic() < deadline, f"no restart message for the {name}"
                time.sleep(0.5)
            while True:
                try:
                    replies = servers.say("keeper", "what is the difference between mediation and negotiation?")
                    if replies and replies[0]["custom"]["kind"] == "answer":
                        break
                except requests.RequestException:
                    pass
                assert time.monotonic() < deadline, f"the {name} did not come back"
                time.sleep(1)
        stored_after = sqlite3.connect(tmp_path / "tracker.db").execute(
            "select count(*) from events where sender_id = 'keeper'").fetchone()[0]
        assert stored_after > stored_before  # the same conversation, continued
        assert servers.process.poll() is None  # run.sh itself kept running
    finally:
        servers.stop()
