"""Keeping secrets out of words: URLs described without credentials or query strings, and
server-supplied text scrubbed of the token before it reaches a message."""

from __future__ import annotations

import logging
from typing import Any
from urllib.parse import SplitResult, parse_qsl, urlsplit, urlunsplit

import httpx

from crewdash.aop.models import Secret, known_secrets

MASK = "****"


def _parts_without_userinfo(url: str) -> tuple[SplitResult, str] | None:
    """The URL's parts and its `host[:port]` with any `user:password@` dropped; None when
    it is not a URL."""
    try:
        parts = urlsplit(url)
        host = parts.hostname or ""
        port = parts.port
    except ValueError:
        return None
    netloc = f"[{host}]" if ":" in host else host
    if port is not None:
        netloc += f":{port}"
    return parts, netloc


def describe_url(url: str) -> str:
    """`scheme://host[:port]/path` of a URL: userinfo and query (which may carry credentials,
    as signed callback URLs do) are dropped."""
    split = _parts_without_userinfo(url)
    if split is None:
        return "<invalid URL>"
    parts, netloc = split
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


def redact(text: str, secret: Secret | None = None) -> str:
    """The one redactor for text that came from a server (an error message, a `details` entry,
    a status error, an id, an output): `secret` and every token this process has held masked."""
    return scrub_known(scrub(text, secret))


def may_hold_secret(raw: bytes) -> bool:
    """Whether the JSON text `raw` could decode to a string (a key or a value) holding a token
    this process has held (every `Secret` long enough to be masked is one: `known_secrets`).
    False only when the text has no escape, so each of its strings is a piece of it as sent,
    and holds none of them: then `redact_json` would change nothing, and its walk (every
    string of every status answer) can be skipped. Bytes with a NUL (UTF-16 or UTF-32, which
    json.loads reads too) are never vouched for."""
    if b"\\" in raw or b"\x00" in raw:
        return True
    return any(value.encode() in raw for value in known_secrets())


def redact_json(value: Any, secret: Secret | None = None) -> Any:
    """A decoded JSON value with `redact` applied to every string in it, keys included;
    the structure is otherwise unchanged (iterative: no recursion limit to hit)."""
    if isinstance(value, str):
        return redact(value, secret)
    if not isinstance(value, dict | list):
        return value
    root: list[Any] = [None]
    stack: list[tuple[Any, Any, Any]] = [(value, root, 0)]
    while stack:
        item, parent, slot = stack.pop()
        if isinstance(item, str):
            parent[slot] = redact(item, secret)
        elif isinstance(item, dict):
            copy: dict[Any, Any] = {}
            parent[slot] = copy
            for key, child in item.items():
                new_key = redact(key, secret) if isinstance(key, str) else key
                copy[new_key] = None
                stack.append((child, copy, new_key))
        elif isinstance(item, list):
            items: list[Any] = [None] * len(item)
            parent[slot] = items
            stack.extend((child, items, i) for i, child in enumerate(item))
        else:
            parent[slot] = item
    return root[0]


def mask_url(url: str) -> str:
    """A URL as it may be shown: userinfo dropped, every query value masked (`?api_key=****`),
    the rest as written."""
    split = _parts_without_userinfo(url)
    if split is None:
        return "<invalid URL>"
    parts, netloc = split
    query = "&".join(
        f"{key}={MASK}" if value else key
        for key, value in parse_qsl(parts.query, keep_blank_values=True)
    )
    if parts.query and not query:
        query = MASK
    return scrub_known(urlunsplit((parts.scheme, netloc, parts.path, query, "")))


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
