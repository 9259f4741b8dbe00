"""Keeping a run's event stream: a step, task or crew webhook (or a streamed event) the
receiver accepted is parsed (crewdash.core.runs.run_events) and stored with its run."""

from __future__ import annotations

import logging
import sqlite3
from collections.abc import Mapping
from typing import Any, Protocol

from crewdash.core.models import RunRecord
from crewdash.core.runs.kickoff import META_KEY
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

    def find_by_request_id(self, request_id: str) -> RunRecord | None: ...

    def add_run_event(self, local_id: str, event: ParsedEvent) -> RunEvent: ...


def _by_meta(store: EventStore, crew: str, payload: Mapping[str, Any]) -> RunRecord | None:
    """The run whose kickoff carried the request id the delivery's `meta` echoes: a first
    step may arrive before the kickoff's answer (and its id) is stored."""
    meta = payload.get("meta")
    request_id = meta.get(META_KEY) if isinstance(meta, Mapping) else None
    if not isinstance(request_id, str) or not request_id:
        return None
    run = store.find_by_request_id(request_id)
    if run is None or run.crew != crew:
        return None
    kickoff_id = delivery_kickoff_id(payload)
    return run if run.kickoff_id in (None, kickoff_id) else None


def keep_delivery(store: EventStore, crew: str, payload: Mapping[str, Any]) -> RunEvent | None:
    """Store the delivery as an event of its run; None when it names no run of this crew
    crewdash knows (nothing to show it with) or the store refused it (logged, one line: the
    sender was answered already and polling still sees the run)."""
    kickoff_id = delivery_kickoff_id(payload)
    if kickoff_id is None:
        log.info("a %s delivery for crew %s names no run: not kept", payload.get("webhook"), crew)
        return None
    try:
        run = store.find_by_kickoff_id(crew, kickoff_id) or _by_meta(store, crew, payload)
        if run is None:
            log.info("a delivery for an unknown run of crew %s: not kept", crew)
            return None
        return store.add_run_event(run.local_id, parse_delivery(payload))
    except (StoreError, sqlite3.Error) as exc:
        log.warning("could not keep a webhook event of crew %s: %s", crew, exc)
        return None
