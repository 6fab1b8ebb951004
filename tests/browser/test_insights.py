"""The supervisors' Insights page in a real browser: its tiles, charts and tables show
what GET /api/agent/insights answers for the period picked, a question the bot could not
answer appears among the unanswered topics, each table's CSV is exactly its text columns,
the period survives a reload, and agents see neither the page nor the report. Then the
learning loop: a supervisor decides what unanswered topics are in the page, and the
training data downloaded from it teaches the assigned questions.

Runs against the real system; see conftest.py. It needs a supervisor: in the session's
own stack one is made (conftest.supervisor_login); against an external Baton give one
with BATON_SUPERVISOR_EMAIL/_PASSWORD, or the test is skipped. Against an external Baton
other traffic can change the figures while the test reads them; run it on a quiet one.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import re
import secrets
from collections.abc import Callable
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

import pytest
from playwright.sync_api import Locator, Page, expect

from .conftest import AgentLogin, PageErrors, Screenshots
from .pages import Console, Widget, wait_until

pytestmark = pytest.mark.e2e

TABLES = ("unanswered", "comments", "actions", "flights", "signals")


# ---- the figures as the page writes them (console/insights.js, `fmt`) ------------------
def fixed(x: float, places: int) -> str:
    """JavaScript's toFixed: the exact value, halves away from zero."""
    return str(Decimal(x).quantize(Decimal(1).scaleb(-places), rounding=ROUND_HALF_UP))


def count(n: int) -> str:
    return f"{n:,}"


def counted(n: int, word: str) -> str:
    return f"{count(n)} {word}{'' if n == 1 else 's'}"


def percent(share: float | None) -> str:
    return "—" if share is None else fixed(share * 100, 1) + "%"


def average(x: float | None) -> str:
    return "—" if x is None else fixed(x, 2)


def seconds(s: float | None) -> str:
    if s is None:
        return "—"
    if s < 60:
        return fixed(s, 0) + " s"
    if s < 3600:
        return fixed(s / 60, 1) + " min"
    return fixed(s / 3600, 1) + " h"


def utc(moment: str) -> str:
    return dt.datetime.fromisoformat(moment).astimezone(dt.timezone.utc).strftime("%Y-%m-%d %H:%M")


def label(labels: dict[str, Any], kind: str, key: str) -> str:
    if key in labels.get(kind, {}):
        return str(labels[kind][key])
    words = " ".join(key.replace("-", " ").replace("_", " ").split())
    return words[:1].upper() + words[1:]


def expected_tiles(r: dict[str, Any]) -> dict[str, tuple[str, str]]:
    waits, csat, frustration = r["waits"], r["csat"], r["frustration"]
    return {
        "conversations": (count(r["conversations"]), "started in the period"),
        "containment": (percent(r["containment_rate"]), f"{count(r['contained'])} contained by the bot"),
        "handoffs": (count(r["handoffs"]["total"]), f"{count(waits['waiting'])} waiting now"),
        "wait-p50": (seconds(waits["p50"]), f"{count(waits['answered'])} answered"),
        "wait-p90": (seconds(waits["p90"]), f"{count(waits['abandoned'])} abandoned"),
        "csat": (average(csat["average"]), f"of 5, from {counted(csat['count'], 'rating')}"),
        "frustrated": (percent(frustration["share"]), counted(frustration["conversations"], "conversation")),
    }


def decision(topic: dict[str, Any], labels: dict[str, Any]) -> str:
    if topic["decision"] == "assigned":
        return f"Assigned to {label(labels, 'intents', topic['intent'])}"
    if topic["decision"] == "new_topic":
        return f"New topic: {topic['name']}"
    return "Ignored" if topic["decision"] == "ignored" else "Open"


