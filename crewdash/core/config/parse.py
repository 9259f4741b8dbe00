"""Validating the raw TOML dict into `Config` values, with errors an operator can act on.

Pure: no I/O except reading environment variables named by the receiver's `*_env` keys.
The tables are checked in `crews` and `settings` (ui, receiver), with the shared reads of
`checker` and the value checks of `values`; their public names stay importable from here.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

from crewdash.core.config.checker import Checker
from crewdash.core.config.crews import CREW_KEYS, SECONDS_KEYS, TOKEN_KEYS, parse_crew
from crewdash.core.config.model import Config, CrewConfig
from crewdash.core.config.settings import RECEIVER_KEYS, UI_KEYS, parse_receiver, parse_ui
from crewdash.core.config.values import (
    CREW_NAME_RE,
    ENV_NAME_RE,
    crew_name_problem,
    is_loopback,
    locate,
    type_name,
    url_problem,
    url_warning,
)

__all__ = [
    "CREW_KEYS",
    "CREW_NAME_RE",
    "ENV_NAME_RE",
    "RECEIVER_KEYS",
    "SECONDS_KEYS",
    "TOKEN_KEYS",
    "TOP_KEYS",
    "UI_KEYS",
    "crew_name_problem",
    "is_loopback",
    "locate",
    "parse_config",
    "type_name",
    "url_problem",
    "url_warning",
]

TOP_KEYS = ("crews", "ui", "receiver")


def parse_config(raw: Mapping[str, Any], *, file: Path | None, text: str = "") -> Config:
    """The `Config` of an already-decoded TOML document. ConfigError on the first problem."""
    check = Checker(file=file, text=text)
    check.known_keys(raw, TOP_KEYS, None)
    crews_raw = check.table(raw, "crews", None)
    crews: dict[str, CrewConfig] = {}
    for name in crews_raw:
        crews[name] = parse_crew(check, name, check.table(crews_raw, name, "crews"))
    return Config(
        path=file,
        crews=crews,
        ui=parse_ui(check, check.table(raw, "ui", None)),
        receiver=parse_receiver(check, check.table(raw, "receiver", None)),
        warnings=tuple(check.warnings),
    )
