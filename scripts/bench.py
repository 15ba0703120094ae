"""Benchmarks Common Ground against Rasa's own starter bot (`rasa init`) under the same REST load.

For each bot, in one run on this machine: training time, start-up time (launch to the first REST
reply), the Rasa server's memory after the load, and throughput and p50/p95/p99 latency with 1, 8
and 32 simultaneous multi-turn conversations. Prints every figure with its ratio to the starter
bot's and writes docs/benchmarks.md. Run it through `make bench`; `--quick` is a smoke run.

Servers listen on free loopback ports with databases in a temporary folder; every process this
script starts runs in a session of its own and is stopped at the end, even on errors.
SANIC_WORKERS and LOCK_STORE_URL pass through to our Rasa server (not to the starter bot's).
"""

from __future__ import annotations

import argparse
import asyncio
import http.client
import json
import math
import os
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import Dict, Iterator, List, Mapping, Optional, Sequence, Tuple
from urllib.parse import urlsplit

import aiohttp

ROOT = Path(__file__).resolve().parent.parent
DEFAULT_OUTPUT = ROOT / "docs" / "benchmarks.md"
SHIPPED_MODEL = ROOT / "models" / "commonground.tar.gz"
WEBHOOK_PATH = "/webhooks/rest/webhook"
LOOPBACK_HOSTS = frozenset({"127.0.0.1", "localhost", "::1"})
DEFAULT_LOCK_STORE_URL = "redis://127.0.0.1:6379/6"
OURS, STARTER = "Common Ground", "Rasa starter bot"

TRAIN_TIMEOUT_S = 3600
START_TIMEOUT_S = 300
STOP_GRACE_S = 30
REQUEST_TIMEOUT_S = 60
PROBE_INTERVAL_S = 0.25

# One user's conversation: questions, a follow-up, the recommendation questions, a thank-you.
# Each conversation is sent in order, one message after the other's reply; conversations run in
# parallel. The same texts go to both bots.
CONVERSATION: Tuple[str, ...] = (
    "hello",
    "what's the difference between mediation and negotiation?",
    "tell me more",
    "does the mediator decide?",
    "which process should I use?",
    "no",
    "yes",
    "no",
    "we can still talk",
    "thanks",
)

# Environment our Rasa server may take from the caller; the starter bot runs without it.
PASSTHROUGH = ("SANIC_WORKERS", "LOCK_STORE_URL")
QUIET_ENV = {
    "TF_CPP_MIN_LOG_LEVEL": "2",
    "RASA_TELEMETRY_ENABLED": "false",
    "SQLALCHEMY_SILENCE_UBER_WARNING": "1",
    "PYTHONWARNINGS": "ignore::DeprecationWarning",
}


class BenchError(RuntimeError):
    """A step of the benchmark failed; the message says which and shows its log."""


@dataclass(frozen=True)
class LoadShape:
    """How much load each concurrency level gets."""

    levels: Tuple[int, ...]
    messages_per_round: int
    rounds: int
    max_seconds_per_round: float
    warmup_conversations: int

    def conversations(self, concurrency: int) -> int:
        """Conversations in one round of a level: enough for the message budget, at least one per slot."""
        return max(math.ceil(self.messages_per_round / len(CONVERSATION)), concurrency)

    def describe(self) -> str:
        """One paragraph for the report."""
        return LOAD_SHAPE_TEXT.format(
            turns=len(CONVERSATION),
            texts="; ".join(f'"{text}"' for text in CONVERSATION),
            levels=", ".join(str(level) for level in self.levels),
            rounds=self.rounds,
            conversations=", ".join(str(self.conversations(level)) for level in self.levels),
            messages=", ".join(str(self.rounds * self.conversations(level) * len(CONVERSATION)) for level in self.levels),
            seconds=f"{self.max_seconds_per_round:g}",
            warmup=self.warmup_conversations,
            timeout=REQUEST_TIMEOUT_S,
        )


FULL = LoadShape(levels=(1, 8, 32), messages_per_round=160, rounds=3, max_seconds_per_round=120.0, warmup_conversations=4)
QUICK = LoadShape(levels=(1, 8, 32), messages_per_round=40, rounds=1, max_seconds_per_round=20.0, warmup_conversations=1)


@dataclass(frozen=True)
class Metric:
    """One row of the results table."""

    key: str
    label: str
    digits: int
    compared: bool = True


@dataclass(frozen=True)
class Target:
    """A goal for our figure relative to the starter bot's: ratio ours/starter against a bound."""

    label: str
    key: str
    bound: float
    at_least: bool

    def met(self, ratio: float) -> bool:
        """Whether the ratio satisfies the target."""
        return ratio >= self.bound if self.at_least else ratio <= self.bound


