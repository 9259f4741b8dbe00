"""Every key of the dashboard in one place: each Binding has an id (what `config.ui.keymap`
remaps: `[ui.keymap] stop = "x"`) and a tooltip (what the Footer and help show on hover)."""

from __future__ import annotations

from textual.binding import Binding

APP_BINDINGS: list[Binding] = [
    Binding(
        "f1,question_mark", "help", "Help", id="help", tooltip="Show every key and what it does"
    ),
    Binding(
        "ctrl+q",
        "quit",
        "Quit",
        id="quit",
        tooltip="Leave crewdash (runs keep going on the server)",
        priority=True,
    ),
    Binding(
        "i", "answer_next", "Answer", id="answer", tooltip="Answer the oldest human-input request"
    ),
    Binding("I", "inbox", "Inbox", id="inbox", tooltip="List every pending human-input request"),
]

MAIN_BINDINGS: list[Binding] = [
    Binding(
        "n", "new_run", "New run", id="new_run", tooltip="Fill the input form of the selected crew"
    ),
    Binding("c", "focus_crews", "Crews", id="crews", tooltip="Move to the crew list"),
    Binding("r", "focus_runs", "Runs", id="runs", tooltip="Move to the runs table"),
    Binding(
        "slash",
        "filter",
        "Filter",
        id="filter",
        tooltip="Filter runs by any column; start with ! to invert",
    ),
    Binding(
        "i",
        "answer",
        "Answer",
        id="answer",
        tooltip="Answer the selected run's human-input request (else the oldest)",
    ),
    Binding(
        "escape",
        "clear_filter",
        "Back",
        id="clear_filter",
        tooltip="Leave the form for the runs table; clear the filter",
        show=False,
    ),
]

RUNS_BINDINGS: list[Binding] = [
    Binding("enter", "open_run", "Open", id="open_run", tooltip="Open the selected run's detail"),
    Binding(
        "s", "screen.stop_run", "Stop", id="stop_run", tooltip="Stop the selected run (asks first)"
    ),
    Binding(
        "o",
        "sort",
        "Sort",
        id="sort",
        tooltip="Sort by the next column (or click a header; again to reverse)",
    ),
    Binding(
        "O",
        "reverse_sort",
        "Reverse",
        id="reverse_sort",
        tooltip="Reverse the sort order",
        show=False,
    ),
    Binding(
        "u",
        "screen.resolve_run",
        "Resolve",
        id="resolve_run",
        tooltip="A kickoff whose fate is unknown: adopt its id, send it again, or dismiss it",
        show=False,
    ),
    Binding(
        "home",
        "scroll_top",
        "First",
        id="first_run",
        tooltip="Move to the first run of the table",
        show=False,
    ),
    Binding(
        "end",
        "scroll_bottom",
        "Last",
        id="last_run",
        tooltip="Move to the last run of the table",
        show=False,
    ),
    Binding(
        "g",
        "screen.refresh_run",
        "Poll now",
        id="refresh_run",
        tooltip="Ask the server for the selected run's status now",
        show=False,
    ),
]

FIRST_RUN_BINDINGS: list[Binding] = [
    Binding(
        "a",
        "add_crew",
        "Add a crew",
        id="add_crew",
        tooltip="Add a deployed crew or flow to the config",
    ),
    Binding("d", "demo", "Demo", id="demo", tooltip="Open the dashboard on the built-in simulator"),
]


def all_bindings() -> list[tuple[str, list[Binding]]]:
    """Every group of keys, titled, for the help screen."""
    return [
        ("Everywhere", APP_BINDINGS),
        ("Main screen", MAIN_BINDINGS),
        ("Runs table", RUNS_BINDINGS),
        ("First run", FIRST_RUN_BINDINGS),
    ]
