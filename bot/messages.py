"""Reply wording used by custom actions, kept reviewable in data/messages.yml."""

from __future__ import annotations

from functools import lru_cache
from typing import Dict

import yaml

from bot.config import PROJECT_ROOT

MESSAGES_FILE = PROJECT_ROOT / "data" / "messages.yml"


@lru_cache(maxsize=1)
def _messages() -> Dict[str, str]:
    return yaml.safe_load(MESSAGES_FILE.read_text(encoding="utf-8"))


def message(key: str, **values: str) -> str:
    """The wording for `key`, with `{placeholders}` filled from `values`."""
    return _messages()[key].format(**values)
