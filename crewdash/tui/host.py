"""What screens may read of the app that hosts them, as a protocol: screens never import the
App class, and ask it for things by posting messages (`crewdash.tui.messages`)."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol

if TYPE_CHECKING:
    from crewdash.tui.ui_state import UiState


class Host(Protocol):
    engine: Any  # the Engine facade, or the DeferredEngine standing for it before it starts
    ui_state: UiState
    now: Callable[[], float]
    engine_ready: bool
    read_only: bool  # no verb that changes anything exists (bindings.MUTATING_ACTIONS)
    dashboard_ready: asyncio.Event

    config_path: Path | None  # the config file the first-run screen writes, if any

    def exit(self, result: Any = None, return_code: int = 0, message: Any = None) -> None: ...
    def color_map(self) -> dict[str, str]: ...
    def last_inputs(self, crew: str) -> dict[str, Any]: ...
    def remember_inputs(self, crew: str, inputs: dict[str, Any]) -> None: ...
