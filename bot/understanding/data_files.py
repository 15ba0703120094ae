"""Reading the understanding's YAML data files (training data and evaluation sets)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml

# libyaml's loader where PyYAML was built with it: the same content, read in a tenth of the time
# (the 3,000 fact cases and the other-language danger messages are read at every training).
_LOADER = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


def read_yaml(path: Path) -> Any:
    """A YAML file's content, loaded safely; {} for an empty file."""
    return yaml.load(Path(path).read_text(encoding="utf-8"), Loader=_LOADER) or {}
