"""HTTP routes of the simulator: each crew's API under `/crews/<name>`, plus `/_sim/*`.

Every crew request goes through `_crew_endpoint`: offline switch, seeded faults (latency,
drop, 429, 5xx, bad bodies), bearer check, then the handler, and is counted in the stats.
"""

from __future__ import annotations

import hmac
import json
from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING, Any

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import HTMLResponse, JSONResponse, PlainTextResponse, Response
from starlette.routing import Route
from starlette.types import Receive, Scope, Send

from crewdash.sim import payloads
from crewdash.sim.faults import DropConnection, html_error_page
from crewdash.sim.runs import NotPausedError, UnknownTaskError
from crewdash.sim.scenario import CrewSpec, FlowWebhook

if TYPE_CHECKING:
    from crewdash.sim.app import CrewState, SimApp

Handler = Callable[[Request, "CrewState"], Awaitable[Response]]
_LOOPBACK = {"127.0.0.1", "::1", "localhost"}


def _error(status: int, error: str, message: str, **extra: Any) -> JSONResponse:
    return JSONResponse({"error": error, "message": message, **extra}, status_code=status)


class _DroppedResponse(Response):
    """Starts the answer, then raises: the server closes the connection mid-response."""

    def __init__(self) -> None:
        super().__init__(status_code=200)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        await send(
            {"type": "http.response.start", "status": 200, "headers": [(b"content-length", b"512")]}
        )
        raise DropConnection("connection dropped by the simulator")


def _bad_body(response: Response, truncate: bool) -> Response:
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


def _echoed(response: JSONResponse, token: str, in_id: bool) -> JSONResponse:
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


async def _json_body(request: Request) -> Any:
    raw = await request.body()
    try:
        return json.loads(raw)
    except (ValueError, UnicodeDecodeError):
        return None


