"""When a human-input request may open its answer modal by itself.

A request that arrives is announced at once (toast, bell, the inbox badge). Its modal opens by
itself only when that cannot take anything from the operator: the dashboard is on top with no
other screen or modal over it, no text field has the focus, and no key or click came for
`idle_after` seconds. Otherwise it waits for `i`, or for such a quiet moment. A request the
operator closed with Esc never opens by itself again (`i` and the inbox still open it).

No Textual here: the app feeds it what happens and asks `next_to_open` on a timer.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable
from typing import Protocol, TypeVar


class Pending(Protocol):
    """What the policy reads of a request."""

    @property
    def id(self) -> str: ...
    @property
    def received_at(self) -> float: ...


P = TypeVar("P", bound=Pending)


class RequestAttention:
    def __init__(self, *, idle_after: float = 2.5, clock: Callable[[], float] = time.monotonic):
        self.idle_after = idle_after
        self._clock = clock
        self._last_input = -idle_after  # idle from the start
        self._announced: set[str] = set()
        self._set_aside: set[str] = set()  # closed with Esc: never opened by itself again

    def input_seen(self) -> None:
        """The operator pressed a key or clicked."""
        self._last_input = self._clock()

    def idle(self) -> bool:
        return self._clock() - self._last_input >= self.idle_after

    def is_new(self, request_id: str) -> bool:
        """True the first time a request is seen: announce it then, once."""
        if request_id in self._announced:
            return False
        self._announced.add(request_id)
        return True

    def known(self, request_ids: Iterable[str]) -> None:
        """Requests that were waiting when the dashboard started: announced by the badge."""
        self._announced.update(request_ids)

    def set_aside(self, request_id: str) -> None:
        """The operator closed this request's modal without answering."""
        self._set_aside.add(request_id)

    def next_to_open(self, pending: Iterable[P], *, can_open: bool) -> P | None:
        """The request whose modal may open by itself now, oldest first, or None."""
        if not can_open or not self.idle():
            return None
        waiting = [r for r in pending if r.id not in self._set_aside]
        return min(waiting, key=lambda r: r.received_at) if waiting else None
