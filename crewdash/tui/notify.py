"""Getting the operator's attention: a toast, the terminal bell and a desktop notification
through the terminal's OSC 9 (iTerm2, WezTerm, kitty, Windows Terminal) or OSC 777 (urxvt,
foot, VTE) escape. Which ones fire is configured in `config.ui` (bell, desktop_notify), and
per crew in `[crews.NAME.notify]` (which events, bell, desktop, quiet hours: see
crewdash.core.config.notify)."""

from __future__ import annotations

import os
import time
from collections.abc import Callable, Mapping

from crewdash.core.config.model import NotifyRules
from crewdash.core.config.notify import attention

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
        rules: Callable[[str], NotifyRules | None] | None = None,
        now: Callable[[], float] = time.time,
    ) -> None:
        self._toast = toast
        self._write = write
        self.bell = bell
        self.desktop = desktop
        self._environ = environ
        self._rules = rules  # a crew's notification rules (None: not configured)
        self._now = now

    def __call__(
        self,
        title: str,
        body: str,
        *,
        severity: str = "information",
        loud: bool = False,
        toast: bool = True,
        crew: str | None = None,
        event: str | None = None,
    ) -> None:
        """A toast (unless `toast` is false: what it says is already on screen); bell and
        desktop notification only when `loud` (needs the operator). With `crew` and `event`
        (`error`, `human_input`, `completed`, `stalled`), the crew's rules decide: nothing
        for an event they leave out, the toast alone during their quiet hours."""
        bell, desktop = self.bell, self.desktop
        rules = self._rules(crew) if self._rules is not None and crew is not None else None
        if rules is not None and event is not None:
            local = time.localtime(self._now())
            got = attention(
                rules,
                event,
                bell=bell,
                desktop=desktop,
                minute_of_day=local.tm_hour * 60 + local.tm_min,
            )
            if not got.toast:
                return
            bell, desktop = got.bell, got.desktop
        if toast:
            self._toast(body, title, severity)
        if not loud:
            return
        if bell:
            self._write("\a")
        if desktop:
            self._write(desktop_escape(title, body, self._environ))
