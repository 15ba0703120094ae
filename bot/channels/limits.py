"""Request size limits for every HTTP entry point of the Rasa server (MAX_REQUEST_BYTES, default 64 KB).

Sanic accepts bodies of up to 100 MB by default and reads them whole before a handler runs; one
20 MB JSON body kept every other conversation waiting for seconds while it was parsed. The limit is
app-wide (Sanic's REQUEST_MAX_SIZE): a request announcing a larger Content-Length is answered 413
before its body is read, and a chunked one as soon as it grows past the limit. WebSocket messages
(Sanic's WEBSOCKET_MAX_SIZE) and socket.io packets (engineio's `max_http_buffer_size`) have the same
limit. Every channel's blueprint applies it when Rasa mounts the channel on the app, so it holds for
Rasa's own HTTP API on that server too; other servers of the project read the same setting.
"""

from __future__ import annotations

from typing import Any, Dict

from rasa.core.channels.socketio import SocketBlueprint
from sanic import Blueprint, Sanic

from bot.config import get_settings


def apply_size_limits(app: Sanic) -> None:
    """Limit request bodies and WebSocket messages on `app` to MAX_REQUEST_BYTES."""
    limit = get_settings().max_request_bytes
    app.config.REQUEST_MAX_SIZE = limit
    app.config.WEBSOCKET_MAX_SIZE = limit


class SizeLimitedBlueprint(Blueprint):
    """A channel's routes; mounting them limits the app's request sizes."""

    def register(self, app: Sanic, options: Dict[str, Any]) -> None:
        """Mount the routes and apply the size limits."""
        apply_size_limits(app)
        super().register(app, options)


class SizeLimitedSocketBlueprint(SocketBlueprint):
    """Rasa's socket.io blueprint; mounting it limits the app's request sizes."""

    def register(self, app: Sanic, options: Dict[str, Any]) -> None:
        """Attach the socket.io server, mount the routes and apply the size limits."""
        apply_size_limits(app)
        super().register(app, options)
