"""Prints held-out intent accuracy and macro-F1 from a `rasa test nlu` results folder."""

from __future__ import annotations

import json
import sys
from pathlib import Path


def main(results_dir: str) -> int:
    """Print the headline figures and where the confusion matrix image is."""
    report = json.loads((Path(results_dir) / "intent_report.json").read_text())
    errors = json.loads((Path(results_dir) / "intent_errors.json").read_text())
    print(f"held-out intent accuracy: {report['accuracy']:.3f}")
    print(f"held-out intent macro-F1: {report['macro avg']['f1-score']:.3f}")
    print(f"held-out examples misclassified: {len(errors)}")
    for error in errors:
        print(f"  {error['intent']:>26} -> {error['intent_prediction']['name']:<26} {error['text']}")
    print(f"confusion matrix: {Path(results_dir) / 'intent_confusion_matrix.png'}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1] if len(sys.argv) > 1 else "results/nlu"))
