"""Build a `Scenario` from a built-in name or a TOML/JSON file (format: docs/simulator.md)."""

from __future__ import annotations

import dataclasses
import json
import tomllib
from pathlib import Path
from typing import Any, get_args

from crewdash.sim.scenario import (
    INPUT_TYPES,
    CrewSpec,
    ErrorField,
    FaultSpec,
    FlowWebhook,
    InputField,
    InputsStyle,
    OfflineMode,
    Scenario,
    StatusRouteStyle,
    StopStyle,
    TaskSpec,
)


class ScenarioError(ValueError):
    """A scenario file or table that cannot be used; the message says where."""


_CHOICES: dict[str, tuple[str, ...]] = {
    "kind": ("crew", "flow"),
    "inputs_style": get_args(InputsStyle),
    "status_route": get_args(StatusRouteStyle),
    "error_field": get_args(ErrorField),
    "stop": get_args(StopStyle),
    "offline_mode": get_args(OfflineMode),
}


def load_scenario(name_or_path: str | Path) -> Scenario:
    """A built-in scenario by name (`demo`, `testing`) or a `.toml`/`.json` file."""
    from crewdash.sim.scenarios import BUILTIN

    text = str(name_or_path)
    if text in BUILTIN:
        return BUILTIN[text]()
    path = Path(text)
    if not path.is_file():
        raise ScenarioError(
            f"no built-in scenario or file named {text!r} (built-in: {', '.join(sorted(BUILTIN))})"
        )
    raw = path.read_bytes()
    try:
        if path.suffix.lower() == ".json":
            data = json.loads(raw)
        else:
            data = tomllib.loads(raw.decode("utf-8"))
    except (ValueError, UnicodeDecodeError) as exc:
        raise ScenarioError(
            f"{path}: not valid {path.suffix.lstrip('.') or 'TOML'}: {exc}"
        ) from exc
    return scenario_from_dict(data, where=str(path), default_name=path.stem)


def scenario_from_dict(
    data: Any, *, where: str = "scenario", default_name: str = "custom"
) -> Scenario:
    if not isinstance(data, dict):
        raise ScenarioError(f"{where}: the top level must be a table/object")
    _check_keys(data, {"name", "description", "crews"}, where)
    crews_raw = data.get("crews")
    if not isinstance(crews_raw, list) or not crews_raw:
        raise ScenarioError(f"{where}: `crews` must be a non-empty list of tables")
    crews = tuple(_crew(c, f"{where}: crews[{i}]") for i, c in enumerate(crews_raw))
    names = [c.name for c in crews]
    dupes = sorted({n for n in names if names.count(n) > 1})
    if dupes:
        raise ScenarioError(f"{where}: crew names must be unique, repeated: {', '.join(dupes)}")
    return Scenario(
        name=str(data.get("name", default_name)),
        description=str(data.get("description", "")),
        crews=crews,
    )


def _fields(cls: type) -> set[str]:
    return {f.name for f in dataclasses.fields(cls)}


def _check_keys(data: dict[str, Any], allowed: set[str], where: str) -> None:
    unknown = sorted(set(data) - allowed)
    if unknown:
        raise ScenarioError(
            f"{where}: unknown key(s) {', '.join(unknown)} (allowed: {', '.join(sorted(allowed))})"
        )


def _table(value: Any, where: str) -> dict[str, Any]:
    if not isinstance(value, dict):
        raise ScenarioError(f"{where}: must be a table/object")
    return value


def _crew(value: Any, where: str) -> CrewSpec:
    data = dict(_table(value, where))
    _check_keys(data, _fields(CrewSpec), where)
    name = data.get("name")
    if not isinstance(name, str) or not name or "/" in name:
        raise ScenarioError(f"{where}: `name` must be a non-empty string without '/'")
    where = f"{where} ({name})"
    for key, choices in _CHOICES.items():
        if key in data and data[key] not in choices:
            raise ScenarioError(f"{where}: `{key}` must be one of {', '.join(choices)}")
    tasks_raw = data.get("tasks")
    if not isinstance(tasks_raw, list) or not tasks_raw:
        raise ScenarioError(f"{where}: `tasks` must be a non-empty list of tables")
    data["tasks"] = tuple(_task(t, f"{where}: tasks[{i}]") for i, t in enumerate(tasks_raw))
    data["inputs"] = tuple(
        _input(x, f"{where}: inputs[{i}]") for i, x in enumerate(data.get("inputs", []))
    )
    if "faults" in data:
        faults = _table(data["faults"], f"{where}: faults")
        _check_keys(faults, _fields(FaultSpec), f"{where}: faults")
        data["faults"] = FaultSpec(**faults)
    if "flow_webhook" in data:
        hook = _table(data["flow_webhook"], f"{where}: flow_webhook")
        _check_keys(hook, _fields(FlowWebhook), f"{where}: flow_webhook")
        if not isinstance(hook.get("url"), str):
            raise ScenarioError(f"{where}: flow_webhook needs a `url`")
        data["flow_webhook"] = FlowWebhook(**hook)
    try:
        return CrewSpec(**data)
    except TypeError as exc:
        raise ScenarioError(f"{where}: {exc}") from exc


def _task(value: Any, where: str) -> TaskSpec:
    data = dict(_table(value, where))
    _check_keys(data, _fields(TaskSpec), where)
    if not isinstance(data.get("id"), str) or not isinstance(data.get("agent"), str):
        raise ScenarioError(f"{where}: `id` and `agent` are required strings")
    for key in ("emit", "retry_outcomes"):
        if key in data:
            data[key] = tuple(str(x) for x in data[key])
    if float(data.get("duration", 1.0)) < 0:
        raise ScenarioError(f"{where}: `duration` must not be negative")
    return TaskSpec(**data)


def _input(value: Any, where: str) -> InputField:
    if isinstance(value, str):
        return InputField(name=value)
    data = dict(_table(value, where))
    _check_keys(data, _fields(InputField), where)
    if not isinstance(data.get("name"), str):
        raise ScenarioError(f"{where}: `name` is required")
    if data.get("type", "string") not in INPUT_TYPES:
        raise ScenarioError(f"{where}: `type` must be one of {', '.join(INPUT_TYPES)}")
    if "options" in data:
        data["options"] = tuple(str(x) for x in data["options"])
    return InputField(**data)
