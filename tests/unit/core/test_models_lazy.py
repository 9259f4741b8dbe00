"""`crewdash.core.models` builds its records and events on first use (PEP 562)."""

from __future__ import annotations

import types

import pytest


def test_every_core_record_and_event_is_still_imported_from_the_core_models() -> None:
    import crewdash.core.models as models
    from crewdash.core import records

    # what records defines: its classes and the `Event` union, not the names it imports
    defined = [
        name
        for name, value in vars(records).items()
        if getattr(value, "__module__", None) == records.__name__
        or isinstance(value, types.UnionType)
    ]
    for name in defined:
        assert getattr(models, name) is getattr(records, name)
        assert name in dir(models)
    from crewdash.core.models import CrewHealth, CrewHealthChanged, Event

    assert isinstance(CrewHealthChanged("research", CrewHealth.OK), Event)
    with pytest.raises(AttributeError):
        models.NoSuchName  # noqa: B018


def test_the_models_and_their_records_import_each_other_in_no_loop() -> None:
    """models → enums (and secret), models ⇢ records (on first use), records → enums: the records
    never import the models that re-export them, not even for type checking."""
    import ast
    from pathlib import Path

    package = Path(__file__).resolve().parents[3] / "crewdash"
    modules = {
        f"crewdash.{layer}.{name}": package / layer / f"{name}.py"
        for layer, names in (
            ("aop", ("models", "records", "enums", "secret", "lazy")),
            ("core", ("models", "records", "enums")),
        )
        for name in names
    }
    edges: dict[str, set[str]] = {name: set() for name in modules}
    for name, path in modules.items():
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.ImportFrom) and node.module in modules:
                edges[name].add(node.module)
            elif isinstance(node, ast.Import):
                edges[name].update(a.name for a in node.names if a.name in modules)
    # the lazy exports are no import statement: add them by hand
    edges["crewdash.aop.models"].add("crewdash.aop.records")
    edges["crewdash.core.models"].add("crewdash.core.records")

    def reaches(start: str, goal: str, seen: set[str]) -> bool:
        return any(
            nxt == goal or (nxt not in seen and reaches(nxt, goal, seen | {nxt}))
            for nxt in edges[start]
        )

    loops = [name for name in modules if reaches(name, name, {name})]
    assert loops == [], loops
