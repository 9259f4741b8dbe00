"""Getting the operator's attention: a toast, the terminal bell and a desktop notification
through the terminal's OSC 9 (iTerm2, WezTerm, kitty, Windows Terminal) or OSC 777 (urxvt,
foot, VTE) escape. Which ones fire is configured in `config.ui` (bell, desktop_notify)."""

from __future__ import annotations

import os
from collections.abc import Callable, Mapping

#: TERM_PROGRAM values known to show OSC 777 (others get OSC 9)
OSC777_TERMINALS = ("foot", "urxvt", "rxvt", "vte", "gnome-terminal", "tilix")


def _clean(text: str) -> str:
    """No control characters inside an escape sequence: they would end it early."""
    return "".join(ch if ch.isprintable() else " " for ch in text).replace(";", ",")[:200]


def desktop_escape(title: str, body: str, environ: Mapping[str, str] | None = None) -> str:
    """The OSC sequence that asks the terminal for a desktop notification."""
    env = os.environ if environ is None else environ
    term = f"{env.get('TERM_PROGRAM', '')} {env.get('TERM', '')}".lower()
    if any(name in term for name in OSC777_TERMINALS) or env.get("VTE_VERSION"):
        return f"\x1b]777;notify;{_clean(title)};{_clean(body)}\x07"
    return f"\x1b]9;{_clean(title)}: {_clean(body)}\x07"


class Notifier:
    """Toast + bell + desktop notification, each switchable; writes go through `write`."""

    def __init__(
        self,
        *,
        toast: Callable[[str, str, str], None],
        write: Callable[[str], None],
        bell: bool = True,
        desktop: bool = True,
        environ: Mapping[str, str] | None = None,
    ) -> None:
        self._toast = toast
        self._write = write
        self.bell = bell
        self.desktop = desktop
        self._environ = environ

    def __call__(
        self,
        title: str,
        body: str,
        *,
        severity: str = "information",
        loud: bool = False,
        toast: bool = True,
    ) -> None:
        """A toast (unless `toast` is false: what it says is already on screen); bell and
        desktop notification only when `loud` (needs the operator)."""
        if toast:
            self._toast(body, title, severity)
        if not loud:
            return
        if self.bell:
            self._write("\a")
        if self.desktop:
            self._write(desktop_escape(title, body, self._environ))