TARGETS = (
    Target("throughput at concurrency 32 ≥ 1.5 × the starter bot's", "throughput_32", 1.5, True),
    Target("p95 latency at concurrency 8 ≤ 0.5 × the starter bot's", "p95_8", 0.5, False),
    Target("memory (RSS) per Rasa server process ≤ the starter bot's", "rss_per_process_mib", 1.0, False),
)


def metrics(levels: Sequence[int]) -> List[Metric]:
    """Every figure the benchmark reports, in table order."""
    rows = [
        Metric("train_s", "training time (s)", 1),
        Metric("startup_s", "start-up, launch to first REST reply (s)", 1),
        Metric("rasa_startup_s", "of which the Rasa server alone (s)", 1),
        Metric("rss_per_process_mib", "Rasa server RSS per process after the load (MiB)", 0),
        Metric("rss_total_mib", "Rasa server RSS, all its processes (MiB)", 0),
        Metric("pss_total_mib", "Rasa server PSS, all its processes (MiB)", 0),
        Metric("rasa_processes", "Rasa server processes", 0),
        Metric("rss_idle_mib", "Rasa server RSS per process before the load (MiB)", 0),
        Metric("action_rss_mib", "action server RSS (MiB)", 0),
        Metric("load_before", "machine load average (1 min) when the load started", 1, compared=False),
    ]
    for level in levels:
        rows += [
            Metric(f"throughput_{level}", f"concurrency {level}: throughput (messages/s)", 1),
            Metric(f"p50_{level}", f"concurrency {level}: p50 latency (ms)", 0),
            Metric(f"p95_{level}", f"concurrency {level}: p95 latency (ms)", 0),
            Metric(f"p99_{level}", f"concurrency {level}: p99 latency (ms)", 0),
            Metric(f"messages_{level}", f"concurrency {level}: messages answered", 0),
            Metric(f"errors_{level}", f"concurrency {level}: failed requests", 0, compared=False),
        ]
    return rows


# ---------------------------------------------------------------------------------------------
# Processes


class Processes:
    """Every process this script starts, each leading a session of its own, stopped together."""

    def __init__(self) -> None:
        self.started: List["subprocess.Popen[bytes]"] = []

    def start(self, command: Sequence[str], cwd: Path, env: Mapping[str, str], log: Path) -> "subprocess.Popen[bytes]":
        """Start `command` in a new session, its output appended to `log`."""
        with log.open("ab") as out:
            process = subprocess.Popen(
                list(command), cwd=cwd, env=dict(env), stdin=subprocess.DEVNULL,
                stdout=out, stderr=subprocess.STDOUT, start_new_session=True,
            )
        self.started.append(process)
        return process

    def stop(self, process: "subprocess.Popen[bytes]") -> None:
        """Interrupt the process's group like Ctrl-C, then kill whatever is left of it."""
        if process.poll() is None:
            _signal_group(process.pid, signal.SIGINT)
            try:
                process.wait(timeout=STOP_GRACE_S)
            except subprocess.TimeoutExpired:
                _signal_group(process.pid, signal.SIGKILL)
                process.wait()
        _signal_group(process.pid, signal.SIGKILL)  # members that outlived their leader
        if process in self.started:
            self.started.remove(process)

    def stop_all(self) -> None:
        """Stop every process still tracked, the most recent first."""
        for process in reversed(list(self.started)):
            self.stop(process)


def _signal_group(pgid: int, signum: int) -> None:
    try:
        os.killpg(pgid, signum)
    except ProcessLookupError:
        pass  # the group is already gone


def run_timed(
    processes: Processes, what: str, command: Sequence[str], cwd: Path, env: Mapping[str, str], log: Path
) -> float:
    """Run `command` to completion; its wall-clock seconds. Raises BenchError if it fails."""
    started = time.monotonic()
    process = processes.start(command, cwd, env, log)
    try:
        code = process.wait(timeout=TRAIN_TIMEOUT_S)
    except subprocess.TimeoutExpired:
        processes.stop(process)
        raise BenchError(f"{what} took longer than {TRAIN_TIMEOUT_S} s\n{tail(log)}") from None
    processes.stop(process)
    if code != 0:
        raise BenchError(f"{what} failed (exit {code})\n{tail(log)}")
    return time.monotonic() - started


def tail(log: Path, chars: int = 4000) -> str:
    """The end of a log file."""
    text = log.read_text(errors="replace") if log.exists() else "(no log)"
    return f"--- end of {log} ---\n{text[-chars:]}"