def expected_tables(r: dict[str, Any], labels: dict[str, Any]) -> dict[str, list[list[str]]]:
    def money(amounts: dict[str, float]) -> str:
        return ", ".join(f"{cur} {fixed(amounts[cur], 2)}" for cur in sorted(amounts))

    return {
        "unanswered": [
            [str(t["count"]), "\n".join(t["examples"]), utc(t["first_seen"]), utc(t["last_seen"]),
             str(t["total"]), decision(t, labels)]
            for t in r["unanswered"]["topics"]
        ],
        "comments": [
            [str(c["rating"]), c["comment"], label(labels, "reasons", c["reason"]), utc(c["rated_at"])]
            for c in r["csat"]["comments"]
        ],
        "actions": [
            [a["label"], str(a["count"]), money(a["total_amount"]), str(a["approved"]),
             str(a["rejected"]), str(a["pending"]), str(a["done"]), str(a["failed"])]
            for a in r["resolution"]["actions"]
        ],
        "flights": [
            [f["flight_number"], str(f["handoffs"]),
             ", ".join(f"{label(labels, 'disruptions', k)} {n}" for k, n in f["by_type"].items())]
            for f in r["disruptions"]["top_flights"]
        ],
        "signals": [
            [label(labels, "signals", s["signal"]), str(s["conversations"])]
            for s in r["frustration"]["top_signals"]
        ],
    }


# ---- what the page shows ---------------------------------------------------------------
def table(page: Page, name: str) -> Locator:
    return page.locator(f'#insights-tables [data-table="{name}"]')


def shown_rows(page: Page, name: str) -> list[list[str]]:
    """Each row's text cells (a row's controls, data-tools, are no text of the table)."""
    return table(page, name).locator("tbody tr").evaluate_all(
        "rows => rows.map(r => [...r.cells].filter(c => !c.hasAttribute('data-tools')).map(c => c.textContent))"
    )


def shown_header(page: Page, name: str) -> list[str]:
    return table(page, name).locator("thead th:not([data-tools])").evaluate_all(
        "cells => cells.map(c => c.textContent)"
    )


def shown_tiles(page: Page) -> dict[str, tuple[str, str]]:
    tiles = page.locator("#insights-tiles .tile").evaluate_all(
        """tiles => tiles.map(t => [t.dataset.tile, t.querySelector('.tile-value').textContent,
                                    t.querySelector('.tile-sub').textContent])"""
    )
    return {name: (value, sub) for name, value, sub in tiles}


def chart_data(page: Page, name: str) -> list[list[float | None]]:
    """The numbers Chart.js drew, dataset by dataset."""
    return page.locator(f'[data-chart="{name}"] canvas').evaluate(
        "c => Chart.getChart(c).data.datasets.map(d => d.data)"
    )


def assert_page_shows(page: Page, report: dict[str, Any], labels: dict[str, Any]) -> None:
    view = page.locator("#insights-view")
    expect(view).to_have_attribute("data-from", report["period"]["from"])
    expect(view).to_have_attribute("data-to", report["period"]["to"])
    expect(page.locator("#insights-body")).to_have_attribute("aria-busy", "false")
    assert shown_tiles(page) == expected_tiles(report)
    rows = expected_tables(report, labels)
    for name in TABLES:
        assert shown_rows(page, name) == rows[name], name
        expect(table(page, name).locator(".empty")).to_have_count(0 if rows[name] else 1)
    days = report["handoffs"]["per_day"]
    assert chart_data(page, "volume") == [
        [d["contained"] for d in days], [d["conversations"] - d["contained"] for d in days]
    ]
    by_reason = report["handoffs"]["by_reason"]
    assert chart_data(page, "reasons") == [[by_reason[r] for r in (
        "requested", "frustration", "disruption", "bot_failure", "bot_unavailable")]]
    assert chart_data(page, "waits") == [list(report["waits"]["buckets"].values())]
    ratings = report["csat"]["per_day"]
    assert chart_data(page, "csat") == [[d["average"] for d in ratings], [d["count"] for d in ratings]]


