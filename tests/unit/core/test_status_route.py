"""The per-crew status-route memory in the store's meta, shared by the CLI and the engine."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from crewdash.aop.models import StatusRoute
from crewdash.core.runs.status_route import load_status_route, save_status_route
from crewdash.core.store.database import RunStore


@pytest.fixture
def store(tmp_path: Path) -> Iterator[RunStore]:
    s = RunStore.open(tmp_path / "runs.sqlite3")
    yield s
    s.close()


def test_nothing_stored_or_an_unknown_value_is_ignored(store: RunStore) -> None:
    assert load_status_route(store, "research") is None
    store.set_meta("status_route:research", "sideways")  # e.g. written by another version
    assert load_status_route(store, "research") is None


def test_a_learnt_route_is_saved_per_crew_and_read_back(store: RunStore) -> None:
    save_status_route(store, "research", StatusRoute.LEGACY)
    save_status_route(store, "writer", StatusRoute.CURRENT)
    assert load_status_route(store, "research") is StatusRoute.LEGACY
    assert load_status_route(store, "writer") is StatusRoute.CURRENT
    # The key older crewdash versions wrote and read: the memory survives an upgrade.
    assert store.get_meta("status_route:research") == "id_first"
    save_status_route(store, "research", None)  # nothing learnt: the memory stays
    assert load_status_route(store, "research") is StatusRoute.LEGACY
