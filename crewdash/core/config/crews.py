"""The `[crews.<name>]` tables: URL, one token source, kind, timings, input presets and
notification rules (`[crews.<name>.notify]`, crewdash.core.config.notify)."""

from __future__ import annotations

import shlex
from collections.abc import Mapping
from typing import Any

from crewdash.aop.models import Secret
from crewdash.core.config.checker import Checker
from crewdash.core.config.model import CrewConfig, CrewKind, TokenSource
from crewdash.core.config.notify import parse_notify
from crewdash.core.config.values import crew_name_problem, type_name

CREW_KEYS = (
    "url",
    "token_env",
    "token_command",
    "token",
    "kind",
    "label",
    "poll_min",
    "poll_max",
    "connect_timeout",
    "read_timeout",
    "presets",
    "notify",
)
TOKEN_KEYS = ("token_env", "token_command", "token")
SECONDS_KEYS = ("poll_min", "poll_max", "connect_timeout", "read_timeout")


def parse_crew(check: Checker, name: str, raw: Mapping[str, Any]) -> CrewConfig:
    table = f"crews.{name}"
    problem = crew_name_problem(name)
    if problem:
        raise check.error(problem, table)
    check.known_keys(raw, CREW_KEYS, table)
    if "url" not in raw:
        raise check.error(
            'the crew has no url; add url = "https://<your-deployment>.crewai.com".', table
        )
    url = check.url(raw, "url", table)
    token = parse_token_source(check, raw, table)
    kind = CrewKind.CREW
    if "kind" in raw:
        text = check.string(raw, "kind", table)
        if text not in ("crew", "flow"):
            raise check.error('must be "crew" or "flow".', table, "kind")
        kind = CrewKind(text)
    values: dict[str, Any] = {
        key: check.seconds(raw, key, table) for key in SECONDS_KEYS if key in raw
    }
    crew = CrewConfig(
        name=name,
        url=url,
        token=token,
        kind=kind,
        label=check.string(raw, "label", table) if "label" in raw else "",
        presets=parse_presets(check, raw, table),
        notify=parse_notify(check, check.table(raw, "notify", table), f"{table}.notify"),
        source_file=check.file,
        **values,
    )
    if crew.poll_min > crew.poll_max:
        raise check.error(
            f"poll_min ({crew.poll_min:g} s) is larger than poll_max ({crew.poll_max:g} s).",
            table,
            "poll_min",
        )
    return crew


def parse_token_source(check: Checker, raw: Mapping[str, Any], table: str) -> TokenSource:
    present = [key for key in TOKEN_KEYS if key in raw]
    if not present:
        raise check.error(
            'missing token source: add one of token_env = "VARIABLE" (recommended), '
            'token_command = "pass show aop/NAME" or token = "..." (the file is then '
            "kept private, mode 0600).",
            table,
        )
    if len(present) > 1:
        raise check.error(
            f"two token sources ({' and '.join(present)}): keep exactly one.",
            table,
            present[1],
        )
    key = present[0]
    if key == "token_env":
        return TokenSource(env=check.env_name(raw, key, table))
    if key == "token_command":
        command = check.string(raw, key, table, empty_ok=False)
        try:
            shlex.split(command)
        except ValueError as exc:
            raise check.error(
                f"the command cannot be split into words ({exc}); check its quotes.",
                table,
                key,
            ) from None
        return TokenSource(command=command)
    return TokenSource(inline=Secret(check.string(raw, key, table, empty_ok=False)))


def parse_presets(check: Checker, raw: Mapping[str, Any], table: str) -> dict[str, dict[str, Any]]:
    presets_raw = check.table(raw, "presets", table)
    result: dict[str, dict[str, Any]] = {}
    for preset, values in presets_raw.items():
        if not isinstance(values, dict):
            raise check.error(
                f"a preset is a table of input values ([{table}.presets.{preset}]), "
                f"found {type_name(values)}.",
                f"{table}.presets",
                preset,
            )
        result[preset] = dict(values)
    return result