def inert(cell: str) -> str:
    """What a spreadsheet would run as a formula, behind an apostrophe; numbers kept."""
    formula = cell[:1] in ("=", "+", "-", "@", "\t", "\r")
    return "'" + cell if formula and not re.fullmatch(r"[+-]?\d+(\.\d+)?%?", cell) else cell


def rfc4180(records: list[list[str]]) -> str:
    """A byte order mark; CRLF after every record; a field quoted when it holds a comma,
    quote, CR or LF; a formula's cell behind an apostrophe."""
    out = io.StringIO()
    csv.writer(out, lineterminator="\r\n", quoting=csv.QUOTE_MINIMAL).writerows(
        [[inert(cell) for cell in row] for row in records]
    )
    return "\ufeff" + out.getvalue()


def show_period(sam: Console, pick: str, query: str) -> dict[str, Any]:
    """Picks a period in the page; returns the report the page was given for it."""
    page = sam.page
    with page.expect_response(lambda r: r.url.endswith(f"/api/agent/insights?{query}")) as answer:
        if pick:
            page.locator("#insights-view").get_by_label("Period", exact=True).select_option(label=pick)
        else:
            page.get_by_role("button", name="Show", exact=True).click()
    assert answer.value.status == 200
    return answer.value.json()  # type: ignore[no-any-return]


