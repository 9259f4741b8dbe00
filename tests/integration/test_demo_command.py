"""`crewdash demo` on a pty: the dashboard is painted, then the simulator is served (after the
first frame) and the engine reaches it: the selected crew's form comes from its `/inputs`."""

from __future__ import annotations

import sys

import pytest

from tests.benchmarks.tui_pty import PtyApp


@pytest.mark.timeout(120)
def test_demo_paints_then_serves_the_simulator_and_quits_cleanly() -> None:
    app = PtyApp([sys.executable, "-m", "crewdash", "demo"])
    try:
        app.wait_for(b"Progress", timeout=60)  # the first frame: the runs table's header
        app.wait_for(b"New run of", timeout=60)  # inputs read from the simulator
        app.write(b"\x11")  # Ctrl+Q
        assert app.process.wait(30) == 0
        text = b"".join(data for _, data in app.chunks)
        assert b"Could not read the inputs" not in text and b"Traceback" not in text
    finally:
        app.close()
