"""The `[ui]` and `[receiver]` tables: crewdash's own settings, beside the crews."""

from __future__ import annotations

import os
from collections.abc import Mapping
from typing import Any

from crewdash.aop.models import Secret
from crewdash.core.config.checker import Checker
from crewdash.core.config.model import ReceiverConfig, UIConfig
from crewdash.core.config.values import is_loopback, type_name

UI_KEYS = ("theme", "bell", "desktop_notify", "keymap")
RECEIVER_KEYS = (
    "enabled",
    "host",
    "port",
    "public_url",
    "bearer_token",
    "bearer_token_env",
    "flow_secret",
    "flow_secret_env",
)


def parse_ui(check: Checker, raw: Mapping[str, Any]) -> UIConfig:
    check.known_keys(raw, UI_KEYS, "ui")
    keymap_raw = check.table(raw, "keymap", "ui")
    keymap: dict[str, str] = {}
    for binding in keymap_raw:
        keymap[binding] = check.string(keymap_raw, binding, "ui.keymap", empty_ok=False)
    defaults = UIConfig()
    return UIConfig(
        theme=(
            check.string(raw, "theme", "ui", empty_ok=False) if "theme" in raw else defaults.theme
        ),
        keymap=keymap,
        bell=check.boolean(raw, "bell", "ui") if "bell" in raw else defaults.bell,
        desktop_notify=(
            check.boolean(raw, "desktop_notify", "ui")
            if "desktop_notify" in raw
            else defaults.desktop_notify
        ),
    )


def parse_receiver(check: Checker, raw: Mapping[str, Any]) -> ReceiverConfig:
    table = "receiver"
    check.known_keys(raw, RECEIVER_KEYS, table)
    defaults = ReceiverConfig()
    enabled = check.boolean(raw, "enabled", table) if "enabled" in raw else False
    host = check.string(raw, "host", table, empty_ok=False) if "host" in raw else defaults.host
    port = _port(check, raw, defaults.port)
    public_url = check.url(raw, "public_url", table) if "public_url" in raw else None
    bearer, bearer_env = _secret(check, raw, "bearer_token", enabled)
    flow, flow_env = _secret(check, raw, "flow_secret", enabled)
    if enabled and not is_loopback(host) and bearer is None:
        check.warn(
            "the receiver listens beyond this machine without a bearer_token: anyone who "
            "can reach it can post human-input requests.",
            table,
            "host",
        )
    return ReceiverConfig(
        enabled=enabled,
        host=host,
        port=port,
        public_url=public_url,
        bearer_token=bearer,
        flow_secret=flow,
        bearer_token_env=bearer_env,
        flow_secret_env=flow_env,
    )


def _port(check: Checker, raw: Mapping[str, Any], default: int) -> int:
    if "port" not in raw:
        return default
    value = raw["port"]
    if isinstance(value, bool) or not isinstance(value, int):
        raise check.error(f"expected a whole number, found {type_name(value)}.", "receiver", "port")
    if not 1 <= value <= 65535:
        raise check.error("a port is between 1 and 65535.", "receiver", "port")
    return value


def _secret(
    check: Checker, raw: Mapping[str, Any], key: str, enabled: bool
) -> tuple[Secret | None, str | None]:
    """A receiver secret given inline (`key`) or by variable (`key_env`), and the variable."""
    env_key = f"{key}_env"
    if key in raw and env_key in raw:
        raise check.error(
            f"two sources ({key} and {env_key}): keep exactly one.", "receiver", env_key
        )
    if key in raw:
        return Secret(check.string(raw, key, "receiver", empty_ok=False)), None
    if env_key in raw:
        var = check.env_name(raw, env_key, "receiver")
        value = os.environ.get(var, "").strip()
        if not value and enabled:
            check.warn(f"the environment variable ${var} is not set or empty.", "receiver", env_key)
        return (Secret(value) if value else None), var
    return None, None
