"""`Secret`, a token that never shows itself, and every token value this process has held.
Re-exported by `crewdash.aop.models`; a module of its own so that `crewdash.aop.records` builds
on it without importing the models that re-export the records."""

from __future__ import annotations

#: every token value this process has held: text bound for a file or a screen that did not come
#: through a Secret (a crash report, say) is scrubbed of all of them (`known_secrets`)
_KNOWN_SECRETS: set[str] = set()


def known_secrets() -> frozenset[str]:
    return frozenset(_KNOWN_SECRETS)


class Secret:
    """A token. Its str/repr are masked so it cannot leak through logging or a traceback;
    `reveal()` is called only where the Authorization header is built."""

    __slots__ = ("_value",)

    def __init__(self, value: str) -> None:
        self._value = value
        if len(value) >= 4:  # shorter ones cannot be searched for without masking words
            _KNOWN_SECRETS.add(value)

    def reveal(self) -> str:
        return self._value

    @property
    def masked(self) -> str:
        """What a screen may show: the last four characters at most, never more."""
        v = self._value
        return "****" + v[-4:] if len(v) >= 12 else "****"

    def __repr__(self) -> str:
        return "Secret('****')"

    __str__ = __repr__

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Secret) and other._value == self._value

    def __hash__(self) -> int:
        return hash(self._value)

    def __bool__(self) -> bool:
        return bool(self._value)
