"""AsyncCrewClient against scripted servers (httpx.MockTransport): every variant of AOP-API.md
and every error class, on a fake clock."""

from __future__ import annotations

import json

import httpx
import pytest

from crewdash.aop import (
    AlreadyAnsweredError,
    AsyncCrewClient,
    AuthenticationError,
    CircuitBreaker,
    CircuitOpenError,
    CircuitState,
    ConnectionFailedError,
    HumanInputWebhook,
    NotFoundError,
    NotPausedError,
    ProtocolError,
    RateLimitedError,
    RequestTimeoutError,
    RetryPolicy,
    RunState,
    ServerError,
    StatusRoute,
    UnsupportedError,
    ValidationError,
    Webhooks,
)
from tests.unit.aop.conftest import BASE, TOKEN, FakeClock, Server, json_response

P = "/prefix"


def client(server: Server, clock: FakeClock, **kw) -> AsyncCrewClient:
    kw.setdefault("retry", RetryPolicy(random=lambda: 1.0))
    return AsyncCrewClient(BASE, TOKEN, clock=clock, transport=server.transport(), **kw)


async def test_health_keeps_the_path_prefix_and_sends_the_bearer_token(clock):
    server = Server({f"{P}/": httpx.Response(200, text="Healthy")})
    async with client(server, clock) as c:
        latency = await c.health()
    assert latency == 0.0  # the fake clock did not move
    (request,) = server.requests
    assert str(request.url) == "https://crew.example.com/prefix/"
    assert request.headers["Authorization"] == f"Bearer {TOKEN}"


async def test_base_url_with_trailing_slash_joins_without_doubling(clock):
    server = Server({f"{P}/inputs": json_response(200, {"inputs": []})})
    c = AsyncCrewClient(BASE + "/", TOKEN, clock=clock, transport=server.transport())
    assert await c.inputs() == []
    assert server.paths() == ["GET /prefix/inputs"]


def test_a_base_url_that_is_not_http_is_refused():
    with pytest.raises(ValueError, match="not an http"):
        AsyncCrewClient("ftp://crew.example.com", TOKEN)


@pytest.mark.parametrize(
    "body",
    [
        {"inputs": ["topic", "year"]},
        {"inputs": [{"name": "topic", "type": "string"}, {"name": "year", "type": "integer"}]},
        {"inputs": ["topic", "year"], "required_inputs": ["topic"], "extra": 1},
    ],
    ids=["names", "typed", "required_inputs"],
)
async def test_inputs_in_all_three_shapes(clock, body):
    server = Server({f"{P}/inputs": json_response(200, body)})
    specs = await client(server, clock).inputs()
    assert [s.name for s in specs] == ["topic", "year"]
    assert specs[0].required is True


async def test_kickoff_sends_inputs_meta_webhooks_and_hitl_webhook(clock):
    server = Server({f"{P}/kickoff": json_response(200, {"kickoff_id": "k-1"})})
    kickoff_id = await client(server, clock).kickoff(
        {"topic": "AI"},
        meta={"crewdash_request_id": "r-1"},
        webhooks=Webhooks(task_url="https://h/t", crew_url="https://h/c"),
        human_input_webhook=HumanInputWebhook(url="https://h/hitl", token="hook-token"),
    )
    assert kickoff_id == "k-1"
    body = json.loads(server.requests[0].content)
    assert body == {
        "inputs": {"topic": "AI"},
        "meta": {"crewdash_request_id": "r-1"},
        "taskWebhookUrl": "https://h/t",
        "crewWebhookUrl": "https://h/c",
        "humanInputWebhook": {
            "url": "https://h/hitl",
            "authentication": {"strategy": "bearer", "token": "hook-token"},
        },
    }


async def test_kickoff_422_names_the_missing_inputs(clock):
    body = {
        "error": "Validation Error",
        "message": "Missing required inputs",
        "details": {"missing_inputs": ["budget", "age"]},
    }
    server = Server({f"{P}/kickoff": json_response(422, body)})
    with pytest.raises(ValidationError) as caught:
        await client(server, clock).kickoff({})
    assert caught.value.missing_inputs == ("budget", "age")
    assert "budget, age" in str(caught.value)
    assert "POST https://crew.example.com/prefix/kickoff" in str(caught.value)
    assert len(server.requests) == 1


async def test_status_current_route_is_learnt(clock):
    server = Server({f"{P}/status/k1": json_response(200, {"status": "pending"})})
    c = client(server, clock)
    assert (await c.status("k1")).state is RunState.PENDING
    assert c.status_route is StatusRoute.CURRENT


