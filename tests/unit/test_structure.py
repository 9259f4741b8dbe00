"""The package's shape, enforced (issue 16):

- no module in crewdash/ over MAX_FILE_LINES lines;
- no function (or method, or nested function) over MAX_FUNCTION_LINES lines, counted from its
  `def` line to its last line, docstring included, unless its docstring says why: a line of
  the docstring that starts with "Long because" (e.g. "Long because the steps share six
  locals and read best in order."). The reason is for the reader, so it names the reason;
- no import cycle among crewdash modules, counting the imports that run when a module is
  imported: those at module level (in `try`, `if` and class bodies too), not those inside
  functions nor under `if TYPE_CHECKING:`. `from crewdash.a import b` is an edge to the
  module crewdash.a.b when there is one, else to crewdash.a; a parent package imported on
  the way is not an edge.
"""

from __future__ import annotations

import ast
from collections.abc import Iterable, Iterator, Mapping
from pathlib import Path

PACKAGE = Path(__file__).resolve().parents[2] / "crewdash"
MAX_FILE_LINES = 400
MAX_FUNCTION_LINES = 60
REASON_MARK = "Long because"


def _sources(root: Path = PACKAGE) -> list[Path]:
    return sorted(root.rglob("*.py"))


def _where(path: Path, root: Path = PACKAGE) -> str:
    return str(path.relative_to(root.parent))


# -- sizes ---------------------------------------------------------------------------------


def long_files(root: Path = PACKAGE) -> list[str]:
    found = []
    for path in _sources(root):
        lines = len(path.read_text(encoding="utf-8").splitlines())
        if lines > MAX_FILE_LINES:
            found.append(f"{_where(path, root)}: {lines} lines")
    return found


def _states_a_reason(node: ast.FunctionDef | ast.AsyncFunctionDef) -> bool:
    doc = ast.get_docstring(node) or ""
    return any(line.strip().startswith(REASON_MARK) for line in doc.splitlines())


def long_functions(root: Path = PACKAGE) -> list[str]:
    found = []
    for path in _sources(root):
        tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
        for node in ast.walk(tree):
            if not isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
                continue
            lines = (node.end_lineno or node.lineno) - node.lineno + 1
            if lines > MAX_FUNCTION_LINES and not _states_a_reason(node):
                found.append(f"{_where(path, root)}:{node.lineno} {node.name}: {lines} lines")
    return found


def test_no_file_over_the_limit() -> None:
    offences = long_files()
    assert not offences, "\n".join(offences)


def test_no_long_function_without_a_reason() -> None:
    offences = long_functions()
    assert not offences, "\n".join(offences)


def test_a_long_function_with_a_reason_passes(tmp_path: Path) -> None:
    body = "\n".join(f"    x{n} = {n}" for n in range(MAX_FUNCTION_LINES))
    package = tmp_path / "pkg"
    package.mkdir()
    (package / "plain.py").write_text(f"def f():\n{body}\n")
    (package / "said.py").write_text(f'def g():\n    """Long because a test says so."""\n{body}\n')
    assert [line.split(" ")[1] for line in long_functions(package)] == ["f:"]


# -- import cycles ---------------------------------------------------------------------------


def _module_name(path: Path, root: Path) -> str:
    parts = list(path.relative_to(root.parent).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def _is_type_checking(test: ast.expr) -> bool:
    return (isinstance(test, ast.Name) and test.id == "TYPE_CHECKING") or (
        isinstance(test, ast.Attribute) and test.attr == "TYPE_CHECKING"
    )


def _runtime_imports(nodes: Iterable[ast.AST]) -> Iterator[ast.Import | ast.ImportFrom]:
    """The import statements among `nodes` that run when the module is imported."""
    for node in nodes:
        if isinstance(node, ast.Import | ast.ImportFrom):
            yield node
        elif isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
            continue  # runs when called, not when imported
        elif isinstance(node, ast.If) and _is_type_checking(node.test):
            yield from _runtime_imports(node.orelse)
        else:  # `try`, `if`, `with`, class bodies, except handlers...: all run
            yield from _runtime_imports(ast.iter_child_nodes(node))


def import_graph(root: Path = PACKAGE) -> dict[str, set[str]]:
    """module -> the modules of the package it imports at import time."""
    modules = {_module_name(path, root): path for path in _sources(root)}
    prefix = root.name
    graph: dict[str, set[str]] = {}
    for name, path in modules.items():
        tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
        targets: set[str] = set()
        for node in _runtime_imports(tree.body):
            if isinstance(node, ast.Import):
                targets.update(alias.name for alias in node.names)
            elif node.module:
                for alias in node.names:
                    sub = f"{node.module}.{alias.name}"
                    targets.add(sub if sub in modules else node.module)
        graph[name] = {t for t in targets if t in modules and t.split(".")[0] == prefix} - {name}
    return graph


def find_cycle(graph: Mapping[str, set[str]]) -> list[str] | None:
    """A cycle of `graph` as [a, b, ..., a], or None when it is acyclic."""
    done: set[str] = set()
    path: list[str] = []
    on_path: set[str] = set()

    def visit(node: str) -> list[str] | None:
        path.append(node)
        on_path.add(node)
        for nxt in sorted(graph.get(node, ())):
            if nxt in on_path:
                return [*path[path.index(nxt) :], nxt]
            if nxt not in done and (cycle := visit(nxt)):
                return cycle
        path.pop()
        on_path.discard(node)
        done.add(node)
        return None

    for start in sorted(graph):
        if start not in done and (cycle := visit(start)):
            return cycle
    return None


def test_no_import_cycle() -> None:
    cycle = find_cycle(import_graph())
    assert cycle is None, "import cycle: " + " -> ".join(cycle or [])


def test_the_cycle_finder_finds_a_planted_cycle(tmp_path: Path) -> None:
    package = tmp_path / "pkg"
    package.mkdir()
    (package / "__init__.py").write_text("")
    (package / "a.py").write_text("from pkg import b\n")
    (package / "b.py").write_text("import pkg.c\n")
    (package / "c.py").write_text(
        "try:\n    from pkg.a import thing\nexcept ImportError:\n    pass\n"
    )
    # imports that do not run at import time are no edges
    (package / "d.py").write_text(
        "from typing import TYPE_CHECKING\n"
        "if TYPE_CHECKING:\n    from pkg import e\n"
        "def later():\n    import pkg.e\n"
    )
    (package / "e.py").write_text("import pkg.d\n")
    graph = import_graph(package)
    assert graph["pkg.d"] == set() and graph["pkg.e"] == {"pkg.d"}
    assert find_cycle(graph) == ["pkg.a", "pkg.b", "pkg.c", "pkg.a"]
    assert find_cycle({"x": {"y"}, "y": set()}) is None
