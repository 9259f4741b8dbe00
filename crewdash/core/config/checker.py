"""`Checker`: the typed reads every config table shares (text, true/false, seconds, URLs,
variable names, sub-tables, known keys), each failing with a located `ConfigError`."""

from __future__ import annotations

import difflib
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from crewdash.core.config.errors import ConfigError
from crewdash.core.config.values import (
    ENV_NAME_RE,
    locate,
    type_name,
    url_problem,
    url_warning,
)


@dataclass
class Checker:
    """One document's checks; `warnings` collects what is allowed but worth saying."""

    file: Path | None
    text: str
    warnings: list[str] = field(default_factory=list)

    def error(self, problem: str, table: str | None = None, key: str | None = None) -> ConfigError:
        return ConfigError(
            problem, file=self.file, table=table, key=key, line=locate(self.text, table, key)
        )

    def warn(self, problem: str, table: str | None = None, key: str | None = None) -> None:
        self.warnings.append(self.error(problem, table, key).message)

    def known_keys(self, raw: Mapping[str, Any], valid: tuple[str, ...], table: str | None) -> None:
        for key in raw:
            if key in valid:
                continue
            close = difflib.get_close_matches(key, valid, n=1, cutoff=0.6)
            hint = f' Did you mean "{close[0]}"?' if close else ""
            raise self.error(f"unknown key.{hint} Valid keys here: {', '.join(valid)}.", table, key)

    def table(self, raw: Mapping[str, Any], key: str, parent: str | None) -> dict[str, Any]:
        value = raw.get(key, {})
        if not isinstance(value, dict):
            name = f"{parent}.{key}" if parent else key
            raise self.error(
                f"expected a table ([{name}] ...), found {type_name(value)}.", parent, key
            )
        return value

    def string(self, raw: Mapping[str, Any], key: str, table: str, *, empty_ok: bool = True) -> str:
        value = raw[key]
        if not isinstance(value, str):
            raise self.error(f"expected text in quotes, found {type_name(value)}.", table, key)
        if not empty_ok and not value.strip():
            raise self.error("must not be empty.", table, key)
        return value

    def boolean(self, raw: Mapping[str, Any], key: str, table: str) -> bool:
        value = raw[key]
        if not isinstance(value, bool):
            raise self.error(
                f"expected true or false (no quotes), found {type_name(value)}.", table, key
            )
        return value

    def seconds(self, raw: Mapping[str, Any], key: str, table: str) -> float:
        value = raw[key]
        if isinstance(value, bool) or not isinstance(value, int | float):
            raise self.error(
                f"expected a number of seconds (e.g. 5 or 2.5), found {type_name(value)}.",
                table,
                key,
            )
        if not value > 0:
            raise self.error("must be more than 0 seconds.", table, key)
        return float(value)

    def url(self, raw: Mapping[str, Any], key: str, table: str) -> str:
        value = self.string(raw, key, table, empty_ok=False)
        problem = url_problem(value)
        if problem:
            raise self.error(problem, table, key)
        warning = url_warning(value)
        if warning:
            self.warn(warning, table, key)
        return value

    def env_name(self, raw: Mapping[str, Any], key: str, table: str) -> str:
        value = self.string(raw, key, table, empty_ok=False).strip()
        if not ENV_NAME_RE.match(value):
            # Not echoed: a token pasted here by mistake is the likely cause.
            raise self.error(
                "this is not an environment variable name (letters, digits and _ only). "
                "Did you paste the token itself? Put the variable's name here, e.g. "
                'token_env = "RESEARCH_CREW_TOKEN".',
                table,
                key,
            )
        return value
