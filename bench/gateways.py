"""Relay and load through two gateways against one, in one run (issue 17, point 5).

For one gateway and then two, each on a stack of its own with its own PostgreSQL (two
gateways share their events through the stack's Redis, as under `make run-cluster`;
one gateway publishes in its process, without Redis, as under `make run`):

- the delivery latency at a moderate paced rate (`--delivery-rate`), first: with two
  gateways every message is timed at its holder's console on the widget's gateway and
  at the one on the other gateway, in the same run;
- relay.py's saturation and then its paced ladder (whose last step overloads),
  customers' widget sockets -> the holding agent's console; with two gateways each
  conversation's widget is on the gateway its holder's console is not on, so every
  message crosses;
- load.py's dialogues (`--messages` in all, both ways, every one crossing with two
  gateways): sent, lost, doubled, latency.

One stack per gateway count serves all three, so Rasa loads twice in all.

    .venv/gateway/bin/python bench/gateways.py [--conversations 1000] [--messages 100000]
        [--rate 1000] [--delivery-rate 500] [--rates 250,500,...]
"""

from __future__ import annotations

import argparse
import asyncio
import resource

import redis

import load
import relay
from _common import print_table, running_stack, write_results

RELAY_AGENTS = 4
LOAD_AGENTS = 50
# Each step ends the whole asyncio.run at worst (a hang is a finding, not a wait).
RELAY_TIMEOUT = 1200.0


def kept(steps: list[dict]) -> dict | None:
    """The highest paced step the gateways kept up with: nothing lost, at least 90 % of
    the offered rate delivered (relay.ladder's own test for going on)."""
    good = [s for s in steps if not s["lost_or_late"] and s["msg_per_s"] >= 0.9 * s["offered_per_s"]]
    return good[-1] if good else None


def redis_calls(port: int) -> dict[str, int]:
    """Commands Redis has run since it started, by name (Rasa's trackers included)."""
    client = redis.Redis(port=port)
    try:
        stats = client.info("commandstats")
    finally:
        client.close()
    return {name.removeprefix("cmdstat_"): int(v["calls"]) for name, v in stats.items()}


