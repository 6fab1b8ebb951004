"""What /metrics shows, in Prometheus' text format: the bot's turns and Rasa's admission,
over all of Rasa's processes and by process (the `process` label: host:port).

One CollectorRegistry per application, not prometheus_client's global one: every test
builds its own app, and each must count from zero.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram, generate_latest

if TYPE_CHECKING:
    from handoff.assistant.pool import RasaPool

# A turn waits from none (Rasa idle) to BATON_RASA_WAIT (60 s by default).
WAIT_BUCKETS = (0.01, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 20, 30, 60, 120)
BOT_TURN_OUTCOMES = ("answered", "handoff", "bot_unavailable")
# A bot turn: tens of milliseconds when Rasa is idle, up to the wait bound when it is busy.
TURN_BUCKETS = (0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 75)


class Metrics:
    def __init__(self) -> None:
        self.registry = CollectorRegistry()
        self.rasa_waiting = Gauge(
            "baton_rasa_waiting", "Turns waiting to be sent to Rasa.", registry=self.registry
        )
        self.rasa_in_flight = Gauge(
            "baton_rasa_in_flight", "Turns sent to Rasa and not yet answered.",
            registry=self.registry,
        )
        self.rasa_down = Gauge(
            "baton_rasa_down",
            "1 while every Rasa process is taken for down (turns fail at once).",
            registry=self.registry,
        )
        self.rasa_process_waiting = Gauge(
            "baton_rasa_process_waiting", "Turns waiting to be sent to this Rasa process.",
            ["process"], registry=self.registry,
        )
        self.rasa_process_in_flight = Gauge(
            "baton_rasa_process_in_flight",
            "Turns sent to this Rasa process and not yet answered.",
            ["process"], registry=self.registry,
        )
        self.rasa_process_down = Gauge(
            "baton_rasa_process_down",
            "1 while this Rasa process is taken for down (its turns go to the others).",
            ["process"], registry=self.registry,
        )
        self.rasa_wait_seconds = Histogram(
            "baton_rasa_wait_seconds", "How long turns waited to be sent to Rasa.",
            buckets=WAIT_BUCKETS, registry=self.registry,
        )
        self.bot_turns = Counter(
            "baton_bot_turns", "Customer turns the bot had, by how they ended.",
            ["outcome"], registry=self.registry,
        )
        self.bot_turn_seconds = Histogram(
            "baton_bot_turn_seconds",
            "A customer's bot turn, from the stored message to the bot's answer or handoff.",
            buckets=TURN_BUCKETS, registry=self.registry,
        )
        self.waiting_for_person = Gauge(
            "baton_waiting_for_person",
            "Conversations waiting for a person (the queue), as of its last change.",
            registry=self.registry,
        )
        for outcome in BOT_TURN_OUTCOMES:
            self.bot_turns.labels(outcome=outcome)

    def watch_rasa(self, pool: RasaPool) -> None:
        # Read when scraped: the admissions keep their own counts, nothing to keep in step.
        self.rasa_waiting.set_function(lambda: pool.waiting)
        self.rasa_in_flight.set_function(lambda: pool.in_flight)
        self.rasa_down.set_function(lambda: 0 if pool.down is None else 1)
        for name, process in pool.processes.items():
            self.rasa_process_waiting.labels(name).set_function(lambda p=process: p.waiting)
            self.rasa_process_in_flight.labels(name).set_function(
                lambda p=process: p.in_flight)
            self.rasa_process_down.labels(name).set_function(
                lambda p=process: 0 if p.down is None else 1)

    def bot_turn(self, outcome: str, seconds: float) -> None:
        self.bot_turns.labels(outcome=outcome).inc()
        self.bot_turn_seconds.observe(seconds)

    def text(self) -> bytes:
        return generate_latest(self.registry)
