"""The real `crewdash` on a pseudo-terminal, made to fail inside a key handler: the terminal is
given back, no traceback reaches it, one line says where the crash report is, the report has no
token in it, and the process exits 70 (not 0, as a crash did before)."""

from __future__ import annotations

import sys
import textwrap
from pathlib import Path

from tests.benchmarks.tui_pty import ESCAPES, PtyApp

TOKEN = "tok-planted-9f8e7d6c5b4a"

# The program as an operator starts it (crewdash.cli.main), with one handler that fails the
# way a defect would, its message carrying the token a careless error could hold.
CHILD = textwrap.dedent(
    """
    import sys
    import crewdash.tui.screens.main as main_screen

    def broken(self):
        raise RuntimeError("a defect in a key handler, holding " + sys.argv[3])

    main_screen.MainScreen.action_focus_runs = broken
    from crewdash.cli import main

    sys.exit(main(["--config", sys.argv[1], "--data-dir", sys.argv[2]]))
    """
)


def test_a_crash_gives_the_terminal_back_writes_a_scrubbed_report_and_exits_70(
    tmp_path: Path,
) -> None:
    config = tmp_path / "config.toml"
    config.write_text(
        f'[crews.research]\nurl = "http://127.0.0.1:9"\ntoken = "{TOKEN}"\n', encoding="utf-8"
    )
    config.chmod(0o600)
    data = tmp_path / "data"
    app = PtyApp([sys.executable, "-c", CHILD, str(config), str(data), TOKEN])
    try:
        app.wait_for(b"filter runs", timeout=60)
        app.write(b"r")  # the broken handler
        assert app.process.wait(60) == 70
        app._reader.join(5)
        output = b"".join(chunk for _, chunk in app.chunks)
    finally:
        app.close()
    text = ESCAPES.sub(b"", output).decode("utf-8", "replace")
    assert "Traceback" not in text and "RuntimeError" not in text
    assert TOKEN not in text
    assert output.rfind(b"\x1b[?1049l") > output.rfind(b"\x1b[?1049h")  # main screen back
    assert "crewdash stopped on an unexpected error" in text
    reports = list((data / "crashes").glob("crash-*.txt"))
    assert len(reports) == 1 and str(reports[0]) in " ".join(text.split())
    report = reports[0].read_text()
    assert "a defect in a key handler" in report and "broken" in report
    assert "RuntimeError" in report and TOKEN not in report and "****" in report
