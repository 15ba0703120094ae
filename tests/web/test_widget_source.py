"""Static checks of the website widget's sources (web/src): text never goes in as HTML."""

from __future__ import annotations

import re
from pathlib import Path
from typing import List

import pytest

from bot.config import PROJECT_ROOT

SOURCES = sorted((PROJECT_ROOT / "web" / "src").glob("*.js"))
HTML_SINKS = ["innerHTML", "outerHTML", "insertAdjacentHTML", "document.write", "createContextualFragment", "eval("]


def test_widget_sources_exist() -> None:
    """The widget has sources to check."""
    assert SOURCES, "web/src/*.js is missing"


@pytest.mark.parametrize("sink", HTML_SINKS)
def test_no_html_sinks_in_widget_sources(sink: str) -> None:
    """No widget source parses strings as HTML or code; all text is inserted as text nodes."""
    offenders: List[str] = [
        f"{path.relative_to(PROJECT_ROOT)}:{number}"
        for path in SOURCES
        for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1)
        if sink in line and not line.lstrip().startswith("//")
    ]
    assert offenders == [], f"{sink} used in {offenders}"


def test_widget_loads_nothing_from_other_hosts() -> None:
    """The widget bundles its dependencies: no CDN URLs in the sources."""
    urls = [m.group(0) for path in SOURCES for m in re.finditer(r"https?://[^\s\"'`]+", path.read_text(encoding="utf-8"))]
    assert all(re.match(r"https?://(localhost|127\.0\.0\.1)[:/]|http://www\.w3\.org/", url) for url in urls), urls
