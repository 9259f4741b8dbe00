"""The run diff's core: Markdown logical lines, line and word diffs, runs compared."""

from __future__ import annotations

import json
from typing import Any

import pytest

from crewdash.aop.models import RunResult, RunState, TaskOutput
from crewdash.core.models import KickoffPhase, RunRecord
from crewdash.core.runs.diff import diff_runs, value_text
from crewdash.core.runs.diff_json import diff_json
from crewdash.core.runs.markdown_lines import logical_lines
from crewdash.core.runs.text_diff import Span, diff_text, word_spans

PARAGRAPH = "The quick brown fox jumps over\nthe lazy dog and runs into\nthe woods."
REFLOWED = "The quick brown\nfox jumps over the lazy\ndog and runs into the woods."


def run(
    local_id: str = "a" * 16,
    *,
    output: str | None = "Done.",
    tasks: tuple[tuple[str, str], ...] = (),
    **changes: Any,
) -> RunRecord:
    result = (
        None
        if output is None
        else RunResult(
            output, tuple(TaskOutput(name, text, execution_time=1.5) for name, text in tasks)
        )
    )
    fields: dict[str, Any] = {
        "local_id": local_id,
        "crew": "research",
        "inputs": {"topic": "robots"},
        "request_id": "req-" + local_id,
        "created_at": 1000.0,
        "phase": KickoffPhase.ACCEPTED,
        "kickoff_id": f"{local_id[:8]}-0000-4000-8000-000000000000",
        "state": RunState.COMPLETED,
        "raw_state": "completed",
        "result": result,
        "finished_at": 1042.0,
        "attempts": 1,
    }
    fields.update(changes)
    return RunRecord(**fields)


# --- logical lines ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "lines"),
    [
        (None, []),
        ("", []),
        ("\n\n  \n", []),
        (PARAGRAPH, [" ".join(PARAGRAPH.split())]),
        ("# Title\nText right after", ["# Title", "Text right after"]),
        ("- one\n  wrapped\n- two", ["- one wrapped", "- two"]),
        ("1. first\n2) second", ["1. first", "2) second"]),
        ("- top\n  - nested", ["- top", "  - nested"]),
        ("| a | b |\n|---|---|\n| 1 | 2 |", ["| a | b |", "|---|---|", "| 1 | 2 |"]),
        ("> quoted\n> more", ["> quoted", "> more"]),
        ("```py\nx  =  1\n\n  y\n```\nafter", ["```py", "x  =  1", "", "  y", "```", "after"]),
        ("~~~\n```\n~~~", ["~~~", "```", "~~~"]),
        ("text\n\n    code  line\n    more", ["text", "", "    code  line", "    more"]),
        ("first  \nsecond", ["first", "second"]),
        ("a\n\n\n\nb", ["a", "", "b"]),
        ("words   with    gaps", ["words with gaps"]),
        ("para\n---\nnext", ["para", "---", "next"]),
    ],
    ids=[
        "none",
        "empty",
        "blank",
        "paragraph-joined",
        "heading-alone",
        "list-item-continued",
        "ordered-list",
        "nested-list-keeps-indent",
        "table-rows",
        "quotes",
        "fenced-code-verbatim",
        "fence-kinds",
        "indented-code",
        "hard-break",
        "blank-runs-collapse",
        "whitespace-collapsed",
        "rule-alone",
    ],
)
def test_logical_lines(text: str | None, lines: list[str]) -> None:
    assert logical_lines(text) == lines


# --- text diffs ------------------------------------------------------------------------------


def tags(a: str | None, b: str | None) -> list[str]:
    return [row.tag for row in diff_text(a, b).rows]