def free_port() -> int:
    """A loopback TCP port nobody listens on right now."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


# ---------------------------------------------------------------------------------------------
# /proc


@dataclass(frozen=True)
class ProcInfo:
    """One process as /proc shows it."""

    pid: int
    ppid: int
    session: int
    argv: Tuple[str, ...]


def session_members(session: int) -> List[ProcInfo]:
    """Processes of one session (everything a process started with start_new_session spawned)."""
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
            argv = tuple(arg.decode(errors="replace") for arg in (entry / "cmdline").read_bytes().split(b"\0") if arg)
        except OSError:
            continue  # it exited while we looked
        fields = stat[stat.rindex(")") + 2 :].split()
        if int(fields[3]) == session:
            found.append(ProcInfo(int(entry.name), int(fields[1]), session, argv))
    return found


def rasa_subcommand(argv: Sequence[str]) -> Optional[str]:
    """"server" for `rasa run ...`, "actions" for `rasa run actions ...`, None for anything else."""
    for index, arg in enumerate(argv[:-1]):
        if Path(arg).name == "rasa" and argv[index + 1] == "run":
            return "actions" if argv[index + 2 : index + 3] == ("actions",) else "server"
    return None


def _proc_kib(path: Path, field_name: str) -> int:
    try:
        lines = path.read_text().splitlines()
    except OSError:
        return 0
    for line in lines:
        if line.startswith(field_name + ":"):
            return int(line.split()[1])
    return 0


def rss_mib(pid: int) -> float:
    """Resident set size of one process (VmRSS), MiB."""
    return _proc_kib(Path(f"/proc/{pid}/status"), "VmRSS") / 1024


def pss_mib(pid: int) -> float:
    """Proportional set size of one process (shared pages split between sharers), MiB."""
    return _proc_kib(Path(f"/proc/{pid}/smaps_rollup"), "Pss") / 1024


def server_pids(session: int, kind: str) -> List[int]:
    """Pids of the Rasa server (and its Sanic workers) or of the action server in a session."""
    return sorted(p.pid for p in session_members(session) if rasa_subcommand(p.argv) == kind)


def memory_figures(session: int) -> Dict[str, float]:
    """RSS/PSS of the Rasa server's processes and RSS of the action server, MiB."""
    rasa = server_pids(session, "server")
    actions = server_pids(session, "actions")
    rss = [rss_mib(pid) for pid in rasa]
    figures = {
        "rss_per_process_mib": max(rss, default=0.0),
        "rss_total_mib": sum(rss),
        "pss_total_mib": sum(pss_mib(pid) for pid in rasa),
        "rasa_processes": float(len(rasa)),
    }
    if actions:
        figures["action_rss_mib"] = sum(rss_mib(pid) for pid in actions)
    return figures


# ---------------------------------------------------------------------------------------------
# Start-up


def post_message(url: str, sender: str, text: str) -> bool:
    """Whether one REST message got a 200 reply with a JSON list."""
    body = json.dumps({"sender": sender, "message": text}).encode()
    request = urllib.request.Request(url, data=body, headers={"Content-Type": "application/json"})
    try:
        with urllib.request.urlopen(request, timeout=10) as reply:
            return reply.status == 200 and isinstance(json.loads(reply.read()), list)
    except (OSError, http.client.HTTPException, ValueError):
        return False


def wait_until_replying(process: "subprocess.Popen[bytes]", launched: float, url: str, log: Path) -> Tuple[float, float]:
    """Seconds from launch to the first REST reply, and from the Rasa process appearing to it."""
    rasa_seen: Optional[float] = None
    deadline = launched + START_TIMEOUT_S
    while True:
        if process.poll() is not None:
            raise BenchError(f"the servers exited during start-up (exit {process.returncode})\n{tail(log)}")
        now = time.monotonic()
        if now > deadline:
            raise BenchError(f"no REST reply within {START_TIMEOUT_S} s\n{tail(log)}")
        if rasa_seen is None and server_pids(process.pid, "server"):
            rasa_seen = now
        if rasa_seen is not None and post_message(url, "bench-start-up-probe", CONVERSATION[0]):
            replied = time.monotonic()
            return replied - launched, replied - rasa_seen
        time.sleep(PROBE_INTERVAL_S)


# ---------------------------------------------------------------------------------------------
# Load


