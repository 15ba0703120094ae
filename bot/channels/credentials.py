"""Writes the credentials Rasa runs with: channels whose variables are all unset are left out.

`credentials.yml` lists every channel. A channel that references environment variables
(`${VAR}`) is enabled only when they are set; one that has some but not all of them set stops the
start-up with the missing names. `${VAR:-default}` marks an optional setting and is filled here;
plain `${VAR}` references are left for Rasa to fill, so no secret is written to disk.
"""

from __future__ import annotations

import os
import re
import sys
from pathlib import Path
from typing import Any, Dict, List, Mapping, Optional, Tuple

import yaml

_REFERENCE = re.compile(r"\$\{([A-Z0-9_]+)(?::-([^}]*))?\}")


class MissingCredentials(ValueError):
    """An enabled channel lacks some of its variables."""


def references(value: Any) -> List[Tuple[str, Optional[str]]]:
    """Every `${VAR}` / `${VAR:-default}` in a section, as (name, default or None)."""
    return [(m.group(1), m.group(2)) for m in _REFERENCE.finditer(yaml.safe_dump(value))]


def fill_optional(value: Any, env: Mapping[str, str]) -> Any:
    """`value` with `${VAR:-default}` replaced by the variable or its default."""
    if isinstance(value, dict):
        return {key: fill_optional(item, env) for key, item in value.items()}
    if isinstance(value, list):
        return [fill_optional(item, env) for item in value]
    if isinstance(value, str):
        return _REFERENCE.sub(lambda m: env.get(m.group(1)) or m.group(2) if m.group(2) is not None else m.group(0), value)
    return value


def enabled_channels(channels: Mapping[str, Any], env: Mapping[str, str]) -> Dict[str, Any]:
    """The channels to run: all required variables set, or none referenced."""
    enabled: Dict[str, Any] = {}
    problems: List[str] = []
    for name, section in channels.items():
        required = sorted({var for var, default in references(section) if default is None})
        missing = [var for var in required if not env.get(var)]
        if required and len(missing) == len(required):
            continue
        if missing:
            problems.append(f"channel {name}: set {', '.join(missing)} (or unset {', '.join(sorted(set(required) - set(missing)))})")
            continue
        enabled[name] = fill_optional(section, env)
    if problems:
        raise MissingCredentials("; ".join(problems))
    return enabled


def main(argv: List[str]) -> int:
    """credentials.yml in, the effective credentials file out; prints the enabled channels."""
    source, target = Path(argv[1]), Path(argv[2])
    channels = yaml.safe_load(source.read_text(encoding="utf-8")) or {}
    try:
        enabled = enabled_channels(channels, os.environ)
    except MissingCredentials as error:
        print(f"error: {error}", file=sys.stderr)
        return 1
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_text(yaml.safe_dump(enabled, sort_keys=False), encoding="utf-8")
    print("channels: " + ", ".join(name.rsplit(".", 1)[-1] for name in enabled))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
