"""The App's private parts crewdash relies on: crash handling and the terminal driver."""

from __future__ import annotations

import contextlib
from pathlib import Path
from typing import Any, TypeVar

from textual.app import App

from crewdash.tui.crash import write_crash_report

ReturnType = TypeVar("ReturnType")


class CrashReporting(App[ReturnType]):
    """An App whose unhandled exception becomes a crash report and a non-zero exit."""

    #: where crash reports go (the data directory); None: the temp dir
    crash_dir: Path | None = None
    #: the report of this run's crash, once written
    crash_report: Path | None = None

    def _handle_exception(self, error: Exception) -> None:
        if self.crash_report is None:
            # on failure Textual's own traceback is the only report: it prints
            with contextlib.suppress(OSError):
                self.crash_report = write_crash_report(self.crash_dir, error)
        super()._handle_exception(error)

    def _print_error_renderables(self) -> None:
        if self.crash_report is None:
            super()._print_error_renderables()
        # else: the report holds the traceback; the command prints where it is


def write_to_terminal(app: App[Any], data: str) -> None:
    """Write an escape sequence to the terminal (no-op headless or before the driver)."""
    driver = app._driver
    if driver is not None and not app.is_headless:
        driver.write(data)
