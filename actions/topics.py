"""How intents and disruption types read in a sentence written for an agent."""

from __future__ import annotations

from typing import Dict, Iterable, List

TOPIC_PHRASES: Dict[str, str] = {
    "check_in": "online check-in",
    "baggage_allowance": "baggage allowance and fees",
    "change_booking": "changing a booking",
    "cancel_booking": "cancelling a booking",
    "refund": "a refund",
    "seat_selection": "seat selection",
    "special_assistance": "special assistance",
    "payment_methods": "ways to pay",
    "get_invoice": "an invoice",
    "travel_with_pet": "travelling with a pet",
    "book_flight": "booking a flight",
    "book_hotel": "booking a hotel",
    "car_rental": "renting a car",
    "carry_on": "cabin baggage",
    "exchange_rate": "exchange rates",
    "flight_status": "a flight's status",
    "international_visa": "visas",
    "lost_luggage": "lost luggage",
    "plug_type": "plug types",
    "timezone": "time zones",
    "translate": "translation",
    "travel_alert": "travel warnings",
    "travel_notification": "travel notices for their bank",
    "travel_suggestion": "travel ideas",
    "vaccines": "vaccinations",
}

DISRUPTION_PHRASES: Dict[str, str] = {
    "cancelled": "a cancelled flight",
    "delayed": "a delayed flight",
    "missed_connection": "a missed connection",
    "lost_luggage": "lost luggage",
    "damaged_luggage": "damaged luggage",
    "downgraded": "a downgrade (a worse cabin, seat or room than booked)",
    "schedule_change": "a schedule change",
    "denied_boarding": "being denied boarding (an overbooked flight)",
    "hotel_problem": "a hotel problem (no room available or no reservation found)",
}


def topics_asked(intents: Iterable[str]) -> List[str]:
    """The topic phrases of the given intents, once each, in order; others are skipped."""
    phrases: List[str] = []
    for intent in intents:
        phrase = TOPIC_PHRASES.get(intent)
        if phrase and phrase not in phrases:
            phrases.append(phrase)
    return phrases


def join_words(words: List[str]) -> str:
    """'a', 'a and b', 'a, b and c'."""
    if len(words) <= 1:
        return "".join(words)
    return ", ".join(words[:-1]) + " and " + words[-1]
