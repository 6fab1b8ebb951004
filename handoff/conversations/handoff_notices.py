"""What a customer is told when their conversation goes to the human queue: said once,
and true of who is online, the opening hours and the expected wait.

While a colleague is online and the wait is short, the bot's own handoff message
(bot/domain/handoff.yml, "I'm bringing in one of my colleagues ... now") is true and
stays. Otherwise the gateway says it instead, keeping the reason's empathy.
"""

from __future__ import annotations

from handoff.routing.team import TEAM_CLOSED, TEAM_ONLINE, Team

BOT_UNAVAILABLE_TEXT = (
    "I'm sorry, our assistant is having trouble right now, so I've passed your message "
    "straight to our support team. A colleague will reply here as soon as they can, and "
    "you won't need to repeat anything."
)

# The first words of the bot's handoff messages, for the reasons it hands off with.
EMPATHY = {
    "requested": "Of course!",
    "disruption": "I'm really sorry your travel plans have been disrupted. This needs a "
    "person who can look into your booking.",
    "frustration": "I'm sorry this has been so frustrating, and I don't want to keep you "
    "going in circles.",
    "bot_failure": "I'm sorry, I'm not understanding you and I don't want to waste your time.",
    "bot_unavailable": "I'm sorry, our assistant is having trouble right now, so I've "
    "passed your message straight to our support team.",
}

LONG_WAIT = (
    "My colleagues from the Baton Travel team are all busy right now, so the wait may be "
    "long. You can keep this window open, or leave your email and a short message and "
    "we'll get back to you; either way your place in the queue is kept, and they'll see "
    "everything you've told me."
)
NOBODY_ONLINE = (
    "None of my colleagues is online to chat just now{until}. Your place in the queue is "
    "kept, and the first colleague to come online will reply here, with everything you've "
    "told me. If you'd rather not wait, leave your email and a short message and we'll get "
    "back to you."
)
CLOSED = (
    "Our team is offline right now. We're back {reopens} and will e-mail you: leave your "
    "email and a short message below, and a colleague will get back to you with "
    "everything you've told me so far."
)


def team_text(team: Team, long_wait: bool) -> str | None:
    """What the customer must know about the wait; None: nothing beyond "on the way"."""
    if team.state == TEAM_ONLINE:
        return LONG_WAIT if long_wait else None
    if team.state == TEAM_CLOSED:
        return CLOSED.format(reopens=team.reopens)
    until = f", though our team is working until {team.closes.removeprefix('at ')}" if team.closes else ""
    return NOBODY_ONLINE.format(until=until)


def handoff_notice(reason: str, team: Team, long_wait: bool) -> str | None:
    """The one message that says the conversation went to the team; None keeps the bot's."""
    if reason == "bot_unavailable" and team.state == TEAM_ONLINE and not long_wait:
        return BOT_UNAVAILABLE_TEXT
    wait = team_text(team, long_wait)
    if wait is None:
        return None
    empathy = EMPATHY.get(reason)
    return f"{empathy} {wait}" if empathy else wait
