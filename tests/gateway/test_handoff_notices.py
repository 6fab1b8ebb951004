"""What the customer is told at a handoff: one message, true of who is online and the hours.

The clock is set (handoff.routing.team.current_time) so that the opening hours' answers are
exact: Wednesday 2026-12-02, in London.
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Callable
from typing import Any

import pytest
from aiohttp import ClientWebSocketResponse
from aiohttp.test_utils import TestClient

from handoff.routing import team
from handoff.conversations.handoff_notices import BOT_UNAVAILABLE_TEXT
from handoff.routing.opening_hours import OpeningHours
from handoff.settings import Settings

from .conftest import Customer, MakeClient
from .fake_rasa import FakeRasa
from .test_queue import past_handoffs
from .test_sockets import next_event

HOURS = "Mon-Fri 08:00-20:00, Sat 09:00-17:00"
LONDON = OpeningHours.parse(HOURS, "Europe/London")
WEDNESDAY_NOON = dt.datetime(2026, 12, 2, 12, 0, tzinfo=dt.UTC)
WEDNESDAY_NIGHT = dt.datetime(2026, 12, 2, 22, 30, tzinfo=dt.UTC)
SATURDAY_NIGHT = dt.datetime(2026, 12, 5, 18, 0, tzinfo=dt.UTC)

NOBODY_IN_HOURS = (
    "Of course! None of my colleagues is online to chat just now, though our team is "
    "working until 20:00 (London time). Your place in the queue is kept, and the first "
    "colleague to come online will reply here, with everything you've told me. If you'd "
    "rather not wait, leave your email and a short message and we'll get back to you."
)
CLOSED_TONIGHT = (
    "Of course! Our team is offline right now. We're back tomorrow at 08:00 (London time) "
    "and will e-mail you: leave your email and a short message below, and a colleague will "
    "get back to you with everything you've told me so far."
)


@pytest.fixture
def clock(monkeypatch: pytest.MonkeyPatch) -> Callable[[dt.datetime], None]:
    def set_to(moment: dt.datetime) -> None:
        monkeypatch.setattr(team, "current_time", lambda: moment)

    return set_to


async def _customer(client: TestClient) -> Customer:
    body = await (await client.post("/api/conversations")).json()
    return Customer(client, body["id"], body["token"])


async def _handoff(client: TestClient, text: str = "can I talk to a real person") -> tuple[
    Customer, list[tuple[str, str]], dict[str, Any]
]:
    """A customer hands off with their widget open: what they were told, and its queue event."""
    customer = await _customer(client)
    widget = await customer.socket()
    body = await customer.say(text)
    assert body["status"] == "waiting"
    place = await next_event(widget, "queue")
    await widget.close()
    # The whole transcript, not just this answer: nothing else said it.
    told = [(m["sender"], m["text"]) for m in await customer.messages() if m["sender"] != "customer"]
    return customer, told, place


async def _agent_online(client: TestClient, headers: dict[str, str]) -> ClientWebSocketResponse:
    console = await client.ws_connect("/api/agent/ws", headers=headers)
    await next_event(console, "hello")
    return console


async def test_with_a_colleague_online_the_bots_own_handoff_message_is_said_once(
    make_client: MakeClient, clock: Callable[[dt.datetime], None]
) -> None:
    clock(WEDNESDAY_NIGHT)  # outside the hours: an agent online still answers
    client = await make_client(opening_hours=LONDON)
    login = await client.post("/api/agent/login",
                              json={"email": "maya@example.com",
                                    "password": "correct horse battery staple"})
    console = await _agent_online(
        client, {"Authorization": f"Bearer {(await login.json())['token']}"}
    )

    _, told, place = await _handoff(client)

    assert told == [("bot", "A colleague is on the way.")]
    assert {k: place[k] for k in ("team", "reopens_at", "reopens", "agents_online")} == {
        "team": "online", "reopens_at": None, "reopens": None, "agents_online": 1,
    }
    await console.close()


async def test_a_long_wait_with_a_colleague_online_is_said_instead_of_a_few_minutes(
    client: TestClient, agent_headers: dict[str, str]
) -> None:
    # Recent handoffs waited 20 minutes: above BATON_LONG_WAIT_SECONDS (600).
    await past_handoffs(client, waited=dt.timedelta(minutes=20))
    console = await _agent_online(client, agent_headers)

    _, told, place = await _handoff(client)

    assert told == [("bot", "Of course! My colleagues from the Baton Travel team are all busy "
                            "right now, so the wait may be long. You can keep this window open, "
                            "or leave your email and a short message and we'll get back to you; "
                            "either way your place in the queue is kept, and they'll see "
                            "everything you've told me.")]
    assert (place["team"], place["estimated_wait_seconds"]) == ("online", 1200)
    await console.close()


async def test_nobody_online_within_the_hours_is_told_honestly_once(
    make_client: MakeClient, clock: Callable[[dt.datetime], None]
) -> None:
    clock(WEDNESDAY_NOON)
    client = await make_client(opening_hours=LONDON)

    _, told, place = await _handoff(client)

    assert told == [("bot", NOBODY_IN_HOURS)]
    assert (place["team"], place["reopens"], place["agents_online"]) == ("away", None, 0)


async def test_outside_the_hours_the_customer_is_told_when_the_team_is_back(
    make_client: MakeClient, clock: Callable[[dt.datetime], None]
) -> None:
    clock(WEDNESDAY_NIGHT)
    client = await make_client(opening_hours=LONDON)

    _, told, place = await _handoff(client)

    assert told == [("bot", CLOSED_TONIGHT)]
    assert {k: place[k] for k in ("team", "reopens_at", "reopens")} == {
        "team": "closed",
        "reopens_at": "2026-12-03T08:00:00+00:00",
        "reopens": "tomorrow at 08:00 (London time)",
    }


@pytest.mark.parametrize(
    ("text", "empathy"),
    [
        ("I am furious", "I'm sorry this has been so frustrating, and I don't want to keep "
                         "you going in circles."),
        ("my flight was cancelled", "I'm really sorry your travel plans have been disrupted. "
                                    "This needs a person who can look into your booking."),
    ],
)
async def test_the_reasons_empathy_stays_when_the_gateway_says_it(
    make_client: MakeClient, clock: Callable[[dt.datetime], None], text: str, empathy: str
) -> None:
    clock(SATURDAY_NIGHT)
    client = await make_client(opening_hours=LONDON)

    _, told, _ = await _handoff(client, text)

    assert told == [("bot", f"{empathy} Our team is offline right now. We're back on Monday at "
                            "08:00 (London time) and will e-mail you: leave your email and a "
                            "short message below, and a colleague will get back to you with "
                            "everything you've told me so far.")]


async def test_without_opening_hours_nobody_online_is_not_called_closed(
    client: TestClient, clock: Callable[[dt.datetime], None]
) -> None:
    clock(WEDNESDAY_NIGHT)

    _, told, place = await _handoff(client)

    assert told == [("bot", "Of course! None of my colleagues is online to chat just now. "
                            "Your place in the queue is kept, and the first colleague to come "
                            "online will reply here, with everything you've told me. If you'd "
                            "rather not wait, leave your email and a short message and we'll "
                            "get back to you.")]
    assert place["team"] == "away"


async def test_the_bot_unavailable_outside_the_hours_is_one_system_message(
    make_client: MakeClient, rasa: FakeRasa, clock: Callable[[dt.datetime], None]
) -> None:
    clock(WEDNESDAY_NIGHT)
    client = await make_client(opening_hours=LONDON)
    rasa.broken = True

    _, told, _ = await _handoff(client, "my flight")

    assert told == [("system", "I'm sorry, our assistant is having trouble right now, so I've "
                               "passed your message straight to our support team. "
                               + CLOSED_TONIGHT.removeprefix("Of course! "))]


async def test_the_bot_unavailable_with_a_colleague_online_says_so_once(
    client: TestClient, agent_headers: dict[str, str], rasa: FakeRasa
) -> None:
    console = await _agent_online(client, agent_headers)
    rasa.broken = True

    _, told, _ = await _handoff(client, "my flight")

    assert told == [("system", BOT_UNAVAILABLE_TEXT)]
    await console.close()


def test_the_queue_event_round_trips_through_json() -> None:
    place = team.team_now(LONDON, 0, WEDNESDAY_NIGHT)
    assert json.loads(json.dumps(place.as_fields())) == {
        "team": "closed", "reopens_at": "2026-12-03T08:00:00+00:00",
        "reopens": "tomorrow at 08:00 (London time)",
    }


@pytest.mark.parametrize(
    ("moment", "state", "words"),
    [
        (dt.datetime(2026, 12, 2, 7, 59, tzinfo=dt.UTC), "closed", "at 08:00 (London time)"),
        (dt.datetime(2026, 12, 2, 8, 0, tzinfo=dt.UTC), "away", None),
        (dt.datetime(2026, 12, 2, 20, 0, tzinfo=dt.UTC), "closed", "tomorrow at 08:00 (London time)"),
        (dt.datetime(2026, 12, 4, 21, 0, tzinfo=dt.UTC), "closed", "tomorrow at 09:00 (London time)"),
        (SATURDAY_NIGHT, "closed", "on Monday at 08:00 (London time)"),
        # Summer time: 08:00 in London is 07:00 UTC.
        (dt.datetime(2026, 7, 1, 7, 30, tzinfo=dt.UTC), "away", None),
        (dt.datetime(2026, 7, 1, 6, 30, tzinfo=dt.UTC), "closed", "at 08:00 (London time)"),
    ],
)
def test_opening_hours_in_the_teams_time_zone(
    moment: dt.datetime, state: str, words: str | None
) -> None:
    now = team.team_now(LONDON, 0, moment)
    assert (now.state, now.reopens) == (state, words)


@pytest.mark.parametrize(
    ("env", "error"),
    [
        ({"BATON_OPENING_HOURS": "weekdays 9-5"},
         "BATON_OPENING_HOURS: 'weekdays 9-5' should look like 'Mon-Fri 08:00-20:00'"),
        ({"BATON_OPENING_HOURS": "Mon-Fri 20:00-08:00"},
         "BATON_OPENING_HOURS: 'Mon-Fri 20:00-08:00' ends before it starts"),
        ({"BATON_OPENING_HOURS": "Mon-Fri 08:00-25:00"},
         "BATON_OPENING_HOURS: '25:00' is not a time of day (in 'Mon-Fri 08:00-25:00')"),
        ({"BATON_OPENING_HOURS": "Mon-Fry 08:00-20:00"},
         "BATON_OPENING_HOURS: 'Fry' is not a day (Mon, Tue ... Sun) in 'Mon-Fry 08:00-20:00'"),
        ({"BATON_TIMEZONE": "Europe/Londn"},
         "BATON_TIMEZONE must be a time zone name such as Europe/Berlin or UTC, got 'Europe/Londn'"),
    ],
)
def test_wrong_opening_hours_stop_the_gateway_with_a_clear_message(
    env: dict[str, str], error: str
) -> None:
    with pytest.raises(ValueError) as raised:
        Settings.from_env(env)
    assert str(raised.value) == error


def test_opening_hours_are_read_from_the_environment() -> None:
    settings = Settings.from_env({"BATON_OPENING_HOURS": HOURS, "BATON_TIMEZONE": "Europe/London"})
    assert settings.opening_hours == LONDON
    assert Settings.from_env({}).opening_hours is None
