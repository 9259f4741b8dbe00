"""Which status route each crew's deployment answers, remembered in the store's meta so a
legacy deployment is not probed again on every start (the CLI and the engine share this)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from crewdash.aop.models import StatusRoute

if TYPE_CHECKING:
    from crewdash.core.store.database import RunStore


def _key(crew: str) -> str:
    return f"status_route:{crew}"


def load_status_route(store: RunStore, crew: str) -> StatusRoute | None:
    """The route remembered for `crew`; None when nothing or an unknown value is stored."""
    saved = store.get_meta(_key(crew))
    return StatusRoute(saved) if saved in {r.value for r in StatusRoute} else None


def save_status_route(store: RunStore, crew: str, route: StatusRoute | None) -> None:
    """Remember `route` for `crew`; None (nothing learnt yet) leaves the memory as it is."""
    if route is not None:
        store.set_meta(_key(crew), str(route.value))
