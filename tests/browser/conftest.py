"""Fixtures of the browser tests (see harness.py): one `crewdash sim` for the module, and
Chromium."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from typing import Any

import pytest

from tests.browser.harness import chromium
from tests.journeys.harness import SimProcess


@pytest.fixture(scope="module")
def sim() -> Iterator[SimProcess]:
    process = SimProcess()
    try:
        yield process
    finally:
        process.close()


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    with chromium() as launched:
        yield launched


@pytest.fixture
def marker() -> str:
    return "b" + uuid.uuid4().hex[:7]