async def test_a_run_polled_again_reuses_its_parsed_url_and_the_kept_urls_are_bounded(
    clock, monkeypatch
):
    from crewdash.aop import calls, protocol

    server = Server({f"{P}/status/k1": json_response(200, {"status": "pending"})})
    c = client(server, clock)
    for _ in range(3):
        await c.status("k1")
    assert [str(r.url) for r in server.requests] == [f"https://crew.example.com{P}/status/k1"] * 3
    assert list(c._parsed) == [f"https://crew.example.com{P}/status/k1"]  # parsed once
    monkeypatch.setattr(protocol, "_URLS_KEPT", 4)
    for n in range(10):
        c._request(calls.status_call(StatusRoute.CURRENT, f"k{n}"))
    assert 1 <= len(c._parsed) <= 4
    assert 1 <= len(c._kept) <= 4


async def test_a_get_sent_again_is_the_same_request_a_post_never_is(clock) -> None:
    server = Server(
        {
            f"{P}/status/k1": json_response(200, {"status": "pending"}),
            f"{P}/kickoff": json_response(200, {"kickoff_id": "k2"}),
        }
    )
    c = client(server, clock)
    await c.status("k1")
    await c.status("k1")
    await c.kickoff({"topic": "a"})
    await c.kickoff({"topic": "b"})
    first, again, post, other = server.requests
    assert again is first  # nothing of it is built twice ...
    assert again.headers["Authorization"] == f"Bearer {TOKEN}"  # ... and it is whole
    assert post is not other and b'"b"' in other.content  # each body its own request


@pytest.mark.parametrize("refusal", [404, 405])
async def test_status_falls_back_to_the_legacy_route_and_remembers_it(clock, refusal):
    server = Server(
        {
            f"{P}/status/k1": httpx.Response(refusal),
            f"{P}/k1/status": json_response(200, {"status": "running", "current_task": "t"}),
        }
    )
    c = client(server, clock)
    assert (await c.status("k1")).current_task == "t"
    assert c.status_route is StatusRoute.LEGACY
    await c.status("k1")
    assert server.paths() == [
        "GET /prefix/status/k1",
        "GET /prefix/k1/status",
        "GET /prefix/k1/status",
    ]


async def test_a_remembered_route_is_used_first(clock):
    server = Server({f"{P}/k1/status": json_response(200, {"status": "running"})})
    c = client(server, clock, status_route=StatusRoute.LEGACY)
    await c.status("k1")
    assert server.paths() == ["GET /prefix/k1/status"]


async def test_status_404_on_both_routes_is_not_found_and_learns_nothing(clock):
    server = Server({})
    c = client(server, clock)
    with pytest.raises(NotFoundError, match="unknown or has expired"):
        await c.status("gone")
    assert c.status_route is None
    assert len(server.requests) == 2


async def test_an_id_cannot_change_the_route(clock):
    server = Server({f"{P}/status/a%2Fb%3Fc": json_response(200, {"status": "running"})})
    await client(server, clock).status("a/b?c")
    assert server.paths() == ["GET /prefix/status/a%2Fb%3Fc"]


async def test_status_paused_for_human_input(clock):
    body = {
        "status": "Pending Human Input",
        "pending_task": {"task_id": "review", "output": "draft", "prompt": "OK?"},
    }
    server = Server({f"{P}/status/k1": json_response(200, body)})
    status = await client(server, clock).status("k1")
    assert status.state is RunState.AWAITING_INPUT
    assert (status.pending_task_id, status.pending_output, status.pending_prompt) == (
        "review",
        "draft",
        "OK?",
    )


async def test_resume_sends_the_current_wording_and_the_webhooks_again(clock):
    server = Server({f"{P}/resume": json_response(200, {"status": "retrying", "message": "m"})})
    result = await client(server, clock).resume(
        "k1", "review", "more data", False, webhooks=Webhooks(task_url="https://h/t")
    )
    assert (result.status, result.message) == ("retrying", "m")
    assert json.loads(server.requests[0].content) == {
        "execution_id": "k1",
        "task_id": "review",
        "human_feedback": "more data",
        "is_approve": False,
        "taskWebhookUrl": "https://h/t",
    }


async def test_resume_of_a_run_that_is_not_paused(clock):
    body = {"error": "Invalid Request", "message": "Execution is not in pending human input state"}
    server = Server({f"{P}/resume": json_response(400, body)})
    with pytest.raises(NotPausedError, match="not in pending human input state"):
        await client(server, clock).resume("k1", "t", "ok", True)


async def test_stop(clock):
    server = Server({f"{P}/stop/k1": json_response(200, {"status": "stopped"})})
    await client(server, clock).stop("k1")
    assert server.paths() == ["POST /prefix/stop/k1"]


