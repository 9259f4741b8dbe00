"""The output layer: JSON lines on stdout only, words on stderr, bars only on a terminal."""

from __future__ import annotations

import io
import json

import pytest

from crewdash.commands.support.errors import CliError
from crewdash.commands.support.output import Output
from crewdash.commands.support.time import parse_since


class _Tty(io.StringIO):
    def isatty(self) -> bool:
        return True


def test_json_mode_writes_only_json_lines_on_stdout() -> None:
    stdout, stderr = io.StringIO(), io.StringIO()
    out = Output(json_mode=True, stdout=stdout, stderr=stderr)
    out.emit({"a": 1}, "human a")
    out.text("never shown")
    out.info("a remark")
    out.error("it broke", kind="network", code=4)
    lines = stdout.getvalue().splitlines()
    assert [json.loads(line) for line in lines] == [
        {"a": 1},
        {"type": "error", "kind": "network", "message": "it broke", "exit_code": 4},
    ]
    assert stderr.getvalue() == "a remark\ncrewdash: error: it broke\n"


def test_human_mode_and_progress_only_on_a_terminal() -> None:
    stdout, stderr = io.StringIO(), io.StringIO()
    out = Output(json_mode=False, stdout=stdout, stderr=stderr)
    out.emit({"a": 1}, "human a")
    out.progress(1, 2)
    assert stdout.getvalue() == "human a\n"
    assert stderr.getvalue() == ""  # not a terminal: no bar
    tty = _Tty()
    out = Output(json_mode=False, stdout=stdout, stderr=tty)
    out.progress(1, 2, "rows")
    out.info("done")
    assert "\r[" in tty.getvalue() and "1/2 rows" in tty.getvalue()
    assert tty.getvalue().endswith("\ndone\n")


def test_since_accepts_durations_and_iso_dates() -> None:
    assert parse_since("2h", now=10_000.0) == 10_000.0 - 7200
    assert parse_since("30m", now=10_000.0) == 10_000.0 - 1800
    assert parse_since("2025-01-31T00:00:00+00:00", now=0) == 1738281600.0
    with pytest.raises(CliError, match="--since"):
        parse_since("yesterday", now=0)
