"""Export of runs as JSON, CSV and Markdown."""

from __future__ import annotations

import csv
import io
import json
from pathlib import Path

import pytest

from crewdash.aop.models import Progress, RunResult, RunState, RunStatus, TaskOutput
from crewdash.core.runs.export import CSV_COLUMNS, export_runs
from crewdash.core.store.database import RunStore


@pytest.fixture
def store(tmp_path: Path):
    s = RunStore.open(tmp_path / "runs.sqlite3")
    done = s.create_intent(
        "research", {"topic": "AI | ML"}, "rq-1", {"crew_url": "http://h/x"}, at=1_700_000_000
    )
    s.mark_accepted(done.local_id, "kick-1")
    s.record_status(
        done.local_id, RunStatus(RunState.RUNNING, "running", "t1", Progress(0, 2)), 1_700_000_010
    )
    result = RunResult(
        "## Final\nwith ```code```",
        (TaskOutput("t1", "first", "writer", 2.5), TaskOutput("t2", "second")),
    )
    s.record_status(
        done.local_id, RunStatus(RunState.COMPLETED, "completed", result=result), 1_700_000_042
    )
    refused = s.create_intent("other", {}, "rq-2", {}, at=1_700_000_100)
    s.mark_refused(refused.local_id, "missing inputs: topic", at=1_700_000_101)
    yield s
    s.close()


def test_json(store: RunStore) -> None:
    data = json.loads(export_runs(store.list_runs(), "json", store))
    assert [d["phase"] for d in data] == ["refused", "accepted"]
    run = data[1]
    assert run["inputs"] == {"topic": "AI | ML"} and run["kickoff_id"] == "kick-1"
    assert run["created_at"] == "2023-11-14T22:13:20Z" and run["duration_seconds"] == 42
    assert run["output"].startswith("## Final")
    assert [t["output"] for t in run["tasks"]] == ["first", "second"]
    assert run["progress"] == {"completed_tasks": 2, "total_tasks": 2}  # completed: all done
    assert [h["state"] for h in run["history"]] == ["running", "completed"]
    assert data[0]["error"] == "missing inputs: topic"
    assert "http://h/x" not in json.dumps(data)  # webhook URLs are not exported


def test_csv(store: RunStore) -> None:
    text = export_runs(store.list_runs(crew="research"), "csv", store)
    [row] = list(csv.DictReader(io.StringIO(text)))
    assert tuple(row) == CSV_COLUMNS
    assert row["state"] == "completed" and row["duration_seconds"] == "42.0"
    assert json.loads(row["inputs"]) == {"topic": "AI | ML"}
    assert [t["task_id"] for t in json.loads(row["tasks"])] == ["t1", "t2"]
    assert row["error"] == "" and row["output"] == "## Final\nwith ```code```"


def test_markdown(store: RunStore) -> None:
    text = export_runs(store.list_runs(), "markdown", store)
    assert text.startswith("# crewdash runs (2)")
    assert "## research · " in text and "| state | completed |" in text
    assert "````\n## Final\nwith ```code```\n````" in text  # fence longer than the content's
    assert "### Task t1 (writer), 2.5 s" in text and "second" in text
    assert "AI | ML" in text and "| error | missing inputs: topic |" in text
    assert "- 2023-11-14T22:13:30Z running — t1" in text


def test_empty_and_bad_format(store: RunStore) -> None:
    assert json.loads(export_runs([], "json")) == []
    assert export_runs([], "csv").strip() == ",".join(CSV_COLUMNS)
    with pytest.raises(ValueError, match="xml"):
        export_runs([], "xml")  # type: ignore[arg-type]


def test_csv_guards_server_and_operator_text_against_spreadsheet_formulas() -> None:
    """OWASP CSV injection: a text cell starting with = + - @ tab or CR gets a leading quote in
    CSV only; crewdash's own columns (a negative duration here) stay as written."""
    from crewdash.core.models import KickoffPhase, RunRecord

    run = RunRecord(
        local_id="l1",
        crew="@crew",
        inputs={"n": "+1"},
        request_id="rq-1",
        created_at=1_700_000_010,
        kickoff_id="-k1",
        phase=KickoffPhase.ACCEPTED,
        state=RunState.COMPLETED,
        raw_state="\tcompleted",
        result=RunResult("+1", (TaskOutput("t1", "=1+1"),)),
        error='=HYPERLINK("http://x")',
        finished_at=1_700_000_008.5,  # a clock stepped back: a negative number, not text
    )
    [row] = list(csv.DictReader(io.StringIO(export_runs([run], "csv"))))
    assert row["error"] == '\'=HYPERLINK("http://x")' and row["output"] == "'+1"
    assert row["crew"] == "'@crew" and row["kickoff_id"] == "'-k1"
    assert row["raw_state"] == "'\tcompleted"
    # JSON cells start with { or [, which no spreadsheet runs; their content is left intact.
    assert json.loads(row["inputs"]) == {"n": "+1"}
    assert json.loads(row["tasks"])[0]["output"] == "=1+1"
    assert row["duration_seconds"] == "-1.5" and float(row["duration_seconds"]) == -1.5
    assert json.loads(export_runs([run], "json"))[0]["error"] == '=HYPERLINK("http://x")'
    assert '| error | =HYPERLINK("http://x") |' in export_runs([run], "markdown")
