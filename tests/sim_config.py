"""A crewdash Config pointing at crews of the running simulator: what the engine, CLI-free
TUI and integration tests build their engines from. Fast polling so runs of the `testing`
scenario are seen in well under a second."""

from __future__ import annotations

from typing import Any

from crewdash.aop.models import Secret
from crewdash.core.config.model import Config, CrewConfig, CrewKind, ReceiverConfig, TokenSource


def sim_config(
    server: Any,
    names: list[str],
    receiver: ReceiverConfig | None = None,
    **crew_settings: Any,
) -> Config:
    """One CrewConfig per simulator crew in `names` (the crew called "flow" is a flow);
    `crew_settings` override CrewConfig fields such as timeouts."""
    crews = {
        name: CrewConfig(
            name=name,
            url=server.crew_url(name),
            token=TokenSource(inline=Secret(server.token(name))),
            kind=CrewKind.FLOW if name == "flow" else CrewKind.CREW,
            poll_min=0.05,
            poll_max=0.3,
            **crew_settings,
        )
        for name in names
    }
    return Config(path=None, crews=crews, receiver=receiver or ReceiverConfig())
