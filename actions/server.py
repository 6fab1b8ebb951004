"""Runs the action server on 127.0.0.1:$ACTIONS_PORT (``python -m actions.server``).

``rasa run actions`` always binds every interface; the gateway is Baton's only public
surface, so the Sanic app is started here with an explicit host.
"""

from __future__ import annotations

import logging

from rasa_sdk.endpoint import create_app

from actions.settings import load_settings


def main() -> None:
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s %(levelname)s %(message)s")
    settings = load_settings()
    app = create_app("actions", cors_origins=None)
    logging.getLogger(__name__).info(
        "Action server listening on http://%s:%d", settings.host, settings.port
    )
    app.run(host=settings.host, port=settings.port, workers=1, access_log=False)


if __name__ == "__main__":
    main()
