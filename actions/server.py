"""Runs the action server on 127.0.0.1:$ACTIONS_PORT (``python -m actions.server``).

``rasa run actions`` always binds every interface; the gateway is Baton's only public
surface, so the Sanic app is started here with an explicit host. Every route but
``/health`` needs the internal secret that Rasa sends (endpoints.yml), and the server
does not start without one.
"""

from __future__ import annotations

import logging
from typing import Optional

from rasa_sdk.endpoint import create_app
from sanic import Sanic
from sanic.request import Request
from sanic.response import HTTPResponse

from actions.settings import load_settings
from bot.internal_auth import SECRET_ENV, refusal

OPEN_PATHS = frozenset({"/health"})


def require_internal_secret(app: Sanic, secret: Optional[str]) -> None:
    """Answer 401 to any request but ``/health`` that does not carry the secret."""

    async def check(request: Request) -> Optional[HTTPResponse]:
        return None if request.path in OPEN_PATHS else refusal(request, secret)

    app.register_middleware(check, "request")


def main() -> None:
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s %(levelname)s %(message)s")
    settings = load_settings()
    if settings.internal_secret is None:
        raise SystemExit(f"{SECRET_ENV} is not set: the action server would refuse Rasa's calls")
    app = create_app("actions", cors_origins=None)
    require_internal_secret(app, settings.internal_secret)
    logging.getLogger(__name__).info(
        "Action server listening on http://%s:%d", settings.host, settings.port
    )
    app.run(host=settings.host, port=settings.port, workers=1, access_log=False)


if __name__ == "__main__":
    main()