@dataclass
class LevelResult:
    """What one concurrency level measured."""

    concurrency: int
    seconds: float = 0.0
    errors: int = 0
    latencies_ms: List[float] = field(default_factory=list)

    @property
    def throughput(self) -> float:
        """Answered messages per second over the level's wall-clock time."""
        return len(self.latencies_ms) / self.seconds if self.seconds else 0.0

    def percentile(self, q: int) -> float:
        """The q-th percentile latency, ms."""
        if len(self.latencies_ms) < 2:
            return self.latencies_ms[0] if self.latencies_ms else math.nan
        return statistics.quantiles(self.latencies_ms, n=100, method="inclusive")[q - 1]

    def add(self, other: "LevelResult") -> None:
        """Pool another round of the same level into this one."""
        self.seconds += other.seconds
        self.errors += other.errors
        self.latencies_ms.extend(other.latencies_ms)

    def figures(self) -> Dict[str, float]:
        """This level's rows of the results table."""
        level = self.concurrency
        return {
            f"throughput_{level}": self.throughput,
            f"p50_{level}": self.percentile(50),
            f"p95_{level}": self.percentile(95),
            f"p99_{level}": self.percentile(99),
            f"messages_{level}": float(len(self.latencies_ms)),
            f"errors_{level}": float(self.errors),
        }


async def drive_level(url: str, concurrency: int, conversations: int, max_seconds: float, tag: str) -> LevelResult:
    """Run `conversations` conversations, `concurrency` at a time, each message after the last reply."""
    result = LevelResult(concurrency)
    pending: Iterator[int] = iter(range(conversations))
    deadline = time.monotonic() + max_seconds

    async def converse(session: aiohttp.ClientSession, sender: str) -> None:
        for text in CONVERSATION:
            if time.monotonic() >= deadline:
                return
            sent = time.perf_counter()
            try:
                async with session.post(url, json={"sender": sender, "message": text}) as reply:
                    body = await reply.read()
                    ok = reply.status == 200 and isinstance(json.loads(body), list)
            except (aiohttp.ClientError, asyncio.TimeoutError, ValueError):
                ok = False
            if ok:
                result.latencies_ms.append((time.perf_counter() - sent) * 1000)
            else:
                result.errors += 1

    async def slot(session: aiohttp.ClientSession) -> None:
        for number in pending:  # the slots share one iterator: each conversation runs once
            await converse(session, f"bench-{tag}-{number}")

    connector = aiohttp.TCPConnector(limit=concurrency)
    timeout = aiohttp.ClientTimeout(total=REQUEST_TIMEOUT_S)
    async with aiohttp.ClientSession(connector=connector, timeout=timeout) as session:
        started = time.perf_counter()
        await asyncio.gather(*(slot(session) for _ in range(concurrency)))
        result.seconds = time.perf_counter() - started
    return result


async def run_load(urls: Mapping[str, str], shape: LoadShape) -> Dict[str, List[LevelResult]]:
    """Warm every bot up, then each level in rounds, the bots taking turns and swapping order each round.

    Interleaving spreads the machine's slow and fast moments over both bots, so their ratio moves
    far less between runs than when one bot is measured minutes after the other.
    """
    tag = str(os.getpid())
    for name, url in urls.items():
        await drive_level(url, 1, shape.warmup_conversations, shape.max_seconds_per_round, f"{short(name)}-{tag}-warmup")
    results: Dict[str, List[LevelResult]] = {name: [] for name in urls}
    for level in shape.levels:
        pooled = {name: LevelResult(level) for name in urls}
        for round_number in range(shape.rounds):
            order = list(urls) if round_number % 2 == 0 else list(reversed(list(urls)))
            for name in order:
                one_round = await drive_level(
                    urls[name], level, shape.conversations(level), shape.max_seconds_per_round,
                    f"{short(name)}-{tag}-c{level}-r{round_number}",
                )
                pooled[name].add(one_round)
        for name, result in pooled.items():
            say(
                f"  {name}, concurrency {level:>2}: {result.throughput:6.1f} messages/s, p50 {result.percentile(50):6.0f} ms, "
                f"p95 {result.percentile(95):6.0f} ms, p99 {result.percentile(99):6.0f} ms "
                f"({len(result.latencies_ms)} answered, {result.errors} failed, {result.seconds:.0f} s)"
            )
            results[name].append(result)
    return results


def short(name: str) -> str:
    """A bot's name in sender ids."""
    return "ours" if name == OURS else "starter"


# ---------------------------------------------------------------------------------------------
# The two bots


@dataclass(frozen=True)
class Launch:
    """How to start one bot's servers."""

    command: Tuple[str, ...]
    cwd: Path
    env: Mapping[str, str]
    port: int


@dataclass
class RunningBot:
    """One bot's servers, up and answering."""

    name: str
    process: "subprocess.Popen[bytes]"
    url: str
    log: Path
    figures: Dict[str, float]


