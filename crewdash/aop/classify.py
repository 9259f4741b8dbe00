"""From an HTTP answer or a transport failure to an error of the taxonomy. No I/O.

Messages name the request (method and URL without credentials or query) and say what to do.
Text the server sent is scrubbed of the token before it is quoted."""

from __future__ import annotations

from email.utils import parsedate_to_datetime

import httpx

from crewdash.aop.calls import Call
from crewdash.aop.errors import (
    AOPError,
    AuthenticationError,
    ConnectionFailedError,
    NotFoundError,
    ProtocolError,
    RateLimitedError,
    RequestTimeoutError,
    ServerError,
    UnsupportedError,
    ValidationError,
)
from crewdash.aop.models import Secret
from crewdash.aop.parse import parse_error_body
from crewdash.aop.redact import describe_url, redact

_QUOTE_LIMIT = 300


def parse_retry_after(value: str | None, now: float) -> float | None:
    """Retry-After as seconds to wait: delta-seconds or an HTTP date (relative to `now`)."""
    if value is None:
        return None
    value = value.strip()
    try:
        seconds = float(value)
    except ValueError:
        try:
            when = parsedate_to_datetime(value)
        except (TypeError, ValueError, IndexError, OverflowError):
            return None
        if when.tzinfo is None:  # an HTTP date is GMT by definition
            return None
        seconds = when.timestamp() - now
    if seconds != seconds or seconds in (float("inf"), float("-inf")):
        return None
    return max(0.0, seconds)


def _server_says(response: httpx.Response, secret: Secret | None) -> tuple[str, tuple[str, ...]]:
    message, missing = parse_error_body(response.content)
    missing = tuple(redact(name, secret) for name in missing)
    if not message:
        return "", missing
    message = redact(" ".join(message.split()), secret)
    if len(message) > _QUOTE_LIMIT:
        message = message[:_QUOTE_LIMIT] + "…"
    return f' The server said: "{message}".', missing


def error_for_response(
    response: httpx.Response, call: Call, where: str, secret: Secret | None, now: float
) -> AOPError | None:
    """None for a 2xx answer; otherwise the error it means for this call."""
    code = response.status_code
    if 200 <= code < 300:
        return None
    says, missing = _server_says(response, secret)
    meaning = (call.meanings or {}).get(code)
    if meaning is not None:
        cls, words = meaning
        return cls(f"{where} answered HTTP {code}: {words}.{says}", status_code=code)
    if code in (401, 403):
        return AuthenticationError(
            f"{where} refused the token (HTTP {code}): it is wrong, revoked or lacks access to "
            f"this crew.{says} Set the right token for this crew in the config; crewdash will "
            "not retry with this one.",
            status_code=code,
        )
    if code == 404:
        return NotFoundError(
            f"{where} answered HTTP 404: nothing there. A run that is unknown or has expired on "
            f"the server answers this; otherwise check the crew's base URL.{says}",
            status_code=code,
        )
    if code == 405:
        return UnsupportedError(
            f"{where} answered HTTP 405: this deployment does not offer that route.{says}",
            status_code=code,
        )
    if code in (400, 422):
        needs = f" Missing required inputs: {', '.join(missing)}." if missing else ""
        return ValidationError(
            f"{where} refused the request (HTTP {code}).{says}{needs} Correct the inputs and "
            "try again.",
            status_code=code,
            missing_inputs=missing,
        )
    if code == 429:
        delay = parse_retry_after(response.headers.get("Retry-After"), now)
        wait = f"it asked to wait {delay:.0f} s" if delay is not None else "slow down"
        return RateLimitedError(
            f"{where} is rate limited (HTTP 429): {wait}.{says}", retry_after=delay
        )
    if code >= 500:
        return ServerError(
            f"{where} failed on the server side (HTTP {code}).{says} The deployment or a proxy "
            "in front of it is in trouble; reads are retried, try again later.",
            status_code=code,
        )
    if 300 <= code < 400:
        target = describe_url(response.headers.get("Location", "")) or "nowhere"
        return ProtocolError(
            f"{where} redirected (HTTP {code}) to {target}. Check the crew's base URL (https? "
            "a login page in between?).",
            status_code=code,
        )
    return AOPError(f"{where} answered HTTP {code}.{says}", status_code=code)


#: transport failures, first match wins: (httpx types, error class, reached the server?, words)
_TransportError = type[ConnectionFailedError] | type[RequestTimeoutError]
_TRANSPORT_FAILURES: tuple[tuple[tuple[type[Exception], ...], _TransportError, bool, str], ...] = (
    (
        (httpx.ConnectTimeout,),
        ConnectionFailedError,
        False,
        "could not connect within {connect:g} s. Nothing was sent; check the network and the "
        "crew's URL.",
    ),
    (
        (httpx.PoolTimeout,),
        RequestTimeoutError,
        False,
        "no free connection within {connect:g} s; nothing was sent.",
    ),
    (
        (httpx.TimeoutException,),
        RequestTimeoutError,
        True,
        "no answer within {read:g} s. The request may have been received; for a kickoff, look "
        "at the run list before starting again.",
    ),
    (
        (httpx.ConnectError,),
        ConnectionFailedError,
        False,
        "could not connect ({detail}). The host is unreachable, its name does not resolve, or "
        "nothing listens on the port. Nothing was sent.",
    ),
    (
        (httpx.UnsupportedProtocol, httpx.InvalidURL),
        ConnectionFailedError,
        False,
        "not a usable http(s) URL ({detail}). Fix the crew's base URL.",
    ),
    (
        (Exception,),
        ConnectionFailedError,
        True,
        "the connection failed mid-request ({detail}). The request may have reached the server.",
    ),
)


def error_for_exception(
    exc: Exception,
    where: str,
    secret: Secret | None,
    *,
    connect_timeout: float,
    read_timeout: float,
) -> AOPError:
    """A transport failure as an error that knows whether the request may have been received
    (False only when provably not: connection refused, DNS failure, connect timeout)."""
    detail = redact(f"{type(exc).__name__}: {exc}", secret)[:200]
    for types, cls, reached, words in _TRANSPORT_FAILURES:
        if isinstance(exc, types):
            text = words.format(connect=connect_timeout, read=read_timeout, detail=detail)
            return cls(f"{where}: {text}", may_have_reached_server=reached)
    raise AssertionError("unreachable: the table ends with Exception")


def where(call: Call, url: str) -> str:
    """How a request is named in messages: `POST https://host/prefix/kickoff`."""
    return f"{call.method} {describe_url(url)}"
