"""Scenario loading (TOML/JSON, clear errors), the built-in scenarios, fault draws, signing."""

from __future__ import annotations

import hashlib
import hmac
import json
import random
from pathlib import Path

import pytest

from crewdash.sim import ScenarioError, demo_scenario, load_scenario
from crewdash.sim.clock import ManualClock
from crewdash.sim.faults import FaultInjector
from crewdash.sim.runs import Run
from crewdash.sim.scenario import FaultSpec
from crewdash.sim.webhooks import sign

TOML = """
name = "mine"
[[crews]]
name = "alpha"
kind = "flow"
inputs_style = "typed"
status_route = "legacy"
[crews.faults]
error_rate = 0.5
[crews.flow_webhook]
url = "http://127.0.0.1:9/hook"
secret = "s3"
[[crews.inputs]]
name = "n"
type = "integer"
[[crews.tasks]]
id = "t1"
agent = "Agent One"
duration = 3
emit = ["approve", "reject"]
human_input = true
"""


def test_toml_and_json_files_load_to_the_same_scenario(tmp_path: Path) -> None:
    import tomllib

    toml_file = tmp_path / "s.toml"
    toml_file.write_text(TOML)
    json_file = tmp_path / "s.json"
    json_file.write_text(json.dumps(tomllib.loads(TOML)))
    a, b = load_scenario(toml_file), load_scenario(str(json_file))
    assert a == b
    crew = a.crew("alpha")
    assert crew.kind == "flow" and crew.status_route == "legacy"
    assert crew.faults.error_rate == 0.5 and crew.flow_webhook and crew.flow_webhook.secret == "s3"
    assert crew.inputs[0].type == "integer" and crew.tasks[0].emit == ("approve", "reject")


@pytest.mark.parametrize(
    ("text", "needle"),
    [
        ('[[crews]]\nname = "a"\ncolour = 1\n[[crews.tasks]]\nid = "t"\nagent = "x"\n', "colour"),
        ('[[crews]]\nname = "a"\n', "tasks"),
        (
            '[[crews]]\nname = "a"\nstatus_route = "sideways"\n'
            '[[crews.tasks]]\nid="t"\nagent="x"\n',
            "status_route",
        ),
        ('[[crews]]\nname = "a"\n[[crews.tasks]]\nagent = "x"\n', "tasks[0]"),
        ("crews = [", "not valid"),
    ],
)
def test_bad_files_name_the_problem(tmp_path: Path, text: str, needle: str) -> None:
    path = tmp_path / "bad.toml"
    path.write_text(text)
    with pytest.raises(ScenarioError, match=None) as info:
        load_scenario(path)
    assert needle in str(info.value) and str(path) in str(info.value)


def test_unknown_name_lists_the_builtins() -> None:
    with pytest.raises(ScenarioError, match="demo"):
        load_scenario("no-such-thing")


def test_demo_has_what_a_first_impression_needs() -> None:
    demo = demo_scenario()
    crews = {c.name: c for c in demo.crews}
    assert len(crews) == 6
    assert any(c.inputs_style == "names" for c in demo.crews)
    assert any(
        c.inputs_style == "typed"
        and {"enum", "integer", "boolean", "object", "number", "text"} <= {f.type for f in c.inputs}
        for c in demo.crews
    )
    review = crews["content-review"]
    first_pause = next(i for i, t in enumerate(review.tasks) if t.human_input)
    assert review.queue_delay + sum(t.duration for t in review.tasks[: first_pause + 1]) < 60
    flow = crews["expense-approval"]
    assert flow.kind == "flow" and any(
        t.emit == ("approve", "reject", "escalate") for t in flow.tasks
    )
    assert crews["flaky-scraper"].faults != FaultSpec()
    long_flow = crews["quarterly-forecast"]
    assert long_flow.kind == "flow" and sum(t.duration for t in long_flow.tasks) >= 20 * 60
    research = crews["research"]
    assert 60 <= research.queue_delay + sum(t.duration for t in research.tasks) <= 90
    assert all(t.output.strip() for c in demo.crews for t in c.tasks)


def _demo_run(crew_name: str, clock: ManualClock) -> Run:
    crew = demo_scenario().crew(crew_name)
    inputs = {f.name: "x" for f in crew.inputs}
    return Run("k", crew, inputs, now=clock.monotonic(), wall_offset=0.0, speed=1.0)


def test_demo_keeps_the_two_minute_promise_at_speed_1() -> None:
    """A newcomer sees a run finish and a human-input request well within two minutes."""
    clock = ManualClock()
    trip = _demo_run("trip-planner", clock)
    review = _demo_run("content-review", clock)
    clock.advance(25)
    assert trip.snapshot(clock.monotonic()).state == "running"
    assert review.snapshot(clock.monotonic()).state == "paused"  # asks before 30 s
    clock.advance(20)
    assert trip.snapshot(clock.monotonic()).state == "completed"  # done before 60 s
    review.resume(clock.monotonic(), "editorial_review", "", True)
    clock.advance(15)
    assert review.snapshot(clock.monotonic()).state == "running"
    clock.advance(10)
    assert review.snapshot(clock.monotonic()).state == "completed"  # ~20 s after approval


def test_fault_draws_are_reproducible_from_the_seed() -> None:
    spec = FaultSpec(latency=0.1, jitter=0.05, error_rate=0.3, bad_body_rate=0.1, drop_rate=0.1)

    def draws(seed: int) -> list[tuple[str, int, float]]:
        inj = FaultInjector(spec, random.Random(seed))
        return [(d.kind, d.status, d.delay) for d in (inj.decide(i, 0) for i in range(200))]

    assert draws(7) == draws(7)
    assert draws(7) != draws(8)
    kinds = {k for k, _, _ in draws(7)}
    assert {"none", "server_error", "drop", "bad_body"} <= kinds


def test_rate_limit_answers_429_with_retry_after() -> None:
    inj = FaultInjector(FaultSpec(rate_limit=3, rate_window=2.0), random.Random(0))
    assert [inj.decide(10.0, 0).kind for _ in range(3)] == ["none"] * 3
    over = inj.decide(10.5, 0)
    assert over.kind == "rate_limited" and over.status == 429 and over.retry_after == "2"
    assert inj.decide(12.1, 0).kind == "none"
    dated = FaultInjector(FaultSpec(rate_limit=1, retry_after_http_date=True), random.Random(0))
    dated.decide(0.0, 1_700_000_000)
    assert dated.decide(0.1, 1_700_000_000).retry_after.endswith("GMT")


def test_signature_is_hmac_sha256_over_timestamp_dot_body() -> None:
    body = b'{"a":1}'
    expected = hmac.new(b"k", b"1700000000." + body, hashlib.sha256).hexdigest()
    assert sign("k", "1700000000", body) == "sha256=" + expected