def start_bot(processes: Processes, name: str, launch: Launch, log: Path) -> RunningBot:
    """Start one bot's servers and time them until the first REST reply."""
    url = f"http://127.0.0.1:{launch.port}{WEBHOOK_PATH}"
    say(f"{name}: starting the servers")
    launched = time.monotonic()
    process = processes.start(launch.command, launch.cwd, launch.env, log)
    startup, rasa_startup = wait_until_replying(process, launched, url, log)
    say(f"  first REST reply after {startup:.1f} s (Rasa server alone: {rasa_startup:.1f} s)")
    idle = memory_figures(process.pid)["rss_per_process_mib"]
    return RunningBot(name, process, url, log, {"startup_s": startup, "rasa_startup_s": rasa_startup, "rss_idle_mib": idle})


def measure_load(bots: Sequence[RunningBot], shape: LoadShape) -> None:
    """Drive the load on the running bots, then read their memory; figures go into each bot."""
    load_before = float(Path("/proc/loadavg").read_text().split()[0])
    levels = asyncio.run(run_load({bot.name: bot.url for bot in bots}, shape))
    for bot in bots:
        if bot.process.poll() is not None:
            raise BenchError(f"{bot.name}: the servers exited during the load\n{tail(bot.log)}")
        bot.figures["load_before"] = load_before
        bot.figures.update(memory_figures(bot.process.pid))
        for level in levels[bot.name]:
            bot.figures.update(level.figures())
        say(
            f"  {bot.name} after the load: {bot.figures['rss_per_process_mib']:.0f} MiB RSS per process, "
            f"{bot.figures['rasa_processes']:.0f} process(es)"
        )


def our_launch(work: Path, venv: Path, model: Path) -> Launch:
    """scripts/run.sh on free ports, with its own knowledge base and tracker store in `work`."""
    rasa_port, action_port = free_port(), free_port()
    env = {
        **os.environ,
        **QUIET_ENV,
        "VENV": str(venv),
        "MODEL": str(model),
        "RASA_PORT": str(rasa_port),
        "ACTION_PORT": str(action_port),
        "CONSOLE_PORT": str(free_port()),
        "WEB_PORT": str(free_port()),  # run.sh also serves the demo page: never a fixed port
        "ACTION_ENDPOINT_URL": f"http://127.0.0.1:{action_port}/webhook",
        "DATABASE_URL": f"sqlite:///{work / 'commonground.db'}",
        "TRACKER_STORE_URL": f"sqlite:///{work / 'tracker.db'}",
        "COMMONGROUND_VAR_DIR": str(work),
    }
    return Launch(("scripts/run.sh",), ROOT, env, rasa_port)


def starter_launch(starter: Path, venv: Path, env: Mapping[str, str]) -> Launch:
    """`rasa run` in the starter project, REST enabled by its credentials.yml, loopback only."""
    port = free_port()
    command = (
        str(venv / "bin" / "rasa"), "run", "--model", "models", "--port", str(port), "--interface", "127.0.0.1",
        "--credentials", "credentials.yml", "--endpoints", "endpoints.yml",
    )
    return Launch(command, starter, env, port)


def starter_env(work: Path) -> Dict[str, str]:
    """The environment without our pass-through settings, with its own cache folder."""
    env = {key: value for key, value in os.environ.items() if key not in PASSTHROUGH}
    return {**env, **QUIET_ENV, "RASA_CACHE_DIRECTORY": str(work / "rasa-cache-starter")}


def starter_uses_action_server(starter: Path) -> bool:
    """Whether the starter's endpoints.yml configures an action server (3.6 ships it commented out)."""
    return any(line.startswith("action_endpoint:") for line in (starter / "endpoints.yml").read_text().splitlines())


def passthrough_problem() -> Optional[str]:
    """Why the pass-through settings are refused (a lock store off this machine's loopback), or None."""
    url = os.environ.get("LOCK_STORE_URL")
    if url and urlsplit(url).hostname not in LOOPBACK_HOSTS:
        return f"LOCK_STORE_URL must point at a loopback address, not {url!r}"
    return None


# ---------------------------------------------------------------------------------------------
# Report


