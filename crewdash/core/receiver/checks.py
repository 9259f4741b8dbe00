"""What a delivery must pass before a handler sees it: its size and pace, its bearer token or
signature (once: a replay cache), a sane JSON object; and how refusals are logged. See
`crewdash.core.receiver.server` for the routes."""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import hmac
import json
import logging
import re
import time
from collections import OrderedDict
from collections.abc import Mapping
from datetime import datetime
from typing import TYPE_CHECKING, Any

from crewdash.aop.models import Secret
from crewdash.aop.redact import redact_json

if TYPE_CHECKING:  # starlette loads only when the receiver starts (import cost)
    from starlette.requests import Request

SIGNATURE_WINDOW = 300.0  # seconds a signed delivery stays valid
MAX_DEPTH = 32  # nesting of a delivery's JSON
REPLAY_CAPACITY = 100_000  # signatures remembered; beyond, signed deliveries are refused (503)
REFUSAL_LOG_RATE = 10  # refusal lines per second at most; the rest are counted
_TIMESTAMP = re.compile(r"[0-9]{1,11}")  # unix seconds, no sign, point, exponent or spaces


class Refused(Exception):
    """A delivery refused: the HTTP status and the reason (one log line, the JSON error)."""

    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.message = message


def sign(secret: str, timestamp: str, body: bytes) -> str:
    """The `X-CrewAI-Signature` value for a body (used by tests and by a sender)."""
    mac = hmac.new(secret.encode(), timestamp.encode() + b"." + body, hashlib.sha256)
    return "sha256=" + mac.hexdigest()


def event_time(event: Mapping[str, Any]) -> float:
    """Sort key of a streamed event: unix seconds or ISO 8601; unknown sorts first."""
    value = event.get("timestamp")
    if isinstance(value, int | float) and not isinstance(value, bool):
        return float(value)
    if isinstance(value, str):
        with contextlib.suppress(ValueError):
            return datetime.fromisoformat(value.replace("Z", "+00:00")).timestamp()
    return float("-inf")


def check_tree(payload: Any) -> None:
    """Refuse JSON nested deeper than MAX_DEPTH or carrying strings (keys too) that UTF-8
    cannot encode (lone surrogates from `\\ud800` escapes): they would fail at the store."""
    stack: list[tuple[Any, int]] = [(payload, 1)]
    while stack:
        value, depth = stack.pop()
        if isinstance(value, str):
            try:
                value.encode("utf-8")
            except UnicodeEncodeError as exc:
                raise Refused(400, "a string is not valid Unicode") from exc
        elif isinstance(value, dict | list):
            if depth > MAX_DEPTH:
                raise Refused(400, f"JSON nested deeper than {MAX_DEPTH}")
            items = value.items() if isinstance(value, dict) else enumerate(value)
            for key, child in items:
                if isinstance(key, str):
                    stack.append((key, depth))
                stack.append((child, depth + 1))


def json_object(body: bytes) -> dict[str, Any]:
    """The body as a JSON object, sane (depth, strings) and redacted of every token this
    process holds (a sender may echo one), or refused with 400."""
    try:
        payload = json.loads(body)
    except (ValueError, RecursionError) as exc:  # UnicodeDecodeError is a ValueError
        raise Refused(400, "body is not JSON") from exc
    if not isinstance(payload, dict):
        raise Refused(400, "body is not a JSON object")
    check_tree(payload)
    redacted: dict[str, Any] = redact_json(payload)
    return redacted


async def read_body(request: Request, max_body: int, slow_after: float) -> bytes:
    """The body, refused when it is (or says it is) over `max_body`, or comes too slowly."""
    length = request.headers.get("content-length")
    if length is not None:
        try:
            if int(length) > max_body:
                raise Refused(413, "body too large")
        except ValueError as exc:
            raise Refused(400, "bad Content-Length") from exc
    chunks: list[bytes] = []
    size = 0
    try:
        async with asyncio.timeout(slow_after):  # a slow body
            async for chunk in request.stream():
                size += len(chunk)
                if size > max_body:
                    raise Refused(413, "body too large")
                chunks.append(chunk)
    except TimeoutError as exc:
        raise Refused(408, "the body came too slowly") from exc
    return b"".join(chunks)


def check_bearer(request: Request, bearer: Secret) -> None:
    header = request.headers.get("authorization", "")
    scheme, _, token = header.partition(" ")
    expected = bearer.reveal().encode()
    if scheme.lower() != "bearer" or not hmac.compare_digest(token.strip().encode(), expected):
        raise Refused(401, "missing or wrong bearer token")


class ReplayCache:
    """The signatures accepted within the window: a second delivery with one is a replay."""

    def __init__(self, capacity: int = REPLAY_CAPACITY) -> None:
        self.capacity = capacity
        self._seen: OrderedDict[str, float] = OrderedDict()  # signature -> expiry

    def first(self, signature: str) -> None:
        """Remember a verified signature for as long as its timestamp could pass the window;
        refuse it when it was seen already."""
        now = time.monotonic()
        seen = self._seen
        while seen and next(iter(seen.values())) <= now:
            seen.popitem(last=False)
        if signature in seen:
            raise Refused(409, "replayed delivery (this signature was already accepted)")
        if len(seen) >= self.capacity:
            raise Refused(503, "too many signed deliveries in the window; try again later")
        seen[signature] = now + 2 * SIGNATURE_WINDOW  # a timestamp may be ahead by the window


def check_signature(
    request: Request, body: bytes, secret: Secret | None, now: float, replays: ReplayCache
) -> None:
    """A signed flow delivery: a configured secret, an integer timestamp within the window,
    the right HMAC, never seen before."""
    if secret is None:
        raise Refused(401, "no flow secret is configured: signed deliveries are refused")
    ts = request.headers.get("x-crewai-timestamp", "")
    given = request.headers.get("x-crewai-signature", "")
    if _TIMESTAMP.fullmatch(ts) is None:  # nan, inf, 1e9, 1.5, " 1", "+1", huge: refused
        raise Refused(401, "missing or bad X-CrewAI-Timestamp (integer seconds expected)")
    if abs(now - int(ts)) > SIGNATURE_WINDOW:
        raise Refused(401, "timestamp outside the 5-minute window")
    expected = sign(secret.reveal(), ts, body)
    if not hmac.compare_digest(given.encode(), expected.encode()):
        raise Refused(401, "bad signature")
    replays.first(expected)


def shown_path(path: str) -> str:
    """A request path as a log line may show it: the URL token of a per-kickoff hook masked."""
    parts = path.split("/")
    if len(parts) >= 5 and parts[1] == "hooks":
        parts[4:] = ["****"]
    return "/".join(parts)[:200]


class RefusalLog:
    """One warning line per refusal, at most `rate` a second; the rest are counted and
    reported with the next line that gets through."""

    def __init__(self, log: logging.Logger, rate: int = REFUSAL_LOG_RATE) -> None:
        self.log = log
        self.rate = rate
        self._second = 0
        self._lines = 0
        self.suppressed = 0

    def __call__(self, reason: str, peer: str, method: str, path: str) -> None:
        now = int(time.monotonic())
        if now != self._second:
            self._second, self._lines = now, 0
        if self._lines >= self.rate:
            self.suppressed += 1
            return
        self._lines += 1
        more = f" ({self.suppressed} more refusals not logged)" if self.suppressed else ""
        self.suppressed = 0
        self.log.warning(
            "webhook refused: %s (peer %s, %s %s)%s", reason, peer, method, shown_path(path), more
        )
