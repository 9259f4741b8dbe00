"""`SimAddress`: where a `SimApp` is served. Apart from `SimServer` (which needs uvicorn), so
the demo can write its config for the port the simulator will bind before uvicorn is loaded."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from crewdash.sim.app import SimApp


@dataclass
class SimAddress:
    """A simulator's URL, each crew's base URL and token."""

    app: SimApp
    host: str
    port: int

    @property
    def url(self) -> str:
        return f"http://{self.host}:{self.port}"

    def crew_url(self, name: str) -> str:
        return self.url + self.app.base_url_path(name)

    def token(self, name: str) -> str:
        return self.app.token(name)
