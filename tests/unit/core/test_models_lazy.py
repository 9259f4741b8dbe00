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
