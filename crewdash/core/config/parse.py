"""Validating the raw TOML dict into `Config` values, with errors an operator can act on.

Pure: no I/O except reading environment variables named by the receiver's `*_env` keys.
"""

from __future__ import annotations

import difflib
import ipaddress
import os
import re
import shlex
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date, datetime, time
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from crewdash.aop.models import Secret
from crewdash.core.config.errors import ConfigError
from crewdash.core.config.model import (
    Config,
    CrewConfig,
    CrewKind,
    ReceiverConfig,
    TokenSource,
    UIConfig,
)

TOP_KEYS = ("crews", "ui", "receiver")
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
)
TOKEN_KEYS = ("token_env", "token_command", "token")
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
SECONDS_KEYS = ("poll_min", "poll_max", "connect_timeout", "read_timeout")

CREW_NAME_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_-]{0,63}$")
ENV_NAME_RE = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")


def crew_name_problem(name: str) -> str | None:
    """Why `name` cannot be a crew name, or None."""
    if CREW_NAME_RE.match(name):
        return None
    return (
        f"{name!r} is not a valid crew name: use letters, digits, '-' and '_' "
        "(at most 64, starting with a letter or digit)."
    )


def url_problem(url: str) -> str | None:
    """Why `url` cannot be a deployment or public URL, or None. Never echoes credentials."""
    try:
        parts = urlsplit(url.strip())
        parts.port  # noqa: B018 - raises ValueError on a bad port
    except ValueError:
        return "this is not a valid URL; expected something like https://my-crew.crewai.com."
    if parts.username or parts.password:
        return (
            "the URL contains a user name or password; remove it and give the token with "
            "token_env, token_command or token."
        )
    if parts.scheme not in ("http", "https"):
        shown = f'"{parts.scheme}"' if parts.scheme else "none"
        return (
            f"the URL must start with https:// (or http://), found scheme {shown}; "
            "for example https://my-crew.crewai.com."
        )
    if not parts.hostname:
        return "the URL has no host name; for example https://my-crew.crewai.com."
    return None


def url_warning(url: str) -> str | None:
    """A warning for plain http to a host other than this machine: the token travels unencrypted."""
    parts = urlsplit(url.strip())
    if parts.scheme == "http" and not is_loopback(parts.hostname or ""):
        return (
            f"plain http to {parts.hostname}: the token and your data travel unencrypted; "
            "use https:// unless this is a trusted network."
        )
    return None


def is_loopback(host: str) -> bool:
    if host.lower() == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def type_name(value: object) -> str:
    """A TOML value's type in words (never the value: it may be a secret)."""
    if isinstance(value, bool):
        return "true/false"
    if isinstance(value, int):
        return "a whole number"
    if isinstance(value, float):
        return "a number"
    if isinstance(value, str):
        return "text"
    if isinstance(value, dict):
        return "a table"
    if isinstance(value, list):
        return "a list"
    if isinstance(value, datetime | date | time):
        return "a date/time"
    return type(value).__name__


def locate(text: str, table: str | None, key: str | None) -> int | None:
    """Best-effort 1-based line of `key` in `[table]` (or of the header when key is None).
    Plain `[a.b]` headers and `key =` lines only; None when written another way."""
    if not text:
        return None
    lines = text.splitlines()
    start = 0
    if table is not None:
        want = table.split(".")
        start = -1
        for number, line in enumerate(lines):
            header = _header(line)
            if header is not None and header == want:
                start = number
                break
        if start < 0:
            return None
        if key is None:
            return start + 1
        start += 1
    elif key is None:
        return None
    key_re = re.compile(r"^\s*[\"']?" + re.escape(key) + r"[\"']?\s*=")
    for number in range(start, len(lines)):
        if _header(lines[number]) is not None:
            return None
        if key_re.match(lines[number]):
            return number + 1
    return None


def _header(line: str) -> list[str] | None:
    match = re.match(r"^\s*\[\s*([^\[\]]+?)\s*\]\s*(#.*)?$", line)
    if not match:
        return None
    return [part.strip().strip("\"'") for part in match.group(1).split(".")]


