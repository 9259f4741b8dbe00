"""Keeping secrets out of words: URLs described without credentials or query strings, and
server-supplied text scrubbed of the token before it reaches a message."""

from __future__ import annotations

import logging
from urllib.parse import urlsplit, urlunsplit

import httpx

from crewdash.aop.models import Secret, known_secrets

MASK = "****"


def describe_url(url: str) -> str:
    """`scheme://host[:port]/path` of a URL: userinfo and query (which may carry credentials,
    as signed callback URLs do) are dropped."""
    try:
        parts = urlsplit(url)
        host = parts.hostname or ""
        port = parts.port
    except ValueError:
        return "<invalid URL>"
    netloc = f"[{host}]" if ":" in host else host
    if port is not None:
        netloc += f":{port}"
    return urlunsplit((parts.scheme, netloc, parts.path, "", ""))


def scrub(text: str, secret: Secret | None) -> str:
    """Replace every occurrence of the token in `text` (e.g. a proxy page echoing headers)."""
    if secret is None:
        return text
    value = secret.reveal()
    if len(value) < 4:  # too short to search for without masking ordinary words
        return text
    return text.replace(value, MASK)


def scrub_known(text: str) -> str:
    """Replace every token this process has held (longest first: one may contain another)."""
    for value in sorted(known_secrets(), key=len, reverse=True):
        text = text.replace(value, MASK)
    return text


class _UrlFilter(logging.Filter):
    """Rewrites URLs in httpx's own log records ("HTTP Request: POST <url> ...") without
    userinfo or query: a callback URL may carry a signature or token in its query."""

    def filter(self, record: logging.LogRecord) -> bool:
        if isinstance(record.args, tuple) and any(isinstance(a, httpx.URL) for a in record.args):
            record.args = tuple(
                describe_url(str(a)) if isinstance(a, httpx.URL) else a for a in record.args
            )
        return True


_URL_FILTER = _UrlFilter()


def guard_httpx_logs() -> None:
    """Install the URL filter on the `httpx` logger once (idempotent)."""
    logger = logging.getLogger("httpx")
    if _URL_FILTER not in logger.filters:
        logger.addFilter(_URL_FILTER)
