"""Serves the website widget's demo page and bundle (web/demo/, web/dist/) on 127.0.0.1:$WEB_PORT.

Usage: python scripts/serve-web.py [--port N]. The port defaults to WEB_PORT, else 8080.
Only web/demo/ and web/dist/ are served (not node_modules or sources); "/" leads to the demo page.
"""

from __future__ import annotations

import argparse
import os
import posixpath
import sys
from functools import partial
from http import HTTPStatus
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import List, Optional
from urllib.parse import unquote

WEB_ROOT = Path(__file__).resolve().parent.parent / "web"
HOST = "127.0.0.1"
DEFAULT_PORT = 8080
SERVED_PREFIXES = ("/demo/", "/dist/")
DEMO_PATH = "/demo/"
CONTENT_TYPES = {
    ".html": "text/html; charset=utf-8",
    ".js": "text/javascript; charset=utf-8",
    ".mjs": "text/javascript; charset=utf-8",
    ".css": "text/css; charset=utf-8",
    ".json": "application/json",
    ".svg": "image/svg+xml",
    ".png": "image/png",
    ".ico": "image/x-icon",
    ".map": "application/json",
}


class WidgetRequestHandler(SimpleHTTPRequestHandler):
    """Static files from web/demo and web/dist with explicit content types and no caching."""

    extensions_map = {**SimpleHTTPRequestHandler.extensions_map, **CONTENT_TYPES}

    def do_GET(self) -> None:
        """Serve a file under the allowed folders; redirect "/" to the demo page."""
        if self.allowed():
            super().do_GET()

    def do_HEAD(self) -> None:
        """Same as GET without the body."""
        if self.allowed():
            super().do_HEAD()

    def allowed(self) -> bool:
        """Whether the request may be served; answers the redirect or 404 itself when not."""
        raw = self.path.split("?", 1)[0].split("#", 1)[0]
        path = posixpath.normpath(unquote(raw)) + ("/" if raw.endswith("/") else "")
        if path in ("/", "//", "/demo"):
            self.send_response(HTTPStatus.FOUND)
            self.send_header("Location", DEMO_PATH)
            self.send_header("Content-Length", "0")
            self.end_headers()
            return False
        if not path.startswith(SERVED_PREFIXES):
            self.send_error(HTTPStatus.NOT_FOUND)
            return False
        return True

    def list_directory(self, path: "os.PathLike[str] | str") -> None:  # type: ignore[override]
        """No directory listings."""
        self.send_error(HTTPStatus.NOT_FOUND)
        return None

    def end_headers(self) -> None:
        """Every response says not to cache, so a rebuilt widget is picked up on reload."""
        self.send_header("Cache-Control", "no-cache")
        super().end_headers()


def parse_args(argv: Optional[List[str]]) -> argparse.Namespace:
    """The command line: --port (default WEB_PORT or 8080)."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--port", type=int, default=int(os.environ.get("WEB_PORT") or DEFAULT_PORT))
    return parser.parse_args(argv)


def main(argv: Optional[List[str]] = None) -> int:
    """Serve until interrupted."""
    args = parse_args(argv)
    if not (WEB_ROOT / "dist" / "commonground-widget.js").exists():
        print("warning: web/dist/commonground-widget.js is missing: run scripts/build-web.sh", file=sys.stderr)
    handler = partial(WidgetRequestHandler, directory=str(WEB_ROOT))
    with ThreadingHTTPServer((HOST, args.port), handler) as server:
        print(f"widget demo: http://{HOST}:{server.server_address[1]}{DEMO_PATH}", flush=True)
        try:
            server.serve_forever()
        except KeyboardInterrupt:
            pass
    return 0


if __name__ == "__main__":
    sys.exit(main())
