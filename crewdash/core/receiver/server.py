"""The webhook receiver: a small HTTP server inside the engine's event loop.

Deliveries only make updates arrive sooner (a poll is triggered at once); polling stays the
source of truth. Every route answers at once, refuses anything unauthenticated (401), too big
(413, 1 MiB) or malformed (400), and never lets a body crash it.

Routes (`<crew>` is the configured crew name):
- `POST /hooks/<crew>/human-input`   crew HITL, `Authorization: Bearer <receiver token>`
- `POST /hooks/<crew>/flow`          flow HITL, signed: X-CrewAI-Timestamp, X-CrewAI-Signature
                                     `sha256=<hex HMAC-SHA256(secret, "<ts>.<raw body>")>`
- `POST /hooks/<crew>/{task,step,crew}/<url token>`  per-kickoff webhooks; the URL token is an
                                     HMAC of the receiver token (the sender sends no header)
- `POST /hooks/<crew>/events`        event streaming `{"events": [...]}`, bearer
Hardening: a signed timestamp is an integer of seconds within the window, a signature is
accepted once (a replay cache as long as the window), every connection lives at most
`connection_timeout` seconds whatever it does (idle, slow headers, slow body), at most
`max_connections` are open, JSON deeper than `MAX_DEPTH` or with strings UTF-8 cannot carry (lone
surrogates) is refused before a handler sees it, and every refusal is one log line (reason,
peer, path; rate-limited), never a traceback.
Starlette and uvicorn are imported only when the receiver starts (FIELD-NOTES: import cost).
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import hmac
import json
import logging
import re
import secrets
import socket
import time
from collections import OrderedDict
from collections.abc import Callable, Iterator, Mapping
from datetime import datetime
from typing import Any

from crewdash.aop.models import HumanInputWebhook, Secret, Webhooks
from crewdash.aop.redact import redact_json
from crewdash.core.config.model import ReceiverConfig
from crewdash.core.timing import Clock, LoopClock

log = logging.getLogger(__name__)

MAX_BODY = 1024 * 1024
SIGNATURE_WINDOW = 300.0  # seconds a signed delivery stays valid
HOOK_KINDS = ("task", "step", "crew")
MAX_DEPTH = 32  # nesting of a delivery's JSON
CONNECTION_TIMEOUT = 10.0  # seconds a connection may live, whatever it does
KEEP_ALIVE = 5  # seconds an idle kept-alive connection waits for its next request
MAX_CONNECTIONS = 128  # open at once; more are closed at once
REPLAY_CAPACITY = 100_000  # signatures remembered; beyond, signed deliveries are refused (503)
_REFUSAL_LOG_RATE = 10  # refusal lines per second at most; the rest are counted
_TIMESTAMP = re.compile(r"[0-9]{1,11}")  # unix seconds, no sign, point, exponent or spaces

Handler = Callable[[str, Mapping[str, Any]], None]


def sign(secret: str, timestamp: str, body: bytes) -> str:
    """The `X-CrewAI-Signature` value for a body (used by tests and by a sender)."""
    mac = hmac.new(secret.encode(), timestamp.encode() + b"." + body, hashlib.sha256)
    return "sha256=" + mac.hexdigest()


def _timestamp(event: Mapping[str, Any]) -> float:
    """Sort key of a streamed event: unix seconds or ISO 8601; unknown sorts first."""
    value = event.get("timestamp")
    if isinstance(value, int | float) and not isinstance(value, bool):
        return float(value)
    if isinstance(value, str):
        with contextlib.suppress(ValueError):
            return datetime.fromisoformat(value.replace("Z", "+00:00")).timestamp()
    return float("-inf")


def _check_tree(payload: Any) -> None:
    """Refuse JSON nested deeper than MAX_DEPTH or carrying strings (keys too) that UTF-8
    cannot encode (lone surrogates from `\\ud800` escapes): they would fail at the store."""
    stack: list[tuple[Any, int]] = [(payload, 1)]
    while stack:
        value, depth = stack.pop()
        if isinstance(value, str):
            try:
                value.encode("utf-8")
            except UnicodeEncodeError as exc:
                raise _Refused(400, "a string is not valid Unicode") from exc
        elif isinstance(value, dict | list):
            if depth > MAX_DEPTH:
                raise _Refused(400, f"JSON nested deeper than {MAX_DEPTH}")
            items = value.items() if isinstance(value, dict) else enumerate(value)
            for key, child in items:
                if isinstance(key, str):
                    stack.append((key, depth))
                stack.append((child, depth + 1))


def _shown_path(path: str) -> str:
    """A request path as a log line may show it: the URL token of a per-kickoff hook masked."""
    parts = path.split("/")
    if len(parts) >= 5 and parts[1] == "hooks":
        parts[4:] = ["****"]
    return "/".join(parts)[:200]


class _RefusalLog:
    """One warning line per refusal, at most `rate` a second; the rest are counted and
    reported with the next line that gets through."""

    def __init__(self, rate: int = _REFUSAL_LOG_RATE) -> None:
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
        log.warning(
            "webhook refused: %s (peer %s, %s %s)%s", reason, peer, method, _shown_path(path), more
        )


class _NoTracebacks(logging.Filter):
    """uvicorn logs a malformed request or a protocol error with its traceback: keep the
    line, drop the traceback (it would land on the hosting command's stderr)."""

    def filter(self, record: logging.LogRecord) -> bool:
        record.exc_info = None
        record.exc_text = None
        return True


_NO_TRACEBACKS = _NoTracebacks()


class _Refused(Exception):
    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.message = message


class Receiver:
    """Build with the engine's handlers; `await start()`, `await stop()`."""

    def __init__(
        self,
        config: ReceiverConfig,
        *,
        on_crew_hitl: Handler,
        on_flow_hitl: Handler,
        on_delivery: Handler,
        crews: Callable[[], set[str]],
        clock: Clock | None = None,
        max_body: int = MAX_BODY,
        connection_timeout: float = CONNECTION_TIMEOUT,
        max_connections: int = MAX_CONNECTIONS,
    ) -> None:
        self.config = config
        self.on_crew_hitl = on_crew_hitl
        self.on_flow_hitl = on_flow_hitl
        self.on_delivery = on_delivery  # task/step/crew/stream delivery about a run
        self.crews = crews
        self.clock: Clock = clock or LoopClock()
        self.max_body = max_body
        self.connection_timeout = connection_timeout
        self.max_connections = max_connections
        self._seen_signatures: OrderedDict[str, float] = OrderedDict()  # signature -> expiry
        self._refusal_log = _RefusalLog()
        self.connections_closed_by_timeout = 0
        self.connections_refused = 0
        # Without a configured token, one for this session: a sender needs *some* secret.
        self.bearer: Secret = config.bearer_token or Secret(secrets.token_urlsafe(32))
        self.accepted = 0
        self.refused = 0
        self._server: Any = None
        self._task: asyncio.Task[None] | None = None
        self._sock: socket.socket | None = None
        self.port: int | None = None

    # --- what kickoffs advertise -----------------------------------------------------------

    @property
    def url(self) -> str | None:
        if self.port is None:
            return None
        return f"http://{self.config.host}:{self.port}"

    @property
    def public_url(self) -> str | None:
        base = self.config.public_url or self.url
        return base.rstrip("/") if base else None

    def url_token(self, crew: str, kind: str) -> str:
        mac = hmac.new(self.bearer.reveal().encode(), f"{crew}:{kind}".encode(), hashlib.sha256)
        return mac.hexdigest()[:32]

    def webhooks_for(self, crew: str) -> Webhooks | None:
        base = self.public_url
        if base is None:
            return None
        urls = {k: f"{base}/hooks/{crew}/{k}/{self.url_token(crew, k)}" for k in HOOK_KINDS}
        return Webhooks(task_url=urls["task"], step_url=urls["step"], crew_url=urls["crew"])

    def human_input_webhook_for(self, crew: str) -> HumanInputWebhook | None:
        base = self.public_url
        if base is None:
            return None
        return HumanInputWebhook(url=f"{base}/hooks/{crew}/human-input", token=self.bearer.reveal())

    # --- serving ---------------------------------------------------------------------------

    def build_app(self) -> Any:
        from starlette.applications import Starlette
        from starlette.requests import Request
        from starlette.responses import JSONResponse
        from starlette.routing import Route

        async def handle(request: Request) -> JSONResponse:
            try:
                status, body = await self._handle(request)
            except _Refused as exc:
                return self._refuse(request, exc.status, exc.message)
            except Exception as exc:
                # Whatever a body does, keep serving. A client gone mid-body, or a bug: one
                # line, never a traceback.
                return self._refuse(request, 400, f"could not handle this delivery ({exc!r:.80})")
            self.accepted += 1
            return JSONResponse(body, status_code=status)

        async def health(_request: Request) -> JSONResponse:
            return JSONResponse({"status": "ok"})

        return Starlette(
            routes=[
                Route("/", health, methods=["GET"]),
                Route("/hooks/{crew}/{kind}", handle, methods=["POST"]),
                Route("/hooks/{crew}/{kind}/{token}", handle, methods=["POST"]),
            ]
        )

    async def start(self) -> None:
        import uvicorn
        from uvicorn.protocols.http.h11_impl import H11Protocol

        started = asyncio.Event()

        class _Server(uvicorn.Server):
            @contextlib.contextmanager
            def capture_signals(self) -> Iterator[None]:
                yield  # the host application owns SIGINT/SIGTERM

            async def startup(self, sockets: list[socket.socket] | None = None) -> None:
                await super().startup(sockets=sockets)
                started.set()

        receiver = self

        class _Protocol(H11Protocol):
            """Caps open connections and closes any connection older than the timeout."""

            _expiry: asyncio.TimerHandle | None = None

            def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
                if len(self.connections) >= receiver.max_connections:
                    receiver.connections_refused += 1
                    transport.abort()
                    return
                super().connection_made(transport)
                self._expiry = self.loop.call_later(receiver.connection_timeout, self._expire)

            def _expire(self, deadline: float | None = None) -> None:
                # A request being answered may finish (its body is bounded by the app's own
                # timeout); an idle, slow-header or kept-alive connection goes now. Never past
                # twice the timeout.
                now = self.loop.time()
                deadline = deadline or now + receiver.connection_timeout
                busy = self.cycle is not None and not self.cycle.response_complete
                if busy and now < deadline:
                    self._expiry = self.loop.call_later(0.1, self._expire, deadline)
                    return
                receiver.connections_closed_by_timeout += 1
                self.transport.abort()

            def connection_lost(self, exc: Exception | None) -> None:
                if self.transport is None:  # refused in connection_made
                    return
                if self._expiry is not None:
                    self._expiry.cancel()
                super().connection_lost(exc)

        logger = logging.getLogger("uvicorn.error")
        if _NO_TRACEBACKS not in logger.filters:
            logger.addFilter(_NO_TRACEBACKS)
        sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM, socket.IPPROTO_TCP)
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            sock.bind((self.config.host, self.config.port))
            sock.listen(256)
        except OSError:
            sock.close()
            raise  # a taken port is the caller's to report; uvicorn would sys.exit
        sock.setblocking(False)
        self._sock = sock
        self.port = sock.getsockname()[1]
        cfg = uvicorn.Config(
            self.build_app(),
            log_config=None,
            access_log=False,
            lifespan="off",
            timeout_graceful_shutdown=2,
            http=_Protocol,
            ws="none",
            timeout_keep_alive=min(KEEP_ALIVE, max(1, int(self.connection_timeout))),
            # uvicorn counts connections too: above the cap (which refuses them first), so
            # it only answers 503 when more requests than that are being handled at once
            limit_concurrency=self.max_connections + 1,
            h11_max_incomplete_event_size=16 * 1024,  # request line and headers
        )
        self._server = _Server(cfg)
        self._task = asyncio.create_task(self._server.serve(sockets=[sock]), name="receiver")
        waiter = asyncio.ensure_future(started.wait())
        try:
            await asyncio.wait({waiter, self._task}, return_when=asyncio.FIRST_COMPLETED)
        finally:
            waiter.cancel()
        if not started.is_set():
            self._task.result()
            raise RuntimeError("the webhook receiver stopped during start-up")

    async def stop(self) -> None:
        if self._server is not None:
            self._server.should_exit = True
        if self._task is not None:
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
        if self._sock is not None:
            self._sock.close()
        self._server = self._task = self._sock = None

    # --- one delivery ----------------------------------------------------------------------

    def _refuse(self, request: Any, status: int, reason: str) -> Any:
        from starlette.responses import JSONResponse

        self.refused += 1
        client = request.client
        peer = f"{client.host}:{client.port}" if client else "?"
        self._refusal_log(reason, peer, request.method, request.url.path)
        return JSONResponse({"error": reason}, status_code=status)

    def _first_delivery(self, signature: str) -> None:
        """Remember a verified signature for as long as its timestamp could pass the window;
        a second delivery with it is a replay."""
        now = time.monotonic()
        seen = self._seen_signatures
        while seen and next(iter(seen.values())) <= now:
            seen.popitem(last=False)
        if signature in seen:
            raise _Refused(409, "replayed delivery (this signature was already accepted)")
        if len(seen) >= REPLAY_CAPACITY:
            raise _Refused(503, "too many signed deliveries in the window; try again later")
        seen[signature] = now + 2 * SIGNATURE_WINDOW  # a timestamp may be ahead by the window

    async def _read_body(self, request: Any) -> bytes:
        length = request.headers.get("content-length")
        if length is not None:
            try:
                if int(length) > self.max_body:
                    raise _Refused(413, "body too large")
            except ValueError as exc:
                raise _Refused(400, "bad Content-Length") from exc
        chunks: list[bytes] = []
        size = 0
        try:
            async with asyncio.timeout(self.connection_timeout / 2):  # a slow body
                async for chunk in request.stream():
                    size += len(chunk)
                    if size > self.max_body:
                        raise _Refused(413, "body too large")
                    chunks.append(chunk)
        except TimeoutError as exc:
            raise _Refused(408, "the body came too slowly") from exc
        return b"".join(chunks)

    def _check_bearer(self, request: Any) -> None:
        header = request.headers.get("authorization", "")
        scheme, _, token = header.partition(" ")
        expected = self.bearer.reveal().encode()
        if scheme.lower() != "bearer" or not hmac.compare_digest(token.strip().encode(), expected):
            raise _Refused(401, "missing or wrong bearer token")

    def _check_signature(self, request: Any, body: bytes) -> None:
        secret = self.config.flow_secret
        if secret is None:
            raise _Refused(401, "no flow secret is configured: signed deliveries are refused")
        ts = request.headers.get("x-crewai-timestamp", "")
        given = request.headers.get("x-crewai-signature", "")
        if _TIMESTAMP.fullmatch(ts) is None:  # nan, inf, 1e9, 1.5, " 1", "+1", huge: refused
            raise _Refused(401, "missing or bad X-CrewAI-Timestamp (integer seconds expected)")
        if abs(self.clock.time() - int(ts)) > SIGNATURE_WINDOW:
            raise _Refused(401, "timestamp outside the 5-minute window")
        expected = sign(secret.reveal(), ts, body)
        if not hmac.compare_digest(given.encode(), expected.encode()):
            raise _Refused(401, "bad signature")
        self._first_delivery(expected)

    @staticmethod
    def _json_object(body: bytes) -> dict[str, Any]:
        """The body as a JSON object, sane (depth, strings) and redacted of every token this
        process holds (a sender may echo one), or refused with 400."""
        try:
            payload = json.loads(body)
        except (ValueError, RecursionError) as exc:  # UnicodeDecodeError is a ValueError
            raise _Refused(400, "body is not JSON") from exc
        if not isinstance(payload, dict):
            raise _Refused(400, "body is not a JSON object")
        _check_tree(payload)
        return redact_json(payload)  # type: ignore[no-any-return]

    async def _handle(self, request: Any) -> tuple[int, dict[str, Any]]:
        crew = request.path_params["crew"]
        kind = request.path_params["kind"]
        token = request.path_params.get("token")
        # Authentication is checked before the body is even read where it can be.
        if kind in ("human-input", "events"):
            self._check_bearer(request)
        elif kind in HOOK_KINDS:
            expected = self.url_token(crew, kind).encode()
            if token is None or not hmac.compare_digest(token.encode(), expected):
                raise _Refused(401, "wrong webhook URL token")
        elif kind != "flow":
            raise _Refused(404, "no such webhook route")
        body = await self._read_body(request)
        if kind == "flow":
            self._check_signature(request, body)
        if crew not in self.crews():
            raise _Refused(404, "no such crew")
        payload = self._json_object(body)
        if kind == "human-input":
            self.on_crew_hitl(crew, payload)
            return 202, {"status": "queued"}
        if kind == "flow":
            self.on_flow_hitl(crew, payload)
            return 202, {"status": "queued"}
        if kind == "events":
            events = payload.get("events")
            if not isinstance(events, list) or not all(isinstance(e, dict) for e in events):
                raise _Refused(400, "`events` must be a list of objects")
            for event in sorted(events, key=_timestamp):
                data = event.get("data") if isinstance(event.get("data"), dict) else {}
                merged = {**data, "type": event.get("type"), "timestamp": event.get("timestamp")}
                merged.setdefault("kickoff_id", event.get("execution_id"))
                self.on_delivery(crew, merged)
            return 200, {"status": "ok", "events": len(events)}
        self.on_delivery(crew, {**payload, "webhook": kind})
        return 200, {"status": "ok"}
