"""Comments cite the facts they rely on in this repository's docs/, by file and heading:
`docs/aop-api.md#status-variants`. Every such citation in crewdash/ (and pyproject.toml) must
point at an existing file and, when it names one, an existing heading (its GitHub anchor), and
nothing cites the notes that live outside the repository (AOP-API.md, FIELD-NOTES, DESIGN.md).
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
CITATION = re.compile(r"docs/([\w./-]*\w\.md)(?:#([\w-]+))?")
OUTSIDE = re.compile(r"AOP-API|FIELD-NOTES|DESIGN\.md")


def _cited_in() -> list[Path]:
    return [*sorted((ROOT / "crewdash").rglob("*.py")), ROOT / "pyproject.toml"]


def anchor(heading: str) -> str:
    """GitHub's anchor of a Markdown heading: lower case, punctuation dropped, spaces -> '-'."""
    text = heading.strip().lower()
    return re.sub(r"[^\w\- ]", "", text).replace(" ", "-")


def anchors(doc: Path) -> set[str]:
    found = set()
    in_code = False
    for line in doc.read_text(encoding="utf-8").splitlines():
        if line.startswith("```"):
            in_code = not in_code  # a `#` in a code block is no heading
        elif not in_code and (heading := re.match(r"#{1,6} (.+)", line)):
            found.add(anchor(heading.group(1)))
    return found


def broken_citations(files: list[Path], root: Path = ROOT) -> list[str]:
    broken = []
    for path in files:
        for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
            for match in CITATION.finditer(line):
                doc = root / "docs" / match.group(1)
                where = f"{path.relative_to(root)}:{number} {match.group(0)}"
                if not doc.is_file():
                    broken.append(f"{where}: no such file")
                elif match.group(2) and match.group(2) not in anchors(doc):
                    broken.append(f"{where}: no such heading")
    return broken


def test_every_citation_points_at_a_file_and_heading() -> None:
    broken = broken_citations(_cited_in())
    assert not broken, "\n".join(broken)


def test_nothing_cites_notes_outside_the_repository() -> None:
    offences = [
        f"{path.relative_to(ROOT)}:{number}: {line.strip()}"
        for path in _cited_in()
        for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1)
        if OUTSIDE.search(line)
    ]
    assert not offences, "\n".join(offences)


@pytest.mark.parametrize(
    ("heading", "expected"),
    [
        ("Status variants", "status-variants"),
        ("Stop and health", "stop-and-health"),
        ("Kickoff is not idempotent", "kickoff-is-not-idempotent"),
        ("DataTable cost", "datatable-cost"),
        ("crewdash: design", "crewdash-design"),
    ],
)
def test_anchors_are_githubs(heading: str, expected: str) -> None:
    assert anchor(heading) == expected


def test_a_broken_citation_is_found(tmp_path: Path) -> None:
    (tmp_path / "docs").mkdir()
    (tmp_path / "docs" / "a.md").write_text("# A\n\n## Real heading\n\n```\n# not one\n```\n")
    code = tmp_path / "m.py"
    code.write_text(
        "# docs/a.md#real-heading is fine, docs/a.md too\n"
        "# docs/a.md#not-one is no heading\n"
        "x = 1  # docs/b.md does not exist\n"
    )
    assert broken_citations([code], tmp_path) == [
        "m.py:2 docs/a.md#not-one: no such heading",
        "m.py:3 docs/b.md: no such file",
    ]
