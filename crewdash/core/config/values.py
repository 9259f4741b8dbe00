"""Checks on single config values (crew names, URLs, hosts), the words for a TOML value's
type, and where a key sits in the file: what the table parsers put into their errors."""

from __future__ import annotations

import ipaddress
import re
from datetime import date, datetime, time
from urllib.parse import urlsplit

CREW_NAME_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_-]{0,63}$")
ENV_NAME_RE = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")


def crew_name_problem(name: str) -> str | None:
    """Why `name` cannot be a crew name, or None."""
    if CREW_NAME_RE.match(name):
        return None
    return (
        f"{name!r} is not a valid crew name: use letters, digits, '-' and '_' "
        "(at most 64, starting with a letter or digit)."
    )


def url_problem(url: str) -> str | None:
    """Why `url` cannot be a deployment or public URL, or None. Never echoes credentials."""
    try:
        parts = urlsplit(url.strip())
        parts.port  # noqa: B018 - raises ValueError on a bad port
    except ValueError:
        return "this is not a valid URL; expected something like https://my-crew.crewai.com."
    if parts.username or parts.password:
        return (
            "the URL contains a user name or password; remove it and give the token with "
            "token_env, token_command or token."
        )
    if parts.scheme not in ("http", "https"):
        shown = f'"{parts.scheme}"' if parts.scheme else "none"
        return (
            f"the URL must start with https:// (or http://), found scheme {shown}; "
            "for example https://my-crew.crewai.com."
        )
    if not parts.hostname:
        return "the URL has no host name; for example https://my-crew.crewai.com."
    return None


def url_warning(url: str) -> str | None:
    """A warning for plain http to a host other than this machine: the token travels unencrypted."""
    parts = urlsplit(url.strip())
    if parts.scheme == "http" and not is_loopback(parts.hostname or ""):
        return (
            f"plain http to {parts.hostname}: the token and your data travel unencrypted; "
            "use https:// unless this is a trusted network."
        )
    return None


def is_loopback(host: str) -> bool:
    if host.lower() == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def type_name(value: object) -> str:
    """A TOML value's type in words (never the value: it may be a secret)."""
    if isinstance(value, bool):
        return "true/false"
    if isinstance(value, int):
        return "a whole number"
    if isinstance(value, float):
        return "a number"
    if isinstance(value, str):
        return "text"
    if isinstance(value, dict):
        return "a table"
    if isinstance(value, list):
        return "a list"
    if isinstance(value, datetime | date | time):
        return "a date/time"
    return type(value).__name__


def locate(text: str, table: str | None, key: str | None) -> int | None:
    """Best-effort 1-based line of `key` in `[table]` (or of the header when key is None).
    Plain `[a.b]` headers and `key =` lines only; None when written another way."""
    if not text:
        return None
    lines = text.splitlines()
    start = 0
    if table is not None:
        want = table.split(".")
        start = -1
        for number, line in enumerate(lines):
            header = _header(line)
            if header is not None and header == want:
                start = number
                break
        if start < 0:
            return None
        if key is None:
            return start + 1
        start += 1
    elif key is None:
        return None
    key_re = re.compile(r"^\s*[\"']?" + re.escape(key) + r"[\"']?\s*=")
    for number in range(start, len(lines)):
        if _header(lines[number]) is not None:
            return None
        if key_re.match(lines[number]):
            return number + 1
    return None


def _header(line: str) -> list[str] | None:
    match = re.match(r"^\s*\[\s*([^\[\]]+?)\s*\]\s*(#.*)?$", line)
    if not match:
        return None
    return [part.strip().strip("\"'") for part in match.group(1).split(".")]