def test_insights_show_the_reports_figures_for_the_period_picked(
    customer: Page, agent: Page, supervisor: Page, agent_login: AgentLogin,
    supervisor_login: AgentLogin, page_errors: PageErrors, shots: Screenshots,
) -> None:
    # Something to report: a question the bot cannot answer (unique per run), then a
    # handoff that an agent resolves with an action, rated with a comment CSV must quote.
    question = f"what is the meaning of life and the universe, {secrets.token_hex(3)} wonders"
    # It starts as a formula would: the CSV must not hand it to a spreadsheet as one.
    comment = f'=1+1 Slow, but "kind" in the end {secrets.token_hex(2)}'
    widget = Widget(customer).visit("/").open()
    widget.wait_for_reply(widget.send(question), "bot")
    conversation_id = widget.hand_off(
        "my flight LH400 got cancelled and my booking is ABC123, can I talk to a person")
    maya = Console(agent).login(agent_login.email, agent_login.password)
    maya.take(conversation_id)
    maya.reply("Sorry about that, a voucher is on its way.")
    form = maya.choose_action("Issue a travel voucher", "50")
    form.get_by_role("button", name="Review").click()
    form.get_by_role("button", name="Confirm", exact=True).click()
    expect(maya.resolution("Issue a travel voucher")).to_have_attribute("data-status", "done")
    maya.resolve()
    rating = customer.get_by_role("group", name="Rate this conversation")
    rating.get_by_role("button", name="2 of 5: Poor").click()
    rating.get_by_label("Anything to add? (optional)").fill(comment)
    rating.get_by_role("button", name="Send").click()
    expect(rating).to_contain_text("Thank you for your feedback!")

    # An agent has no Insights tab, and the report refuses them.
    expect(agent.locator("#view-history")).to_be_visible()
    expect(agent.locator("#view-insights")).to_be_hidden()
    token = agent.evaluate("sessionStorage.getItem('baton.agent.token')")
    refused = agent.request.get("/api/agent/insights?days=30", headers={"Authorization": f"Bearer {token}"})
    assert refused.status == 403

    sam = Console(supervisor).login(supervisor_login.email, supervisor_login.password)
    insights = supervisor.locator("#insights-view")
    labels = supervisor.request.get("/static/labels.json").json()
    # The miss is recorded beside the bot's turn: wait until the report has it.
    wait_until(supervisor, lambda: any(
        question in t["examples"] for t in sam.api_get("/api/agent/insights?days=30")["unanswered"]["topics"]
    ), "the unanswered question in the report", timeout_ms=20_000)

    # Opened, the page shows the last 30 days: the same figures as the API's for them.
    with supervisor.expect_response(lambda r: r.url.endswith("/api/agent/insights?days=30")):
        sam.view("Insights")
    expect(insights.get_by_label("Period", exact=True)).to_have_value("30")
    report = sam.api_get("/api/agent/insights?days=30")
    assert report["period"]["days"] == 30
    assert_page_shows(supervisor, report, labels)
    unanswered = [row for row in shown_rows(supervisor, "unanswered") if question in row[1].split("\n")]
    assert len(unanswered) == 1, shown_rows(supervisor, "unanswered")
    assert [row[1] for row in shown_rows(supervisor, "comments")].count(comment) == 1
    assert "Issue a travel voucher" in [row[0] for row in shown_rows(supervisor, "actions")]
    assert "LH400" in [row[0] for row in shown_rows(supervisor, "flights")]
    shots(supervisor, "insights-30-days")
    table(supervisor, "unanswered").scroll_into_view_if_needed()
    shots(supervisor, "insights-30-days-tables")

    # Each table's CSV is its header and rows, RFC 4180, named for the period.
    period = f"{report['period']['from']}-to-{report['period']['to']}"
    for name in TABLES:
        with supervisor.expect_download() as got:
            table(supervisor, name).get_by_role("button", name="Download CSV").click()
        download = got.value
        assert download.suggested_filename == f"baton-insights-{name}-{period}.csv"
        raw = download.path().read_bytes().decode("utf-8")
        records = [shown_header(supervisor, name), *shown_rows(supervisor, name)]
        assert raw == rfc4180(records), name
        read = list(csv.reader(io.StringIO(raw.removeprefix("\ufeff"), newline=""), strict=True))
        assert read == [[inert(cell) for cell in row] for row in records], name
    with supervisor.expect_download() as got:
        table(supervisor, "comments").get_by_role("button", name="Download CSV").click()
    raw = got.value.path().read_bytes().decode("utf-8")
    assert raw.startswith("\ufeffRating,Comment,Reason,Rated (UTC)\r\n")
    assert f'"\'{comment.replace(chr(34), chr(34) * 2)}"' in raw
    with supervisor.expect_download() as got:
        table(supervisor, "unanswered").get_by_role("button", name="Download CSV").click()
    raw = got.value.path().read_bytes().decode("utf-8")
    assert raw.startswith("\ufeffMessages,Examples,First seen (UTC),Last seen (UTC),All time,Decision\r\n")

    # Another period re-renders with that period's figures.
    week = show_period(sam, "Last 7 days", "days=7")
    assert week["period"]["days"] == 7
    assert_page_shows(supervisor, sam.api_get("/api/agent/insights?days=7"), labels)
    insights.get_by_label("Period", exact=True).select_option(label="From … to …")
    insights.get_by_label("From", exact=True).fill("2001-01-01")
    insights.get_by_label("To", exact=True).fill("2001-01-07")
    old = show_period(sam, "", "from=2001-01-01&to=2001-01-07")
    assert old["conversations"] == 0 and old["unanswered"]["topics"] == []
    assert_page_shows(supervisor, old, labels)
    assert shown_tiles(supervisor)["conversations"] == ("0", "started in the period")
    shots(supervisor, "insights-a-quiet-week-in-2001")

    # A reload keeps the period picked.
    insights.get_by_label("Period", exact=True).select_option(label="From … to …")
    insights.get_by_label("From", exact=True).fill(report["period"]["from"])
    insights.get_by_label("To", exact=True).fill(report["period"]["to"])
    show_period(sam, "", f"from={report['period']['from']}&to={report['period']['to']}")
    supervisor.reload()
    expect(supervisor.locator("#live-state")).to_have_attribute("data-state", "live")
    expect(insights.get_by_label("From", exact=True)).to_have_value(report["period"]["from"])
    with supervisor.expect_response(lambda r: "/api/agent/insights?from=" in r.url):
        sam.view("Insights")
    again = sam.api_get(f"/api/agent/insights?from={report['period']['from']}&to={report['period']['to']}")
    assert_page_shows(supervisor, again, labels)
    assert page_errors.entries == []


