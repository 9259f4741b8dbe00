"""From `Config` values back to the raw TOML dict, changing only what differs.

Each table is merged into what the file already holds: a key whose value did not change keeps
its exact written form (1 stays 1, not 1.0), keys are kept in their order, and tables crewdash
was not asked to touch are left as they are.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import fields
from typing import Any

from crewdash.core.config.model import CrewConfig, ReceiverConfig, UIConfig
from crewdash.core.config.notify import notify_table
from crewdash.core.config.parse import TOKEN_KEYS

_CREW_DEFAULTS = {f.name: f.default for f in fields(CrewConfig)}
_UI_DEFAULTS = UIConfig()
_RECEIVER_DEFAULTS = ReceiverConfig()


def _merge(
    existing: Mapping[str, Any] | None, values: Mapping[str, tuple[Any, Any]]
) -> dict[str, Any]:
    """`values`: key -> (value, default). None as value removes the key."""
    table = dict(existing or {})
    for key, (value, default) in values.items():
        if value is None:
            table.pop(key, None)
        elif key in table and table[key] == value:
            continue  # unchanged: keep the file's own spelling of it
        elif key in table or value != default:
            table[key] = value
    return table


def crew_table(crew: CrewConfig, existing: Mapping[str, Any] | None) -> dict[str, Any]:
    token_key, token_value = _token_entry(crew)
    table = dict(existing or {})
    for key in TOKEN_KEYS:
        if key != token_key:
            table.pop(key, None)
    values: dict[str, tuple[Any, Any]] = {
        "url": (crew.url, None),
        token_key: (token_value, None),
        "kind": (str(crew.kind), None),  # always written: it says what the deployment is
        "label": (crew.label or None, ""),
        "poll_min": (crew.poll_min, _CREW_DEFAULTS["poll_min"]),
        "poll_max": (crew.poll_max, _CREW_DEFAULTS["poll_max"]),
        "connect_timeout": (crew.connect_timeout, _CREW_DEFAULTS["connect_timeout"]),
        "read_timeout": (crew.read_timeout, _CREW_DEFAULTS["read_timeout"]),
        "presets": ({k: dict(v) for k, v in crew.presets.items()} or None, {}),
    }
    merged = _merge(table, values)
    existing_notify = merged.get("notify")
    notify = notify_table(
        crew.notify, existing_notify if isinstance(existing_notify, dict) else None
    )
    if notify:
        merged["notify"] = notify
    else:
        merged.pop("notify", None)
    return merged


def _token_entry(crew: CrewConfig) -> tuple[str, str]:
    source = crew.token
    if source.env:
        return "token_env", source.env
    if source.command:
        return "token_command", source.command
    if source.inline is not None:
        # The one place a token is written: into the file that is then kept at 0600.
        return "token", source.inline.reveal()
    raise ValueError(f"crew {crew.name!r} has no token source")


def ui_table(ui: UIConfig, existing: Mapping[str, Any] | None) -> dict[str, Any]:
    return _merge(
        existing,
        {
            "theme": (ui.theme, _UI_DEFAULTS.theme),
            "bell": (ui.bell, _UI_DEFAULTS.bell),
            "desktop_notify": (ui.desktop_notify, _UI_DEFAULTS.desktop_notify),
            "keymap": (dict(ui.keymap) or None, {}),
        },
    )


def receiver_table(receiver: ReceiverConfig, existing: Mapping[str, Any] | None) -> dict[str, Any]:
    d = _RECEIVER_DEFAULTS
    values: dict[str, tuple[Any, Any]] = {
        "enabled": (receiver.enabled, d.enabled),
        "host": (receiver.host, d.host),
        "port": (receiver.port, d.port),
        "public_url": (receiver.public_url, None),
    }
    for key, secret, env in (
        ("bearer_token", receiver.bearer_token, receiver.bearer_token_env),
        ("flow_secret", receiver.flow_secret, receiver.flow_secret_env),
    ):
        # An env-sourced secret stays in the environment: write the name, not the value.
        values[f"{key}_env"] = (env, None)
        values[key] = (None if env or secret is None else secret.reveal(), None)
    return _merge(existing, values)


def has_inline_secret(raw: Mapping[str, Any]) -> bool:
    """Whether the document holds a secret itself (then the file must be 0600)."""
    crews = raw.get("crews")
    if isinstance(crews, dict) and any(
        isinstance(table, dict) and "token" in table for table in crews.values()
    ):
        return True
    receiver = raw.get("receiver")
    return isinstance(receiver, dict) and bool({"bearer_token", "flow_secret"} & receiver.keys())