def describe_machine(venv: Path) -> Dict[str, str]:
    """Cores, CPU model, memory, versions, date and load average, for the report."""
    cpuinfo = Path("/proc/cpuinfo").read_text().splitlines()
    cpu = next((line.split(":", 1)[1].strip() for line in cpuinfo if line.startswith("model name")), "unknown")
    memory_gib = _proc_kib(Path("/proc/meminfo"), "MemTotal") / 1024 / 1024
    versions = subprocess.run(
        [str(venv / "bin" / "python"), "-c",
         "import sys, importlib.metadata as m; print(sys.version.split()[0], m.version('rasa'), m.version('sanic'))"],
        capture_output=True, text=True, check=True,
    ).stdout.split()
    return {
        "date": datetime.now(timezone.utc).strftime("%Y-%m-%d %H:%M UTC"),
        "cores": f"{os.cpu_count()} (nproc {len(os.sched_getaffinity(0))})",
        "cpu": cpu,
        "memory": f"{memory_gib:.1f} GiB",
        "python": versions[0],
        "rasa": versions[1],
        "sanic": versions[2],
        "load": " ".join(Path("/proc/loadavg").read_text().split()[:3]),
        "settings": ", ".join(f"{key}={os.environ[key]}" for key in PASSTHROUGH if os.environ.get(key)) or DEFAULTS,
    }


def ratio(ours: Optional[float], starter: Optional[float]) -> Optional[float]:
    """ours / starter, or None when either is missing or the starter's is zero."""
    if ours is None or starter is None or starter == 0 or math.isnan(ours) or math.isnan(starter):
        return None
    return ours / starter


def fmt(value: Optional[float], digits: int) -> str:
    """A figure for the tables; an em dash when it was not measured."""
    return "—" if value is None or math.isnan(value) else f"{value:.{digits}f}"


def table_rows(results: Mapping[str, Mapping[str, float]], levels: Sequence[int]) -> List[Tuple[str, str, str, str]]:
    """(figure, ours, starter, ratio) for every metric either bot has."""
    ours, starter = results.get(OURS, {}), results.get(STARTER, {})
    rows = []
    for metric in metrics(levels):
        if metric.key not in ours and metric.key not in starter:
            continue
        r = ratio(ours.get(metric.key), starter.get(metric.key)) if metric.compared else None
        shown = [fmt(bot.get(metric.key), metric.digits) for bot in (ours, starter)]
        rows.append((metric.label, *shown, fmt(r, 2)))
    return rows


def target_rows(results: Mapping[str, Mapping[str, float]]) -> List[Tuple[str, str, str, str, str]]:
    """(target, ours, starter, ratio, met) for every target."""
    ours, starter = results.get(OURS, {}), results.get(STARTER, {})
    digits = {metric.key: metric.digits for metric in metrics([32, 8])}
    rows = []
    for target in TARGETS:
        r = ratio(ours.get(target.key), starter.get(target.key))
        verdict = "not measured" if r is None else ("met" if target.met(r) else "missed")
        shown = [fmt(bot.get(target.key), digits[target.key]) for bot in (ours, starter)]
        rows.append((target.label, *shown, fmt(r, 2), verdict))
    return rows


def markdown_table(header: Sequence[str], rows: Sequence[Sequence[str]]) -> str:
    """A Markdown table, numbers right-aligned."""
    lines = ["| " + " | ".join(header) + " |", "|" + "|".join([" --- "] + [" ---: "] * (len(header) - 1)) + "|"]
    lines += ["| " + " | ".join(row) + " |" for row in rows]
    return "\n".join(lines)


def plain_table(header: Sequence[str], rows: Sequence[Sequence[str]]) -> str:
    """The same table for the terminal."""
    widths = [max(len(str(row[i])) for row in [header, *rows]) for i in range(len(header))]
    return "\n".join(
        "  ".join(cell.ljust(widths[0]) if i == 0 else cell.rjust(widths[i]) for i, cell in enumerate(row))
        for row in [header, *rows]
    )


DEFAULTS = "defaults (1 Sanic worker, in-memory lock store)"
RESULT_HEADER = ("figure", OURS, STARTER, "ratio ours/starter")
TARGET_HEADER = ("target", OURS, STARTER, "ratio", "verdict")

LOAD_SHAPE_TEXT = (
    "Each simulated user has the same {turns}-message conversation over the REST channel "
    "(`POST /webhooks/rest/webhook`): {texts}. A conversation sends each message after the reply to "
    "the previous one; concurrency is the number of conversations in flight at once. Both bots are up "
    "at the same time and take turns: each level runs in {rounds} round(s) per bot, alternating the bots "
    "and swapping which goes first every round, so a slow or fast spell of the shared machine falls on "
    "both. A round of levels {levels} is {conversations} conversations, {messages} messages per bot "
    "over all rounds; a round stops early after {seconds} s. A warm-up of {warmup} conversation(s) per "
    "bot ran first and is not counted. Every conversation has a new sender id. Latency is from sending "
    "a request to having read the whole reply, on one aiohttp client in the same machine (timeout "
    "{timeout} s), pooled over the rounds; throughput is answered messages per second of the rounds' "
    "wall-clock time."
)