def measure(gateways: int, args: argparse.Namespace) -> dict:
    relay_emails = [f"bench-relay-{i}@baton.example" for i in range(RELAY_AGENTS)]
    load_emails = [f"load-{i}@baton.example" for i in range(LOAD_AGENTS)]
    print(f"{gateways} gateway{'s' if gateways > 1 else ''}, PostgreSQL"
          f"{' and Redis' if gateways > 1 else ''}:", flush=True)
    with running_stack(f"gateways-{gateways}", agents=relay_emails + load_emails,
                       postgres=True, gateways=gateways) as stack:
        stack.wait_ready(timeout=300)
        relayed = asyncio.run(asyncio.wait_for(relay.measure_gateway(
            stack, args.conversations, relay_emails, series=("as_is",), rates=args.rates,
            delivery_rate=args.delivery_rate, saturation_first=True), RELAY_TIMEOUT))
        print("  load:", flush=True)
        before = redis_calls(stack.ports.redis)
        loaded = asyncio.run(asyncio.wait_for(load.run(
            stack, args.customers, LOAD_AGENTS, args.messages, args.rate, args.max_seconds),
            args.max_seconds + 600))
        after = redis_calls(stack.ports.redis)
    # The whole load's commands (its setup, Rasa's annotations and the read-back too), a
    # message: what the gateways add to Redis is the difference between the two runs.
    sent = max(1, loaded["messages_sent"])
    loaded["redis_calls_per_message"] = {
        name: round((calls - before.get(name, 0)) / sent, 3)
        for name, calls in sorted(after.items()) if calls > before.get(name, 0)
    }
    return {"relay": relayed, "load": loaded}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--conversations", type=int, default=1000,
                        help="the relay's conversations (relay.py)")
    parser.add_argument("--rates", default=",".join(map(str, relay.GATEWAY_RATES)),
                        help="the relay's paced ladder, messages/s, comma-separated")
    parser.add_argument("--delivery-rate", type=int, default=500,
                        help="the paced rate of the delivery latency's run, messages/s")
    parser.add_argument("--customers", type=int, default=1000, help="the load's (load.py)")
    parser.add_argument("--messages", type=int, default=100_000, help="the load's, in all")
    parser.add_argument("--rate", type=float, default=1000.0,
                        help="the load's offered rate, messages/s")
    parser.add_argument("--max-seconds", type=float, default=300.0,
                        help="the load stops sending after this long")
    parser.add_argument("--gateways", default="1,2", help="the gateway counts, in order")
    args = parser.parse_args()
    args.rates = tuple(int(r) for r in args.rates.split(",") if r)
    counts = [int(n) for n in args.gateways.split(",")]
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    resource.setrlimit(resource.RLIMIT_NOFILE, (min(hard, 16384), hard))

    runs = {n: measure(n, args) for n in counts}

    relay_rows = []
    for n, run in runs.items():
        steps = run["relay"]["as_is"]["paced"]
        top, within = kept(steps), relay.best_paced(steps)
        saturation = run["relay"]["as_is"]["saturation"]
        relay_rows.append([
            n, f"{top['offered_per_s']}/s" if top else "none", top["p99_ms"] if top else "-",
            f"{within['offered_per_s']}/s" if within else "none",
            round(saturation["msg_per_s"]), saturation["p99_ms"],
            relay.server_cpu(saturation), saturation.get("redis_cpu_ms_per_msg", float("nan")),
            run["relay"]["errors"], run["relay"]["widgets_closed_by_gateway"],
            run["relay"]["console_resets"],
        ])
    print_table(
        f"Relay, customer widget socket -> holder's console, {args.conversations} "
        f"conversations, {RELAY_AGENTS} agents, PostgreSQL; with 2 gateways every message "
        "crosses (latency in ms)",
        ["gateways", "highest paced rate kept", "its p99", "highest with p99 <= 50 ms",
         "saturation msg/s", "saturation p99", "gateways' CPU ms/msg", "Redis CPU ms/msg",
         "errors", "widgets closed", "console resets"],
        relay_rows,
    )

    delivery_rows = []
    for n, run in runs.items():
        delivery = run["relay"]["delivery"]
        for where, label in (("same_gateway", "console on the widget's gateway"),
                             ("other_gateway", "console on the other gateway")):
            s = delivery.get(where)
            if s is not None:
                delivery_rows.append([n, label, s["sent"], s["received"], s["p50_ms"],
                                      s["p95_ms"], s["p99_ms"], s["max_ms"]])
    print_table(
        f"Delivery, customer widget socket -> holder's console, paced {args.delivery_rate}/s "
        f"for {relay.DELIVERY_SECONDS:.0f} s (latency in ms)",
        ["gateways", "path", "sent", "received", "p50", "p95", "p99", "max"],
        delivery_rows,
    )

    load_rows = []
    for n, run in runs.items():
        d = run["load"]
        latency = d["latency_ms"]
        load_rows.append([
            n, d["messages_sent"], d["messages_per_s"],
            d["stored_missing"] + d["not_delivered"],
            d["stored_duplicates"] + d["delivered_duplicates"],
            f"{d['conversations_in_sent_order']}/{d['customers']}",
            latency["customer_to_agent_console"]["p50"], latency["customer_to_agent_console"]["p99"],
            latency["agent_to_customer_widget"]["p50"], latency["agent_to_customer_widget"]["p99"],
            d["gateway_cpu_ms_per_msg"], sum(d["send_errors"].values()),
        ])
    print_table(
        f"Load, {args.customers} customers, {LOAD_AGENTS} agents, offered {args.rate:.0f} msg/s, "
        "PostgreSQL; with 2 gateways every message crosses (latency in ms)",
        ["gateways", "sent", "msg/s", "lost", "doubled", "order kept", "customer->agent p50",
         "p99", "agent->customer p50", "p99", "gateways' CPU ms/msg", "send errors"],
        load_rows,
    )

    names = sorted({name for run in runs.values()
                    for name, per in run["load"]["redis_calls_per_message"].items() if per >= 0.01})
    print_table(
        "Redis commands a load message (the whole load's: setup, Rasa's trackers, read-back)",
        ["gateways", *names],
        [[n, *(run["load"]["redis_calls_per_message"].get(name, 0.0) for name in names)]
         for n, run in runs.items()],
    )

    path = write_results("gateways", {
        "database": "postgresql",
        "relay": {"conversations": args.conversations, "agents": RELAY_AGENTS,
                  "step_seconds": relay.STEP_SECONDS,
                  "saturation_seconds": relay.SATURATION_SECONDS},
        "delivery": {"offered_per_s": args.delivery_rate, "seconds": relay.DELIVERY_SECONDS},
        "load": {"customers": args.customers, "agents": LOAD_AGENTS, "messages": args.messages,
                 "offered_per_s": args.rate, "max_seconds": args.max_seconds},
        "runs": {str(n): run for n, run in runs.items()},
    })
    print(f"wrote {path}")


if __name__ == "__main__":
    main()
