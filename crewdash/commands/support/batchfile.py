"""Reading a batch file: JSONL (one JSON object per line) or CSV (a header row of input
names), each row checked and converted with the crew's input specs (`crewdash.core.inputs`: a
CSV cell follows the rules for text, a JSONL value those for typed values) before anything is sent.
The batch's identity for resuming is the crew plus the hash of the converted rows
(`crewdash.core.runs.batch`): the same command on the same file carries on where it stopped.
"""

from __future__ import annotations

import csv
import json
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from crewdash.aop.models import InputSpec
from crewdash.commands.support.values import InputValueError
from crewdash.core.inputs import InputError, build_inputs


@dataclass(frozen=True, slots=True)
class BatchRow:
    number: int  # line (JSONL) or row (CSV, header excluded) number, 1-based, for messages
    inputs: dict[str, Any]


def _format_of(path: Path, text: str) -> str:
    suffix = path.suffix.lower()
    if suffix in (".jsonl", ".ndjson", ".json"):
        return "jsonl"
    if suffix in (".csv", ".tsv"):
        return "csv"
    return "jsonl" if text.lstrip().startswith("{") else "csv"


def _raw_rows(path: Path, text: str) -> list[tuple[int, dict[str, Any], bool]]:
    """(number, values, values_are_text) for every non-empty row."""
    rows: list[tuple[int, dict[str, Any], bool]] = []
    if _format_of(path, text) == "jsonl":
        for number, line in enumerate(text.splitlines(), start=1):
            if not line.strip():
                continue
            try:
                value = json.loads(line)
            except json.JSONDecodeError as exc:
                raise InputValueError(f"{path} line {number}: not valid JSON ({exc.msg})") from None
            if not isinstance(value, dict):
                raise InputValueError(f"{path} line {number}: expected a JSON object of inputs")
            rows.append((number, value, False))
        return rows
    dialect = "excel-tab" if path.suffix.lower() == ".tsv" else "excel"
    reader = csv.DictReader(text.splitlines(), dialect=dialect)
    if not reader.fieldnames:
        raise InputValueError(f"{path}: the CSV has no header row naming the inputs")
    for number, record in enumerate(reader, start=1):
        if None in record:
            raise InputValueError(f"{path} row {number}: more cells than header columns")
        # An empty cell means "not given", so optional inputs can stay blank.
        values = {k.strip(): v for k, v in record.items() if k and v not in (None, "")}
        if values:
            rows.append((number, values, True))
    return rows


def read_batch(path: Path, specs: Sequence[InputSpec]) -> list[BatchRow]:
    """Every row, converted and checked; the first bad row refuses the whole batch."""
    try:
        text = path.read_text(encoding="utf-8-sig")
    except FileNotFoundError:
        raise InputValueError(f"batch file {path} does not exist") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise InputValueError(f"cannot read batch file {path}: {exc}") from None
    unit = "line" if _format_of(path, text) == "jsonl" else "row"
    rows: list[BatchRow] = []
    for number, values, is_text in _raw_rows(path, text):
        try:
            inputs = (
                build_inputs(specs, texts=values) if is_text else build_inputs(specs, typed=values)
            )
        except InputError as exc:  # the core's message, without the CLI's "-i" hint
            raise InputValueError(f"{path} {unit} {number}: {exc.message}") from None
        rows.append(BatchRow(number, inputs))
    if not rows:
        raise InputValueError(f"batch file {path} has no rows")
    return rows
