"""Deleting conversations' trackers, for the gateway's retention and erasure
(handoff/conversations/retention.py): Rasa 3.6's tracker stores have no delete of their own.

Rasa wraps the configured store (AwaitableTrackerStore, FailSafeTrackerStore with an
in-memory fallback); every store inside is cleared, so a copy kept by the fallback while
Redis was down goes too.
"""

from __future__ import annotations

from typing import List, Sequence, Text

from rasa.core.agent import Agent
from rasa.core.tracker_store import InMemoryTrackerStore, RedisTrackerStore, TrackerStore

# At most this many conversations a call, so one call holds no lock long.
MAX_SENDERS = 1000


class CannotForget(RuntimeError):
    """The configured tracker store is of a kind this module cannot delete from."""


def stores_of(store: TrackerStore) -> List[TrackerStore]:
    """The stores that actually hold trackers, inside Rasa's wrappers."""
    found: List[TrackerStore] = []
    inner = getattr(store, "_tracker_store", None)
    if isinstance(inner, TrackerStore):
        found += stores_of(inner)
        fallback = getattr(store, "_fallback_tracker_store", None)
        if isinstance(fallback, TrackerStore):
            found += stores_of(fallback)
        return found
    return [store]


def _delete(store: TrackerStore, senders: Sequence[Text]) -> None:
    if isinstance(store, InMemoryTrackerStore):
        for sender in senders:
            store.store.pop(sender, None)
    else:  # a RedisTrackerStore: forget() let no other kind through
        store.red.delete(*(store.key_prefix + sender for sender in senders))


async def forget(agent: Agent, senders: Sequence[Text]) -> None:
    """Deletes each sender's tracker, under its lock, so no turn in flight saves it again."""
    stores = stores_of(agent.tracker_store)
    for store in stores:
        if not isinstance(store, (InMemoryTrackerStore, RedisTrackerStore)):
            raise CannotForget(f"cannot delete trackers from a {type(store).__name__}")
    for sender in senders:
        async with agent.lock_store.lock(sender):
            for store in stores:
                _delete(store, [sender])
