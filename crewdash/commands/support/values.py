"""The CLI's side of input values: `-i name=value` pairs, `--inputs-file`, and the refusals of
`crewdash.core.inputs` (which holds the conversion rules, shared with the form) as usage errors.

`-i age=35` becomes the integer 35 when the crew's input spec says integer. A wrong value is
refused before anything is sent, with a message that names the input, the type and the value.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path
from typing import Any

from crewdash.aop.models import InputSpec
from crewdash.commands.support.common import ExitCode
from crewdash.commands.support.errors import CliError
from crewdash.core import inputs


class InputValueError(CliError):
    def __init__(self, message: str) -> None:
        super().__init__(message, code=ExitCode.USAGE, kind="validation")


def parse_assignments(items: Iterable[str]) -> dict[str, str]:
    """`["a=1", "b=x=y"]` → `{"a": "1", "b": "x=y"}`; the last of repeated keys wins."""
    values: dict[str, str] = {}
    for item in items:
        key, sep, value = item.partition("=")
        key = key.strip()
        if not sep or not key:
            raise InputValueError(f"-i expects key=value, got {item!r}")
        values[key] = value
    return values


def read_inputs_file(path: Path) -> dict[str, Any]:
    """A JSON object of input values; its values are already typed."""
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise InputValueError(f"inputs file {path} does not exist") from None
    except OSError as exc:
        raise InputValueError(f"cannot read inputs file {path}: {exc.strerror}") from None
    except json.JSONDecodeError as exc:
        raise InputValueError(
            f"inputs file {path} is not valid JSON (line {exc.lineno}: {exc.msg})"
        ) from None
    if not isinstance(data, dict):
        raise InputValueError(f"inputs file {path} must hold a JSON object of input values")
    return data


def build_inputs(
    specs: Sequence[InputSpec],
    *,
    typed: Mapping[str, Any] | None = None,
    texts: Mapping[str, str] | None = None,
) -> dict[str, Any]:
    """`crewdash.core.inputs.build_inputs` with its refusals as usage errors (exit 2); a missing
    input's message says how to give it."""
    try:
        return inputs.build_inputs(specs, typed=typed, texts=texts)
    except inputs.MissingInputsError as exc:
        give = " ".join(f"-i {name}=..." for name in exc.names)
        raise InputValueError(f"{exc.message} (give {give})") from None
    except inputs.InputError as exc:
        raise InputValueError(exc.message) from None
