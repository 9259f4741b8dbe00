"""`crewdash --read-only` on a pty: the dashboard starts, says "read-only" in its header,
shows the crews and their runs, and has no form to start one."""

from __future__ import annotations

from tests.journeys.harness import Launch


def test_read_only_dashboard_starts_and_says_so(launch: Launch) -> None:
    tui = launch(["basic", "review"], args=["--read-only"])
    text = tui.wait_for("read-only", "basic", "review", "cannot start, stop or answer")
    assert "New run of" not in text
    assert "^s" not in text.splitlines()[-1]  # no Start run in the Footer
