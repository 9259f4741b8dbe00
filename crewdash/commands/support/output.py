"""The output layer of the headless commands.

With `--json`, stdout carries one JSON object per line and nothing else. Human text — results
in plain words, hints, warnings — is written as lines; progress bars go to stderr and only when
stderr is a terminal, so a pipe or a log file never fills with carriage returns.
"""

from __future__ import annotations

import json
import sys
from collections.abc import Mapping
from typing import Any, TextIO


def _default(value: Any) -> Any:
    # Enums (StrEnum) serialise as their value already; anything else exotic as text.
    if isinstance(value, set | frozenset | tuple):
        return list(value)
    return str(value)


class Output:
    """Where a command writes. `result()` for data, `info()` for words, `progress()` for bars."""

    def __init__(
        self,
        *,
        json_mode: bool,
        stdout: TextIO | None = None,
        stderr: TextIO | None = None,
    ) -> None:
        self.json_mode = json_mode
        self._stdout = stdout if stdout is not None else sys.stdout
        self._stderr = stderr if stderr is not None else sys.stderr
        self._progress_shown = False
        self._closed: set[TextIO] = set()

    @property
    def stderr_is_terminal(self) -> bool:
        try:
            return self._stderr.isatty()
        except (AttributeError, ValueError):
            return False

    def record(self, obj: Mapping[str, Any]) -> None:
        """One JSON object on its own line on stdout (only with `--json`)."""
        if self.json_mode:
            self._write(self._stdout, json.dumps(obj, default=_default, ensure_ascii=False))

    def text(self, line: str) -> None:
        """A result in human form on stdout (only without `--json`)."""
        if not self.json_mode:
            self._write(self._stdout, line)

    def emit(self, obj: Mapping[str, Any], line: str) -> None:
        """The same result as a JSON line (`--json`) or as a human line."""
        if self.json_mode:
            self.record(obj)
        else:
            self.text(line)

    def event(self, obj: Mapping[str, Any], line: str) -> None:
        """Something that happened while following runs: a JSON line, or words on stderr."""
        if self.json_mode:
            self.record(obj)
        else:
            self.info(line)

    def info(self, line: str) -> None:
        """Words for the operator: always stderr, never mixed into data."""
        self._write(self._stderr, line)

    def error(self, message: str, *, kind: str, code: int) -> None:
        """One line on stderr; with `--json` also an error object on stdout."""
        self.info(f"crewdash: error: {message}")
        self.record({"type": "error", "kind": kind, "message": message, "exit_code": int(code)})

    def progress(self, done: int, total: int, label: str = "") -> None:
        """A one-line bar redrawn in place, only when stderr is a terminal."""
        if not self.stderr_is_terminal or total <= 0:
            return
        width = 30
        filled = int(width * min(done, total) / total)
        bar = "#" * filled + "-" * (width - filled)
        self._stderr.write(f"\r[{bar}] {done}/{total} {label}".rstrip() + "\033[K")
        self._stderr.flush()
        self._progress_shown = True

    def end_progress(self) -> None:
        if self._progress_shown:
            self._stderr.write("\n")
            self._stderr.flush()
            self._progress_shown = False

    def _write(self, stream: TextIO, line: str) -> None:
        if stream is self._stderr and self._progress_shown:
            self.end_progress()
        if stream in self._closed:
            return
        try:
            stream.write(line + "\n")
            stream.flush()
        except BrokenPipeError:  # `crewdash runs | head`: the reader has gone; so be it
            self._closed.add(stream)
            _silence(stream)


def _silence(stream: TextIO) -> None:
    """Point a stream whose reader went away at /dev/null, so that the interpreter's final
    flush does not complain about the broken pipe either."""
    import os

    try:
        fd = stream.fileno()
    except (AttributeError, ValueError, OSError):
        return
    devnull = os.open(os.devnull, os.O_WRONLY)
    try:
        os.dup2(devnull, fd)
    finally:
        os.close(devnull)