REPORT_TEMPLATE = """# Benchmarks

Common Ground against Rasa's own starter bot (`rasa init --no-prompt`), both served by the same
Rasa in the same run on the same machine, under the same load. Written by `make bench`
(`scripts/bench.py`){quick}; rerun it rather than editing this file.

## Machine

| | |
| --- | --- |
| date | {date} |
| cores | {cores} |
| CPU | {cpu} |
| memory | {memory} |
| Python / Rasa / Sanic | {python} / {rasa} / {sanic} |
| load average when the run started | {load} |
| our Rasa server settings | {settings} |

The machine is shared with other work, so figures move between runs (tens of per cent on
latency is normal); compare the two bots within one run, not across runs.

## Load

{load_shape}

## Results

{results}

Ratios are ours divided by the starter bot's: above 1 is better for throughput, below 1 is better
for times and memory.

## Targets

{targets}

{verdict}

## How to run it

- `make bench`: the full run above (about 10 minutes on an idle 2-core machine, longer on a busy
  one); `make bench BENCH_ARGS=--quick` is a smoke run with small counts.
- `BENCH_ARGS=--skip-train` serves `models/commonground.tar.gz` instead of training a fresh model.
- `BENCH_ARGS="--workers 2"` runs our Rasa server with `SANIC_WORKERS=2` and the Redis lock store
  (`LOCK_STORE_URL`, default `redis://127.0.0.1:6379/6`); `SANIC_WORKERS` and `LOCK_STORE_URL` set
  in the environment pass through the same way. The starter bot always runs as shipped.
- For experiments: `--only ours` (or `starter`) measures one bot, without ratios or targets, and
  `--output PATH` writes the report somewhere other than this file.

## What differs between the two set-ups

- **Common Ground** runs as `make run` does (`scripts/run.sh`): an action server (our custom
  actions, reading the SQLite knowledge base) and the Rasa server with the SQL tracker store on a
  SQLite file, both in a temporary folder. Its start-up counts from launching `scripts/run.sh`,
  which starts the action server first; "the Rasa server alone" counts from the moment the `rasa
  run` process appears. Training is `rasa train --force` with our config and data and an empty
  cache.
- **The starter bot** is `rasa init --no-prompt` as Rasa 3.6 ships it: responses only (its custom
  action is commented out, so no action server), the in-memory tracker store, and `rasa run` with its
  own `credentials.yml` (REST enabled). Its training time is the `rasa init` run, which trains the
  model with an empty cache.
- Both bots' servers are up together while the load alternates between them; the one not being
  driven sits idle. Start-up is timed one bot at a time, before any load.
- Every simulated user sends the same texts, so after the warm-up our sentence encoder's cache
  answers them and these figures leave out encoding a message never seen before: `make bench-nlu`
  (`scripts/bench_understanding.py`) measures that cost on held-out messages, against the same
  messages from the cache in the same run.
- RSS counts every page a process has mapped; PSS splits pages shared between processes (Sanic
  workers fork from one parent), so with several workers PSS is the fairer total.
"""


def write_report(path: Path, machine: Mapping[str, str], shape: LoadShape, quick: bool,
                 results: Mapping[str, Mapping[str, float]]) -> None:
    """Overwrite the Markdown report."""
    targets = target_rows(results)
    measured = [row for row in targets if row[4] != "not measured"]
    met = [row for row in measured if row[4] == "met"]
    verdict = (
        f"{len(met)} of {len(measured)} targets met"
        + (": " + "; ".join(row[0] for row in met) + "." if met else ".")
        if measured else "Targets not evaluated: only one bot was measured."
    )
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(
        REPORT_TEMPLATE.format(
            quick=" with `--quick` (a smoke run: small counts, not for comparison)" if quick else "",
            load_shape=shape.describe(),
            results=markdown_table(RESULT_HEADER, table_rows(results, shape.levels)),
            targets=markdown_table(TARGET_HEADER, targets),
            verdict=verdict,
            **machine,
        )
    )


# ---------------------------------------------------------------------------------------------
# Main


def say(line: str) -> None:
    """Progress on stdout, right away."""
    print(line, flush=True)


