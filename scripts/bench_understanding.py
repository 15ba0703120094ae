"""What reading a message costs in the Rasa server's NLU: a message never seen before against the same message again.

    python scripts/bench_understanding.py [--model models/commonground.tar.gz] [--messages 300]

`make bench` sends the same ten-message conversation over and over, so after the warm-up the
sentence encoder's cache (bot/understanding/sentence_encoder.py) answers every text and the
benchmark measures the rest of the pipeline. Real users rarely repeat a message. This script
parses held-out messages of tests/nlu/ (each used once, never trained on) through the trained
model in one process: first with the encoder's cache emptied (every text encoded, as for a new
user's message), then the same messages again (every text from the cache: the cost without the
embedding, the baseline of the same run). It prints both, their difference, and the encoder's
share of the first pass.
"""

from __future__ import annotations

import argparse
import asyncio
import logging
import os
import statistics
import sys
import time
from pathlib import Path
from typing import Dict, List, Sequence

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

from bot.config import PROJECT_ROOT  # noqa: E402
from bot.understanding import sentence_encoder  # noqa: E402
from bot.understanding.evaluation import read_sets  # noqa: E402

MODEL = PROJECT_ROOT / "models" / "commonground.tar.gz"


def held_out_messages(limit: int) -> List[str]:
    """Distinct topic and off-domain messages of the report sets, in file order."""
    sets = read_sets(PROJECT_ROOT / "tests" / "nlu")
    texts = [text for text, _ in sets.topics] + [text for text, _ in sets.off_domain]
    return list(dict.fromkeys(texts))[:limit]


def timed_pass(agent, loop: asyncio.AbstractEventLoop, texts: Sequence[str]) -> List[float]:
    """Milliseconds per message, parsing each text once through the model's whole NLU graph."""
    times = []
    for text in texts:
        start = time.perf_counter()
        loop.run_until_complete(agent.parse_message(text))
        times.append((time.perf_counter() - start) * 1000)
    return times


def summary(times: Sequence[float]) -> Dict[str, float]:
    """Mean, median and 95th percentile."""
    ordered = sorted(times)
    return {"mean": statistics.fmean(ordered), "p50": ordered[len(ordered) // 2], "p95": ordered[int(len(ordered) * 0.95)]}


def main() -> int:
    """Print the figures of both passes."""
    options = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    options.add_argument("--model", type=Path, default=MODEL)
    options.add_argument("--messages", type=int, default=300)
    args = options.parse_args()
    logging.basicConfig(level=logging.WARNING)
    from rasa.core.agent import Agent
    from rasa.utils.log_utils import configure_structlog

    configure_structlog(logging.WARNING)
    agent = Agent.load(str(args.model))
    loop = asyncio.new_event_loop()
    texts = held_out_messages(args.messages)
    timed_pass(agent, loop, ["hello", "what is mediation?"])  # loads lazily built parts
    encoded = {"seconds": 0.0, "texts": 0}
    original = sentence_encoder.SentenceEncoder.encode

    def counting_encode(self, batch):  # type: ignore[no-untyped-def]
        start = time.perf_counter()
        result = original(self, batch)
        encoded["seconds"] += time.perf_counter() - start
        encoded["texts"] += len(batch)
        return result

    sentence_encoder.SentenceEncoder.encode = counting_encode  # type: ignore[assignment]
    sentence_encoder.clear_shared_caches()
    unseen = summary(timed_pass(agent, loop, texts))
    unseen_encoded = dict(encoded)
    seen = summary(timed_pass(agent, loop, texts))
    print(f"{len(texts)} held-out messages, model {args.model}, one process")
    print(f"{'pass':<44} {'mean ms':>8} {'p50 ms':>8} {'p95 ms':>8}")
    print(f"{'never seen (every text encoded)':<44} {unseen['mean']:>8.1f} {unseen['p50']:>8.1f} {unseen['p95']:>8.1f}")
    print(f"{'seen before (every text from the cache)':<44} {seen['mean']:>8.1f} {seen['p50']:>8.1f} {seen['p95']:>8.1f}")
    print(f"{'difference':<44} {unseen['mean'] - seen['mean']:>8.1f} {unseen['p50'] - seen['p50']:>8.1f} {unseen['p95'] - seen['p95']:>8.1f}")
    if unseen_encoded["texts"]:
        share = unseen_encoded["seconds"] * 1000 / len(texts) / unseen["mean"]
        print(f"texts encoded per message: {unseen_encoded['texts'] / len(texts):.2f} (the message, and its sentences and clauses); "
              f"encoder share of the first pass: {share:.0%}")
    else:
        print("the model reads no sentence embedding (meaning_layers: 0): both passes cost the same")
    return 0


if __name__ == "__main__":
    sys.exit(main())
