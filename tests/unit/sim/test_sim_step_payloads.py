"""The simulator's step, task and crew webhook bodies: a step that is not its task's last is
an agent action with a tool call, the last is the final answer."""

from __future__ import annotations

from crewdash.sim import payloads
from crewdash.sim.runs import Run
from crewdash.sim.scenario import CrewSpec, TaskSpec

CREW = CrewSpec(
    "c",
    queue_delay=1.0,
    tasks=(
        TaskSpec("a", "Writer", 2.0, "A for {topic}", steps=3),
        TaskSpec("b", "Editor", 2.0, "B for {topic}", steps=1),
    ),
)


def test_step_bodies_carry_tool_calls_then_the_final_answer() -> None:
    run = Run("k1", CREW, {"topic": "cats"}, now=0.0, wall_offset=0.0, speed=1.0, fail_index=None)
    bodies = [payloads.simple_webhook(run, e, 100.0, CREW) for e in run.events()]
    steps = [b for b, e in zip(bodies, run.events(), strict=True) if e.kind == "step"]
    assert [(s["task_id"], s["step"]) for s in steps] == [("a", 1), ("a", 2), ("a", 3), ("b", 1)]
    first, second, last_of_a, only_of_b = steps
    for action in (first, second):
        assert action["tool"] in ("search_web", "read_file", "summarize")
        assert "cats" in action["tool_input"]["query"] and action["result"]
        assert "output" not in action
    assert first["tool"] != second["tool"]
    for answer in (last_of_a, only_of_b):
        assert "tool" not in answer and answer["output"].startswith("Final answer of")
    assert all(s["kickoff_id"] == "k1" and s["thought"].startswith("Thought:") for s in steps)