@pytest.mark.parametrize(
    ("code", "error"), [(404, UnsupportedError), (405, UnsupportedError), (400, NotPausedError)]
)
async def test_stop_refusals(clock, code, error):
    server = Server({f"{P}/stop/k1": httpx.Response(code)})
    with pytest.raises(error) as caught:
        await client(server, clock).stop("k1")
    assert caught.value.status_code == code
    assert len(server.requests) == 1


async def test_answer_callback_posts_feedback_and_reads_409_as_already_answered(clock):
    url = "https://crew.example.com/hitl/req-1/callback?sig=callback-secret"
    server = Server(
        {
            "/hitl/req-1/callback": [
                httpx.Response(200),
                json_response(409, {"error": "already_responded"}),
            ]
        }
    )
    c = client(server, clock)
    await c.answer_callback(url, "approved")
    assert json.loads(server.requests[0].content) == {"feedback": "approved", "source": "crewdash"}
    with pytest.raises(AlreadyAnsweredError) as caught:
        await c.answer_callback(url, "approved")
    assert "callback-secret" not in str(caught.value)  # the query is not quoted
    assert "https://crew.example.com/hitl/req-1/callback" in str(caught.value)


async def test_callback_token_is_not_sent_to_a_foreign_host_over_plain_http(clock):
    server = Server({"/cb": httpx.Response(200)})
    await client(server, clock).answer_callback("http://elsewhere.example/cb", "ok")
    assert "Authorization" not in server.requests[0].headers


async def test_a_callback_url_that_is_not_http_is_a_protocol_error(clock):
    with pytest.raises(ProtocolError, match="not an http"):
        await client(Server({}), clock).answer_callback("javascript:alert(1)", "ok")


# -- error classes ----------------------------------------------------------------------------


@pytest.mark.parametrize("code", [401, 403])
async def test_auth_errors_are_not_retried(clock, code):
    server = Server({f"{P}/inputs": json_response(code, {"error": "Unauthorized"})})
    with pytest.raises(AuthenticationError, match="token") as caught:
        await client(server, clock).inputs()
    assert caught.value.status_code == code
    assert len(server.requests) == 1


@pytest.mark.parametrize(
    "answer",
    [
        httpx.Response(200, text="<!DOCTYPE html><html>Gateway login</html>"),
        httpx.Response(200, text='{"inputs": ["a", '),
        httpx.Response(200, text=""),
        httpx.Response(200, text="Healthy"),
        json_response(200, {"inputs": "not a list"}),
        json_response(200, ["a"]),
    ],
    ids=["html", "truncated", "empty", "plain", "wrong-shape", "array"],
)
async def test_bodies_that_are_not_what_the_api_promises_are_protocol_errors(clock, answer):
    server = Server({f"{P}/inputs": answer})
    with pytest.raises(ProtocolError) as caught:
        await client(server, clock).inputs()
    assert "/inputs" in str(caught.value)


async def test_html_page_is_named_as_such(clock):
    server = Server({f"{P}/kickoff": httpx.Response(200, text="<html>proxy</html>")})
    with pytest.raises(ProtocolError, match="HTML page"):
        await client(server, clock).kickoff({})


async def test_redirect_is_a_protocol_error_naming_the_target(clock):
    server = Server(
        {f"{P}/inputs": httpx.Response(302, headers={"Location": "https://sso.example/login?x=1"})}
    )
    with pytest.raises(ProtocolError, match=r"https://sso\.example/login"):
        await client(server, clock).inputs()


async def test_5xx_on_a_get_is_retried_with_backoff_then_succeeds(clock):
    server = Server(
        {
            f"{P}/inputs": [
                httpx.Response(503),
                httpx.Response(502),
                json_response(200, {"inputs": ["a"]}),
            ]
        }
    )
    specs = await client(
        server, clock, retry=RetryPolicy(base=1.0, cap=8.0, random=lambda: 1.0)
    ).inputs()
    assert [s.name for s in specs] == ["a"]
    assert clock.sleeps == [1.0, 2.0]  # full jitter with random()=1.0 gives the ceiling


async def test_5xx_retries_give_up_after_max_attempts(clock):
    server = Server({f"{P}/inputs": httpx.Response(500, text="<html>oops</html>")})
    with pytest.raises(ServerError, match="HTTP 500") as caught:
        await client(server, clock, retry=RetryPolicy(max_attempts=3, random=lambda: 0.5)).inputs()
    assert caught.value.status_code == 500
    assert len(server.requests) == 3
    assert len(clock.sleeps) == 2


