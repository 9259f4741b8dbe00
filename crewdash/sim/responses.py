"""Answers the simulator's routes build: JSON errors, and the spoiled answers of faults
(a dropped connection, a bad body, a token echoed back)."""

from __future__ import annotations

import json
from typing import Any

from starlette.requests import Request
from starlette.responses import JSONResponse, PlainTextResponse, Response
from starlette.types import Receive, Scope, Send

from crewdash.sim.faults import DropConnection


def error(status: int, error: str, message: str, **extra: Any) -> JSONResponse:
    return JSONResponse({"error": error, "message": message, **extra}, status_code=status)


class DroppedResponse(Response):
    """Starts the answer, then raises: the server closes the connection mid-response."""

    def __init__(self) -> None:
        super().__init__(status_code=200)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        await send(
            {"type": "http.response.start", "status": 200, "headers": [(b"content-length", b"512")]}
        )
        raise DropConnection("connection dropped by the simulator")


def bad_body(response: Response, truncate: bool) -> Response:
    if truncate and isinstance(response, JSONResponse):
        body = bytes(response.body)
        return Response(
            body[: max(1, len(body) // 2)], response.status_code, media_type="application/json"
        )
    return PlainTextResponse("upstream temporarily unavailable, try again", response.status_code)


_ECHO_FIELDS = (
    "message",
    "error",
    "error_message",
    "detail",
    "current_task",
    "output",
    "prompt",
    "pending_output",
)


def echoed(response: JSONResponse, token: str, in_id: bool) -> JSONResponse:
    """The answer with the token echoed into every text field a careless server could echo:
    messages, errors (a status answer gets an `error` even while running), `details` lists,
    outputs and prompts, the result's outputs, and with `in_id` the kickoff id."""
    body = json.loads(bytes(response.body))
    if isinstance(body, dict):
        for key in _ECHO_FIELDS:
            if isinstance(body.get(key), str):
                body[key] = f"{body[key]} {token}"
        if "status" in body and "kickoff_id" not in body and "error" not in body:
            body["error"] = f"upstream said: {token}"
        details = body.get("details")
        if isinstance(details, dict):
            for value in details.values():
                if isinstance(value, list):
                    value.append(token)
        result = body.get("result")
        if isinstance(result, dict):
            if isinstance(result.get("output"), str):
                result["output"] += f" {token}"
            for task in result.get("tasks") or ():
                if isinstance(task, dict) and isinstance(task.get("output"), str):
                    task["output"] += f" {token}"
        if in_id and isinstance(body.get("kickoff_id"), str):
            body["kickoff_id"] += token
    return JSONResponse(body, status_code=response.status_code, headers=None)


async def json_body(request: Request) -> Any:
    """The decoded JSON body, or None when it is not JSON (the handlers answer 400)."""
    raw = await request.body()
    try:
        return json.loads(raw)
    except (ValueError, UnicodeDecodeError):
        return None
