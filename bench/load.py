"""Load: 1,000 customers and 50 agents exchange 100,000 messages through one gateway.

Setup (real processes, loopback only): every customer opens a conversation, its widget
socket, and asks for a person (a real Rasa turn); 50 agents log in, open their console
sockets and claim the conversations round-robin (20 each).

Then every conversation runs a dialogue of `rounds` exchanges: the customer sends a
message (on the widget's socket, as the widget does), the holding agent's console
receives it, the agent replies (on the console's socket, as the console does), the
customer's widget receives the reply; under `--post` both send with HTTP POST instead.
1,000 dialogues run at once, each pacing itself so that the whole run offers about
`--rate` messages per second (open loop per conversation: a slow answer does not lower
the offered rate, it only adds to the latency).

Counted for every message: sent (acknowledged by the gateway), delivered (to the holder's
console or the customer's widget; more than once is a duplicate) and stored (read back at
the end through the customer API, which must give exactly the sent texts in the order
they were sent, each once). Latency is send -> the other side's socket receiving it.
The run is bounded: it stops sending at `--max-seconds` and reports what it did.
`--gateways N` (with `--postgres`): agent k's console on gateway k mod N, its customers'
widgets on the next one, so every message crosses from one gateway to another.

    .venv/gateway/bin/python bench/load.py [--customers 1000] [--agents 50]
        [--messages 100000] [--rate 1000] [--postgres] [--gateways N]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import resource
import time
from collections import Counter
from dataclasses import dataclass, field

import aiohttp

from _common import (
    AGENT_PASSWORD,
    cpu_seconds,
    gateway_pids,
    print_table,
    rss_kib,
    running_stack,
    summary_ms,
    widget_socket,
    write_results,
)

ASK = "can i talk to a real person"
DELIVERY_TIMEOUT = 30.0
WIDGET = "widget"
CONSOLE = "console"


@dataclass
class Dialogue:
    id: str
    token: str
    agent: int = -1
    sent: list[str] = field(default_factory=list)  # texts acknowledged, in order
    widget: aiohttp.ClientWebSocketResponse | None = None


@dataclass
class Tally:
    """Everything the run counts, shared by all dialogues."""

    waiting: dict[tuple[str, str], asyncio.Future[float]] = field(default_factory=dict)
    acks: dict[str, asyncio.Future[str | None]] = field(default_factory=dict)
    delivered: Counter[tuple[str, str]] = field(default_factory=Counter)
    customer_to_agent: list[float] = field(default_factory=list)
    agent_to_customer: list[float] = field(default_factory=list)
    ack: list[float] = field(default_factory=list)
    sent: int = 0
    send_errors: Counter[str] = field(default_factory=Counter)
    not_delivered: int = 0
    frames: Counter[str] = field(default_factory=Counter)

    def expect(self, side: str, text: str) -> asyncio.Future[float]:
        future: asyncio.Future[float] = asyncio.get_running_loop().create_future()
        self.waiting[(side, text)] = future
        return future

    def receipt(self, side: str, text: str, now: float) -> None:
        self.delivered[(side, text)] += 1
        future = self.waiting.pop((side, text), None)
        if future is not None and not future.done():
            future.set_result(now)


async def open_dialogue(http: aiohttp.ClientSession, base_url: str) -> Dialogue:
    async with http.post(f"{base_url}/api/conversations") as response:
        body = await response.json()
    dialogue = Dialogue(body["id"], body["token"])
    async with http.post(
        f"{base_url}/api/conversations/{dialogue.id}/messages", json={"text": ASK},
        headers={"Authorization": f"Bearer {dialogue.token}"},
    ) as response:
        status = (await response.json())["status"]
    if status != "waiting":
        raise RuntimeError(f"asking for a person gave status {status!r}")
    return dialogue


async def read_socket(ws: aiohttp.ClientWebSocketResponse, side: str, tally: Tally,
                      want: str, mine: set[str] | None = None) -> None:
    """Counts the message events whose sender is `want` (customer on consoles, agent on widgets).

    A console counts only the conversations its agent holds (`mine`); copies of other
    agents' messages are counted apart, as fan-out.
    """
    async for frame in ws:
        now = time.perf_counter()
        if frame.type != aiohttp.WSMsgType.TEXT:
            continue
        tally.frames[side] += 1
        event = json.loads(frame.data)
        if event.get("type") in ("ack", "error"):
            # The widget's own sends answered on its socket: None is stored, else the error.
            future = tally.acks.pop(event.get("client_message_id") or "", None)
            if future is not None and not future.done():
                error = event.get("error")
                future.set_result(None if event["type"] == "ack" else str(error.get("status")))
            continue
        if event.get("type") != "message" or event["message"]["sender"] != want:
            continue
        if mine is not None and event["conversation_id"] not in mine:
            tally.frames["console_copies_for_other_agents"] += 1
            continue
        tally.receipt(side, event["message"]["text"], now)


async def send(http: aiohttp.ClientSession, url: str, token: str, text: str, tally: Tally) -> bool:
    started = time.perf_counter()
    try:
        async with http.post(url, json={"text": text, "client_message_id": text},
                             headers={"Authorization": f"Bearer {token}"}) as response:
            await response.read()
            if response.status not in (200, 201):
                tally.send_errors[str(response.status)] += 1
                return False
    except (aiohttp.ClientError, asyncio.TimeoutError) as exc:
        tally.send_errors[type(exc).__name__] += 1
        return False
    tally.ack.append(time.perf_counter() - started)
    tally.sent += 1
    return True


async def send_on_socket(ws: aiohttp.ClientWebSocketResponse, frame: dict, tally: Tally) -> bool:
    """A message as the widget or the console sends it: a `message` frame, answered by `ack`."""
    text = frame["text"]
    answered: asyncio.Future[str | None] = asyncio.get_running_loop().create_future()
    tally.acks[text] = answered
    started = time.perf_counter()
    try:
        await ws.send_json({"type": "message", **frame, "client_message_id": text})
        error = await asyncio.wait_for(answered, DELIVERY_TIMEOUT)
    except (aiohttp.ClientError, asyncio.TimeoutError, ConnectionError) as exc:
        tally.acks.pop(text, None)
        tally.send_errors[type(exc).__name__] += 1
        return False
    if error is not None:
        tally.send_errors[error] += 1
        return False
    tally.ack.append(time.perf_counter() - started)
    tally.sent += 1
    return True


async def converse(http: aiohttp.ClientSession, widget_url: str, console_url: str,
                   dialogue: Dialogue,
                   agent_token: str, console: aiohttp.ClientWebSocketResponse, rounds: int,
                   interval: float, deadline: float, offset: float, tally: Tally,
                   socket_sends: bool) -> None:
    """One customer and their agent taking turns; one message every `interval` seconds.
    The customer sends to the gateway at `widget_url`, the agent to the one at
    `console_url` (the same one unless there are several)."""
    customer_url = f"{widget_url}/api/conversations/{dialogue.id}/messages"
    agent_url = f"{console_url}/api/agent/conversations/{dialogue.id}/messages"
    next_at = time.perf_counter() + offset
    for r in range(rounds):
        for side, url, token, receiver, latencies in (
            ("c", customer_url, dialogue.token, CONSOLE, tally.customer_to_agent),
            ("a", agent_url, agent_token, WIDGET, tally.agent_to_customer),
        ):
            delay = next_at - time.perf_counter()
            if delay > 0:
                await asyncio.sleep(delay)
            next_at += interval
            if time.perf_counter() > deadline:
                return
            text = f"{side}-{dialogue.id[:8]}-{r}"
            arrived = tally.expect(receiver, text)
            started = time.perf_counter()
            if socket_sends and side == "c":
                assert dialogue.widget is not None
                stored = await send_on_socket(dialogue.widget, {"text": text}, tally)
            elif socket_sends:
                stored = await send_on_socket(
                    console, {"conversation_id": dialogue.id, "text": text}, tally
                )
            else:
                stored = await send(http, url, token, text, tally)
            if not stored:
                tally.waiting.pop((receiver, text), None)
                continue
            dialogue.sent.append(text)
            try:
                latencies.append(await asyncio.wait_for(arrived, DELIVERY_TIMEOUT) - started)
            except asyncio.TimeoutError:
                tally.not_delivered += 1


async def stored_texts(http: aiohttp.ClientSession, base_url: str, dialogue: Dialogue) -> list[str]:
    async with http.get(f"{base_url}/api/conversations/{dialogue.id}/messages?after=0",
                        headers={"Authorization": f"Bearer {dialogue.token}"}) as response:
        body = await response.json()
    seqs = [m["seq"] for m in body["messages"]]
    if seqs != sorted(set(seqs)):
        raise RuntimeError(f"{dialogue.id}: seqs out of order or repeated")
    return [m["text"] for m in body["messages"] if m["sender"] in ("customer", "agent")
            and m["text"] != ASK]


async def run(stack, customers: int, agents: int, messages: int, rate: float,
              max_seconds: float, socket_sends: bool = True) -> dict:
    """With several gateways (the stack's), agent k's console is on gateway k mod N and
    its customers' widgets on the next gateway: every message crosses from one to
    another, both ways."""
    base_urls = stack.base_urls
    gateways = len(base_urls)
    tally = Tally()
    results: dict = {}
    rounds = max(1, messages // (2 * customers))
    connector = aiohttp.TCPConnector(limit=0)
    timeout = aiohttp.ClientTimeout(total=60)
    async with aiohttp.ClientSession(connector=connector, timeout=timeout) as http:
        started = time.perf_counter()
        semaphore = asyncio.Semaphore(8)

        async def opened(index: int) -> Dialogue:
            async with semaphore:
                return await open_dialogue(http, base_urls[index % gateways])

        dialogues = list(await asyncio.gather(*(opened(i) for i in range(customers))))
        results["setup_handoffs_s"] = round(time.perf_counter() - started, 1)
        print(f"  {customers} customers handed off in {results['setup_handoffs_s']} s", flush=True)

        tokens = []
        for i in range(agents):
            async with http.post(f"{base_urls[0]}/api/agent/login", json={
                "email": f"load-{i}@baton.example", "password": AGENT_PASSWORD,
            }) as response:
                tokens.append((await response.json())["token"])
        console_urls = [base_urls[k % gateways] for k in range(agents)]
        widget_urls = [base_urls[(k + 1) % gateways] for k in range(agents)]
        consoles = [await http.ws_connect(f"{console_urls[k]}/api/agent/ws",
                                          headers={"Authorization": f"Bearer {t}"})
                    for k, t in enumerate(tokens)]
        claim_sem = asyncio.Semaphore(16)

        async def claim(index: int, dialogue: Dialogue) -> None:
            dialogue.agent = index % agents
            async with claim_sem:
                async with http.post(
                    f"{console_urls[dialogue.agent]}/api/agent/conversations/{dialogue.id}/claim",
                    headers={"Authorization": f"Bearer {tokens[dialogue.agent]}"},
                ) as response:
                    if response.status != 200:
                        raise RuntimeError(f"claim answered {response.status}")

        await asyncio.gather(*(claim(i, d) for i, d in enumerate(dialogues)))
        widgets = []
        for d in dialogues:
            d.widget = await widget_socket(http, widget_urls[d.agent], d.id, d.token)
            widgets.append(d.widget)
        held = [{d.id for d in dialogues if d.agent == i} for i in range(agents)]
        readers = [asyncio.create_task(read_socket(ws, CONSOLE, tally, "customer", held[i]))
                   for i, ws in enumerate(consoles)]
        readers += [asyncio.create_task(read_socket(ws, WIDGET, tally, "agent"))
                    for ws in widgets]
        print(f"  {agents} agents claimed {customers} conversations; "
              f"{len(consoles) + len(widgets)} sockets open", flush=True)
        await asyncio.sleep(2)  # the claims' own events settle before counting

        interval = customers / rate  # each dialogue's pace: all of them together offer `rate`
        pids = list(gateway_pids(stack).values())
        cpu_before = sum(cpu_seconds(pid) for pid in pids)
        rss_before = sum(rss_kib(pid) for pid in pids)
        began = time.perf_counter()
        deadline = began + max_seconds
        await asyncio.gather(*(
            converse(http, widget_urls[d.agent], console_urls[d.agent], d, tokens[d.agent],
                     consoles[d.agent], rounds, interval,
                     deadline,
                     offset=interval * i / customers, tally=tally, socket_sends=socket_sends)
            for i, d in enumerate(dialogues)
        ))
        elapsed = time.perf_counter() - began
        cpu_used = sum(cpu_seconds(pid) for pid in pids) - cpu_before
        rss_after = sum(rss_kib(pid) for pid in pids)
        print(f"  {tally.sent} messages in {elapsed:.0f} s; reading them back", flush=True)

        store_sem = asyncio.Semaphore(16)

        async def read_back(d: Dialogue) -> list[str]:
            async with store_sem:
                return await stored_texts(http, widget_urls[d.agent], d)

        stored = await asyncio.gather(*(read_back(d) for d in dialogues))

        async def resolve(d: Dialogue) -> None:
            async with store_sem:
                async with http.post(
                    f"{console_urls[d.agent]}/api/agent/conversations/{d.id}/resolve",
                    headers={"Authorization": f"Bearer {tokens[d.agent]}"},
                ) as response:
                    await response.read()
                    if response.status != 200:
                        raise RuntimeError(f"resolve answered {response.status}")

        # Every conversation goes back to the bot, so nothing is left held or queued.
        await asyncio.gather(*(resolve(d) for d in dialogues))
        for ws in [*consoles, *widgets]:
            await ws.close()
        for reader in readers:
            reader.cancel()

    sent_texts = [t for d in dialogues for t in d.sent]
    stored_count = sum(len(s) for s in stored)
    order_kept = sum(1 for d, s in zip(dialogues, stored) if s == d.sent)
    sides = {"c": CONSOLE, "a": WIDGET}
    delivered_once = sum(1 for t in sent_texts if tally.delivered[(sides[t[0]], t)] == 1)
    duplicates = sum(max(0, n - 1) for n in tally.delivered.values())
    results.update({
        "customers": customers,
        "gateways": gateways,
        "customer_sends": "widget socket" if socket_sends else "POST",
        "agent_sends": "console socket" if socket_sends else "POST",
        "agents": agents,
        "rounds_per_conversation": rounds,
        "offered_rate_per_s": rate,
        "seconds": round(elapsed, 1),
        "messages_sent": tally.sent,
        "messages_per_s": round(tally.sent / elapsed, 1),
        "send_errors": dict(tally.send_errors),
        "messages_stored": stored_count,
        "stored_missing": len(set(sent_texts) - {t for s in stored for t in s}),
        "stored_duplicates": stored_count - len({t for s in stored for t in s}),
        "conversations_in_sent_order": order_kept,
        "delivered_once": delivered_once,
        "not_delivered": tally.not_delivered,
        "delivered_duplicates": duplicates,
        "socket_frames": dict(tally.frames),
        "latency_ms": {
            "customer_to_agent_console": summary_ms(tally.customer_to_agent),
            "agent_to_customer_widget": summary_ms(tally.agent_to_customer),
            "send_acknowledged": summary_ms(tally.ack),
        },
        "gateway_cpu_ms_per_msg": round(1000 * cpu_used / max(1, tally.sent), 3),
        "gateway_rss_mib": {"before": rss_before // 1024, "after": rss_after // 1024},
    })
    return results


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--customers", type=int, default=1000)
    parser.add_argument("--agents", type=int, default=50)
    parser.add_argument("--messages", type=int, default=100_000)
    parser.add_argument("--rate", type=float, default=1000.0,
                        help="messages per second offered by all conversations together")
    parser.add_argument("--max-seconds", type=float, default=600.0,
                        help="stop sending after this long, whatever is left")
    parser.add_argument("--postgres", action="store_true")
    parser.add_argument("--gateways", type=int, default=1,
                        help="gateway processes sharing Redis (more than one: --postgres); "
                        "every message crosses from one to another")
    parser.add_argument("--post", action="store_true",
                        help="customers and agents send with POST instead of on their sockets")
    args = parser.parse_args()
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    resource.setrlimit(resource.RLIMIT_NOFILE, (min(hard, 16384), hard))
    if args.gateways > 1 and not args.postgres:
        parser.error("--gateways above 1 needs --postgres")
    name = "load-postgres" if args.postgres else "load"
    if args.gateways > 1:
        name += f"-{args.gateways}-gateways"
    emails = [f"load-{i}@baton.example" for i in range(args.agents)]
    with running_stack(name, agents=emails, postgres=args.postgres,
                       gateways=args.gateways) as stack:
        stack.wait_ready(timeout=300)
        results = asyncio.run(asyncio.wait_for(
            run(stack, args.customers, args.agents, args.messages, args.rate, args.max_seconds,
                socket_sends=not args.post),
            args.max_seconds + 1200))

    lat = results["latency_ms"]
    print_table(
        f"Load: {args.customers} customers, {args.agents} agents, offered {args.rate:.0f} msg/s, "
        f"{'PostgreSQL' if args.postgres else 'SQLite'}"
        f"{f', {args.gateways} gateways' if args.gateways > 1 else ''} (latency in ms)",
        ["path", "n", "p50", "p95", "p99", "max"],
        [[k, v["n"], v["p50"], v["p95"], v["p99"], v["max"]] for k, v in lat.items()],
    )
    print(
        f"\nsent {results['messages_sent']} in {results['seconds']} s "
        f"({results['messages_per_s']} msg/s); stored {results['messages_stored']} "
        f"(missing {results['stored_missing']}, duplicated {results['stored_duplicates']}); "
        f"order kept in {results['conversations_in_sent_order']}/{args.customers} conversations; "
        f"delivered once {results['delivered_once']}, not delivered {results['not_delivered']}, "
        f"delivered twice {results['delivered_duplicates']}; send errors {results['send_errors']}; "
        f"gateway CPU {results['gateway_cpu_ms_per_msg']} ms/msg"
    )
    path = write_results(name, {"database": "postgresql" if args.postgres else "sqlite", **results})
    print(f"wrote {path}")


if __name__ == "__main__":
    main()