async def test_429_retry_after_seconds_is_honoured(clock):
    server = Server(
        {
            f"{P}/inputs": [
                httpx.Response(429, headers={"Retry-After": "7"}),
                json_response(200, {"inputs": []}),
            ]
        }
    )
    await client(server, clock, retry=RetryPolicy(random=lambda: 0.0)).inputs()
    assert clock.sleeps == [7.0]


async def test_429_retry_after_http_date_is_honoured(clock):
    from email.utils import formatdate

    when = formatdate(clock.time() + 12, usegmt=True)
    server = Server(
        {
            f"{P}/inputs": [
                httpx.Response(429, headers={"Retry-After": when}),
                json_response(200, {"inputs": []}),
            ]
        }
    )
    await client(server, clock, retry=RetryPolicy(random=lambda: 0.0)).inputs()
    assert clock.sleeps == [pytest.approx(12.0, abs=1.0)]


async def test_429_asking_for_too_long_goes_to_the_caller_with_the_delay(clock):
    server = Server({f"{P}/inputs": httpx.Response(429, headers={"Retry-After": "3600"})})
    with pytest.raises(RateLimitedError) as caught:
        await client(server, clock).inputs()
    assert caught.value.retry_after == 3600.0
    assert "3600 s" in str(caught.value)
    assert len(server.requests) == 1 and clock.sleeps == []


async def test_429_on_a_kickoff_is_not_retried(clock):
    server = Server({f"{P}/kickoff": httpx.Response(429, headers={"Retry-After": "1"})})
    with pytest.raises(RateLimitedError):
        await client(server, clock).kickoff({})
    assert len(server.requests) == 1


@pytest.mark.parametrize(
    ("exc", "error", "reached"),
    [
        (httpx.ConnectError("[Errno 111] Connection refused"), ConnectionFailedError, False),
        (httpx.ConnectError("[Errno -2] Name or service not known"), ConnectionFailedError, False),
        (httpx.ConnectTimeout("timed out"), ConnectionFailedError, False),
        (httpx.PoolTimeout("pool"), RequestTimeoutError, False),
        (httpx.ReadTimeout("timed out"), RequestTimeoutError, True),
        (httpx.WriteTimeout("timed out"), RequestTimeoutError, True),
        (httpx.ReadError("connection reset"), ConnectionFailedError, True),
        (httpx.RemoteProtocolError("peer closed connection"), ConnectionFailedError, True),
    ],
)
async def test_transport_failures_know_whether_the_request_may_have_arrived(
    clock, exc, error, reached
):
    server = Server({f"{P}/kickoff": exc})
    with pytest.raises(error) as caught:
        await client(server, clock, retry=RetryPolicy.none()).kickoff({})
    assert caught.value.may_have_reached_server is reached
    assert "POST https://crew.example.com/prefix/kickoff" in str(caught.value)
    assert caught.value.__cause__ is None  # the httpx exception (and its request) is not kept
    assert caught.value.__context__ is None


async def test_kickoff_is_retried_when_the_connection_was_refused(clock):
    server = Server(
        {f"{P}/kickoff": [httpx.ConnectError("refused"), json_response(200, {"kickoff_id": "k9"})]}
    )
    assert await client(server, clock).kickoff({"a": 1}) == "k9"
    assert len(server.requests) == 2


@pytest.mark.parametrize(
    "failure",
    [httpx.ReadTimeout("slow"), httpx.ReadError("reset"), httpx.Response(502)],
    ids=["read-timeout", "dropped", "502"],
)
async def test_kickoff_and_resume_are_not_retried_when_they_may_have_arrived(clock, failure):
    server = Server({f"{P}/kickoff": failure, f"{P}/resume": failure})
    c = client(server, clock)
    with pytest.raises((RequestTimeoutError, ConnectionFailedError, ServerError)):
        await c.kickoff({})
    with pytest.raises((RequestTimeoutError, ConnectionFailedError, ServerError)):
        await c.resume("k", "t", "f", True)
    assert server.paths() == ["POST /prefix/kickoff", "POST /prefix/resume"]
    assert clock.sleeps == []


async def test_idempotent_gets_are_retried_after_read_timeouts(clock):
    server = Server(
        {f"{P}/inputs": [httpx.ReadTimeout("slow"), json_response(200, {"inputs": []})]}
    )
    assert await client(server, clock).inputs() == []
    assert len(server.requests) == 2


async def test_timeouts_are_configurable_and_sent_with_each_request(clock):
    seen = {}

    def answer(request):
        seen.update(request.extensions["timeout"])
        return httpx.Response(200, text="Healthy")

    server = Server({f"{P}/": answer})
    await client(server, clock, connect_timeout=1.5, read_timeout=9.0).health()
    assert seen == {"connect": 1.5, "read": 9.0, "write": 9.0, "pool": 1.5}


