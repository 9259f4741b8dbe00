"""The fixture every engine unit test shares: a fresh run store, closed afterwards."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from crewdash.core.store.database import RunStore
from engine.fakes import open_store


@pytest.fixture
def store(tmp_path: Path) -> Iterator[RunStore]:
    s = open_store(tmp_path)
    yield s
    s.close()
