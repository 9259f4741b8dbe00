"""Keeping secrets out of words: URLs described without credentials or query strings, and
server-supplied text scrubbed of the token before it reaches a message."""

from __future__ import annotations

from urllib.parse import urlsplit, urlunsplit

from crewdash.aop.models import Secret

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
