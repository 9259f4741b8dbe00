"""The one error the config layer raises, worded for the operator who has to fix the file."""

from __future__ import annotations

from pathlib import Path


class ConfigError(Exception):
    """A config problem. The message names the file, the table, the key and, when known, the
    line; the same facts are attributes for programs. It never holds a token."""

    def __init__(
        self,
        problem: str,
        *,
        file: Path | None,
        table: str | None = None,
        key: str | None = None,
        line: int | None = None,
    ) -> None:
        self.problem = problem
        self.file = file
        self.table = table
        self.key = key
        self.line = line
        super().__init__(self.message)

    @property
    def message(self) -> str:
        where = [f"config file {self.file}" if self.file else "config"]
        if self.line is not None:
            where.append(f"line {self.line}")
        if self.table:
            where.append(f"table [{self.table}]")
        if self.key:
            where.append(f'key "{self.key}"')
        return ", ".join(where) + ": " + self.problem

    def __str__(self) -> str:
        return self.message
