"""Commands the README offers that no other test runs: `make help` and `make bench`'s ports."""

from __future__ import annotations

import re
import socket
import subprocess
from pathlib import Path

from bot.config import PROJECT_ROOT
from scripts.bench import our_launch


def test_make_help_lists_every_target_the_readme_names() -> None:
    """`make help` prints each `make <target>` the README mentions, with its description."""
    listed = subprocess.run(["make", "--no-print-directory", "help"], cwd=PROJECT_ROOT, capture_output=True, text=True, check=True).stdout
    named = set(re.findall(r"`make ([a-z-]+)", (PROJECT_ROOT / "README.md").read_text()))
    assert named, "the README names no make targets"
    for target in named:
        assert re.search(rf"make {re.escape(target)}\s+\S", listed), f"make help does not list {target}"


def test_bench_starts_everything_on_free_ports_even_next_to_make_run(tmp_path: Path) -> None:
    """Every port `make bench` gives scripts/run.sh is a free one, also when the defaults are taken."""
    taken = []
    for port in (5005, 5055, 8080):
        listener = socket.socket()
        try:
            listener.bind(("127.0.0.1", port))
            listener.listen()
            taken.append(listener)
        except OSError:  # already in use (perhaps by `make run`): just as good for this test
            listener.close()
    try:
        env = our_launch(tmp_path, PROJECT_ROOT / ".venv", PROJECT_ROOT / "models" / "commonground.tar.gz").env
        for name in ("RASA_PORT", "ACTION_PORT", "WEB_PORT"):
            port = int(env[name])
            assert port not in (5005, 5055, 8080), name
            with socket.socket() as probe:
                probe.bind(("127.0.0.1", port))  # free right now
    finally:
        for listener in taken:
            listener.close()