def build_routes(app: SimApp) -> Starlette:
    stats = app.stats

    def crew_endpoint(label: str, handler: Handler) -> Callable[[Request], Awaitable[Response]]:
        async def endpoint(request: Request) -> Response:
            name = request.path_params["crew"]
            state = app.crews.get(name)
            if state is None:
                stats.count("?", label, 404)
                return _error(404, "Not Found", f"No deployment named {name!r}")
            response = await _guarded(request, state, label, handler)
            stats.count(
                name,
                label,
                response.status_code if not isinstance(response, _DroppedResponse) else 0,
            )
            return response

        return endpoint

    async def _guarded(
        request: Request, state: CrewState, label: str, handler: Handler
    ) -> Response:
        spec = state.spec
        if spec.offline:
            stats.fault(spec.name, "offline")
            if spec.offline_mode == "drop":
                return _DroppedResponse()
            return HTMLResponse(html_error_page(503), status_code=503)
        decision = state.faults.decide(app.now(), app.clock.time())
        if decision.delay:
            await app.clock.sleep(decision.delay)
        if decision.kind == "drop":
            stats.fault(spec.name, "drop")
            return _DroppedResponse()
        if decision.kind == "rate_limited":
            stats.fault(spec.name, "rate_limited")
            return JSONResponse(
                {"error": "Too Many Requests", "message": "Rate limit exceeded"},
                status_code=429,
                headers={"Retry-After": decision.retry_after},
            )
        if decision.kind == "server_error":
            stats.fault(spec.name, f"{decision.status}{'_html' if decision.html else ''}")
            if decision.html:
                return HTMLResponse(html_error_page(decision.status), status_code=decision.status)
            return _error(decision.status, "Internal Server Error", "An unexpected error occurred")
        auth = request.headers.get("authorization", "")
        expected = f"Bearer {state.token}"
        if not hmac.compare_digest(auth.encode(), expected.encode()):
            if spec.faults.echo_token:
                return _error(401, "Unauthorized", f"Invalid bearer token: {auth}")
            return _error(401, "Unauthorized", "Invalid or missing bearer token")
        if spec.faults.refuse_rate and state.faults.rng.random() < spec.faults.refuse_rate:
            stats.fault(spec.name, "refused")
            response: Response = _error(
                422,
                "Validation Error",
                "Missing required inputs",
                details={"missing_inputs": ["ghost"]},
            )
        else:
            response = await handler(request, state)
        if spec.faults.echo_token and isinstance(response, JSONResponse):
            stats.fault(spec.name, "echo_token")
            response = _echoed(response, state.token, spec.faults.echo_token_in_id)
        if decision.kind == "bad_body":
            stats.fault(spec.name, "bad_body")
            return _bad_body(response, decision.truncate)
        if decision.kind == "drop_after":
            stats.fault(spec.name, "drop_after")
            return _DroppedResponse()
        return response

    async def health(request: Request, state: CrewState) -> Response:
        return PlainTextResponse("Healthy")

    async def inputs(request: Request, state: CrewState) -> Response:
        return JSONResponse(_inputs_body(state.spec))

    async def kickoff(request: Request, state: CrewState) -> Response:
        body = await _json_body(request)
        if not isinstance(body, dict):
            return _error(400, "Bad Request", "The body must be a JSON object")
        given = body.get("inputs")
        if not isinstance(given, dict):
            return _error(400, "Bad Request", "`inputs` must be an object")
        spec = state.spec
        missing = [f.name for f in spec.inputs if f.required and given.get(f.name) in (None, "")]
        if missing:
            return _error(
                422,
                "Validation Error",
                "Missing required inputs",
                details={"missing_inputs": missing},
            )
        if spec.inputs_style == "typed":
            invalid = _invalid_inputs(spec, given)
            if invalid:
                return _error(
                    422,
                    "Validation Error",
                    "Invalid input values",
                    details={"invalid_inputs": invalid},
                )
        webhooks: dict[str, str] = {}
        for key in ("taskWebhookUrl", "stepWebhookUrl", "crewWebhookUrl"):
            if key in body:
                if not isinstance(body[key], str):
                    return _error(400, "Bad Request", f"`{key}` must be a string")
                webhooks[key] = body[key]
        hiw = body.get("humanInputWebhook")
        if hiw is not None and not (isinstance(hiw, dict) and isinstance(hiw.get("url"), str)):
            return _error(400, "Bad Request", "`humanInputWebhook` needs a `url`")
        stream = body.get("webhooks")
        if stream is not None and not (
            isinstance(stream, dict) and isinstance(stream.get("url"), str)
        ):
            return _error(400, "Bad Request", "`webhooks` needs a `url`")
        meta = body.get("meta")
        if meta is not None and not isinstance(meta, dict):
            return _error(400, "Bad Request", "`meta` must be an object")
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

    def status(style: str) -> Handler:
        async def handler(request: Request, state: CrewState) -> Response:
            if state.spec.status_route not in (style, "both"):
                return _error(404, "Not Found", "The requested resource was not found")
            kickoff_id = request.path_params["kickoff_id"]
            run = app.get_run(state.spec.name, kickoff_id)
            if run is None:
                return _error(
                    404, "Execution not found", f"No execution found with ID: {kickoff_id}"
                )
            snap = app.snapshot(run)
            return JSONResponse(payloads.status_body(run, snap, state.spec, app.now()))

        return handler

    async def resume(request: Request, state: CrewState) -> Response:
        body = await _json_body(request)
        record: dict[str, Any] = {"crew": state.spec.name, "body": body}
        stats.resumes.append(record)
        response = _resume(body, state)
        record["status"] = response.status_code
        return response

    def _resume(body: Any, state: CrewState) -> Response:
        if not isinstance(body, dict):
            return _error(400, "Bad Request", "The body must be a JSON object")
        types = {"execution_id": str, "task_id": str, "human_feedback": str, "is_approve": bool}
        wrong = [k for k, t in types.items() if not isinstance(body.get(k), t)]
        if wrong:
            return _error(400, "Bad Request", f"Missing or invalid fields: {', '.join(wrong)}")
        run = app.get_run(state.spec.name, body["execution_id"])
        if run is None:
            return _error(404, "Not Found", "Execution ID not found")
        webhooks = {
            k: body[k]
            for k in ("taskWebhookUrl", "stepWebhookUrl", "crewWebhookUrl")
            if isinstance(body.get(k), str)
        }
        try:
            status = app.resume(
                state.spec.name,
                run,
                body["task_id"],
                body["human_feedback"],
                body["is_approve"],
                webhooks,
            )
        except NotPausedError:
            return _error(400, "Invalid Request", "Execution is not in pending human input state")
        except UnknownTaskError:
            return _error(404, "Not Found", "Task ID not found")
        messages = {
            "resumed": "Execution resumed successfully",
            "retrying": "Task will be retried with your feedback",
            "completed": "Execution completed",
        }
        return JSONResponse({"status": status, "message": messages[status]})

    async def stop(request: Request, state: CrewState) -> Response:
        kickoff_id = request.path_params["kickoff_id"]
        record: dict[str, Any] = {"crew": state.spec.name, "kickoff_id": kickoff_id}
        stats.stops.append(record)
        response = _stop(kickoff_id, state)
        record["status"] = response.status_code
        return response

    def _stop(kickoff_id: str, state: CrewState) -> Response:
        if state.spec.stop == "404":
            return _error(404, "Not Found", "The requested resource was not found")
        if state.spec.stop == "405":
            return _error(405, "Method Not Allowed", "Method Not Allowed")
        run = app.get_run(state.spec.name, kickoff_id)
        if run is None:
            return _error(404, "Execution not found", f"No execution found with ID: {kickoff_id}")
        if not run.stop(app.now()):
            return _error(400, "Invalid Request", "Execution has already finished")
        return JSONResponse({"status": "stopped", "message": "Execution stopped"})

    async def sim_stats(request: Request) -> Response:
        return JSONResponse(app.stats_snapshot())

    async def sim_control(request: Request) -> Response:
        client = request.client.host if request.client else ""
        if client not in _LOOPBACK:
            return _error(403, "Forbidden", "control is accepted from loopback only")
        body = await _json_body(request)
        if not isinstance(body, dict):
            return _error(400, "Bad Request", "The body must be a JSON object")
        if body.get("reset_stats"):
            stats.reset()
        if "crew" not in body:
            return JSONResponse({"ok": True})
        try:
            changes: dict[str, Any] = {
                k: body[k] for k in ("offline", "offline_mode", "faults") if k in body
            }
            if "flow_webhook" in body:
                hook = body["flow_webhook"]
                changes["flow_webhook"] = FlowWebhook(**hook) if hook else None
            spec = app.configure(str(body["crew"]), **changes)
        except (KeyError, TypeError, ValueError) as exc:
            return _error(400, "Bad Request", str(exc))
        return JSONResponse(_describe(spec))

    async def sim_callback(request: Request) -> Response:

        body = await _json_body(request)
        record: dict[str, Any] = {"token": request.path_params["token"], "body": body}
        stats.callbacks.append(record)
        response = _callback(request, body)
        record["status"] = response.status_code
        stats.count("_sim", "POST /_sim/callbacks/{token}", response.status_code)
        return response

    def _callback(request: Request, body: Any) -> Response:
        from crewdash.sim.app import CallbackError

        entry = app._callbacks.get(request.path_params["token"])
        if entry is not None:
            expected = f"Bearer {app.crews[entry[0]].token}"
            given = request.headers.get("authorization", "")
            if not hmac.compare_digest(given.encode(), expected.encode()):
                return _error(401, "Unauthorized", "Invalid or missing bearer token")
        if not isinstance(body, dict) or not isinstance(body.get("feedback"), str):
            return _error(400, "Bad Request", 'The body must be {"feedback": str, "source": str}')
        outcome = body.get("outcome")
        try:
            answer = app.answer_callback(
                request.path_params["token"],
                body["feedback"],
                outcome if isinstance(outcome, str) else None,
            )
        except CallbackError as exc:
            return _error(exc.status, exc.error, exc.message)
        return JSONResponse(answer)

    base = "/crews/{crew}"
    routes = [
        Route(base, crew_endpoint("GET /", health), methods=["GET"]),
        Route(base + "/", crew_endpoint("GET /", health), methods=["GET"]),
        Route(base + "/inputs", crew_endpoint("GET /inputs", inputs), methods=["GET"]),
        Route(base + "/kickoff", crew_endpoint("POST /kickoff", kickoff), methods=["POST"]),
        Route(base + "/resume", crew_endpoint("POST /resume", resume), methods=["POST"]),
        Route(
            base + "/status/{kickoff_id}",
            crew_endpoint("GET /status/{id}", status("current")),
            methods=["GET"],
        ),
        Route(
            base + "/stop/{kickoff_id}", crew_endpoint("POST /stop/{id}", stop), methods=["POST"]
        ),
        Route(
            base + "/{kickoff_id}/status",
            crew_endpoint("GET /{id}/status", status("legacy")),
            methods=["GET"],
        ),
        Route("/_sim/stats", sim_stats, methods=["GET"]),
        Route("/_sim/control", sim_control, methods=["POST"]),
        Route("/_sim/callbacks/{token}", sim_callback, methods=["POST"]),
    ]
    return Starlette(routes=routes)


def _inputs_body(spec: CrewSpec) -> dict[str, Any]:
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


def _invalid_inputs(spec: CrewSpec, given: dict[str, Any]) -> dict[str, str]:
    invalid: dict[str, str] = {}
    for f in spec.inputs:
        if f.name not in given or given[f.name] in (None, ""):
            continue
        problem = _type_problem(f.type, f.options, given[f.name])
        if problem:
            invalid[f.name] = problem
    return invalid


def _type_problem(kind: str, options: tuple[str, ...], value: Any) -> str | None:
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


def _describe(spec: CrewSpec) -> dict[str, Any]:
    from dataclasses import asdict

    return {
        "crew": spec.name,
        "offline": spec.offline,
        "offline_mode": spec.offline_mode,
        "faults": asdict(spec.faults),
        "flow_webhook": None
        if spec.flow_webhook is None
        else {
            "url": spec.flow_webhook.url,
            "sla_target_minutes": spec.flow_webhook.sla_target_minutes,
        },
    }
