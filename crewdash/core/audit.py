"""The audit trail (issue 14): every human decision and every operator action on a run, with
who (OS user and host), when, through which channel, and what the server answered.

A channel is a plain string, so adding one is adding a constant: "dashboard", "cli:<command>"
(`cli_channel`), "webhook" (a webhook adopted a run on its own). The store stamps every row
it writes with its own channel (`RunStore.open(path, channel=...)`): each process opens its
store once, for one front end. The store queries live in crewdash.core.store.audit.
"""

from __future__ import annotations

import socket
from dataclasses import dataclass
from enum import StrEnum
from functools import cache
from typing import Any

from crewdash.aop.redact import redact

DASHBOARD = "dashboard"
WEBHOOK = "webhook"
BROWSER = "browser"  # a page of `crewdash serve --allow-actions`
UNSPECIFIED = "unknown"  # a store opened without saying for which front end (tests, scripts)

STOP_TAKEN = "2xx: stop accepted"  # the server's answer to a stop it took

#: the longest server answer kept: a status line, never a whole error page
ANSWER_LIMIT = 300


def cli_channel(command: str) -> str:
    """The channel of a headless command: `cli:kickoff`, `cli:stop`, ..."""
    return f"cli:{command}"


@cache
def this_host() -> str:
    """The host name written with every audit row (asked once: it does not change)."""
    try:
        return socket.gethostname() or "unknown"
    except OSError:
        return "unknown"


def short_answer(text: str) -> str:
    """A server's words as the audit keeps and shows them: redacted (tokens masked), one
    line, at most `ANSWER_LIMIT` characters."""
    line = " ".join(redact(text).split())
    return line if len(line) <= ANSWER_LIMIT else line[: ANSWER_LIMIT - 1] + "…"


def answer_of_error(exc: BaseException) -> str:
    """What the server answered a request that failed: `HTTP 422: message` when it sent a
    status, else what happened (`ConnectionFailedError: ...`: no answer came)."""
    code = getattr(exc, "status_code", None)
    message = str(exc) or type(exc).__name__
    if isinstance(code, int):
        return short_answer(f"HTTP {code}: {message}")
    return short_answer(f"{type(exc).__name__}: {message}")


class AuditKind(StrEnum):
    DECISION = "decision"  # an answer to a human-input request
    ACTION = "action"  # kickoff, stop, adopt, resend, dismiss, auto-adopt


# Newest first; at one instant a decision sorts before an action, then the higher id first.
_RANK = {AuditKind.ACTION: 0, AuditKind.DECISION: 1}


@dataclass(frozen=True, slots=True)
class AuditEntry:
    """One line of the audit trail. `what` is the verb (kickoff, stop, answer, ...),
    `detail` the rest; `server_answer` is already redacted."""

    kind: AuditKind
    id: int
    at: float
    user: str
    host: str | None  # None: written before issue 14 recorded it
    channel: str | None
    crew: str | None
    local_id: str | None
    kickoff_id: str | None
    what: str
    detail: str
    server_answer: str | None
    outcome: str | None = None  # a decision's result (answered, failed, ...)
    feedback: str | None = None  # a decision's text: the operator's own words
    request_id: str | None = None

    @property
    def key(self) -> AuditKey:
        return AuditKey(self.at, _RANK[self.kind], self.id)

    @property
    def who(self) -> str:
        return f"{self.user}@{self.host}" if self.host else self.user

    @property
    def run_short(self) -> str:
        """The run as the dashboard names it: 8 characters of its kickoff id (else of its
        local id: a kickoff that got none)."""
        return (self.kickoff_id or self.local_id or "")[:8]

    def summary(self, width: int = 80) -> str:
        """What happened, in one line of at most `width` characters: the verb and its
        detail; for a decision its result unless the server took it, and the first words
        of its feedback."""
        text = f"{self.what}: {self.detail}" if self.detail else self.what
        if self.kind is AuditKind.DECISION:
            if self.outcome and self.outcome != "accepted":
                text += f" ({self.outcome})"
            said = " ".join((self.feedback or "").split())
            if said:
                text += f' "{said}"'
        return text if len(text) <= width else text[: width - 1] + "…"

    def to_json(self) -> dict[str, Any]:
        return {
            "kind": str(self.kind),
            "id": self.id,
            "at": self.at,
            "user": self.user,
            "host": self.host,
            "channel": self.channel,
            "crew": self.crew,
            "local_id": self.local_id,
            "kickoff_id": self.kickoff_id,
            "what": self.what,
            "detail": self.detail,
            "outcome": self.outcome,
            "feedback": self.feedback,
            "request_id": self.request_id,
            "server_answer": self.server_answer,
        }


@dataclass(frozen=True, slots=True, order=True)
class AuditKey:
    """Where an entry sorts (newest first = the highest key first): a page is read after
    the last key of the previous one (keyset paging), new entries after the newest shown."""

    at: float
    rank: int
    id: int


@dataclass(frozen=True, slots=True)
class AuditFilter:
    """What to list. `run` is any id form (local id or a prefix of it, request id, kickoff
    id); `operator` a user or `user@host`; `since` an epoch time."""

    crew: str | None = None
    run: str | None = None
    operator: str | None = None
    since: float | None = None
