"""`[crews.NAME.notify]`: which events of a crew notify (`on`), with the bell and a desktop
notification or not, and quiet hours (local time) when only toasts show. Parsed and
validated here; `attention` answers what one event gets; `describe` is its one line."""

from __future__ import annotations

import difflib
import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from crewdash.core.config.checker import Checker
from crewdash.core.config.model import DEFAULT_NOTIFY_ON, NOTIFY_EVENTS, NotifyRules
from crewdash.core.config.values import type_name

NOTIFY_KEYS = ("on", "bell", "desktop", "quiet_hours")
_QUIET = re.compile(r"^\s*(\d{1,2}):(\d{2})\s*-\s*(\d{1,2}):(\d{2})\s*$")
QUIET_EXAMPLE = '"22:00-07:00"'


def quiet_window(text: str) -> tuple[int, int]:
    """`"22:00-07:00"` as minutes after midnight (start, end); ValueError saying what is wrong.
    A window may cross midnight; one that starts when it ends is refused (empty or all day?)."""
    match = _QUIET.match(text)
    if match is None:
        raise ValueError(f"expected HH:MM-HH:MM (24-hour local time), e.g. {QUIET_EXAMPLE}.")
    h1, m1, h2, m2 = (int(part) for part in match.groups())
    if h1 > 23 or h2 > 23 or m1 > 59 or m2 > 59:
        raise ValueError(f"hours go from 00 to 23 and minutes from 00 to 59, e.g. {QUIET_EXAMPLE}.")
    start, end = h1 * 60 + m1, h2 * 60 + m2
    if start == end:
        raise ValueError("the quiet hours start and end at the same time; give a window.")
    return start, end


def in_quiet_hours(rules: NotifyRules, minute_of_day: int) -> bool:
    """Whether `minute_of_day` (local, 0..1439) falls in the rules' quiet hours (start
    included, end excluded)."""
    if rules.quiet_hours is None:
        return False
    start, end = quiet_window(rules.quiet_hours)
    if start < end:
        return start <= minute_of_day < end
    return minute_of_day >= start or minute_of_day < end  # across midnight


@dataclass(frozen=True, slots=True)
class Attention:
    """What one event gets: a toast, the bell, a desktop notification."""

    toast: bool
    bell: bool
    desktop: bool


def attention(
    rules: NotifyRules, event: str, *, bell: bool, desktop: bool, minute_of_day: int
) -> Attention:
    """What `event` of a crew with `rules` gets, `bell`/`desktop` being the `[ui]` defaults:
    nothing when `on` leaves it out; a toast only during quiet hours."""
    if event not in rules.on:
        return Attention(False, False, False)
    if in_quiet_hours(rules, minute_of_day):
        return Attention(True, False, False)
    return Attention(
        True,
        bell if rules.bell is None else rules.bell,
        desktop if rules.desktop is None else rules.desktop,
    )


def describe(rules: NotifyRules) -> str:
    """One line for `crews list`: `error, human_input · bell · quiet 22:00-07:00`."""
    parts = [", ".join(rules.on) if rules.on else "nothing"]
    for word, value in (("bell", rules.bell), ("desktop", rules.desktop)):
        if value is not None:
            parts.append(word if value else f"no {word}")
    if rules.quiet_hours:
        parts.append(f"quiet {rules.quiet_hours.strip()}")
    return " · ".join(parts)


def as_json(rules: NotifyRules) -> dict[str, Any]:
    return {
        "on": list(rules.on),
        "bell": rules.bell,
        "desktop": rules.desktop,
        "quiet_hours": rules.quiet_hours,
    }


def _events(check: Checker, raw: Mapping[str, Any], table: str) -> tuple[str, ...]:
    value = raw["on"]
    if not isinstance(value, list):
        raise check.error(
            f'expected a list such as ["error", "human_input"], found {type_name(value)}.',
            table,
            "on",
        )
    events: list[str] = []
    for item in value:
        if not isinstance(item, str):
            raise check.error(
                f"expected event names in quotes, found {type_name(item)}. "
                f"Events: {', '.join(NOTIFY_EVENTS)}.",
                table,
                "on",
            )
        if item not in NOTIFY_EVENTS:
            shown = f'"{item}"'
            close = difflib.get_close_matches(str(item), NOTIFY_EVENTS, n=1, cutoff=0.6)
            hint = f' Did you mean "{close[0]}"?' if close else ""
            raise check.error(
                f"unknown event {shown}.{hint} Events: {', '.join(NOTIFY_EVENTS)}.", table, "on"
            )
        if item not in events:
            events.append(item)
    return tuple(events)


def parse_notify(check: Checker, raw: Mapping[str, Any], table: str) -> NotifyRules:
    """The rules of `[<table>]` (`crews.NAME.notify`); the defaults when it is absent."""
    check.known_keys(raw, NOTIFY_KEYS, table)
    quiet: str | None = None
    if "quiet_hours" in raw:
        quiet = check.string(raw, "quiet_hours", table)
        try:
            quiet_window(quiet)
        except ValueError as exc:
            raise check.error(f"{exc}", table, "quiet_hours") from None
    return NotifyRules(
        on=_events(check, raw, table) if "on" in raw else DEFAULT_NOTIFY_ON,
        bell=check.boolean(raw, "bell", table) if "bell" in raw else None,
        desktop=check.boolean(raw, "desktop", table) if "desktop" in raw else None,
        quiet_hours=quiet,
    )


def notify_table(rules: NotifyRules, existing: Mapping[str, Any] | None) -> dict[str, Any]:
    """The `[crews.NAME.notify]` table for `rules`, merged into what the file holds (a key
    that did not change keeps its spelling); empty when everything is the default."""
    table = dict(existing or {})
    values: dict[str, Any] = {
        "on": list(rules.on),
        "bell": rules.bell,
        "desktop": rules.desktop,
        "quiet_hours": rules.quiet_hours,
    }
    for key, value in values.items():
        if value is None:
            table.pop(key, None)
        elif key == "on" and "on" not in table and rules.on == DEFAULT_NOTIFY_ON:
            continue  # the default, not written
        elif table.get(key) != value:
            table[key] = value
    return table
