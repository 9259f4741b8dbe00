"""Every headless command documents the exit codes in its --help, and they match ExitCode."""

from __future__ import annotations

import pytest

from crewdash.cli import main
from crewdash.commands.support.common import EXIT_CODES_EPILOG, ExitCode

HEADLESS = ("inputs", "kickoff", "status", "watch", "runs", "resume", "stop", "export", "batch")


@pytest.mark.parametrize("command", HEADLESS)
def test_help_lists_exit_codes_and_json(command: str, capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exited:
        main([command, "--help"])
    assert exited.value.code == 0
    out = capsys.readouterr().out
    assert EXIT_CODES_EPILOG in out and "--json" in out


def test_the_epilog_matches_the_enum() -> None:
    for code in ExitCode:
        assert f"\n  {int(code):<4} " in "\n" + EXIT_CODES_EPILOG
    assert [int(c) for c in ExitCode] == [0, 1, 2, 3, 4, 130]


def test_a_bad_option_is_a_usage_error(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exited:
        main(["batch", "crew", "file", "--concurrency", "0"])
    assert exited.value.code == ExitCode.USAGE
    assert "expected at least 1" in capsys.readouterr().err


def test_kickoff_help_says_it_advertises_no_webhook_urls(
    capsys: pytest.CaptureFixture[str],
) -> None:
    with pytest.raises(SystemExit):
        main(["kickoff", "--help"])
    text = " ".join(capsys.readouterr().out.split())  # argparse rewraps the description
    assert "sends no webhook URLs" in text
    assert "cannot receive" in text and "polling" in text
