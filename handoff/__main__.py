"""`python -m handoff [serve|migrate|ensure-agent|retention]`."""

from __future__ import annotations

import argparse
import asyncio
import gc
import json
import logging
import os
import secrets

import uvloop
from aiohttp import web

from handoff.access.agents import ensure_agent
from handoff.agent_tools.canned_seed import seed_canned
from handoff.app import create_app
from handoff.conversations.retention import sweep_once
from handoff.settings import ROOT, Settings
from handoff.storage.db import upgrade
from handoff.web.access_log import AccessLog

DEMO_AGENT_FILE = ROOT / "var" / "demo-agent.json"


def _demo_credentials() -> dict[str, str]:
    if DEMO_AGENT_FILE.exists():
        return json.loads(DEMO_AGENT_FILE.read_text())
    credentials = {
        "email": "maya@baton.example",
        "password": secrets.token_urlsafe(12),
        "name": "Maya",
    }
    DEMO_AGENT_FILE.parent.mkdir(parents=True, exist_ok=True)
    DEMO_AGENT_FILE.write_text(json.dumps(credentials))
    DEMO_AGENT_FILE.chmod(0o600)
    return credentials


def retention_command(settings: Settings) -> None:
    """One retention sweep, as the gateway runs them, with the settings' Rasa processes."""
    done = asyncio.run(sweep_once(settings))
    forgotten = ("Rasa could not be reached: it forgets them at the next sweep"
                 if done.forgotten is None else f"{done.forgotten} trackers deleted from Rasa")
    print(f"Retention ({settings.retention_days} days): "
          f"{len(done.redacted.conversations)} conversations redacted, "
          f"{done.redacted.messages} messages and {done.redacted.notes} notes deleted; "
          f"{forgotten}")


def ensure_agent_command(settings: Settings, args: argparse.Namespace) -> None:
    email = args.email or os.environ.get("BATON_AGENT_EMAIL")
    password = args.password or os.environ.get("BATON_AGENT_PASSWORD")
    name = args.name or os.environ.get("BATON_AGENT_NAME")
    if email and password:
        demo = False
        name = name or email.split("@")[0].capitalize()
    else:
        demo = True
        credentials = _demo_credentials()
        email, password, name = credentials["email"], credentials["password"], credentials["name"]
    asyncio.run(ensure_agent(settings.database_url, email, password, name, args.role))
    seeded = asyncio.run(seed_canned(settings.database_url))
    if seeded:
        print(f"Canned responses added: {' '.join(seeded)}")
    if demo:
        print(f"Demo agent: {email} / {password}")
    else:
        print(f"Agent: {email} (password from BATON_AGENT_PASSWORD)")


# Collections of the youngest objects after this many allocations (CPython's default is
# 700), of the middle ones after 20 of those, of everything after 20 of the middle ones.
GC_THRESHOLDS = (10_000, 20, 20)


def tune_garbage_collection(app: web.Application) -> None:
    """Fewer, shorter pauses of the garbage collector in a busy relay.

    With CPython's defaults a busy relay stopped every second or so to walk through every
    object (a full collection), and that alone set its 99th percentile latency
    (bench/README.md, "The numbers behind the gateway's own code"). Here the youngest
    objects are collected less often (a message's objects are gone by then), and what the
    gateway holds from its start (modules, the app) is left out of full collections.
    """
    gc.set_threshold(*GC_THRESHOLDS)

    async def freeze(_app: web.Application) -> None:
        gc.collect()
        gc.freeze()

    app.on_startup.append(freeze)


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m handoff")
    sub = parser.add_subparsers(dest="command")
    serve = sub.add_parser("serve", help="run the gateway (the default)")
    serve.add_argument("--port", type=int)
    serve.add_argument("--host")
    sub.add_parser("migrate", help="apply database migrations")
    agent = sub.add_parser(
        "ensure-agent",
        help="make sure an agent account exists (and the demo canned responses, in a "
        "database that never had any)",
    )
    agent.add_argument("--email")
    agent.add_argument("--password")
    agent.add_argument("--name")
    agent.add_argument("--role", default="agent", choices=["agent", "supervisor"])
    sub.add_parser(
        "retention",
        help="redact the conversations past BATON_RETENTION_DAYS now (the gateway also "
        "does every BATON_RETENTION_SWEEP_SECONDS)",
    )
    args = parser.parse_args()

    logging.basicConfig(
        level=os.environ.get("BATON_LOG_LEVEL", "INFO"),
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
    )
    settings = Settings.from_env()
    if args.command == "migrate":
        upgrade(settings.database_url)
    elif args.command == "ensure-agent":
        ensure_agent_command(settings, args)
    elif args.command == "retention":
        retention_command(settings)
    else:
        if not settings.internal_secret:
            raise SystemExit(
                "BATON_INTERNAL_SECRET is not set: Rasa's baton channel would refuse every "
                "message (the launcher, scripts/stack.py, sets one)"
            )
        host = getattr(args, "host", None) or settings.host
        port = getattr(args, "port", None) or settings.port
        app = create_app(settings)
        tune_garbage_collection(app)
        # uvloop's event loop (libuv, in C) for asyncio's, which is written in Python: less
        # CPU per relayed message (bench/README.md, "The numbers behind the gateway's own
        # code").
        web.run_app(
            app, host=host, port=port, print=None, loop=uvloop.new_event_loop(),
            access_log_class=AccessLog,
        )


if __name__ == "__main__":
    main()
