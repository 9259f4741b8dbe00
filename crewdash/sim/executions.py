"""Routes on a started execution: status (current and legacy paths), `/resume`, `/stop`.
Every `/resume` and `/stop` is recorded, body and answer, for the tests to read."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from crewdash.sim import payloads
from crewdash.sim.crew_state import CrewState
from crewdash.sim.guard import Handler
from crewdash.sim.responses import error, json_body
from crewdash.sim.runs import NotPausedError, UnknownTaskError

if TYPE_CHECKING:
    from crewdash.sim.app import SimApp

_RESUME_FIELDS = {"execution_id": str, "task_id": str, "human_feedback": str, "is_approve": bool}
_RESUME_MESSAGES = {
    "resumed": "Execution resumed successfully",
    "retrying": "Task will be retried with your feedback",
    "completed": "Execution completed",
}


def status(style: str) -> Handler:
    """The status handler of one path `style` ("current" or "legacy"); a crew answers 404 on
    the path its spec does not serve."""

    async def handler(app: SimApp, request: Request, state: CrewState) -> Response:
        if state.spec.status_route not in (style, "both"):
            return error(404, "Not Found", "The requested resource was not found")
        kickoff_id = request.path_params["kickoff_id"]
        run = app.get_run(state.spec.name, kickoff_id)
        if run is None:
            return error(404, "Execution not found", f"No execution found with ID: {kickoff_id}")
        snap = app.snapshot(run)
        return JSONResponse(payloads.status_body(run, snap, state.spec, app.now()))

    return handler


async def resume(app: SimApp, request: Request, state: CrewState) -> Response:
    body = await json_body(request)
    record: dict[str, Any] = {"crew": state.spec.name, "body": body}
    app.stats.resumes.append(record)
    response = _resume(app, body, state)
    record["status"] = response.status_code
    return response


def _resume(app: SimApp, body: Any, state: CrewState) -> Response:
    if not isinstance(body, dict):
        return error(400, "Bad Request", "The body must be a JSON object")
    wrong = [k for k, t in _RESUME_FIELDS.items() if not isinstance(body.get(k), t)]
    if wrong:
        return error(400, "Bad Request", f"Missing or invalid fields: {', '.join(wrong)}")
    run = app.get_run(state.spec.name, body["execution_id"])
    if run is None:
        return error(404, "Not Found", "Execution ID not found")
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
        return error(400, "Invalid Request", "Execution is not in pending human input state")
    except UnknownTaskError:
        return error(404, "Not Found", "Task ID not found")
    return JSONResponse({"status": status, "message": _RESUME_MESSAGES[status]})


async def stop(app: SimApp, request: Request, state: CrewState) -> Response:
    kickoff_id = request.path_params["kickoff_id"]
    record: dict[str, Any] = {"crew": state.spec.name, "kickoff_id": kickoff_id}
    app.stats.stops.append(record)
    response = _stop(app, kickoff_id, state)
    record["status"] = response.status_code
    return response


def _stop(app: SimApp, kickoff_id: str, state: CrewState) -> Response:
    if state.spec.stop == "404":
        return error(404, "Not Found", "The requested resource was not found")
    if state.spec.stop == "405":
        return error(405, "Method Not Allowed", "Method Not Allowed")
    run = app.get_run(state.spec.name, kickoff_id)
    if run is None:
        return error(404, "Execution not found", f"No execution found with ID: {kickoff_id}")
    if not run.stop(app.now()):
        return error(400, "Invalid Request", "Execution has already finished")
    return JSONResponse({"status": "stopped", "message": "Execution stopped"})
