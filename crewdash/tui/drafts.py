"""Unsent human-input feedback, kept per request for the session so closing the modal (Esc)
does not lose what the operator typed. Memory only: a draft is not an answer and is not
worth a store row."""

from __future__ import annotations

from weakref import WeakKeyDictionary


class DraftStore:
    """Feedback text by request id; blank text is no draft."""

    def __init__(self) -> None:
        self._drafts: dict[str, str] = {}

    def get(self, request_id: str) -> str:
        return self._drafts.get(request_id, "")

    def put(self, request_id: str, text: str) -> None:
        if text.strip():
            self._drafts[request_id] = text
        else:
            self._drafts.pop(request_id, None)

    def discard(self, request_id: str) -> None:
        self._drafts.pop(request_id, None)

    def __contains__(self, request_id: object) -> bool:
        return request_id in self._drafts

    def __len__(self) -> int:
        return len(self._drafts)


# One store per running app, without an attribute on the App class: the modal is opened from
# several places (the app, the inbox) that need not pass it along.
_STORES: WeakKeyDictionary[object, DraftStore] = WeakKeyDictionary()


def drafts_for(app: object) -> DraftStore:
    """The session's draft store of `app` (created on first use)."""
    store = _STORES.get(app)
    if store is None:
        store = _STORES[app] = DraftStore()
    return store
