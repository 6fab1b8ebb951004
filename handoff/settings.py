"""Configuration, read from the environment in this one place."""

from __future__ import annotations

import datetime as dt
import os
import zoneinfo
from dataclasses import dataclass, field
from pathlib import Path

from handoff.routing.opening_hours import OpeningHours

ROOT = Path(__file__).resolve().parent.parent


def _int(env: dict[str, str], name: str, default: int) -> int:
    raw = env.get(name)
    if raw is None or raw == "":
        return default
    try:
        return int(raw)
    except ValueError:
        raise ValueError(f"{name} must be an integer, got {raw!r}") from None


def _float(env: dict[str, str], name: str, default: float) -> float:
    raw = env.get(name)
    if raw is None or raw == "":
        return default
    try:
        return float(raw)
    except ValueError:
        raise ValueError(f"{name} must be a number, got {raw!r}") from None


def _list(env: dict[str, str], name: str) -> tuple[str, ...]:
    return tuple(item.strip() for item in env.get(name, "").split(",") if item.strip())


def _timezone(env: dict[str, str], name: str) -> str:
    raw = env.get(name, "").strip() or "UTC"
    try:
        zone_of(raw)
    except (zoneinfo.ZoneInfoNotFoundError, ValueError):
        raise ValueError(
            f"{name} must be a time zone name such as Europe/Berlin or UTC, got {raw!r}"
        ) from None
    return raw


def _at_least_zero(env: dict[str, str], name: str, value: float) -> float:
    if value < 0:
        raise ValueError(f"{name} must not be negative, got {env.get(name)!r}")
    return value


def zone_of(name: str) -> dt.tzinfo:
    # UTC needs no time zone database, which a bare machine may lack.
    return dt.timezone.utc if name == "UTC" else zoneinfo.ZoneInfo(name)


def _opening_hours(env: dict[str, str], zone: str) -> OpeningHours | None:
    hours = env.get("BATON_OPENING_HOURS", "").strip()
    return OpeningHours.parse(hours, zone) if hours else None


def default_database_url() -> str:
    return f"sqlite+aiosqlite:///{ROOT / 'var' / 'baton.db'}"


def default_resolutions_file() -> Path:
    return ROOT / "config" / "resolution_actions.json"


def default_learned_file(env: dict[str, str] | None = None) -> Path:
    """Where the examples supervisors assign are written; scripts/train.py reads the same."""
    env = dict(os.environ if env is None else env)
    return Path(env.get("BATON_VAR_DIR") or ROOT / "var") / "learned_nlu.yml"