def parse_args(argv: Optional[Sequence[str]] = None) -> argparse.Namespace:
    """Command-line options."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="smaller counts and time limits: a smoke run")
    parser.add_argument("--skip-train", action="store_true",
                        help=f"serve {SHIPPED_MODEL.relative_to(ROOT)} instead of training (our training is not measured)")
    parser.add_argument("--workers", type=int,
                        help=f"SANIC_WORKERS for our Rasa server; LOCK_STORE_URL defaults to {DEFAULT_LOCK_STORE_URL}")
    parser.add_argument("--only", choices=("ours", "starter"), help="measure one bot only (no ratios, no targets)")
    parser.add_argument("--output", type=Path, default=DEFAULT_OUTPUT, help="the Markdown report to overwrite")
    return parser.parse_args(argv)


def benchmark(args: argparse.Namespace, processes: Processes, work: Path) -> Dict[str, Dict[str, float]]:
    """Train, start and load the selected bots; their figures by bot name."""
    venv = Path(os.environ.get("VENV", ROOT / ".venv")).resolve()
    rasa = str(venv / "bin" / "rasa")
    shape = QUICK if args.quick else FULL
    trained: Dict[str, Dict[str, float]] = {}
    launches: Dict[str, Tuple[Launch, Path]] = {}

    if args.only != "starter":
        ours: Dict[str, float] = {}
        model = SHIPPED_MODEL
        if not args.skip_train:
            say(f"{OURS}: training (rasa train --force)")
            env = {**os.environ, **QUIET_ENV, "RASA_CACHE_DIRECTORY": str(work / "rasa-cache-ours")}
            command = (rasa, "train", "--force", "--fixed-model-name", "commonground-bench", "--out", str(work / "models"))
            ours["train_s"] = run_timed(processes, "training Common Ground", command, ROOT, env, work / "train-ours.log")
            model = work / "models" / "commonground-bench.tar.gz"
            say(f"  trained in {ours['train_s']:.1f} s")
        elif not model.exists():
            raise BenchError(f"{model} is missing: run `make {model.relative_to(ROOT)}` or drop --skip-train")
        launch = our_launch(work / "ours", venv, model)
        (work / "ours").mkdir()
        load_knowledge = (str(venv / "bin" / "python"), "-m", "bot.knowledge.load")
        run_timed(processes, "loading the knowledge base", load_knowledge, ROOT, launch.env, work / "load-ours.log")
        trained[OURS], launches[OURS] = ours, (launch, work / "servers-ours.log")

    if args.only != "ours":
        starter = work / "starter"
        starter.mkdir()
        env = starter_env(work)
        say(f"{STARTER}: rasa init --no-prompt (trains the starter model)")
        init = (rasa, "init", "--no-prompt", "--init-dir", str(starter))
        trained[STARTER] = {"train_s": run_timed(processes, "rasa init", init, starter, env, work / "init-starter.log")}
        say(f"  initialised and trained in {trained[STARTER]['train_s']:.1f} s")
        if starter_uses_action_server(starter):
            say("  note: the starter's endpoints.yml names an action server; it is not started")
        launches[STARTER] = (starter_launch(starter, venv, env), work / "server-starter.log")

    # One bot at a time starts (start-up is timed), then both serve while the load alternates.
    bots = [start_bot(processes, name, launch, log) for name, (launch, log) in launches.items()]
    try:
        measure_load(bots, shape)
    finally:
        for bot in bots:
            processes.stop(bot.process)
    return {bot.name: {**trained[bot.name], **bot.figures} for bot in bots}


def main(argv: Optional[Sequence[str]] = None) -> int:
    """Run the benchmark, print the figures, write the report; 1 if a step failed, 2 for refused settings."""
    args = parse_args(argv)
    if args.workers:
        os.environ["SANIC_WORKERS"] = str(args.workers)
        os.environ.setdefault("LOCK_STORE_URL", DEFAULT_LOCK_STORE_URL)
    problem = passthrough_problem()
    if problem:
        print(f"error: {problem}", file=sys.stderr)
        return 2
    signal.signal(signal.SIGTERM, lambda signum, frame: sys.exit(128 + signum))  # run the cleanup below
    processes = Processes()
    work = Path(tempfile.mkdtemp(prefix="commonground-bench-"))
    keep_logs = False
    try:
        venv = Path(os.environ.get("VENV", ROOT / ".venv")).resolve()
        machine = describe_machine(venv)
        say(f"benchmark on {machine['cores']} cores ({machine['cpu']}), load average {machine['load']}; "
            f"our settings: {machine['settings']}")
        results = benchmark(args, processes, work)
    except (BenchError, subprocess.CalledProcessError) as error:
        keep_logs = True
        print(f"error: {error}\nlogs kept in {work}", file=sys.stderr)
        return 1
    finally:
        processes.stop_all()
        if not keep_logs:
            shutil.rmtree(work, ignore_errors=True)

    shape = QUICK if args.quick else FULL
    say("")
    say(plain_table(RESULT_HEADER, table_rows(results, shape.levels)))
    say("")
    say(plain_table(TARGET_HEADER, target_rows(results)))
    write_report(args.output, machine, shape, args.quick, results)
    say(f"\nwrote {args.output}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
