"""Request specs: what each operation sends, as plain data. No I/O.

A `Call` names the method, the path under the crew's base URL (or an absolute URL), the JSON
body, whether it may be retried after it possibly reached the server, and how the operation
reads particular HTTP statuses (e.g. `/stop` answering 405 means "cannot stop runs here")."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any
from urllib.parse import quote

from crewdash.aop.errors import (
    AlreadyAnsweredError,
    AOPError,
    NotFoundError,
    NotPausedError,
    UnsupportedError,
)
from crewdash.aop.models import HumanInputWebhook, StatusRoute, Webhooks

#: status code -> (error class, what it means for this operation, in plain words)
StatusMeaning = tuple[type[AOPError], str]


@dataclass(frozen=True, slots=True)
class Call:
    method: str
    path: str  # starts with "/" and is joined to the base URL; a full URL when `absolute`
    body: Any = None
    idempotent: bool = False  # True: may be retried even if it may have reached the server
    absolute: bool = False
    meanings: Mapping[int, StatusMeaning] | None = None
    # False: the caller waits for the crew's pacer itself (a kickoff stamps the moment it
    # goes on the wire after its turn), so the client's pacer must not make it wait again
    paced: bool = True


def _segment(value: str) -> str:
    """An id as one path segment: a `/` or `?` inside it cannot change the route."""
    return quote(value, safe="")


def health_call() -> Call:
    return Call("GET", "/", idempotent=True)


def inputs_call() -> Call:
    return Call("GET", "/inputs", idempotent=True)


def kickoff_call(
    inputs: Mapping[str, Any],
    *,
    meta: Mapping[str, Any] | None = None,
    webhooks: Webhooks | None = None,
    human_input_webhook: HumanInputWebhook | None = None,
) -> Call:
    body: dict[str, Any] = {"inputs": dict(inputs)}
    if meta is not None:
        body["meta"] = dict(meta)
    if webhooks is not None:
        body.update(webhooks.as_body())
    if human_input_webhook is not None:
        hook: dict[str, Any] = {"url": human_input_webhook.url}
        if human_input_webhook.token:
            hook["authentication"] = {"strategy": "bearer", "token": human_input_webhook.token}
        body["humanInputWebhook"] = hook
    return Call("POST", "/kickoff", body=body, paced=False)


def status_call(route: StatusRoute, kickoff_id: str) -> Call:
    run = _segment(kickoff_id)
    path = f"/status/{run}" if route is StatusRoute.CURRENT else f"/{run}/status"
    return Call("GET", path, idempotent=True)


def resume_body(
    kickoff_id: str, task_id: str, feedback: str, approve: bool, webhooks: Webhooks | None
) -> dict[str, Any]:
    """The current wording; an answer in the older `{"response", "continue"}` wording is
    mapped to it by `parse.parse_answer` before it gets here."""
    body: dict[str, Any] = {
        "execution_id": kickoff_id,
        "task_id": task_id,
        "human_feedback": feedback,
        "is_approve": approve,
    }
    if webhooks is not None:  # not carried over from the kickoff: send them again
        body.update(webhooks.as_body())
    return body


def resume_call(
    kickoff_id: str,
    task_id: str,
    feedback: str,
    approve: bool,
    webhooks: Webhooks | None = None,
) -> Call:
    return Call(
        "POST",
        "/resume",
        body=resume_body(kickoff_id, task_id, feedback, approve, webhooks),
        meanings={
            400: (NotPausedError, "the run is not waiting for human input (any more)"),
            404: (NotFoundError, "the run is unknown or has expired on the server"),
        },
    )


def stop_call(kickoff_id: str) -> Call:
    cannot = "this deployment cannot stop runs (or does not know this run)"
    return Call(
        "POST",
        f"/stop/{_segment(kickoff_id)}",
        meanings={
            400: (NotPausedError, "the run has already finished; there is nothing to stop"),
            404: (UnsupportedError, cannot),
            405: (UnsupportedError, "this deployment cannot stop runs"),
        },
    )


def callback_call(callback_url: str, feedback: str) -> Call:
    return Call(
        "POST",
        callback_url,
        body={"feedback": feedback, "source": "crewdash"},
        absolute=True,
        meanings={
            409: (AlreadyAnsweredError, "someone else already answered this request"),
            404: (NotFoundError, "the request is unknown or has expired"),
        },
    )
