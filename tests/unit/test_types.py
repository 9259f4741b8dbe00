"""Typed is part of the build: mypy (strict, configured in pyproject's [tool.mypy]) checks
crewdash/ with the tests, every `# type: ignore` says which error and why, and the package
ships its `py.typed` marker so that users' type checkers read crewdash's annotations."""

from __future__ import annotations

import io
import re
import shutil
import subprocess
import sys
import tokenize
import tomllib
import zipfile
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
PACKAGE = ROOT / "crewdash"

#: `# type: ignore[code, other-code]  # why`: the codes, then a comment with the reason
_IGNORE = re.compile(r"#\s*type:\s*ignore\b")
_EXPLAINED = re.compile(r"#\s*type:\s*ignore\[[a-z][a-z-]*(\s*,\s*[a-z][a-z-]*)*\]\s+#\s*\S")


def test_mypy_strict_is_clean() -> None:
    """`mypy` as configured in pyproject (files = crewdash, strict). Its incremental cache
    (.mypy_cache in the repo root) keeps a run after a small change to a few seconds."""
    done = subprocess.run(
        [sys.executable, "-m", "mypy", "--cache-dir", str(ROOT / ".mypy_cache")],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert done.returncode == 0, done.stdout + done.stderr


def _ignore_comments(path: Path) -> list[tuple[int, str]]:
    """Every comment in `path` holding a `type: ignore`, with its line (strings and
    docstrings that merely mention one are not comments)."""
    source = path.read_text(encoding="utf-8")
    return [
        (token.start[0], token.string)
        for token in tokenize.generate_tokens(io.StringIO(source).readline)
        if token.type == tokenize.COMMENT and _IGNORE.search(token.string)
    ]


def test_every_type_ignore_names_its_error_and_says_why() -> None:
    offences = [
        f"{path.relative_to(ROOT)}:{line}: {comment}"
        for path in sorted(PACKAGE.rglob("*.py"))
        for line, comment in _ignore_comments(path)
        if not _EXPLAINED.search(comment)
    ]
    assert not offences, (
        "write `# type: ignore[error-code]  # the reason` (or fix the type):\n"
        + "\n".join(offences)
    )


@pytest.mark.parametrize(
    ("comment", "explained"),
    [
        ("# type: ignore", False),
        ("# type: ignore[attr-defined]", False),
        ("# type: ignore[attr-defined]  #", False),
        ("# type: ignore  # no code", False),
        ("# type: ignore[attr-defined]  # marks the handler as ours", True),
        ("# type: ignore[assignment, misc]  # narrowed for the screen", True),
    ],
)
def test_the_ignore_rule_itself(comment: str, explained: bool) -> None:
    assert bool(_EXPLAINED.search(comment)) is explained


def test_py_typed_is_shipped() -> None:
    """The marker exists, and the wheel target takes the whole package (hatch includes every
    file under a listed package, data files like py.typed too) without excluding it."""
    assert (PACKAGE / "py.typed").is_file()
    wheel = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["tool"]["hatch"][
        "build"
    ]["targets"]["wheel"]
    assert wheel.get("packages") == ["crewdash"]
    assert not any("py.typed" in pattern for pattern in wheel.get("exclude", []))


def test_py_typed_is_in_the_wheel(tmp_path: Path) -> None:
    """Built for real (a few seconds with uv's cache), then looked for in the archive."""
    uv = shutil.which("uv")
    if uv is None:
        pytest.skip("uv builds the wheel; it is not on PATH")
    done = subprocess.run(
        [uv, "build", "--wheel", "--out-dir", str(tmp_path), str(ROOT)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    (built,) = tmp_path.glob("crewdash-*.whl")
    with zipfile.ZipFile(built) as archive:
        assert "crewdash/py.typed" in archive.namelist()
