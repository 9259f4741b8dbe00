"""`crewdash.core.models` builds its records and events on first use (PEP 562)."""

from __future__ import annotations


def test_every_core_record_and_event_is_still_imported_from_the_core_models() -> None:
    import crewdash.core.models as models
    from crewdash.core import records

    for name in (
        "CrewHealthChanged",
        "Decision",
        "Event",
        "HumanRequest",
        "InboxChanged",
        "RunChanged",
        "RunRecord",
        "StateChange",
    ):
        assert getattr(models, name) is getattr(records, name)
        assert name in dir(models)
    from crewdash.core.models import CrewHealth, CrewHealthChanged, Event

    assert isinstance(CrewHealthChanged("research", CrewHealth.OK), Event)
    try:
        models.NoSuchName  # noqa: B018
    except AttributeError:
        pass
    else:
        raise AssertionError("an unknown name must raise AttributeError")
