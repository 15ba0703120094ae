"""Runs one server, restarts it with backoff when it stops on its own, and gives up on a crash loop.

Usage: python scripts/supervise.py --name "action server" -- COMMAND...
The first restart waits RESTART_BACKOFF_SECONDS (default 1), each next one twice as long (at most
30 s); a run of over a minute counts as healthy and starts the count again. After RESTART_LIMIT
(default 5) restarts in a row it stops with a message. SIGTERM is passed on to the server; Ctrl-C
reaches the server from the terminal itself. Either way it is not restarted.
"""

from __future__ import annotations

import argparse
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import List, Optional

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bot.config import get_settings  # noqa: E402

HEALTHY_RUN_S = 60.0
MAX_BACKOFF_S = 30.0


def main(argv: Optional[List[str]] = None) -> int:
    """Supervise the command until it is stopped or crash-loops; 0 when stopped, 1 when given up."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--name", required=True, help="what the server is called in messages")
    parser.add_argument("command", nargs=argparse.REMAINDER, help="-- then the server's command line")
    args = parser.parse_args(argv)
    command = args.command[1:] if args.command[:1] == ["--"] else args.command
    settings = get_settings()
    state = {"stopping": False, "child": None}

    def stop(signum: int, _frame: object) -> None:
        state["stopping"] = True
        child = state["child"]
        if signum == signal.SIGTERM and child is not None and child.poll() is None:
            child.send_signal(signum)

    signal.signal(signal.SIGINT, stop)
    signal.signal(signal.SIGTERM, stop)
    restarts, backoff = 0, settings.restart_backoff_s
    while True:
        started = time.monotonic()
        child = subprocess.Popen(command)
        state["child"] = child
        status = child.wait()
        if state["stopping"]:
            return 0
        if time.monotonic() - started >= HEALTHY_RUN_S:
            restarts, backoff = 0, settings.restart_backoff_s
        if restarts >= settings.restart_limit:
            print(
                f"error: the {args.name} keeps crashing (exit status {status}; restarted {restarts} times in a row); "
                "giving up — see its messages above",
                file=sys.stderr, flush=True,
            )
            return 1
        restarts += 1
        print(
            f"the {args.name} stopped unexpectedly (exit status {status}); restarting it in {backoff:g} s "
            f"(restart {restarts} of at most {settings.restart_limit})",
            file=sys.stderr, flush=True,
        )
        deadline = time.monotonic() + backoff
        while time.monotonic() < deadline and not state["stopping"]:
            time.sleep(0.1)
        if state["stopping"]:
            return 0
        backoff = min(backoff * 2, MAX_BACKOFF_S)


if __name__ == "__main__":
    sys.exit(main())
