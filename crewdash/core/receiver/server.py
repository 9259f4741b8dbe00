"""The webhook receiver: a small HTTP server inside the engine's event loop.

Deliveries make updates arrive sooner (a poll is triggered at once); polling stays the
source of truth. Step, task and crew deliveries are also kept as the run's event stream (the
engine's `on_delivery`: crewdash.core.runs.event_stream). Every route answers at once,
refuses anything unauthenticated (401), too big (413, 1 MiB) or malformed (400), and never
lets a body crash it.

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
Starlette and uvicorn are imported only when the receiver starts (docs/field-notes.md#import-cost).
The checks are in `crewdash.core.receiver.checks`, the HTTP server in `.transport`.
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import hmac
import logging
import secrets
import socket
from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING, Any

from crewdash.aop.models import HumanInputWebhook, Secret, Webhooks
from crewdash.core.config.model import ReceiverConfig
from crewdash.core.receiver.checks import (
    RefusalLog,
    Refused,
    ReplayCache,
    check_bearer,
    check_signature,
    event_time,
    json_object,
    read_body,
    sign,
)
from crewdash.core.receiver.transport import bind, make_server
from crewdash.core.timing import Clock, LoopClock

if TYPE_CHECKING:  # starlette and uvicorn load only when the receiver starts (import cost)
    import uvicorn
    from starlette.applications import Starlette
    from starlette.requests import Request
    from starlette.responses import JSONResponse

# `sign` is importable from here as before (tests and senders use it).
__all__ = ["Receiver", "sign"]

log = logging.getLogger(__name__)  # the refusal lines (tests read this logger's name)

MAX_BODY = 1024 * 1024
HOOK_KINDS = ("task", "step", "crew")
CONNECTION_TIMEOUT = 10.0  # seconds a connection may live, whatever it does
MAX_CONNECTIONS = 128  # open at once; more are closed at once

Handler = Callable[[str, Mapping[str, Any]], None]


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
        self._replays = ReplayCache()
        self._refusal_log = RefusalLog(log)
        self.connections_closed_by_timeout = 0
        self.connections_refused = 0
        # Without a configured token, one for this session: a sender needs *some* secret.
        self.bearer: Secret = config.bearer_token or Secret(secrets.token_urlsafe(32))
        self.accepted = 0
        self.refused = 0
        self._server: uvicorn.Server | None = None
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

    def build_app(self) -> Starlette:
        from starlette.applications import Starlette
        from starlette.responses import JSONResponse
        from starlette.routing import Route

        async def handle(request: Request) -> JSONResponse:
            try:
                status, body = await self._handle(request)
            except Refused as exc:
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
        """Bind the port (OSError when it is taken), serve, and return once serving."""
        sock = bind(self.config.host, self.config.port)
        self._sock = sock
        self.port = sock.getsockname()[1]
        server, started = make_server(self.build_app(), self)
        self._server = server
        self._task = asyncio.create_task(server.serve(sockets=[sock]), name="receiver")
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

    def _refuse(self, request: Request, status: int, reason: str) -> JSONResponse:
        from starlette.responses import JSONResponse

        self.refused += 1
        client = request.client
        peer = f"{client.host}:{client.port}" if client else "?"
        self._refusal_log(reason, peer, request.method, request.url.path)
        return JSONResponse({"error": reason}, status_code=status)

    def _authenticate(self, request: Request, crew: str, kind: str) -> None:
        """Authentication is checked before the body is even read where it can be."""
        if kind in ("human-input", "events"):
            check_bearer(request, self.bearer)
        elif kind in HOOK_KINDS:
            token = request.path_params.get("token")
            expected = self.url_token(crew, kind).encode()
            if token is None or not hmac.compare_digest(token.encode(), expected):
                raise Refused(401, "wrong webhook URL token")
        elif kind != "flow":
            raise Refused(404, "no such webhook route")

    async def _handle(self, request: Request) -> tuple[int, dict[str, Any]]:
        crew: str = request.path_params["crew"]
        kind: str = request.path_params["kind"]
        self._authenticate(request, crew, kind)
        body = await read_body(request, self.max_body, self.connection_timeout / 2)
        if kind == "flow":
            check_signature(
                request, body, self.config.flow_secret, self.clock.time(), self._replays
            )
        if crew not in self.crews():
            raise Refused(404, "no such crew")
        payload = json_object(body)
        if kind == "human-input":
            self.on_crew_hitl(crew, payload)
            return 202, {"status": "queued"}
        if kind == "flow":
            self.on_flow_hitl(crew, payload)
            return 202, {"status": "queued"}
        if kind == "events":
            return 200, {"status": "ok", "events": self._stream(crew, payload)}
        self.on_delivery(crew, {**payload, "webhook": kind})
        return 200, {"status": "ok"}

    def _stream(self, crew: str, payload: Mapping[str, Any]) -> int:
        """Hand each streamed event, oldest first, to `on_delivery`; how many there were."""
        events = payload.get("events")
        if not isinstance(events, list) or not all(isinstance(e, dict) for e in events):
            raise Refused(400, "`events` must be a list of objects")
        for event in sorted(events, key=event_time):
            data = event.get("data") if isinstance(event.get("data"), dict) else {}
            merged = {**data, "type": event.get("type"), "timestamp": event.get("timestamp")}
            merged.setdefault("kickoff_id", event.get("execution_id"))
            self.on_delivery(crew, merged)
        return len(events)