@pytest.mark.parametrize(
    ("a", "b", "expected", "changed"),
    [
        ("same\n\ntext", "same\n\ntext", ["equal", "equal", "equal"], False),
        (PARAGRAPH, REFLOWED, ["equal"], False),
        ("one\n\nscore: 7", "one\n\nscore: 9", ["equal", "equal", "changed"], True),
        ("one", "one\n\nthree", ["equal", "added", "added"], True),
        ("one\n\ntwo", "one", ["equal", "removed", "removed"], True),
        ("", "", [], False),
        (None, None, [], False),
        (None, "text", ["added"], True),
        ("text", None, ["removed"], True),
        ("", None, [], True),  # no result at all is not the same as an empty output
        (
            "```\nx = 1\ny = 2\n```",
            "```\nx = 1\ny = 3\n```",
            ["equal", "equal", "changed", "equal"],
            True,
        ),
        ("```\nx = 1\n```", "```\nx  =  1\n```", ["equal", "changed", "equal"], True),
        ("alpha beta", "zzz qqq rrr sss", ["removed", "added"], True),
    ],
    ids=[
        "equal",
        "reflowed-paragraph",
        "changed-line",
        "added-lines",
        "removed-lines",
        "empty",
        "both-none",
        "a-none",
        "b-none",
        "empty-vs-none",
        "code-block-change",
        "code-spacing-counts",
        "unlike-lines-not-paired",
    ],
)
def test_diff_text(a: str | None, b: str | None, expected: list[str], changed: bool) -> None:
    diff = diff_text(a, b)
    assert [row.tag for row in diff.rows] == expected
    assert diff.changed is changed


def test_word_marks_name_only_the_changed_words() -> None:
    left, right = word_spans("The quick brown fox", "The slow brown fox")
    assert left == (Span("The ", False), Span("quick", True), Span(" brown fox", False))
    assert right == (Span("The ", False), Span("slow", True), Span(" brown fox", False))


def test_changed_row_carries_word_marks_and_both_lines() -> None:
    row = diff_text("Revenue grew 10% in Q3.", "Revenue grew 12% in Q3.").rows[0]
    assert (row.tag, row.a, row.b) == (
        "changed",
        "Revenue grew 10% in Q3.",
        "Revenue grew 12% in Q3.",
    )
    assert [s.text for s in row.a_spans if s.changed] == ["10"]
    assert [s.text for s in row.b_spans if s.changed] == ["12"]
    assert "".join(s.text for s in row.b_spans) == row.b


def test_an_inserted_line_between_edits_pairs_each_edit_with_its_line() -> None:
    a = "- alpha one\n- gamma three"
    b = "- alpha ONE\n- beta two, brand new\n- gamma THREE"
    rows = diff_text(a, b).rows
    assert [r.tag for r in rows] == ["changed", "added", "changed"]
    assert rows[2].a == "- gamma three"


def test_error_text_is_compared_as_written() -> None:
    a = "Traceback:\n  File x, line 1\nValueError: bad"
    b = "Traceback:\n  File x, line 2\nValueError: bad"
    diff = diff_text(a, b, markdown=False)
    assert [r.tag for r in diff.rows] == ["equal", "changed", "equal"]


# --- runs ------------------------------------------------------------------------------------


def test_equal_runs_have_no_change() -> None:
    a = run(tasks=(("research", "Found 3 papers."),))
    b = run(
        "b" * 16, tasks=(("research", "Found 3\npapers."),), created_at=2000.0, finished_at=2042.0
    )
    diff = diff_runs(a, b)
    assert not diff.changed
    assert [t.status for t in diff.tasks] == ["equal"]


def test_tasks_matched_by_name_in_order() -> None:
    a = run(tasks=(("research", "x"), ("write", "draft"), ("review", "ok")))
    b = run("b" * 16, tasks=(("research", "x"), ("review", "ok"), ("publish", "live")))
    diff = diff_runs(a, b)
    assert [(t.name, t.status) for t in diff.tasks] == [
        ("research", "equal"),
        ("write", "removed"),
        ("review", "equal"),
        ("publish", "added"),
    ]
    removed = diff.tasks[1]
    assert (removed.a_seconds, removed.b_seconds) == (1.5, None)
    assert removed.text.b_missing and not removed.text.a_missing
    assert diff.changed


