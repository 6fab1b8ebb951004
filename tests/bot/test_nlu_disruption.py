"""The disruption detector: what counts as a disrupted trip, and its type."""

from __future__ import annotations

from typing import Optional

import pytest
from rasa.engine.graph import ExecutionContext
from rasa.engine.storage.local_model_storage import LocalModelStorage
from rasa.engine.storage.resource import Resource
from rasa.shared.nlu.training_data.message import Message
from rasa.shared.nlu.training_data.training_data import TrainingData

from bot.assessment import assess
from bot.conversation import user_turn
from bot.nlu.disruption.component import DisruptionDetector, load_examples
from bot.nlu.disruption.rules import choose_type, handled_reason, only_hypothetical, rule_matches
from bot.nlu.lexicon.disruption import TYPES


@pytest.mark.parametrize(
    "text, expected",
    [
        ("my flight got cancelled", "cancelled"),
        ("they canceled our flight to Denver", "cancelled"),
        ("flight UA 123 is delayed 3 hours", "delayed"),
        ("we've been sitting on the tarmac for an hour", "delayed"),
        ("I missed my connection in Frankfurt", "missed_connection"),
        ("delayed so I'll probably miss my connection", "delayed"),
        ("my flight was cancelled and I missed my connection", "cancelled"),
        ("you lost my luggage", "lost_luggage"),
        ("my bag didn't arrive", "lost_luggage"),
        ("my suitcase arrived broken", "damaged_luggage"),
        ("the wheel of my bag was ripped off", "damaged_luggage"),
        ("I was downgraded to economy", "downgraded"),
        ("there was a schedule change on my booking", "schedule_change"),
        ("you changed my flight time", "schedule_change"),
        ("how do I cancel my booking", None),
        ("I want to cancel my reservation", None),
        ("what happens if my flight is delayed", None),
        ("what is your cancellation policy", None),
        ("what if my bag gets lost", None),
        ("how much is a checked bag", None),
        ("thanks for the great flight", None),
        # indirect reports of the customer's own situation
        ("you cancel my flight and don't even send an email?", "cancelled"),
        ("no flights out until tomorrow afternoon", "cancelled"),
        ("my flight cncld, need a seat tonight", "cancelled"),
        ("stranded in Chicago overnight", "delayed"),
        ("stuck in Denver since this morning", "delayed"),
        ("still at the airport, 9 hours at ORD now", "delayed"),
        ("been sitting here for over two hours", "delayed"),
        ("the plane is not ready and we were meant to board at 6", "delayed"),
        ("flight 88 not leaving until 11pm now", "delayed"),
        ("was delayed 3 hours and nobody told us", "delayed"),
        ("is my flight still delayed? it's been 4 hours", "delayed"),
        ("is there a hotel voucher for my cancelled flight?", "cancelled"),
        ("my suitcase is in Miami and I'm in Boston", "lost_luggage"),
        ("I landed without my bag", "lost_luggage"),
        ("you misplaced my bag", "lost_luggage"),
        ("what's the status of my checked bag", "lost_luggage"),
        ("my bag missed the connection", "lost_luggage"),
        ("my flight was rescheduled to the next day", "schedule_change"),
        ("why was my flight moved to tuesday", "schedule_change"),
        # waits that only a late flight explains, and bags that did not come with the customer
        ("we slept at the airport because the next flight is tomorrow", "delayed"),
        ("our flight came in late and we missed dinner", "delayed"),
        ("finally boarding after four hours", "delayed"),
        ("the plane is still sitting at the gate", "delayed"),
        ("didn't get home until 3am", "delayed"),
        ("arrived much later than scheduled", "delayed"),
        ("spent an extra night in Denver", "delayed"),
        ("we'll be sitting here for another 30 minutes", "delayed"),
        ("I'm going to be late to Chicago", "delayed"),
        ("got my bags three days later", "lost_luggage"),
        ("my suitcase should have been here yesterday", "lost_luggage"),
        ("where was our luggage all this time", "lost_luggage"),
        ("my bag is on the next flight apparently", "lost_luggage"),
        ("how do i rebook my flight that was cancelled last night", "cancelled"),
        ("if I'm about to board, I deserve to know why the flight is delayed", "delayed"),
        ("you made us miss our flight", "missed_connection"),
        ("you failed to get me home for the weekend", "delayed"),
        ("this has made me miss two days of work", "delayed"),
        ("an hour at the gate and we haven't gotten off the plane", "delayed"),
        ("I still don't have my laptop charger or work clothes", "lost_luggage"),
        ("you put me on a flight leaving later than the original one", "delayed"),
        # what-if, how-to and status questions, and what is not the customer's flight
        ("is flight 220 delayed?", None),
        ("is my flight to Denver cancelled", None),
        ("will flights be cancelled tomorrow because of the snow?", None),
        ("are there any delays at JFK today", None),
        ("do you expect cancellations this weekend?", None),
        ("what's the cancelation fee", None),
        ("when is my flight supposed to land", None),
        ("what compensation do I get for a delay", None),
        ("I cancelled my hotel, can you help me find another", None),
        ("we cancelled our trip because my son got sick", None),
        ("despite the delay the crew was lovely", None),
        ("never been delayed with you before", None),
        ("no delays today, great job", None),
        ("I left my bag at home, can I still check in", None),
        ("my bag is in the overhead bin", None),
        ("what should I do if my bag is lost", None),
        ("how do I report a delayed bag", None),
        ("I've been on hold for two hours", None),
        # delays in general, their risk, hearsay, and "cancels" of anything but the flight
        ("what is your plan to reduce delays", None),
        ("any chance of cancellations tomorrow?", None),
        ("I heard a rumour that flight 12 was cancelled", None),
        ("is there a delay on flight 88?", None),
        ("the airline cancels flights whenever it snows", None),
        ("the hold on my booking cancels at noon", None),
        # waits on the phone are not a late flight
        ("I sat on the phone for ninety minutes with your agents", None),
        ("waited 15 minutes on hold", None),
        ("I didn't get a call back until 11pm", None),
        # worries, habits and closed matters
        ("will I get stuck in Denver?", None),
        ("you never tell customers when their flights are delayed", None),
        ("I'd like a text when a flight is delayed", None),
        ("I have a voucher from a previous trip that was delayed", None),
        ("the delay with my refund is annoying", None),
        # issue #20's new types, and their look-alikes
        ("I was denied boarding on BT 212", "denied_boarding"),
        ("you bumped me off my flight to Oslo", "denied_boarding"),
        ("the flight was oversold and I couldn't board", "denied_boarding"),
        ("I was denied boarding and then the flight got cancelled anyway", "cancelled"),
        ("what is your overbooking policy", None),
        ("what happens if I get bumped from my flight", None),
        ("the hotel has no record of our booking", "hotel_problem"),
        ("the hotel can't find my reservation", "hotel_problem"),
        ("is the hotel fully booked in June", None),
        ("booked business class and they sat me in economy", "downgraded"),
        ("is business class much nicer than economy", None),
        # hours at the airport are a delay; being there for a flight is not
        ("we have been at the airport for 6 hours", "delayed"),
        ("stuck in the airport since 5am", "delayed"),
        ("how early should I be at the airport for an international flight", None),
    ],
)
def test_rules(text: str, expected: Optional[str]) -> None:
    assert choose_type(rule_matches(text)) == expected


