"""Soak test: the benchmark conversation at concurrency 8 for ten minutes, watching memory and latency.

    .venv/bin/python -m scripts.soak [--minutes 10] [--concurrency 8] [--warmup-minutes 2]

Starts our servers the way `make bench` does (scripts/run.sh on free ports, SQLite in a temporary
folder), runs scripts/bench.py's ten-message conversation over REST with `--concurrency` users at
once, each sending its next message after the reply, for `--minutes`; samples the RSS of the Rasa
server and of the action server every 10 s. Growth is measured from the end of the warm-up to the
last minute (mean of that minute's samples): the target is under 5 %. Writes the "Soak" section of
docs/benchmarks.md (replacing the previous one) and prints the same figures. Not part of CI.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import math
import statistics
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Dict, List, Optional, Sequence, Tuple

import aiohttp

from scripts.bench import (
    CONVERSATION, DEFAULT_OUTPUT, REQUEST_TIMEOUT_S, ROOT, SHIPPED_MODEL, Processes, describe_machine,
    free_port, memory_figures, our_launch, say, start_bot,
)

SAMPLE_INTERVAL_S = 10.0
GROWTH_TARGET = 0.05
SECTION_START = "<!-- soak:start -->"
SECTION_END = "<!-- soak:end -->"


@dataclass
class SoakRecord:
    """What the soak saw: each answered message's (seconds since start, latency ms), failures, memory samples."""

    latencies: List[Tuple[float, float]] = field(default_factory=list)
    failures: List[float] = field(default_factory=list)
    samples: List[Tuple[float, float, float]] = field(default_factory=list)  # (s, Rasa MiB, actions MiB)


async def drive(url: str, concurrency: int, seconds: float, record: SoakRecord, started: float) -> None:
    """`concurrency` users each repeating the benchmark conversation until `seconds` have passed."""
    deadline = started + seconds

    async def user(session: aiohttp.ClientSession, number: int) -> None:
        conversation = 0
        while time.monotonic() < deadline:
            sender = f"soak-{number}-{conversation}"
            for text in CONVERSATION:
                if time.monotonic() >= deadline:
                    return
                sent = time.monotonic()
                try:
                    async with session.post(url, json={"sender": sender, "message": text}) as reply:
                        ok = reply.status == 200 and isinstance(json.loads(await reply.read()), list)
                except (aiohttp.ClientError, asyncio.TimeoutError, ValueError):
                    ok = False
                if ok:
                    record.latencies.append((sent - started, (time.monotonic() - sent) * 1000))
                else:
                    record.failures.append(sent - started)
            conversation += 1

    timeout = aiohttp.ClientTimeout(total=REQUEST_TIMEOUT_S)
    async with aiohttp.ClientSession(connector=aiohttp.TCPConnector(limit=concurrency), timeout=timeout) as session:
        await asyncio.gather(*(user(session, number) for number in range(concurrency)))


async def sample(session_pid: int, seconds: float, record: SoakRecord, started: float) -> None:
    """Every SAMPLE_INTERVAL_S, the RSS of the Rasa server and of the action server."""
    while time.monotonic() - started <= seconds:
        figures = memory_figures(session_pid)
        record.samples.append((time.monotonic() - started, figures["rss_total_mib"], figures.get("action_rss_mib", math.nan)))
        await asyncio.sleep(SAMPLE_INTERVAL_S)


def growth(samples: Sequence[Tuple[float, float]], warmup_s: float, seconds: float) -> Tuple[float, float, float]:
    """(MiB at the end of the warm-up, mean MiB over the last minute, relative growth between them)."""
    after_warmup = [mib for at, mib in samples if at >= warmup_s]
    last_minute = [mib for at, mib in samples if at >= seconds - 60]
    if not after_warmup or not last_minute:
        return math.nan, math.nan, math.nan
    base, end = after_warmup[0], statistics.fmean(last_minute)
    return base, end, (end - base) / base


def per_minute(record: SoakRecord, minutes: int) -> List[Tuple[int, int, int, float, float, float]]:
    """(minute, answered, failed, p50, p95, max latency ms) for each minute of the run."""
    rows = []
    for minute in range(minutes):
        lat = [ms for at, ms in record.latencies if minute * 60 <= at < (minute + 1) * 60]
        failed = sum(1 for at in record.failures if minute * 60 <= at < (minute + 1) * 60)
        if len(lat) >= 2:
            q = statistics.quantiles(lat, n=100, method="inclusive")
            rows.append((minute + 1, len(lat), failed, q[49], q[94], max(lat)))
        else:
            rows.append((minute + 1, len(lat), failed, math.nan, math.nan, max(lat, default=math.nan)))
    return rows


