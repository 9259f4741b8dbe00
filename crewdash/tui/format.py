"""How values look on screen: states, ids, durations, clocks, progress bars.

Pure functions, no widgets, so every screen shows a run the same way and tests can check the
words. Colours come from the theme: each state maps to a semantic role ("success", "error"...)
and the caller passes the current theme's colours (`theme_colors(app)`); a state is never
told by colour alone — every label has a symbol and a word.
"""

from __future__ import annotations

import time
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from rich.text import Text

from crewdash.aop.models import RunState
from crewdash.core.models import CrewHealth, KickoffPhase

if TYPE_CHECKING:
    from crewdash.core.models import RunRecord

#: state -> (symbol, word, theme role). The symbol and the word carry the meaning.
STATE_LOOK: dict[RunState, tuple[str, str, str]] = {
    RunState.PENDING: ("○", "pending", "foreground-muted"),
    RunState.RUNNING: ("▶", "running", "primary"),
    RunState.AWAITING_INPUT: ("?", "input", "warning"),
    RunState.COMPLETED: ("✓", "completed", "success"),
    RunState.ERROR: ("✗", "error", "error"),
    RunState.STOPPED: ("■", "stopped", "foreground-muted"),
    RunState.UNKNOWN: ("·", "unknown", "foreground-muted"),
}

#: kickoff phases other than ACCEPTED shadow the run state (no run exists, or may not)
PHASE_LOOK: dict[KickoffPhase, tuple[str, str, str]] = {
    KickoffPhase.INTENT: ("…", "starting", "foreground-muted"),
    KickoffPhase.REFUSED: ("✗", "refused", "error"),
    KickoffPhase.UNKNOWN: ("?", "unconfirmed", "warning"),
}

HEALTH_LOOK: dict[CrewHealth, tuple[str, str, str]] = {
    CrewHealth.UNKNOWN: ("·", "not polled yet", "foreground-muted"),
    CrewHealth.OK: ("●", "ok", "success"),
    CrewHealth.SLOW: ("◐", "slow", "warning"),
    CrewHealth.OFFLINE: ("○", "offline", "error"),
    CrewHealth.TOKEN_REJECTED: ("⚿", "token rejected", "error"),
}

#: the textual-dark theme's colours, used when no app theme is passed (tests, CLI)
DEFAULT_COLORS: dict[str, str] = {
    "primary": "#0178D4",
    "secondary": "#004578",
    "accent": "#ffa62b",
    "warning": "#FEA62B",
    "error": "#B93C5B",
    "success": "#4EBF71",
    "foreground-muted": "#8F8F8F",
}


def theme_colors(app: Any) -> dict[str, str]:
    """The semantic colours of `app`'s current theme (a Textual App), for Rich `Text` cells."""
    colors = dict(DEFAULT_COLORS)
    try:
        variables = app.theme_variables
    except Exception:  # no running app: keep the defaults
        return colors
    for role in colors:
        value = variables.get(role)
        if value and value.startswith("#") and len(value) in (4, 7):
            colors[role] = value
        elif value and value.startswith("#") and len(value) == 9:
            # "#RRGGBBAA": Rich has no alpha; keep the colour, drop the alpha
            colors[role] = value[:7]
    return colors


def _styled(look: tuple[str, str, str], word: str | None, colors: Mapping[str, str] | None) -> Text:
    symbol, default_word, role = look
    palette = colors or DEFAULT_COLORS
    style = palette.get(role, "")
    if role in ("error", "success", "warning"):
        style = f"bold {style}".strip()
    return Text(f"{symbol} {word or default_word}", style=style)


def state_label(state: RunState, raw: str = "", *, colors: Mapping[str, str] | None = None) -> Text:
    """Symbol + word + colour of a run state; an unknown state shows the server's own word."""
    word = raw if state is RunState.UNKNOWN and raw else None
    return _styled(STATE_LOOK[state], word, colors)


def phase_label(phase: KickoffPhase, *, colors: Mapping[str, str] | None = None) -> Text | None:
    """The label of a kickoff phase that hides the run state, or None when ACCEPTED."""
    look = PHASE_LOOK.get(phase)
    return None if look is None else _styled(look, None, colors)


def health_label(health: CrewHealth, *, colors: Mapping[str, str] | None = None) -> Text:
    """Symbol + words of a crew's health: ok / slow / offline / token rejected."""
    return _styled(HEALTH_LOOK[health], None, colors)


def short_id(kickoff_id: str | None, length: int = 8) -> str:
    """The first characters of a kickoff id, enough to tell runs apart; '—' when none yet."""
    if not kickoff_id:
        return "—"
    return kickoff_id.replace("-", "")[:length] if len(kickoff_id) > length else kickoff_id


def duration_changes_in(seconds: float) -> float:
    """Seconds until `format_duration` of a duration growing from `seconds` shows other words:
    each second below an hour ('3m 12s'), each minute below a day ('2h 05m'), then each hour."""
    s = max(0.0, seconds)
    step = 1 if s < 3600 else 60 if s < 86400 else 3600
    return (int(s) // step + 1) * step - s


def format_clock(ts: float | None, *, now: float | None = None, seconds: bool = True) -> str:
    """Local wall-clock time: 'HH:MM:SS' (or 'HH:MM') today, 'Mon DD HH:MM' on another day."""
    if ts is None:
        return "—"
    when = time.localtime(ts)
    today = time.localtime(time.time() if now is None else now)
    if (when.tm_year, when.tm_yday) == (today.tm_year, today.tm_yday):
        return time.strftime("%H:%M:%S" if seconds else "%H:%M", when)
    if not seconds:
        return time.strftime("%b %d", when)
    return time.strftime("%b %d %H:%M", when)


def next_midnight(now: float) -> float:
    """The next local midnight after `now`: where `format_clock` of an earlier time changes
    from 'HH:MM' to a date."""
    day = time.localtime(now)
    return time.mktime((day.tm_year, day.tm_mon, day.tm_mday + 1, 0, 0, 0, 0, 0, -1))


def format_ago(seconds: float | None) -> str:
    """How long ago: 'just now', '12s ago', '5m ago', '3h ago', '2d ago'."""
    if seconds is None:
        return "—"
    s = int(seconds)
    if s < 5:
        return "just now"
    if s < 60:
        return f"{s}s ago"
    if s < 3600:
        return f"{s // 60}m ago"
    if s < 86400:
        return f"{s // 3600}h ago"
    return f"{s // 86400}d ago"


def tasks_done(run: RunRecord) -> int | None:
    """Tasks done as the operator should read it: a completed run has done all its tasks
    (some deployments stop reporting progress once a run ends, leaving 2/3)."""
    if run.state is RunState.COMPLETED and run.total_tasks:
        return run.total_tasks
    return run.completed_tasks


def progress_bar(
    done: int | None,
    total: int | None,
    width: int = 10,
    *,
    colors: Mapping[str, str] | None = None,
) -> Text:
    """A bar of `width` cells followed by 'n/m'; '—' when the server gave no progress."""
    if done is None or not total:
        return Text("—", style=(colors or DEFAULT_COLORS)["foreground-muted"])
    done = max(0, min(done, total))
    filled = round(width * done / total)
    palette = colors or DEFAULT_COLORS
    bar = Text()
    bar.append("█" * filled, style=palette["primary"])
    bar.append("░" * (width - filled), style=palette["foreground-muted"])
    bar.append(f" {done}/{total}")
    return bar