@dataclass(frozen=True)
class Settings:
    host: str = "0.0.0.0"
    port: int = 8000
    database_url: str = field(default_factory=default_database_url)
    rasa_url: str = "http://127.0.0.1:5005"
    # Several Rasa processes sharing their trackers (BATON_RASA_URLS); empty: rasa_url alone.
    rasa_urls: tuple[str, ...] = ()
    actions_url: str = "http://127.0.0.1:5055"
    # A turn sent to Rasa and unanswered this long counts as Rasa being down.
    rasa_timeout: float = 10.0
    # Turns in flight to each Rasa process at once; more wait their turn
    # (handoff.assistant.admission).
    # Rasa's NLU is CPU-bound in one process: 120 turns at once on 2 cores took 5-8 s
    # with 1 to 4 in flight (within the noise), 8 s with 8; 3 lets a turn's I/O overlap.
    rasa_concurrency: int = 3
    # How long a turn may wait for its place before Rasa counts as down.
    rasa_wait: float = 60.0
    # Site origins allowed to embed the widget; empty means any origin.
    allowed_origins: tuple[str, ...] = ()
    # Mark cookies Secure: set when the gateway is served behind TLS.
    secure_cookies: bool = False
    session_ttl_seconds: int = 12 * 3600
    # How long a socket may stay open before its first frame authenticates it.
    socket_auth_seconds: float = 10.0
    max_message_chars: int = 4000
    # A wait estimate above this offers the customer to leave a message instead.
    long_wait_seconds: int = 600
    # How long an agent may be disconnected before their conversations are requeued.
    agent_grace_seconds: float = 60.0
    # Requests a second (sustained, burst) per client address, and customer POSTs per
    # conversation token; a rate of 0 turns that limit off.
    rate_per_address: float = 50.0
    burst_per_address: float = 200.0
    rate_per_conversation: float = 3.0
    burst_per_conversation: float = 20.0
    # Human-mode messages the bot reads along (NLU for the agent) at most this many times
    # a second; 0 turns reading along off (handoff.conversations.annotations).
    annotation_rate: float = 10.0
    # Behind a reverse proxy: take the client address from X-Forwarded-For's last hop.
    trust_forwarded: bool = False
    # The company's empowered resolution actions and each role's authority limits.
    resolutions_file: Path = field(default_factory=default_resolutions_file)
    # When the team answers chats; None: any time someone is online (handoff.routing.team).
    opening_hours: OpeningHours | None = None
    # Sent to Rasa's baton channel as "Authorization: Bearer ..."; `serve` will not start
    # without it (the launcher always sets one).
    internal_secret: str = field(default="", repr=False)
    # The company's time zone: the bot counts "tomorrow" from a message's time in it.
    timezone: str = "UTC"
    # Redis shared by several gateway processes (make run-cluster), e.g.
    # redis://127.0.0.1:6380/2; empty: this process is the only gateway.
    redis_url: str = ""
    # The unanswered questions supervisors assigned to intents, as Rasa NLU training data
    # (handoff.insights.learning); `make train` includes it.
    learned_file: Path = field(default_factory=default_learned_file)
    # Days after its last message that a conversation's transcript and its customer's
    # details are deleted, counts kept (handoff.conversations.retention); 0 keeps them.
    retention_days: int = 0
    # How often the gateway looks for conversations past that; 0: never by itself.
    retention_sweep_seconds: float = 3600.0
    # Signs the operations feed (POST /api/ops/disruptions, handoff.access.signatures);
    # empty: the feed answers 503.
    ops_secret: str = field(default="", repr=False)
    # Signs the identities sites pass to the widget (handoff.conversations.identity);
    # empty: a conversation opened with an identity is refused.
    identity_secret: str = field(default="", repr=False)

    @property
    def rasa_processes(self) -> tuple[str, ...]:
        """The base URL of every Rasa process (handoff.assistant.pool)."""
        return self.rasa_urls or (self.rasa_url,)

    @property
    def tzinfo(self) -> dt.tzinfo:
        return zone_of(self.timezone)

    @classmethod
    def from_env(cls, env: dict[str, str] | None = None) -> "Settings":
        env = dict(os.environ if env is None else env)
        rasa_port = _int(env, "RASA_PORT", 5005)
        actions_port = _int(env, "ACTIONS_PORT", 5055)
        timezone = _timezone(env, "BATON_TIMEZONE")
        return cls(
            host=env.get("BATON_HOST", "0.0.0.0"),
            port=_int(env, "BATON_PORT", 8000),
            database_url=env.get("DATABASE_URL") or default_database_url(),
            rasa_url=env.get("RASA_URL") or f"http://127.0.0.1:{rasa_port}",
            rasa_urls=tuple(url.rstrip("/") for url in _list(env, "BATON_RASA_URLS")),
            actions_url=env.get("ACTIONS_URL") or f"http://127.0.0.1:{actions_port}",
            rasa_timeout=_float(env, "BATON_RASA_TIMEOUT", 10.0),
            rasa_concurrency=_int(env, "BATON_RASA_CONCURRENCY", 3),
            rasa_wait=_float(env, "BATON_RASA_WAIT", 60.0),
            allowed_origins=_list(env, "BATON_ALLOWED_ORIGINS"),
            secure_cookies=env.get("BATON_SECURE_COOKIES", "") in ("1", "true", "yes"),
            session_ttl_seconds=_int(env, "BATON_SESSION_TTL", 12 * 3600),
            socket_auth_seconds=_float(env, "BATON_SOCKET_AUTH_SECONDS", 10.0),
            max_message_chars=_int(env, "BATON_MAX_MESSAGE_CHARS", 4000),
            long_wait_seconds=_int(env, "BATON_LONG_WAIT_SECONDS", 600),
            agent_grace_seconds=_float(env, "BATON_AGENT_GRACE_SECONDS", 60.0),
            rate_per_address=_float(env, "BATON_RATE_PER_ADDRESS", 50.0),
            burst_per_address=_float(env, "BATON_BURST_PER_ADDRESS", 200.0),
            rate_per_conversation=_float(env, "BATON_RATE_PER_CONVERSATION", 3.0),
            burst_per_conversation=_float(env, "BATON_BURST_PER_CONVERSATION", 20.0),
            annotation_rate=_float(env, "BATON_ANNOTATION_RATE", 10.0),
            trust_forwarded=env.get("BATON_TRUST_FORWARDED", "") in ("1", "true", "yes"),
            resolutions_file=Path(
                env.get("BATON_RESOLUTIONS_FILE") or default_resolutions_file()
            ),
            learned_file=Path(env.get("BATON_LEARNED_NLU") or default_learned_file(env)),
            opening_hours=_opening_hours(env, timezone),
            internal_secret=env.get("BATON_INTERNAL_SECRET", "").strip(),
            timezone=timezone,
            redis_url=env.get("BATON_REDIS_URL", "").strip(),
            retention_days=int(_at_least_zero(env, "BATON_RETENTION_DAYS",
                                              _int(env, "BATON_RETENTION_DAYS", 0))),
            retention_sweep_seconds=_at_least_zero(
                env, "BATON_RETENTION_SWEEP_SECONDS",
                _float(env, "BATON_RETENTION_SWEEP_SECONDS", 3600.0),
            ),
            ops_secret=env.get("BATON_OPS_SECRET", "").strip(),
            identity_secret=env.get("BATON_IDENTITY_SECRET", "").strip(),
        )
