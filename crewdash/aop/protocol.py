"""The client's logic without I/O ("sans-I/O"): every operation is a *plan*, a generator that
yields steps — `Send(request)` or `Sleep(seconds)` — and receives each step's outcome (an
`httpx.Response`, or the `AOPError` a transport failure became). Retry, backoff, the circuit
breaker, status-route detection and parsing all live here once; `AsyncCrewClient` and
`CrewClient` are thin drivers that perform the steps with an async or a blocking transport.
"""

from __future__ import annotations

import functools
import logging
import ssl
from collections.abc import Callable, Generator, Mapping
from dataclasses import dataclass
from typing import Any, Generic, Protocol, TypeVar
from urllib.parse import urlsplit

import httpx

from crewdash.aop import calls
from crewdash.aop.calls import Call
from crewdash.aop.classify import error_for_exception, error_for_response, where
from crewdash.aop.clock import Clock, SystemClock
from crewdash.aop.errors import (
    AOPError,
    CircuitOpenError,
    ConnectionFailedError,
    NotFoundError,
    ProtocolError,
    RateLimitedError,
    RequestTimeoutError,
    ServerError,
    UnsupportedError,
)
from crewdash.aop.models import (
    CircuitState,
    HumanInputWebhook,
    InputSpec,
    ResumeResult,
    RunStatus,
    Secret,
    StatusRoute,
    Webhooks,
)
from crewdash.aop.parse import decode_json, parse_inputs, parse_kickoff, parse_resume, parse_status
from crewdash.aop.redact import describe_url, guard_httpx_logs, may_hold_secret, redact_json
from crewdash.aop.resilience import CircuitBreaker, RetryPolicy

log = logging.getLogger("crewdash.aop")

T = TypeVar("T")
TransportT = TypeVar("TransportT")

#: failures that say the crew (or the way to it) is unwell; they count against the breaker
_CREW_TROUBLE = (ServerError, RequestTimeoutError, ConnectionFailedError)
_RETRYABLE = (*_CREW_TROUBLE, RateLimitedError)
_URLS_KEPT = 4096  # parsed request URLs, and GET requests, kept per client (`_request`)


def _kept(cache: dict[str, T], url: str, make: Callable[[], T]) -> T:
    """`cache[url]`, made by `make()` the first time; past _URLS_KEPT entries the cache is
    emptied and starts again (a bound, cheaper than an LRU on every poll)."""
    kept = cache.get(url)
    if kept is None:
        if len(cache) >= _URLS_KEPT:
            cache.clear()
        kept = cache[url] = make()
    return kept


class Pacer(Protocol):
    """The crew's request pace, shared with whatever else talks to the crew (crewdash's
    `core.runs.pacer.Pacer` is one): the async client waits for its turn before each request
    and tells it about every 429."""

    async def wait(self) -> float | None: ...

    def learn_429(
        self, retry_after: float | None, sent_at: float | None = None
    ) -> float | None: ...


@dataclass(frozen=True, slots=True)
class Send:
    request: httpx.Request
    call: Call


@dataclass(frozen=True, slots=True)
class Sleep:
    seconds: float


Step = Send | Sleep
Outcome = httpx.Response | AOPError | None  # None answers a Sleep
Plan = Generator[Step, Outcome, T]


@functools.cache
def shared_ssl_context() -> ssl.SSLContext:
    """The TLS context every client uses, built once per process on first use: httpx would
    build one per client (loading the CA bundle, ~20 ms of blocked event loop each). Made as
    httpx makes its default (certifi, or SSL_CERT_FILE / SSL_CERT_DIR when set)."""
    return httpx.create_ssl_context()


def _base_url(base_url: str) -> str:
    parts = urlsplit(base_url.strip())
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise ValueError(f"not an http(s) base URL: {describe_url(base_url)!r}")
    return base_url.strip().rstrip("/")