# ---- the learning loop -----------------------------------------------------------------
def topic_row(page: Page, question: str) -> Locator:
    """The unanswered table's row whose examples hold the question."""
    return table(page, "unanswered").locator("tbody tr").filter(
        has=page.locator("td").filter(has_text=question)
    )


def topic_of(report: dict[str, Any], question: str) -> dict[str, Any]:
    topics = [t for t in report["unanswered"]["topics"] if question in t["examples"]]
    assert len(topics) == 1, report["unanswered"]["topics"]
    return topics[0]


def decide(sam: Console, row: Locator, action: Callable[[], None]) -> dict[str, Any]:
    """Takes a decision through the row's controls; returns what the gateway answered,
    once the page has read the report again."""
    page = sam.page
    with page.expect_response(lambda r: "/decision" in r.url) as answer:
        action()
    body: dict[str, Any] = answer.value.json()
    if answer.value.ok:
        expect(page.locator("#insights-body")).to_have_attribute("aria-busy", "false")
        expect(row.get_by_label("Intent", exact=True)).to_be_focused()
    body["status"] = answer.value.status
    return body


def examples_of(training_data: str) -> dict[str, list[str]]:
    """The examples of a Rasa NLU file as scripts/train.py gets it, by intent."""
    examples: dict[str, list[str]] = {}
    intent = None
    for line in training_data.splitlines():
        if line.startswith("- intent: "):
            intent = line.removeprefix("- intent: ")
            examples[intent] = []
        elif line.startswith("    - ") and intent is not None:
            examples[intent].append(line.removeprefix("    - "))
    return examples


