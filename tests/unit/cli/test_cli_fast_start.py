"""A plain start of the dashboard is read without argparse, exactly as argparse reads it; any
other command line goes to argparse."""

from __future__ import annotations

import subprocess
import sys
from typing import Any

import pytest

import crewdash.commands.dashboard as dashboard
from crewdash.cli import build_parser, dashboard_options, main

PLAIN = [
    [],
    ["dashboard"],
    ["--config", "c.toml"],
    ["--config=c.toml", "dashboard"],
    ["--data-dir", "d", "dashboard"],
    ["--config", "c.toml", "--data-dir=d", "dashboard"],
    ["--data-dir=d", "--config", "a.toml", "--config", "b.toml"],  # the last one counts
    ["--config=", "dashboard"],  # an empty value, as argparse keeps it
    ["--config", "x=y.toml"],
]

OTHER = [
    ["--help"],
    ["--version"],
    ["dashboard", "--help"],
    ["runs"],
    ["--conf", "c.toml"],  # an abbreviation: argparse's to accept
    ["--config"],  # no value: argparse's error
    ["--config", "-c"],  # a value like an option: argparse's to judge
    ["--config", "c.toml", "dashboard", "extra"],
    ["dashboard", "--config", "c.toml"],  # argparse refuses a top-level option after it
    ["demo"],
]


@pytest.mark.parametrize("argv", PLAIN)
def test_a_plain_dashboard_start_reads_as_argparse_reads_it(argv: list[str]) -> None:
    options = dashboard_options(argv)
    parsed = build_parser().parse_args(argv)
    assert options == {"config": parsed.config, "data_dir": parsed.data_dir}


@pytest.mark.parametrize("argv", OTHER)
def test_any_other_command_line_is_left_to_argparse(argv: list[str]) -> None:
    assert dashboard_options(argv) is None


def test_main_runs_the_dashboard_with_the_options_read(monkeypatch: pytest.MonkeyPatch) -> None:
    seen: list[Any] = []
    monkeypatch.setattr(dashboard, "run", lambda args: seen.append(args) or 0)
    assert main(["--config", "c.toml", "--data-dir=d"]) == 0
    assert (seen[0].config, seen[0].data_dir) == ("c.toml", "d")


def test_a_plain_dashboard_start_does_not_import_argparse() -> None:
    code = (
        "import sys, crewdash.cli as cli, crewdash.commands.dashboard as d; "
        "d.run = lambda args: 0; cli.main(['dashboard']); print('argparse' in sys.modules)"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"
