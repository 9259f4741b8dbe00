"""One crew's live state in the simulator, and the callback error the routes turn into HTTP.

Apart from `crewdash.sim.app` so the route modules can use these types at run time without
importing the app (which imports the routes lazily).
"""

from __future__ import annotations

import random
from dataclasses import dataclass, field

from crewdash.sim.faults import FaultInjector
from crewdash.sim.runs import Run
from crewdash.sim.scenario import CrewSpec


class CallbackError(Exception):
    """A flow callback that cannot be applied; `status` is the HTTP answer."""

    def __init__(self, status: int, error: str, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.error = error
        self.message = message


@dataclass
class CrewState:
    spec: CrewSpec
    token: str
    faults: FaultInjector
    rng: random.Random
    runs: dict[str, Run] = field(default_factory=dict)


def match_outcome(feedback: str, emit: tuple[str, ...]) -> str | None:
    """The emit option a reviewer's text names: `approve`, or `reject: too vague`."""
    text = feedback.strip().lower()
    for option in emit:
        low = option.lower()
        if text == low or text.startswith((low + ":", low + " ", low + "\n")):
            return option
    return None
