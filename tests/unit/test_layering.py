"""The direction of imports in DESIGN.md, enforced: tui/, cli → core/ → aop/; sim/ alone;
no Textual outside tui/."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parents[2] / "crewdash"


def _imports(path: Path) -> set[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    found: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            found.add(node.module)
        elif isinstance(node, ast.ImportFrom) and node.level:
            raise AssertionError(f"{path}: use absolute imports (from crewdash.…)")
    return found


def _layer_files(layer: str) -> list[Path]:
    return sorted((PACKAGE / layer).rglob("*.py"))


# layer -> prefixes it must never import
FORBIDDEN: dict[str, tuple[str, ...]] = {
    "aop": ("crewdash.core", "crewdash.tui", "crewdash.sim", "crewdash.cli", "textual"),
    "core": ("crewdash.tui", "crewdash.sim", "crewdash.cli", "textual"),
    "sim": ("crewdash.aop", "crewdash.core", "crewdash.tui", "crewdash.cli", "textual"),
    "tui": ("crewdash.sim", "crewdash.cli", "crewdash.commands"),
    # commands/ is the command line: it may use every layer, but Textual only through tui/.
    "commands": ("textual",),
}


@pytest.mark.parametrize("layer", sorted(FORBIDDEN))
def test_layer_imports_only_downwards(layer: str) -> None:
    files = _layer_files(layer)
    assert files, f"layer {layer} has no modules"
    offences = [
        f"{path.relative_to(PACKAGE.parent)} imports {name}"
        for path in files
        for name in sorted(_imports(path))
        if any(name == bad or name.startswith(bad + ".") for bad in FORBIDDEN[layer])
    ]
    assert not offences, "\n".join(offences)


def test_textual_only_in_tui() -> None:
    offences = [
        str(path.relative_to(PACKAGE.parent))
        for path in PACKAGE.rglob("*.py")
        if "tui" not in path.relative_to(PACKAGE).parts
        and any(n == "textual" or n.startswith("textual.") for n in _imports(path))
    ]
    assert not offences, offences


def test_walker_sees_a_forbidden_import(tmp_path: Path) -> None:
    """The check itself can fail: a planted bad import is found."""
    bad = tmp_path / "bad.py"
    bad.write_text("import textual\nfrom crewdash.core.models import RunRecord\n")
    assert {"textual", "crewdash.core.models"} <= _imports(bad)


def test_screens_and_widgets_do_not_import_the_app() -> None:
    """App and screens talk through messages (crewdash/tui/messages.py); a screen reads its
    app through the Host protocol (crewdash/tui/host.py), never the App class."""
    offences = [
        str(path.relative_to(PACKAGE.parent))
        for folder in ("tui/screens", "tui/widgets")
        for path in _layer_files(folder)
        if "crewdash.tui.app" in _imports(path)
    ]
    assert not offences, "\n".join(offences)