class CrewProtocol(Generic[TransportT]):
    """Configuration, learnt state and the plans of every operation, shared by both clients.
    A driver subclass supplies `_open(transport)` (its httpx client) and runs the plans."""

    def __init__(
        self,
        base_url: str,
        token: str | Secret,
        *,
        connect_timeout: float = 5.0,
        read_timeout: float = 30.0,
        retry: RetryPolicy | None = None,
        breaker: CircuitBreaker | None = None,
        clock: Clock | None = None,
        transport: TransportT | None = None,
        status_route: StatusRoute | None = None,
        pacer: Pacer | None = None,
    ) -> None:
        self.base_url = _base_url(base_url)
        self._own_prefix = self.base_url + "/"
        self.pacer = pacer
        self._secret = token if isinstance(token, Secret) else Secret(token)
        self.connect_timeout = connect_timeout
        self.read_timeout = read_timeout
        self._timeout = httpx.Timeout(
            connect=connect_timeout, read=read_timeout, write=read_timeout, pool=connect_timeout
        ).as_dict()
        self.retry = retry or RetryPolicy()
        self.clock: Clock = clock or SystemClock()
        self._breaker = breaker or CircuitBreaker(clock=self.clock)
        self._status_route = status_route
        self._http = self._open(transport)
        self._parsed: dict[str, httpx.URL] = {}  # see `_build`
        self._kept: dict[str, httpx.Request] = {}  # GETs, by URL (see `_request`)
        guard_httpx_logs()

    def _open(self, transport: TransportT | None) -> Any:
        raise NotImplementedError

    @property
    def status_route(self) -> StatusRoute | None:
        """The status route this deployment answered; None until one status call succeeded."""
        return self._status_route

    @property
    def breaker(self) -> CircuitBreaker:
        return self._breaker

    def __repr__(self) -> str:
        route = self._status_route.value if self._status_route else None
        return (
            f"{type(self).__name__}(base_url={describe_url(self.base_url)!r}, "
            f"status_route={route}, breaker={self._breaker.state.value})"
        )

    # -- one exchange, with retries and the breaker ------------------------------------------

    def _url(self, call: Call) -> str:
        return call.path if call.absolute else self.base_url + call.path

    def _sends_token(self, url: str) -> bool:
        """The crew token goes to the crew, and to other hosts only over https."""
        if url.startswith(self._own_prefix):  # under the base URL (every call but a callback)
            return True
        target, own = urlsplit(url), urlsplit(self.base_url)
        return target.scheme == "https" or target.netloc == own.netloc

    def _request(self, call: Call) -> httpx.Request:
        url = self._url(call)
        if call.method != "GET" or call.body is not None:
            return self._build(call, url)
        # A GET carries nothing but its URL and this client's headers: a run polled again is
        # sent the request built the first time (building httpx's Request and Headers was ~10%
        # of the client's CPU per status call, measured). Nothing along the way changes it.
        return _kept(self._kept, url, lambda: self._build(call, url))

    def _build(self, call: Call, url: str) -> httpx.Request:
        headers = {"Accept": "application/json"}
        if self._sends_token(url):
            headers["Authorization"] = f"Bearer {self._secret.reveal()}"
        # A run's status URL is parsed once, not on every poll (~0.15 ms a request, measured
        # on the idle dashboard's engine thread); the URLs hold no secret.
        return httpx.Request(
            call.method,
            _kept(self._parsed, url, lambda: httpx.URL(url)),
            json=call.body,
            headers=headers,
            extensions={"timeout": self._timeout},
        )

    def _failed(self, step: Send, exc: Exception) -> AOPError:
        """What a driver returns as the outcome when its transport raised."""
        return error_for_exception(
            exc,
            where(step.call, str(step.request.url)),
            self._secret,
            connect_timeout=self.connect_timeout,
            read_timeout=self.read_timeout,
        )

    def _retry_delay(self, error: AOPError, call: Call, attempt: int) -> float | None:
        if self._breaker.state is CircuitState.OPEN:
            return None
        unreadable = isinstance(error, ProtocolError) and error.unreadable
        if not isinstance(error, _RETRYABLE) and not (unreadable and call.idempotent):
            return None
        if not call.idempotent and getattr(error, "may_have_reached_server", True):
            return None  # a POST that may have arrived must not be sent twice
        return self.retry.delay(attempt, getattr(error, "retry_after", None))

    def _exchange(
        self, call: Call, check: Callable[[httpx.Response], AOPError | None] | None = None
    ) -> Plan[tuple[httpx.Response, float]]:
        """Send `call` until it succeeds or may not be retried; the response and its latency.
        `check` may find fault with a 2xx answer (an unreadable body): an idempotent call is
        then sent again like after a 5xx."""
        url = self._url(call)
        named = where(call, url)
        attempt = 0
        while True:
            attempt += 1
            if not self._breaker.allow():
                wait = self._breaker.retry_in()
                raise CircuitOpenError(
                    f"{named}: not sent, the crew failed {self._breaker.failure_threshold} times "
                    f"in a row; crewdash tries again in {wait:.0f} s.",
                    retry_in=wait,
                )
            started = self.clock.monotonic()
            try:
                outcome = yield Send(self._request(call), call)
            except GeneratorExit:  # the driver was cancelled mid-request
                self._breaker.release()
                raise
            elapsed = self.clock.monotonic() - started
            assert outcome is not None, "a driver answers a Send with a response or an error"
            if isinstance(outcome, httpx.Response):
                error = error_for_response(outcome, call, named, self._secret, self.clock.time())
                if error is None and check is not None:
                    error = check(outcome)
                if error is None:
                    self._breaker.record_success()
                    return outcome, elapsed
            else:
                error = outcome
            if isinstance(error, _CREW_TROUBLE) or (
                isinstance(error, ProtocolError) and error.unreadable
            ):
                self._breaker.record_failure()
            else:
                self._breaker.record_success()  # the crew answered; the request was the problem
            delay = self._retry_delay(error, call, attempt)
            if delay is None:
                raise error
            log.info("retrying %s in %.2f s (attempt %d): %s", named, delay, attempt + 1, error)
            yield Sleep(delay)

    def _json(self, call: Call) -> Plan[Any]:
        named = where(call, self._url(call))
        decoded: list[Any] = []

        def check(response: httpx.Response) -> AOPError | None:
            try:
                decoded[:] = [decode_json(response.content, named), response.content]
            except ProtocolError as exc:
                return exc
            return None

        yield from self._exchange(call, check)
        body, content = decoded
        if not may_hold_secret(content):  # the crew's token is a known one
            return body  # as redact_json would give it, without walking it (most answers)
        return redact_json(body, self._secret)  # nothing the server sent keeps a token

    # -- the operations ------------------------------------------------------------------------

    def _health(self) -> Plan[float]:
        _, elapsed = yield from self._exchange(calls.health_call())
        return elapsed

    def _inputs(self) -> Plan[list[InputSpec]]:
        return parse_inputs((yield from self._json(calls.inputs_call())))

    def _kickoff(
        self,
        inputs: Mapping[str, Any],
        meta: Mapping[str, Any] | None,
        webhooks: Webhooks | None,
        human_input_webhook: HumanInputWebhook | None,
    ) -> Plan[str]:
        call = calls.kickoff_call(
            inputs, meta=meta, webhooks=webhooks, human_input_webhook=human_input_webhook
        )
        return parse_kickoff((yield from self._json(call)))

    def _status(self, kickoff_id: str) -> Plan[RunStatus]:
        """The learnt route first, then the other on 404/405; remember the one that answers."""
        first = self._status_route or StatusRoute.CURRENT
        other = StatusRoute.LEGACY if first is StatusRoute.CURRENT else StatusRoute.CURRENT
        for route in (first, other):
            try:
                body = yield from self._json(calls.status_call(route, kickoff_id))
            except (NotFoundError, UnsupportedError) as exc:
                if exc.status_code not in (404, 405):
                    raise
                continue
            self._status_route = route
            return parse_status(body)
        raise NotFoundError(
            f"run {kickoff_id!r} is unknown or has expired on {describe_url(self.base_url)} "
            "(neither /status/{id} nor /{id}/status knows it).",
            status_code=404,
        )

    def _resume(
        self, kickoff_id: str, task_id: str, feedback: str, approve: bool, webhooks: Webhooks | None
    ) -> Plan[ResumeResult]:
        call = calls.resume_call(kickoff_id, task_id, feedback, approve, webhooks)
        return parse_resume((yield from self._json(call)))

    def _stop(self, kickoff_id: str) -> Plan[None]:
        yield from self._exchange(calls.stop_call(kickoff_id))

    def _answer_callback(self, callback_url: str, feedback: str) -> Plan[None]:
        parts = urlsplit(callback_url)
        if parts.scheme not in ("http", "https") or not parts.hostname:
            raise ProtocolError(
                f"the callback URL {describe_url(callback_url)!r} is not an http(s) URL; "
                "answer this request in the CrewAI dashboard instead."
            )
        yield from self._exchange(calls.callback_call(callback_url, feedback))
