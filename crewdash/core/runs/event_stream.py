"""Keeping a run's event stream: a step, task or crew webhook (or a streamed event) the
receiver accepted is parsed (crewdash.core.runs.run_events) and stored with its run."""

from __future__ import annotations

import logging
import sqlite3
from collections.abc import Mapping
from typing import Any, Protocol

from crewdash.core.models import RunRecord
from crewdash.core.runs.run_events import (
    ParsedEvent,
    RunEvent,
    delivery_kickoff_id,
    parse_delivery,
)
from crewdash.core.store.errors import StoreError

log = logging.getLogger(__name__)


class EventStore(Protocol):
    def find_by_kickoff_id(self, crew: str, kickoff_id: str) -> RunRecord | None: ...

    def add_run_event(self, local_id: str, event: ParsedEvent) -> RunEvent: ...


def keep_delivery(store: EventStore, crew: str, payload: Mapping[str, Any]) -> RunEvent | None:
    """Store the delivery as an event of its run; None when it names no run of this crew
    crewdash knows (nothing to show it with) or the store refused it (logged, one line: the
    sender was answered already and polling still sees the run)."""
    kickoff_id = delivery_kickoff_id(payload)
    if kickoff_id is None:
        log.info("a %s delivery for crew %s names no run: not kept", payload.get("webhook"), crew)
        return None
    try:
        run = store.find_by_kickoff_id(crew, kickoff_id)
        if run is None:
            log.info("a delivery for an unknown run of crew %s: not kept", crew)
            return None
        return store.add_run_event(run.local_id, parse_delivery(payload))
    except (StoreError, sqlite3.Error) as exc:
        log.warning("could not keep a webhook event of crew %s: %s", crew, exc)
        return None
