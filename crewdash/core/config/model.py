"""The configuration as values: what the loader in `crewdash.core.config.load` produces and the
engine, the TUI and the CLI consume. No I/O here."""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum
from pathlib import Path
from typing import Any

from crewdash.aop.models import Secret


class CrewKind(StrEnum):
    CREW = "crew"
    FLOW = "flow"


@dataclass(frozen=True, slots=True)
class TokenSource:
    """Where a crew's token comes from. Exactly one of the three is set."""

    inline: Secret | None = None  # `token = "..."` in the file (file kept at 0600)
    env: str | None = None  # `token_env = "NAME"`
    command: str | None = None  # `token_command = "pass show aop/research"`

    def describe(self) -> str:
        """For screens and `crews list`: never the token itself."""
        if self.env:
            return f"env ${self.env}"
        if self.command:
            return f"command `{self.command}`"
        if self.inline:
            return f"in file ({self.inline.masked})"
        return "none"


#: what a crew's `[crews.NAME.notify]` may list in `on`; the default is what the dashboard
#: announced before rules existed (a stall was never announced)
NOTIFY_EVENTS = ("error", "human_input", "completed", "stalled")
DEFAULT_NOTIFY_ON = ("error", "human_input", "completed")


@dataclass(frozen=True, slots=True)
class NotifyRules:
    """`[crews.NAME.notify]`: which of the crew's events get the operator's attention, and
    how (crewdash.core.config.notify parses it and answers what one event gets)."""

    on: tuple[str, ...] = DEFAULT_NOTIFY_ON
    bell: bool | None = None  # None: as `[ui] bell`
    desktop: bool | None = None  # None: as `[ui] desktop_notify`
    quiet_hours: str | None = None  # "22:00-07:00", local time: no bell, no desktop


@dataclass(frozen=True, slots=True)
class CrewConfig:
    name: str
    url: str
    token: TokenSource
    kind: CrewKind = CrewKind.CREW
    label: str = ""
    poll_min: float = 1.0  # seconds: first interval after a change
    poll_max: float = 30.0  # seconds: ceiling while nothing changes
    connect_timeout: float = 5.0
    read_timeout: float = 30.0
    presets: dict[str, dict[str, Any]] = field(default_factory=dict)
    notify: NotifyRules = field(default_factory=NotifyRules)
    #: the file this crew was read from, so token errors can name it; not part of equality
    source_file: Path | None = field(default=None, compare=False, repr=False)

    @property
    def title(self) -> str:
        return self.label or self.name


@dataclass(frozen=True, slots=True)
class ReceiverConfig:
    """The webhook receiver; off unless `enabled`."""

    enabled: bool = False
    host: str = "127.0.0.1"
    port: int = 8765
    public_url: str | None = None  # what kickoffs advertise, e.g. a tunnel
    bearer_token: Secret | None = None  # checked on crew HITL deliveries
    flow_secret: Secret | None = None  # HMAC secret of signed flow deliveries
    # When the secrets come from the environment: the variable names, so a rewrite of the
    # file keeps `*_env` instead of writing the resolved secret into it.
    bearer_token_env: str | None = None
    flow_secret_env: str | None = None


@dataclass(frozen=True, slots=True)
class UIConfig:
    theme: str = "textual-dark"
    keymap: dict[str, str] = field(default_factory=dict)  # binding id -> keys
    bell: bool = True
    desktop_notify: bool = True  # OSC 9/777 where the terminal supports it


@dataclass(frozen=True, slots=True)
class Config:
    path: Path | None
    crews: dict[str, CrewConfig] = field(default_factory=dict)
    ui: UIConfig = field(default_factory=UIConfig)
    receiver: ReceiverConfig = field(default_factory=ReceiverConfig)
    #: non-fatal findings of the loader (readable file holding a token, plain http, ...)
    warnings: tuple[str, ...] = field(default=(), compare=False)
