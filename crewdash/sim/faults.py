"""Seeded fault decisions for one crew: latency, 429 over a rate, 5xx (some as HTML),
bad bodies and dropped connections. The routes apply what `decide()` returns."""

from __future__ import annotations

import random
from collections import deque
from dataclasses import dataclass
from email.utils import formatdate
from typing import Literal

from crewdash.sim.scenario import FaultSpec

FaultKind = Literal["none", "drop", "rate_limited", "server_error", "bad_body", "drop_after"]

_HTML_PAGE = """<!DOCTYPE html>
<html><head><title>{code} {reason}</title></head>
<body><center><h1>{code} {reason}</h1></center><hr><center>nginx</center></body></html>
"""
_REASONS = {
    500: "Internal Server Error",
    502: "Bad Gateway",
    503: "Service Unavailable",
    504: "Gateway Timeout",
}


class DropConnection(Exception):
    """Raised inside the ASGI app after the response has started: the server closes the
    connection and the client sees it cut mid-answer."""


@dataclass(frozen=True, slots=True)
class Decision:
    kind: FaultKind
    delay: float = 0.0
    status: int = 0
    html: bool = False
    retry_after: str = ""
    truncate: bool = False  # bad_body: cut JSON rather than plain text


def html_error_page(code: int) -> str:
    return _HTML_PAGE.format(code=code, reason=_REASONS.get(code, "Error"))


class FaultInjector:
    def __init__(self, spec: FaultSpec, rng: random.Random) -> None:
        self.spec = spec
        self.rng = rng
        self._recent: deque[float] = deque()

    def decide(self, now: float, wall: float) -> Decision:
        spec, rng = self.spec, self.rng
        delay = 0.0
        if spec.latency or spec.jitter:
            delay = max(0.0, spec.latency + rng.uniform(-spec.jitter, spec.jitter))
        if spec.drop_rate and rng.random() < spec.drop_rate:
            return Decision("drop", delay)
        if spec.rate_limit > 0:
            window = self._recent
            while window and window[0] <= now - spec.rate_window:
                window.popleft()
            if len(window) >= spec.rate_limit:
                wait = max(1, int(window[0] + spec.rate_window - now + 0.999))
                value = (
                    formatdate(wall + wait, usegmt=True)
                    if spec.retry_after_http_date
                    else str(wait)
                )
                return Decision("rate_limited", delay, status=429, retry_after=value)
            window.append(now)
        if spec.error_rate and rng.random() < spec.error_rate:
            code = rng.choice((500, 502, 503, 504))
            html = rng.random() < spec.html_error_fraction
            return Decision("server_error", delay, status=code, html=html)
        if spec.bad_body_rate and rng.random() < spec.bad_body_rate:
            return Decision("bad_body", delay, truncate=rng.random() < 0.5)
        if spec.drop_after_rate and rng.random() < spec.drop_after_rate:
            return Decision("drop_after", delay)
        return Decision("none", delay)