@pytest.mark.parametrize(
    "text, expected",
    [
        ("what happens if my flight gets cancelled", True),
        ("is flight 12 delayed?", True),
        ("despite the delay the crew was lovely", True),
        ("my flight got cancelled", False),
        ("what time does my flight leave", False),
    ],
)
def test_only_hypothetical(text: str, expected: bool) -> None:
    assert only_hypothetical(text) is expected


@pytest.mark.parametrize(
    "text, reason",
    [
        (
            "thanks for rebooking me so fast after the cancellation",
            "thanked ('thanks') and dealt with ('rebooking'), nothing left open",
        ),
        (
            "my bag was lost but it was delivered to my hotel this morning, thank you",
            "thanked ('thank') and dealt with ('bag was lost but it was delivered'), nothing left open",
        ),
        (
            "shout out to the gate agent who got us on the last flight after ours was cancelled",
            "thanked ('shout out') and dealt with ('shout out'), nothing left open",
        ),
        (
            "the flight was delayed two hours but we made it home safe, thanks to the crew",
            "thanked ('thanks') and dealt with ('made it'), nothing left open",
        ),
        (
            "great job by your team during the storm delays yesterday",
            "thanked ('great job') and dealt with ('great job'), nothing left open",
        ),
        (
            "flight got cancelled but the refund came through without difficulty, no complaints, thank you",
            "thanked ('thank') and dealt with ('refund'), nothing left open",
        ),
        (
            "we left an hour late but the pilot made up the time, impressive",
            "thanked ('impressive') and dealt with ('made up the time'), nothing left open",
        ),
        # still open: a request, a question, "still", a new disruption after "but", sarcasm, anger
        ("thanks, but my flight is cancelled and I need a new one", None),
        ("thank you, my flight was delayed and I still haven't been rebooked", None),
        ("thanks for rebooking me, but where is my bag?", None),
        ("thanks for the 3 hour delay", None),
        ("appreciate the help, but now my connection is cancelled too", None),
        ("thanks for getting me home, but you lost my suitcase", None),
        ("my flight was cancelled, please help", None),
        ("great job losing my bag again", None),
        ("it would be great if you could get my family home, we have been stuck at the gate since 9am", None),
        ("thanks for rebooking me after the cancellation, absolutely ridiculous service", None),
        # thanks alone is not a resolution
        ("my flight is delayed, thanks", None),
    ],
)
def test_handled_reason(text: str, reason: Optional[str]) -> None:
    assert rule_matches(text)
    assert handled_reason(text) == reason


