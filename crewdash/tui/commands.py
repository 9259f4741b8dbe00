"""The command palette (Ctrl+P) with the dashboard's own verbs: new run, switch crew, stop,
filter, inbox, answer, sort, help. Themes come from Textual's own provider."""

from __future__ import annotations

from collections.abc import Callable
from functools import partial
from typing import Any

from textual.command import DiscoveryHit, Hit, Hits, Provider

from crewdash.tui.bindings import allowed
from crewdash.tui.widgets.runs_cells import COLUMNS

#: the palette entries that change something, by the action they run (a read-only app has none)
_MUTATING_ENTRIES = {
    "Answer next human-input request": "answer_next",
    "New run": "new_run",
    "Stop selected run": "stop_run",
}


class CrewdashCommands(Provider):
    """Verbs of the main screen; each maps to the same action a key runs."""

    def _commands(self) -> list[tuple[str, Callable[[], Any], str]]:
        """Every verb, less those a read-only app does not have (bindings.MUTATING_ACTIONS)."""
        return [
            entry
            for entry in self._all_commands()
            if allowed(self, _MUTATING_ENTRIES.get(entry[0], ""))
        ]

    def _all_commands(self) -> list[tuple[str, Callable[[], Any], str]]:
        app: Any = self.app
        main = app.main_screen if hasattr(app, "main_screen") else None
        commands: list[tuple[str, Callable[[], Any], str]] = [
            ("Answer next human-input request", app.action_answer_next, "Open the oldest request"),
            ("Open inbox", app.action_inbox, "Every pending human-input request"),
            ("Help: keys", app.action_help, "Every key and how to remap it"),
        ]
        if main is None:
            return commands
        commands += [
            ("New run", main.action_new_run, "Fill the input form of the selected crew"),
            ("Filter runs", main.action_filter, "Text in any column; !text hides it"),
            ("Clear filter", main.action_clear_filter, "Show every run"),
            ("Stop selected run", main.action_stop_run, "Asks first"),
        ]
        for name in main.crews.crew_names:
            crew = app.engine.config.crews[name]
            commands.append(
                (f"Switch crew: {crew.title}", partial(main.crews.choose, name), crew.url)
            )
        for column in COLUMNS:
            commands.append(
                (
                    f"Sort runs by {column.label.lower()}",
                    partial(main.runs.sort_by, column.key),
                    "Again to reverse",
                )
            )
        return commands

    async def discover(self) -> Hits:
        for title, callback, help_text in self._commands():
            yield DiscoveryHit(title, callback, help=help_text)

    async def search(self, query: str) -> Hits:
        matcher = self.matcher(query)
        for title, callback, help_text in self._commands():
            score = matcher.match(title)
            if score > 0:
                yield Hit(score, matcher.highlight(title), callback, help=help_text)
