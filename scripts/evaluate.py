"""`make eval`: loads the trained model and prints the understanding figures for the evaluation sets.

    python scripts/evaluate.py [--model models/commonground.tar.gz] [--dev [--family NAME]] [--misses]

Without --dev it reads the report sets in tests/nlu/; with --dev the tuning sets in tests/nlu/dev/.
Exits 1 when a figure is past its floor (bot/understanding/evaluation.py FLOORS).
"""

from __future__ import annotations

import argparse
import logging
import os
import sys
from pathlib import Path
from typing import List

import yaml

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

from bot.config import PROJECT_ROOT  # noqa: E402
from bot.understanding.arbiter import Thresholds  # noqa: E402
from bot.understanding.evaluation import add_safety_samples, evaluate, model_parser, read_sets, with_thresholds  # noqa: E402

MODEL = PROJECT_ROOT / "models" / "commonground.tar.gz"


def main() -> int:
    """Print the table (and, with --misses, every message behind a miss)."""
    options = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    options.add_argument("--model", type=Path, default=MODEL)
    options.add_argument("--dev", action="store_true", help="the tuning sets in tests/nlu/dev/ instead of the report sets")
    options.add_argument("--family", choices=["tuning", "hard", "fresh", "fourth", "fifth", "sixth"], help="with --dev, one tuning family only")
    options.add_argument("--misses", action="store_true", help="list the messages behind every miss")
    options.add_argument("--set", action="append", default=[], metavar="NAME=VALUE",
                         help="try another arbiter threshold without retraining, e.g. --set in_domain=0.6 (tuning)")
    args = options.parse_args()
    logging.basicConfig(level=logging.WARNING)
    folder = PROJECT_ROOT / "tests" / "nlu" / ("dev" if args.dev else "")
    parse = model_parser(args.model)
    if args.set:
        configured = next(c for c in yaml.safe_load((PROJECT_ROOT / "config.yml").read_text())["pipeline"] if c["name"].endswith("MessageArbiter"))
        values = {name: float(value) for name, value in configured.items() if name in Thresholds.__dataclass_fields__}
        values.update({name: float(value) for name, value in (item.split("=", 1) for item in args.set)})
        parse = with_thresholds(parse, Thresholds(**values))
    # The tuning sets are six families: dev_*.yml (sessions 1-8), the harder dev_hard_*.yml (session 9),
    # dev_fresh_*.yml (session 11), dev_fourth_*.yml (session 12), dev_fifth_*.yml (session 13) and
    # dev_sixth_*.yml (session 14), each written by a writer who had seen none of the data before it.
    families = [("dev_", "tuning"), ("dev_hard_", "hard tuning"), ("dev_fresh_", "fresh tuning"), ("dev_fourth_", "fourth tuning"),
                ("dev_fifth_", "fifth tuning"), ("dev_sixth_", "sixth tuning")]
    if args.family:
        families = [(prefix, name) for prefix, name in families if prefix == f"dev_{args.family}_" or (args.family == "tuning" and prefix == "dev_")]
    families = families if args.dev else [("", "report")]
    failed: List[str] = []
    for prefix, family in families:
        sets = read_sets(folder, prefix=prefix)
        if prefix == "dev_":
            add_safety_samples(sets, PROJECT_ROOT / "tests" / "bot" / "understanding" / "safety_samples.yml")
        report = evaluate(parse, sets)
        print(f"Understanding figures on the {family} sets in {folder.relative_to(PROJECT_ROOT)}/{prefix}*")
        print(report.table())
        if args.misses:
            for name, missed in report.misses.items():
                if missed:
                    print(f"\n{name}: {len(missed)} missed")
                    print("\n".join(f"  {line}" for line in missed))
        print()
        if family == "report":
            failed = report.failed_floors()  # the floors hold the report sets only
    if failed:
        print("\nbelow the floor:\n  " + "\n  ".join(failed))
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