def test_examples_cover_every_type() -> None:
    assert set(load_examples()) == set(TYPES) | {"none"}


def test_every_type_reads_in_plain_words_for_the_agent() -> None:
    from actions.topics import DISRUPTION_PHRASES

    assert set(DISRUPTION_PHRASES) == set(TYPES)
    assert DISRUPTION_PHRASES["denied_boarding"] == "being denied boarding (an overbooked flight)"
    assert DISRUPTION_PHRASES["hotel_problem"] == "a hotel problem (no room available or no reservation found)"


@pytest.fixture(scope="module")
def trained(tmp_path_factory: pytest.TempPathFactory) -> DisruptionDetector:
    storage = LocalModelStorage(tmp_path_factory.mktemp("storage"))
    resource = Resource("disruption")
    context = ExecutionContext(graph_schema=None, node_name="disruption")  # type: ignore[arg-type]
    config = DisruptionDetector.get_default_config()
    DisruptionDetector.create(config, storage, resource, context).train(TrainingData())
    return DisruptionDetector.load(config, storage, resource, context)


@pytest.mark.parametrize(
    "text, kind, source",
    [
        ("my flight got cancelled", "cancelled", "rules"),
        ("how do I cancel my booking", None, None),
        ("the bags from our flight never came off the plane", "lost_luggage", "rules"),
        ("what's the weather in Miami", None, None),
        # the rules ruled these out: the embedding classifier must not bring them back
        ("what happens if my flight gets cancelled", None, None),
        ("is my flight to Denver cancelled", None, None),
        ("what should I do if my bag is lost", None, None),
        ("we cancelled our trip because my son got sick", None, None),
        ("the flight was on time", None, None),
        # issue #20's stories: a cabin paid for and a lower one given, a room given away
        ("I paid with miles for a first class seat and the ticket I printed says coach. Booking QX7P2L", "downgraded",
         "rules"),
        ("you gave my first class seat away and put me in coach", "downgraded", "rules"),
        ("The hotel gave away our room, we booked a suite and got a tiny twin room", "hotel_problem", "rules"),
        ("they would not let me board, the flight was overbooked", "denied_boarding", "rules"),
        ("how do I book a first class seat with miles", None, None),
        # the delay words fire, but the classifier is sure it is a missed connection
        ("the flight from boston was delayed and by the time we landed the connection to rome was gone",
         "missed_connection", "embedding"),
        # no rule fires at all: the classifier alone
        ("our first flight came in so late that the plane to vienna had already gone", "missed_connection",
         "embedding"),
    ],
)
def test_component_annotates_messages(trained: DisruptionDetector, text: str, kind: Optional[str], source: Optional[str]) -> None:
    message = Message(data={"text": text})
    trained.process([message])
    result = message.get("disruption")
    assert result["type"] == kind
    assert result["source"] == source
    assert "disruption" in message.as_dict(only_output_properties=True)


@pytest.mark.parametrize(
    "text, handled",
    [
        ("thanks for rebooking me so fast after the cancellation", "cancelled"),
        ("got my bag back this morning after it went missing, thanks for the quick delivery", "lost_luggage"),
    ],
)
def test_component_reports_a_handled_disruption_without_a_type(
    trained: DisruptionDetector, text: str, handled: str
) -> None:
    message = Message(data={"text": text})
    trained.process([message])
    result = message.get("disruption")
    assert (result["type"], result["source"]) == (None, None)
    assert result["handled"]["type"] == handled
    assert result["handled"]["reason"].startswith("thanked (")


@pytest.mark.parametrize(
    "text, reason, disruption",
    [
        ("thanks for rebooking me so fast after the cancellation", None, None),
        ("thanks, but my flight is cancelled and I need a new one", "disruption", "cancelled"),
        ("my flight got cancelled", "disruption", "cancelled"),
    ],
)
def test_the_policy_hands_off_open_disruptions_only(
    trained: DisruptionDetector, text: str, reason: Optional[str], disruption: Optional[str]
) -> None:
    message = Message(data={"text": text, "intent": {"name": "flight_status", "confidence": 0.9}})
    trained.process([message])
    event = {"event": "user", "text": text, "parse_data": message.as_dict(only_output_properties=True)}
    assessment = assess([user_turn(event)])
    assert (assessment.reason, assessment.disruption) == (reason, disruption)
