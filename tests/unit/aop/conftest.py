"""Fakes for the client's unit tests: a clock that never sleeps and a scripted server."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any

import httpx
import pytest

TOKEN = "tok-SECRET-0123456789abcdef"
BASE = "https://crew.example.com/prefix"

Answer = httpx.Response | Exception | Callable[[httpx.Request], httpx.Response]


class FakeClock:
    """Monotonic and wall time that move only when slept on or advanced."""

    def __init__(self) -> None:
        self.now = 100.0
        self.wall_offset = 1_700_000_000.0
        self.sleeps: list[float] = []

    def monotonic(self) -> float:
        return self.now

    def time(self) -> float:
        return self.wall_offset + self.now

    def advance(self, seconds: float) -> None:
        self.now += seconds

    async def sleep(self, seconds: float) -> None:
        self.blocking_sleep(seconds)

    def blocking_sleep(self, seconds: float) -> None:
        self.sleeps.append(seconds)
        self.advance(seconds)


class Server:
    """Answers by path from a script; an answer list is consumed one per request (the last
    one repeats). Records every request."""

    def __init__(self, routes: dict[str, Answer | list[Answer]]) -> None:
        self.routes = {path: list(a) if isinstance(a, list) else [a] for path, a in routes.items()}
        self.requests: list[httpx.Request] = []

    def paths(self) -> list[str]:
        return [f"{r.method} {r.url.raw_path.decode()}" for r in self.requests]

    def __call__(self, request: httpx.Request) -> httpx.Response:
        self.requests.append(request)
        answers = self.routes.get(request.url.raw_path.decode().split("?")[0])
        if not answers:
            return httpx.Response(404, json={"detail": "Not Found"})
        answer = answers.pop(0) if len(answers) > 1 else answers[0]
        if isinstance(answer, Exception):
            raise answer
        if callable(answer) and not isinstance(answer, httpx.Response):
            return answer(request)
        return answer

    def transport(self) -> httpx.MockTransport:
        return httpx.MockTransport(self)


def json_response(
    status: int, body: Any, headers: Iterable[tuple[str, str]] = ()
) -> httpx.Response:
    return httpx.Response(status, json=body, headers=list(headers))


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()
