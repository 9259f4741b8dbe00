"""`GET /inputs` and `POST /kickoff`: a crew's inputs as its style describes them, and the
validation a kickoff passes before a run starts."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from crewdash.sim.crew_state import CrewState
from crewdash.sim.responses import error, json_body
from crewdash.sim.scenario import CrewSpec

if TYPE_CHECKING:
    from crewdash.sim.app import SimApp

_WEBHOOK_KEYS = ("taskWebhookUrl", "stepWebhookUrl", "crewWebhookUrl")


async def inputs(app: SimApp, request: Request, state: CrewState) -> Response:
    return JSONResponse(inputs_body(state.spec))


async def kickoff(app: SimApp, request: Request, state: CrewState) -> Response:
    body = await json_body(request)
    if not isinstance(body, dict):
        return error(400, "Bad Request", "The body must be a JSON object")
    given = body.get("inputs")
    if not isinstance(given, dict):
        return error(400, "Bad Request", "`inputs` must be an object")
    spec = state.spec
    missing = [f.name for f in spec.inputs if f.required and given.get(f.name) in (None, "")]
    if missing:
        return error(
            422,
            "Validation Error",
            "Missing required inputs",
            details={"missing_inputs": missing},
        )
    if spec.inputs_style == "typed":
        invalid = invalid_inputs(spec, given)
        if invalid:
            return error(
                422,
                "Validation Error",
                "Invalid input values",
                details={"invalid_inputs": invalid},
            )
    webhooks: dict[str, str] = {}
    for key in _WEBHOOK_KEYS:
        if key in body:
            if not isinstance(body[key], str):
                return error(400, "Bad Request", f"`{key}` must be a string")
            webhooks[key] = body[key]
    hiw = body.get("humanInputWebhook")
    if hiw is not None and not (isinstance(hiw, dict) and isinstance(hiw.get("url"), str)):
        return error(400, "Bad Request", "`humanInputWebhook` needs a `url`")
    stream = body.get("webhooks")
    if stream is not None and not (isinstance(stream, dict) and isinstance(stream.get("url"), str)):
        return error(400, "Bad Request", "`webhooks` needs a `url`")
    meta = body.get("meta")
    if meta is not None and not isinstance(meta, dict):
        return error(400, "Bad Request", "`meta` must be an object")
    run = app.start_run(
        spec.name,
        given,
        meta=meta,
        webhooks=webhooks,
        human_input_webhook=hiw,
        event_stream=stream,
        base_url=str(request.base_url).rstrip("/"),
    )
    return JSONResponse({"kickoff_id": run.kickoff_id})


def inputs_body(spec: CrewSpec) -> dict[str, Any]:
    if spec.inputs_style == "names":
        return {"inputs": [f.name for f in spec.inputs]}
    if spec.inputs_style == "required":
        return {
            "inputs": [f.name for f in spec.inputs],
            "required_inputs": [f.name for f in spec.inputs if f.required],
        }
    typed: list[dict[str, Any]] = []
    for f in spec.inputs:
        item: dict[str, Any] = {"name": f.name, "type": f.type, "required": f.required}
        if f.description:
            item["description"] = f.description
        if f.default is not None:
            item["default"] = f.default
        if f.options:
            item["options"] = list(f.options)
        typed.append(item)
    return {"inputs": typed}


def invalid_inputs(spec: CrewSpec, given: dict[str, Any]) -> dict[str, str]:
    invalid: dict[str, str] = {}
    for f in spec.inputs:
        if f.name not in given or given[f.name] in (None, ""):
            continue
        problem = type_problem(f.type, f.options, given[f.name])
        if problem:
            invalid[f.name] = problem
    return invalid


def type_problem(kind: str, options: tuple[str, ...], value: Any) -> str | None:
    def parses(cast: Callable[[Any], Any]) -> bool:
        try:
            cast(value)
        except (TypeError, ValueError):
            return False
        return True

    if kind == "integer":
        ok = (isinstance(value, int) and not isinstance(value, bool)) or (
            isinstance(value, str) and parses(int)
        )
        return None if ok else "expected an integer"
    if kind == "number":
        ok = (isinstance(value, int | float) and not isinstance(value, bool)) or (
            isinstance(value, str) and parses(float)
        )
        return None if ok else "expected a number"
    if kind == "boolean":
        ok = isinstance(value, bool) or str(value).lower() in ("true", "false")
        return None if ok else "expected true or false"
    if kind == "enum":
        return None if str(value) in options else f"expected one of {', '.join(options)}"
    if kind == "object":
        if isinstance(value, str):
            try:
                value = json.loads(value)
            except ValueError:
                return "expected a JSON object"
        return None if isinstance(value, dict) else "expected a JSON object"
    if kind == "list":
        return None if isinstance(value, list | str) else "expected a list"
    return None