def test_changed_task_output_and_inputs() -> None:
    a = run(tasks=(("write", "Title\n\nBody one."),), inputs={"topic": "robots", "n": 3})
    b = run(
        "b" * 16,
        tasks=(("write", "Title\n\nBody two."),),
        inputs={"topic": "robots", "n": 4, "lang": "en"},
    )
    diff = diff_runs(a, b)
    assert diff.tasks[0].status == "changed"
    assert [(i.key, i.status, i.a, i.b) for i in diff.inputs] == [
        ("topic", "equal", "robots", "robots"),
        ("n", "changed", "3", "4"),
        ("lang", "added", None, "en"),
    ]


def test_state_duration_attempts_and_decisions_compared() -> None:
    a = run()
    b = run(
        "b" * 16,
        state=RunState.ERROR,
        raw_state="failed",
        error="boom",
        finished_at=1100.0,
        attempts=3,
        output=None,
    )
    diff = diff_runs(a, b, decisions_a=0, decisions_b=2)
    fields = {f.name: (f.a, f.b, f.changed) for f in diff.fields}
    assert fields["state"] == ("completed", "error", True)
    assert fields["duration"] == (42.0, 100.0, True)
    assert fields["attempts"] == (1, 3, True)
    assert fields["decisions"] == (0, 2, True)
    assert diff.output.b_missing and diff.output.changed  # None result
    assert [r.tag for r in diff.error.rows] == ["added"]


def test_none_results_on_both_sides_are_equal() -> None:
    a = run(output=None, state=RunState.RUNNING, finished_at=None)
    b = run("b" * 16, output=None, state=RunState.RUNNING, finished_at=None)
    diff = diff_runs(a, b)
    assert diff.tasks == () and not diff.output.changed and not diff.changed


def test_input_values_as_text() -> None:
    assert value_text("plain") == "plain"
    assert value_text({"b": 1, "a": [1, 2]}) == '{"a": [1, 2], "b": 1}'
    assert value_text(None) == "null"


def test_json_shape() -> None:
    a = run(tasks=(("write", "one two"),))
    b = run("b" * 16, tasks=(("write", "one three"),), attempts=2)
    data = json.loads(json.dumps(diff_json(diff_runs(a, b))))
    assert data["type"] == "diff" and data["changed"] is True
    assert data["a"]["local_id"] == "a" * 16 and data["b"]["attempts"] == 2
    assert data["a"]["duration_seconds"] == 42.0
    assert {f["name"] for f in data["fields"] if f["changed"]} == {"attempts"}
    assert {f["name"]: f["a"] for f in data["fields"]}["progress"] is None
    task = data["tasks"][0]
    assert (task["name"], task["status"]) == ("write", "changed")
    row = task["output"]["rows"][0]
    assert row["tag"] == "changed" and task["output"]["changed_lines"] == 1
    assert {"text": "three", "changed": True} in row["b_spans"]
    assert data["output"]["changed"] is False and data["output"]["rows"][0]["tag"] == "equal"


def test_one_change_in_a_long_text_is_one_changed_row() -> None:
    # long enough for difflib's autojunk (blank lines and fences everywhere) to kick in
    a = "\n\n".join(f"## Part {n}\n\nText {n}.\n\n```\nx = {n}\n```" for n in range(100))
    b = a.replace("Text 42.", "Text forty-two.")
    diff = diff_text(a, b)
    assert len(diff.rows) > 400
    assert [(r.a, r.b) for r in diff.rows if r.tag != "equal"] == [("Text 42.", "Text forty-two.")]


def test_one_word_changed_in_a_long_paragraph_is_marked_alone() -> None:
    words = [f"word{n}" for n in range(300)]
    a = "\n".join(" ".join(words[i : i + 10]) for i in range(0, 300, 10))  # wrapped at 10
    words[150] = "CHANGED"
    b = "\n".join(" ".join(words[i : i + 12]) for i in range(0, 300, 12))  # wrapped at 12
    (row,) = diff_text(a, b).rows
    assert row.tag == "changed"
    assert [s.text for s in row.a_spans if s.changed] == ["word150"]
    assert [s.text for s in row.b_spans if s.changed] == ["CHANGED"]