def test_supervisor_teaches_the_bot_from_the_unanswered_topics(
    customer: Page, supervisor: Page, supervisor_login: AgentLogin, page_errors: PageErrors,
    shots: Screenshots,
) -> None:
    # Two questions the bot cannot answer, of two topics far apart (unique per run).
    taught = f"what is the meaning of life and the universe, {secrets.token_hex(3)} wonders"
    ignored = f"how do i remove a coffee blemish from my shirt {secrets.token_hex(3)}"
    widget = Widget(customer).visit("/").open()
    widget.wait_for_reply(widget.send(taught), "bot")
    widget.wait_for_reply(widget.send(ignored), "bot")
    sam = Console(supervisor).login(supervisor_login.email, supervisor_login.password)
    labels = supervisor.request.get("/static/labels.json").json()
    wait_until(supervisor, lambda: all(any(
        question in t["examples"] for t in sam.api_get("/api/agent/insights?days=30")["unanswered"]["topics"]
    ) for question in (taught, ignored)), "both questions in the report", timeout_ms=20_000)
    with supervisor.expect_response(lambda r: r.url.endswith("/api/agent/insights?days=30")):
        sam.view("Insights")
    report = sam.api_get("/api/agent/insights?days=30")
    assert topic_of(report, taught)["topic_id"] != topic_of(report, ignored)["topic_id"]
    assert_page_shows(supervisor, report, labels)
    unanswered = table(supervisor, "unanswered")
    expect(unanswered).to_contain_text("make train includes.")
    row, other = topic_row(supervisor, taught), topic_row(supervisor, ignored)
    expect(row).to_have_count(1)
    expect(other).to_have_count(1)

    # Assigned to an intent through the row's controls: the row says so, and so do the
    # report and the confirmation (with the training data's size the gateway gave).
    def assign() -> None:
        row.get_by_label("Intent", exact=True).select_option(label="Travel ideas")
        row.get_by_role("button", name="Assign", exact=True).click()

    answer = decide(sam, row, assign)
    assert (answer["decision"], answer["intent"]) == ("assigned", "travel_suggestion")
    size = answer["training_examples"]
    assert size >= 1
    expect(row.locator("td").nth(5)).to_have_text("Assigned to Travel ideas")
    expect(unanswered.locator(".insight-said")).to_have_text(
        f"Assigned to Travel ideas. The training data now has {size} example{'' if size == 1 else 's'}."
    )
    expect(row.get_by_label("Intent", exact=True)).to_have_value("travel_suggestion")
    report = sam.api_get("/api/agent/insights?days=30")
    topic = topic_of(report, taught)
    assert (topic["decision"], topic["intent"], topic["name"]) == ("assigned", "travel_suggestion", None)
    assert_page_shows(supervisor, report, labels)
    row.scroll_into_view_if_needed()
    shots(supervisor, "insights-topic-assigned")

    # The training data, downloaded from the page: the gateway's YAML, the question among
    # the intent's examples.
    with supervisor.expect_download() as got:
        unanswered.get_by_role("button", name="Download training data").click()
    assert got.value.suggested_filename == "learned_nlu.yml"
    yaml = got.value.path().read_bytes().decode("utf-8")
    token = supervisor.evaluate("sessionStorage.getItem('baton.agent.token')")
    served = supervisor.request.get("/api/agent/insights/training-data",
                                    headers={"Authorization": f"Bearer {token}"})
    assert served.ok and yaml == served.text()
    examples = examples_of(yaml)
    assert taught in examples["travel_suggestion"]
    assert ignored not in [text for texts in examples.values() for text in texts]
    assert sum(len(texts) for texts in examples.values()) == size

    # Ignored: the row says so, and the training data keeps its size.
    answer = decide(sam, other, lambda: other.get_by_role("button", name="Ignore", exact=True).click())
    assert answer["decision"] == "ignored"
    expect(other.locator("td").nth(5)).to_have_text("Ignored")
    expect(unanswered.locator(".insight-said")).to_have_text(
        f"Ignored. The training data now has {size} example{'' if size == 1 else 's'}."
    )
    expect(other.get_by_role("button", name="Ignore", exact=True)).to_have_count(0)
    assert topic_of(sam.api_get("/api/agent/insights?days=30"), ignored)["decision"] == "ignored"

    # A new topic without a name is refused: the gateway's message is shown in the row,
    # beside the name field, and nothing changed.
    page_errors.allow(r"status of 400")  # the refused decision below
    refused = decide(sam, other, lambda: other.get_by_role("button", name="New topic", exact=True).click())
    assert refused["status"] == 400
    assert refused["error"]["message"] == "'name' is required for a new topic"
    expect(other.get_by_role("alert")).to_have_text("'name' is required for a new topic")
    name = other.get_by_label("New topic name", exact=True)
    expect(name).to_be_focused()
    expect(name).to_have_attribute("aria-invalid", "true")
    expect(other.locator("td").nth(5)).to_have_text("Ignored")
    shots(supervisor, "insights-topic-refused")

    # Named, it is a new topic; reopened, it is open again.
    name.fill("Stains on clothes")
    answer = decide(sam, other, lambda: name.press("Enter"))
    assert (answer["decision"], answer["name"]) == ("new_topic", "Stains on clothes")
    expect(other.locator("td").nth(5)).to_have_text("New topic: Stains on clothes")
    expect(other.get_by_role("alert")).to_be_hidden()
    answer = decide(sam, other, lambda: other.get_by_role("button", name="Reopen", exact=True).click())
    assert answer["decision"] is None
    expect(other.locator("td").nth(5)).to_have_text("Open")
    expect(other.get_by_role("button", name="Reopen", exact=True)).to_have_count(0)
    report = sam.api_get("/api/agent/insights?days=30")
    assert topic_of(report, ignored)["decision"] is None
    assert topic_of(report, taught)["decision"] == "assigned"
    assert_page_shows(supervisor, report, labels)
    assert page_errors.entries == []