@dataclass
class _Parser:
    file: Path | None
    text: str
    warnings: list[str] = field(default_factory=list)

    def error(self, problem: str, table: str | None = None, key: str | None = None) -> ConfigError:
        return ConfigError(
            problem, file=self.file, table=table, key=key, line=locate(self.text, table, key)
        )

    def warn(self, problem: str, table: str | None = None, key: str | None = None) -> None:
        self.warnings.append(self.error(problem, table, key).message)

    # -- generic checks ------------------------------------------------------------------
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

    # -- sections ------------------------------------------------------------------------
    def config(self, raw: Mapping[str, Any]) -> Config:
        self.known_keys(raw, TOP_KEYS, None)
        crews_raw = self.table(raw, "crews", None)
        crews: dict[str, CrewConfig] = {}
        for name in crews_raw:
            crews[name] = self.crew(name, self.table(crews_raw, name, "crews"))
        return Config(
            path=self.file,
            crews=crews,
            ui=self.ui(self.table(raw, "ui", None)),
            receiver=self.receiver(self.table(raw, "receiver", None)),
            warnings=tuple(self.warnings),
        )

    def crew(self, name: str, raw: Mapping[str, Any]) -> CrewConfig:
        table = f"crews.{name}"
        problem = crew_name_problem(name)
        if problem:
            raise self.error(problem, table)
        self.known_keys(raw, CREW_KEYS, table)
        if "url" not in raw:
            raise self.error(
                'the crew has no url; add url = "https://<your-deployment>.crewai.com".', table
            )
        url = self.url(raw, "url", table)
        token = self.token_source(raw, table)
        kind = CrewKind.CREW
        if "kind" in raw:
            text = self.string(raw, "kind", table)
            if text not in ("crew", "flow"):
                raise self.error('must be "crew" or "flow".', table, "kind")
            kind = CrewKind(text)
        values: dict[str, Any] = {
            key: self.seconds(raw, key, table) for key in SECONDS_KEYS if key in raw
        }
        crew = CrewConfig(
            name=name,
            url=url,
            token=token,
            kind=kind,
            label=self.string(raw, "label", table) if "label" in raw else "",
            presets=self.presets(raw, table),
            source_file=self.file,
            **values,
        )
        if crew.poll_min > crew.poll_max:
            raise self.error(
                f"poll_min ({crew.poll_min:g} s) is larger than poll_max ({crew.poll_max:g} s).",
                table,
                "poll_min",
            )
        return crew

    def token_source(self, raw: Mapping[str, Any], table: str) -> TokenSource:
        present = [key for key in TOKEN_KEYS if key in raw]
        if not present:
            raise self.error(
                'missing token source: add one of token_env = "VARIABLE" (recommended), '
                'token_command = "pass show aop/NAME" or token = "..." (the file is then '
                "kept private, mode 0600).",
                table,
            )
        if len(present) > 1:
            raise self.error(
                f"two token sources ({' and '.join(present)}): keep exactly one.",
                table,
                present[1],
            )
        key = present[0]
        if key == "token_env":
            return TokenSource(env=self.env_name(raw, key, table))
        if key == "token_command":
            command = self.string(raw, key, table, empty_ok=False)
            try:
                shlex.split(command)
            except ValueError as exc:
                raise self.error(
                    f"the command cannot be split into words ({exc}); check its quotes.",
                    table,
                    key,
                ) from None
            return TokenSource(command=command)
        return TokenSource(inline=Secret(self.string(raw, key, table, empty_ok=False)))

    def presets(self, raw: Mapping[str, Any], table: str) -> dict[str, dict[str, Any]]:
        presets_raw = self.table(raw, "presets", table)
        result: dict[str, dict[str, Any]] = {}
        for preset, values in presets_raw.items():
            if not isinstance(values, dict):
                raise self.error(
                    f"a preset is a table of input values ([{table}.presets.{preset}]), "
                    f"found {type_name(values)}.",
                    f"{table}.presets",
                    preset,
                )
            result[preset] = dict(values)
        return result

    def ui(self, raw: Mapping[str, Any]) -> UIConfig:
        self.known_keys(raw, UI_KEYS, "ui")
        keymap_raw = self.table(raw, "keymap", "ui")
        keymap: dict[str, str] = {}
        for binding in keymap_raw:
            keymap[binding] = self.string(keymap_raw, binding, "ui.keymap", empty_ok=False)
        defaults = UIConfig()
        return UIConfig(
            theme=self.string(raw, "theme", "ui", empty_ok=False)
            if "theme" in raw
            else defaults.theme,
            keymap=keymap,
            bell=self.boolean(raw, "bell", "ui") if "bell" in raw else defaults.bell,
            desktop_notify=(
                self.boolean(raw, "desktop_notify", "ui")
                if "desktop_notify" in raw
                else defaults.desktop_notify
            ),
        )

    def receiver(self, raw: Mapping[str, Any]) -> ReceiverConfig:
        table = "receiver"
        self.known_keys(raw, RECEIVER_KEYS, table)
        defaults = ReceiverConfig()
        enabled = self.boolean(raw, "enabled", table) if "enabled" in raw else False
        host = self.string(raw, "host", table, empty_ok=False) if "host" in raw else defaults.host
        port = defaults.port
        if "port" in raw:
            value = raw["port"]
            if isinstance(value, bool) or not isinstance(value, int):
                raise self.error(
                    f"expected a whole number, found {type_name(value)}.", table, "port"
                )
            if not 1 <= value <= 65535:
                raise self.error("a port is between 1 and 65535.", table, "port")
            port = value
        public_url = self.url(raw, "public_url", table) if "public_url" in raw else None
        bearer, bearer_env = self.receiver_secret(raw, "bearer_token", enabled)
        flow, flow_env = self.receiver_secret(raw, "flow_secret", enabled)
        if enabled and not is_loopback(host) and bearer is None:
            self.warn(
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

    def receiver_secret(
        self, raw: Mapping[str, Any], key: str, enabled: bool
    ) -> tuple[Secret | None, str | None]:
        env_key = f"{key}_env"
        if key in raw and env_key in raw:
            raise self.error(
                f"two sources ({key} and {env_key}): keep exactly one.", "receiver", env_key
            )
        if key in raw:
            return Secret(self.string(raw, key, "receiver", empty_ok=False)), None
        if env_key in raw:
            var = self.env_name(raw, env_key, "receiver")
            value = os.environ.get(var, "").strip()
            if not value and enabled:
                self.warn(
                    f"the environment variable ${var} is not set or empty.", "receiver", env_key
                )
            return (Secret(value) if value else None), var
        return None, None


def parse_config(raw: Mapping[str, Any], *, file: Path | None, text: str = "") -> Config:
    """The `Config` of an already-decoded TOML document. ConfigError on the first problem."""
    return _Parser(file=file, text=text).config(raw)