# -- circuit breaker -------------------------------------------------------------------------


async def test_breaker_opens_after_repeated_failures_and_half_opens_after_the_cooldown(clock):
    server = Server({f"{P}/": [httpx.Response(503)] * 3 + [httpx.Response(200, text="Healthy")]})
    breaker = CircuitBreaker(failure_threshold=3, cooldown=30.0, clock=clock)
    c = client(server, clock, breaker=breaker, retry=RetryPolicy.none())
    for _ in range(3):
        with pytest.raises(ServerError):
            await c.health()
    assert c.breaker.state is CircuitState.OPEN
    with pytest.raises(CircuitOpenError) as caught:
        await c.health()
    assert caught.value.retry_in == 30.0
    assert len(server.requests) == 3  # nothing sent while open
    clock.advance(30.0)
    assert c.breaker.state is CircuitState.HALF_OPEN
    await c.health()
    assert c.breaker.state is CircuitState.CLOSED


async def test_retries_stop_when_the_breaker_opens(clock):
    server = Server({f"{P}/inputs": httpx.Response(503)})
    breaker = CircuitBreaker(failure_threshold=2, cooldown=30.0, clock=clock)
    with pytest.raises(ServerError):  # the real error, not CircuitOpenError
        await client(server, clock, breaker=breaker, retry=RetryPolicy(max_attempts=5)).inputs()
    assert len(server.requests) == 2


async def test_client_errors_do_not_count_against_the_crew(clock):
    server = Server({f"{P}/kickoff": json_response(422, {"message": "bad"})})
    breaker = CircuitBreaker(failure_threshold=1, clock=clock)
    c = client(server, clock, breaker=breaker)
    with pytest.raises(ValidationError):
        await c.kickoff({})
    assert c.breaker.state is CircuitState.CLOSED


async def test_a_cancelled_probe_frees_the_half_open_slot(clock):
    import asyncio

    started = asyncio.Event()
    release = asyncio.Event()

    class Hanging(httpx.AsyncBaseTransport):
        async def handle_async_request(self, request):
            started.set()
            await release.wait()
            return httpx.Response(200)

    breaker = CircuitBreaker(failure_threshold=1, cooldown=5.0, clock=clock)
    breaker.record_failure()
    clock.advance(5.0)
    c = AsyncCrewClient(BASE, TOKEN, clock=clock, breaker=breaker, transport=Hanging())
    task = asyncio.create_task(c.health())
    await started.wait()
    assert not breaker.allow()  # the probe is in flight
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    assert breaker.allow()  # freed by the cancellation


async def test_an_unreadable_body_on_a_get_is_retried_like_a_5xx(clock):
    server = Server(
        {
            f"{P}/inputs": [
                httpx.Response(200, text='{"inputs": ["a", '),
                httpx.Response(200, text="<html>proxy</html>"),
                json_response(200, {"inputs": ["a"]}),
            ]
        }
    )
    specs = await client(server, clock).inputs()
    assert [s.name for s in specs] == ["a"] and len(server.requests) == 3


async def test_an_unreadable_200_to_a_kickoff_is_not_sent_again(clock):
    server = Server({f"{P}/kickoff": httpx.Response(200, text='{"kickoff_id": "ab')})
    with pytest.raises(ProtocolError) as caught:
        await client(server, clock).kickoff({})
    assert caught.value.unreadable and len(server.requests) == 1


class RecordingPacer:
    def __init__(self) -> None:
        self.turns = 0
        self.learnt: list[tuple[float | None, float | None]] = []

    async def wait(self) -> float:
        self.turns += 1
        return float(self.turns)

    def learn_429(self, retry_after: float | None, sent_at: float | None = None) -> float:
        self.learnt.append((retry_after, sent_at))
        return 1.0


async def test_a_pacer_gives_every_request_but_a_kickoff_its_turn_and_learns_429s(clock):
    server = Server(
        {
            f"{P}/inputs": [
                json_response(429, {}, headers=[("Retry-After", "2")]),
                json_response(200, {"inputs": ["a"]}),
            ],
            f"{P}/kickoff": json_response(200, {"kickoff_id": "k"}),
        }
    )
    pacer = RecordingPacer()
    c = client(server, clock, pacer=pacer)
    assert [s.name for s in await c.inputs()] == ["a"]
    assert pacer.turns == 2 and pacer.learnt == [(2.0, 1.0)]
    assert await c.kickoff({}) == "k"
    assert pacer.turns == 2  # the kickoff protocol paces kickoffs itself
