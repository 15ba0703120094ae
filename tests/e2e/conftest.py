"""Starts the real action server and Rasa server the way `make run` does, on free ports."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Dict, Iterator, List, Optional

import pytest
import requests

from bot.config import PROJECT_ROOT

MODEL = PROJECT_ROOT / "models" / "commonground.tar.gz"
START_TIMEOUT_S = 300


def free_port() -> int:
    """A TCP port nobody listens on right now."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@dataclass
class Servers:
    """The running assistant: its REST URL and how to restart it."""

    env: Dict[str, str]
    log: Path
    process: "subprocess.Popen[bytes]"

    @property
    def webhook(self) -> str:
        """The REST channel's webhook URL."""
        return f"http://localhost:{self.env['RASA_PORT']}/webhooks/rest/webhook"

    def say(self, sender: str, text: str) -> List[dict]:
        """Send one message as `sender`; the bot's replies."""
        reply = requests.post(self.webhook, json={"sender": sender, "message": text}, timeout=60)
        reply.raise_for_status()
        return reply.json()

    def start(self) -> None:
        """Start both servers with scripts/run.sh and wait until it says they are up."""
        started = self.log.stat().st_size if self.log.exists() else 0
        with self.log.open("ab") as log:
            self.process = subprocess.Popen(
                ["scripts/run.sh"], cwd=PROJECT_ROOT, env=self.env,
                stdout=log, stderr=subprocess.STDOUT, start_new_session=True,
            )
        deadline = time.monotonic() + START_TIMEOUT_S
        while b"Common Ground is running" not in self.log.read_bytes()[started:]:
            if self.process.poll() is not None or time.monotonic() > deadline:
                self.stop()
                pytest.fail(f"servers did not start; log:\n{self.log.read_text(errors='replace')[-4000:]}")
            time.sleep(0.5)

    def stop(self) -> None:
        """Stop both servers the way Ctrl-C does."""
        if self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGINT)
            try:
                self.process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                os.killpg(self.process.pid, signal.SIGKILL)
                self.process.wait()


def start_servers(work: Path, extra_env: Optional[Dict[str, str]] = None) -> Servers:
    """Both servers on free ports, with databases of their own in `work`; started."""
    if not MODEL.exists():
        pytest.fail(f"{MODEL} is missing: run the tests through `make test`, which trains it first")
    rasa_port, action_port = free_port(), free_port()
    env = {
        **os.environ,
        "RASA_PORT": str(rasa_port),
        "ACTION_PORT": str(action_port),
        "WEB_PORT": str(free_port()),
        "CONSOLE_PORT": str(free_port()),
        "ACTION_ENDPOINT_URL": f"http://localhost:{action_port}/webhook",
        "DATABASE_URL": f"sqlite:///{work / 'commonground.db'}",
        "TRACKER_STORE_URL": f"sqlite:///{work / 'tracker.db'}",
        "COMMONGROUND_VAR_DIR": str(work),
        "TF_CPP_MIN_LOG_LEVEL": "2",
        "VENV": str(Path(sys.executable).parent.parent),
        **(extra_env or {}),
    }
    subprocess.run([sys.executable, "-m", "bot.knowledge.load"], cwd=PROJECT_ROOT, env=env, check=True)
    running = Servers(env=env, log=work / "servers.log", process=None)  # type: ignore[arg-type]
    running.start()
    return running


@pytest.fixture(scope="session")
def servers(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Servers]:
    """Both servers on free ports, with a knowledge base of their own."""
    running = start_servers(tmp_path_factory.mktemp("e2e"))
    yield running
    running.stop()
