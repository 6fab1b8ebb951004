"""The Struct bases every shape derives from."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Literal

import msgspec


class Shape(msgspec.Struct, kw_only=True, forbid_unknown_fields=True):
    """A strict shape: a field it does not declare is an error when parsed."""


class OpenShape(msgspec.Struct, kw_only=True):
    """A shape whose producer (Rasa, the bot's NLU) may add fields we pass along."""


# ISO-8601 with offset on the wire, parsed back into a datetime. Built with the text
# datetime.isoformat() writes (serializers.iso): msgspec would write +00:00 as Z.
Moment = datetime
Seq = Annotated[int, msgspec.Meta(ge=1)]
Status = Literal["bot", "waiting", "agent"]
HistoryState = Literal["bot", "waiting", "agent", "resolved"]
Sender = Literal["customer", "bot", "agent", "system"]
HandoffReason = Literal["requested", "frustration", "disruption", "bot_failure", "bot_unavailable"]
ClientMessageId = Annotated[str, msgspec.Meta(min_length=1, max_length=64)]
