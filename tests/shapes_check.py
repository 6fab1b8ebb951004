"""Every frame a test reads from the gateway's sockets is checked against its shape.

Test clients open sockets with ``ws_response_class=CheckedWebSocket``: each text frame
is decoded strictly (handoff/shapes/events.py, unknown fields forbidden) by the union of
what that socket may receive, so a drift between code and shapes fails the test.
"""

from __future__ import annotations

from typing import Any

import msgspec
from aiohttp import ClientWebSocketResponse, WSMessage, WSMsgType

from handoff.shapes.events import ConsoleEvent, WidgetEvent

WIDGET = msgspec.json.Decoder(WidgetEvent)
CONSOLE = msgspec.json.Decoder(ConsoleEvent)


def check_frame(path: str, data: str | bytes) -> Any:
    """The frame as its Struct; AssertionError naming the frame if it is off shape."""
    if path == "/api/agent/ws":
        decoder = CONSOLE
    elif path.startswith("/api/conversations/") and path.endswith("/ws"):
        decoder = WIDGET
    else:  # not a gateway socket (the floor harness's own server)
        return None
    try:
        return decoder.decode(data)
    except msgspec.ValidationError as exc:
        raise AssertionError(f"{path} sent a frame off its shape: {exc}: {data!r}") from None


class CheckedWebSocket(ClientWebSocketResponse):
    async def receive(self, timeout: float | None = None) -> WSMessage:
        message = await super().receive(timeout)
        if message.type == WSMsgType.TEXT:
            check_frame(self._response.url.path, message.data)
        return message
