"""The disruption rules as pure functions over the lexicon: which types fire, which one to
report, and whether the customer says it was dealt with."""

from __future__ import annotations

from typing import List, Optional, Tuple

from bot.nlu.lexicon.common import lexicon_polarity, sarcastic
from bot.nlu.lexicon.disruption import (
    BUT,
    CLAUSES,
    GRATITUDE,
    HYPOTHETICAL,
    NOT_A_COMPLAINT,
    RESOLVED,
    RULES,
    STATUS_QUESTION,
    STILL_OPEN,
)

# VADER's compound polarity at or below which thanks are not taken at their word
HANDLED_MIN_POLARITY = -0.5


def _drop_status_questions(text: str) -> str:
    """The text with each clause that is only a status question blanked out."""
    return "".join(
        " " if STATUS_QUESTION.match(clause.strip()) else clause for clause in CLAUSES.findall(text)
    )


def strip_hypothetical(text: str) -> str:
    """The text without the clauses that report no disruption of the customer's own."""
    return HYPOTHETICAL.sub(" ", _drop_status_questions(text.replace("’", "'")))


def rule_matches(text: str, factual_only: bool = True) -> List[Tuple[str, str]]:
    """(type, matched text) for every rule that fires, in the order of RULES; with
    ``factual_only`` False, also in what-if, how-to and other cut-out clauses."""
    factual = strip_hypothetical(text) if factual_only else text.replace("’", "'")
    found = []
    for kind, pattern in RULES:
        match = pattern.search(factual)
        if match:
            found.append((kind, match.group(0).strip()))
    return found


def only_hypothetical(text: str) -> bool:
    """The message names a disruption, but only in a clause that reports none ("what if my
    flight is cancelled", "is flight 12 delayed?", "despite the delay ..."): the rules have
    ruled it out, and the embedding classifier must not bring it back."""
    return not rule_matches(text) and bool(rule_matches(text, factual_only=False))


def choose_type(matches: List[Tuple[str, str]]) -> Optional[str]:
    """One type from the rules that fired.

    Luggage, downgrade and hotel trouble are named by their own words; otherwise the flight's
    own fate wins over its consequences (a cancellation over being denied boarding): a cancellation over a delay, a delay over a connection that "might" be
    missed, while a connection actually missed (and no cancellation) is the missed connection.
    """
    kinds = [kind for kind, _ in matches]
    if not kinds:
        return None
    for kind in ("damaged_luggage", "lost_luggage", "downgraded", "hotel_problem"):
        if kind in kinds:
            return kind
    if "cancelled" in kinds:
        return "cancelled"
    if "denied_boarding" in kinds:
        return "denied_boarding"
    if "missed_connection" in kinds:
        evidence = dict(matches)["missed_connection"].lower()
        if "delayed" not in kinds or evidence.startswith("missed") or "misconnect" in evidence:
            return "missed_connection"
        return "delayed"
    if "delayed" in kinds:
        return "delayed"
    return kinds[0]


def handled_reason(text: str) -> Optional[str]:
    """Why the disruption that ``text`` reports needs no person now, or None if it does: the
    customer thanks or praises, says it was dealt with, and leaves nothing open."""
    normalised = text.replace("’", "'")
    thanks, resolved = GRATITUDE.search(normalised), RESOLVED.search(normalised)
    if not (thanks and resolved) or STILL_OPEN.search(NOT_A_COMPLAINT.sub(" ", normalised)):
        return None
    # "thanks for the 3 hour delay": the praise words mean the opposite. VADER counts the
    # disruption's own words (cancelled, stuck, lost) as negative, so a handled one thanked for
    # can sit a little below zero; only a clearly negative message is ruled out here.
    if sarcastic(normalised) or lexicon_polarity(normalised) <= HANDLED_MIN_POLARITY:
        return None
    after_but = BUT.split(normalised)[-1]
    if after_but != normalised and rule_matches(after_but):
        return None
    return f"thanked ({thanks.group(0).strip()!r}) and dealt with ({resolved.group(0).strip()!r}), nothing left open"
