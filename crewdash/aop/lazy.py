"""Module attributes built on first use (PEP 562), for names whose classes cost start-up time.

`__getattr__, __dir__ = lazy_exports(__name__, NAMES, "package.module")` in a module makes
`from module import NAME` import `package.module` the first time a NAME is asked for."""

from __future__ import annotations

import importlib
import sys
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from collections.abc import Callable


def lazy_exports(
    module: str, names: frozenset[str], source: str
) -> tuple[Callable[[str], Any], Callable[[], list[str]]]:
    def __getattr__(name: str) -> Any:
        if name not in names:
            raise AttributeError(f"module {module!r} has no attribute {name!r}")
        value = getattr(importlib.import_module(source), name)
        setattr(sys.modules[module], name, value)  # later lookups skip this function
        return value

    def __dir__() -> list[str]:
        return sorted({*vars(sys.modules[module]), *names})

    return __getattr__, __dir__
