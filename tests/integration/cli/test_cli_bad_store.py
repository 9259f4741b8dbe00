"""A data dir or store crewdash cannot use: one line naming the path and what to do, exit 2,
a JSON error under --json, no traceback. Output piped into a reader that leaves early: no
BrokenPipeError. Real processes (the `crewdash` entry point), real files."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from crewdash.core.store.database import RunStore


def _crewdash(*argv: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    config = cwd / "config.toml"
    config.touch()
    return subprocess.run(
        [sys.executable, "-m", "crewdash", "--config", str(config), *argv],
        capture_output=True,
        text=True,
        timeout=60,
        cwd=cwd,
    )


def _bad_dirs(tmp_path: Path) -> dict[str, tuple[Path, str]]:
    not_sqlite = tmp_path / "not-sqlite"
    not_sqlite.mkdir()
    (not_sqlite / "runs.sqlite3").write_text("this is a text file, not a database\n" * 20)
    a_file = tmp_path / "a-file"
    a_file.write_text("x")
    is_dir = tmp_path / "dir-store"
    (is_dir / "runs.sqlite3").mkdir(parents=True)
    return {
        "not sqlite": (not_sqlite, "not a crewdash run store"),
        "data dir under a file": (a_file / "data", "cannot create the data directory"),
        "store is a directory": (is_dir, "not a file"),
        "read-only file system": (Path("/proc/crewdash-test"), "--data-dir"),
    }


@pytest.mark.parametrize("case", ["not sqlite", "data dir under a file", "store is a directory",
                                  "read-only file system"])  # fmt: skip
def test_a_store_crewdash_cannot_use_is_one_line_and_exit_2(tmp_path: Path, case: str) -> None:
    data_dir, words = _bad_dirs(tmp_path)[case]
    plain = _crewdash("--data-dir", str(data_dir), "runs", cwd=tmp_path)
    assert plain.returncode == 2, plain.stderr
    assert "Traceback" not in plain.stderr and plain.stdout == ""
    [line] = plain.stderr.strip().splitlines()
    assert words in line and str(data_dir) in line
    as_json = _crewdash("--data-dir", str(data_dir), "runs", "--json", cwd=tmp_path)
    assert as_json.returncode == 2 and "Traceback" not in as_json.stderr
    [error] = [json.loads(x) for x in as_json.stdout.splitlines()]
    assert error["type"] == "error" and error["exit_code"] == 2 and words in error["message"]


def test_output_piped_into_a_reader_that_leaves_early(tmp_path: Path) -> None:
    data_dir = tmp_path / "data"
    with RunStore.open(data_dir / "runs.sqlite3") as store:
        for n in range(2000):
            store.mark_accepted(store.create_intent("c", {}, f"r{n}", {}).local_id, f"k{n}")
    config = tmp_path / "config.toml"
    config.touch()
    for extra in ((), ("--json",)):
        crewdash = subprocess.Popen(
            [sys.executable, "-m", "crewdash", "--config", str(config), "--data-dir",
             str(data_dir), "runs", *extra],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
        )  # fmt: skip
        assert crewdash.stdout is not None and crewdash.stderr is not None
        first = crewdash.stdout.readline()  # like `head -1`: read one line, then leave
        crewdash.stdout.close()
        err = crewdash.stderr.read().decode()
        assert crewdash.wait(timeout=60) == 0, err
        assert first and "BrokenPipe" not in err and "Traceback" not in err