def report(record: SoakRecord, args: argparse.Namespace, machine: Dict[str, str]) -> str:
    """The markdown section: settings, memory growth, latency per minute, memory samples."""
    seconds, warmup_s = args.minutes * 60, args.warmup_minutes * 60
    lines = [
        SECTION_START,
        f"## Soak: {args.minutes} minutes at concurrency {args.concurrency} (`make soak`)",
        "",
        f"scripts/soak.py, {time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())}: the benchmark conversation over REST, "
        f"{args.concurrency} users at once for {args.minutes} min, one Rasa server and one action server "
        f"(defaults: SQLite, in-memory lock store), RSS sampled every {SAMPLE_INTERVAL_S:.0f} s. Growth is from the "
        f"end of the {args.warmup_minutes}-minute warm-up to the mean of the last minute; target under "
        f"{GROWTH_TARGET:.0%}. Machine: {machine.get('cpu', '?')}, shared with other work.",
        "",
        "| process | RSS after warm-up (MiB) | RSS last minute (MiB) | growth | verdict |",
        "|---|---|---|---|---|",
    ]
    for name, column in (("Rasa server", 1), ("action server", 2)):
        base, end, rel = growth([(s[0], s[column]) for s in record.samples], warmup_s, seconds)
        verdict = "met" if rel < GROWTH_TARGET else "NOT met"
        lines.append(f"| {name} | {base:.0f} | {end:.0f} | {rel:+.1%} | {verdict} |")
    answered, failed = len(record.latencies), len(record.failures)
    lines += [
        "",
        f"{answered} messages answered, {failed} failed, {answered / seconds:.1f} messages/s overall.",
        "",
        "| minute | answered | failed | p50 (ms) | p95 (ms) | max (ms) |",
        "|---|---|---|---|---|---|",
    ]
    lines += [f"| {m} | {n} | {f} | {p50:.0f} | {p95:.0f} | {mx:.0f} |" for m, n, f, p50, p95, mx in per_minute(record, args.minutes)]
    lines += [
        "",
        "RSS samples (s: Rasa MiB / actions MiB): "
        + ", ".join(f"{at:.0f}: {rasa:.0f}/{act:.0f}" for at, rasa, act in record.samples),
        SECTION_END,
    ]
    return "\n".join(lines) + "\n"


def write_section(output: Path, section: str) -> None:
    """Replace the soak section of `output` (or append it)."""
    text = output.read_text() if output.exists() else ""
    if SECTION_START in text and SECTION_END in text:
        before, _, rest = text.partition(SECTION_START)
        _, _, after = rest.partition(SECTION_END + "\n")
        text = before + section + after
    else:
        text = text.rstrip("\n") + "\n\n" + section
    output.write_text(text)


def main(argv: Optional[Sequence[str]] = None) -> int:
    """Run the soak, print and write the report; 1 when the servers fail."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--minutes", type=int, default=10)
    parser.add_argument("--warmup-minutes", type=int, default=2)
    parser.add_argument("--concurrency", type=int, default=8)
    parser.add_argument("--output", type=Path, default=DEFAULT_OUTPUT)
    args = parser.parse_args(argv)
    processes = Processes()
    work = Path(tempfile.mkdtemp(prefix="commonground-soak-"))
    try:
        launch = our_launch(work, Path(sys.executable).parent.parent, SHIPPED_MODEL)
        launch.env["WEB_PORT"] = str(free_port())  # type: ignore[index]
        bot = start_bot(processes, "Common Ground", launch, work / "servers.log")
        record = SoakRecord()
        seconds = args.minutes * 60
        say(f"soak: {args.minutes} min at concurrency {args.concurrency}")
        started = time.monotonic()

        async def run() -> None:
            await asyncio.gather(drive(bot.url, args.concurrency, seconds, record, started),
                                 sample(bot.process.pid, seconds, record, started))

        asyncio.run(run())
        if bot.process.poll() is not None:
            say("the servers exited during the soak")
            return 1
        section = report(record, args, describe_machine(Path(sys.executable).parent.parent))
        print(section)
        write_section(args.output, section)
        say(f"wrote the soak section of {args.output.relative_to(ROOT) if args.output.is_relative_to(ROOT) else args.output}")
        return 0
    finally:
        processes.stop_all()


if __name__ == "__main__":
    sys.exit(main())
