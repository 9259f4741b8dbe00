"""Every key of the dashboard in one place: each Binding has an id (what `config.ui.keymap`
remaps: `[ui.keymap] stop = "x"`) and a tooltip (what the Footer and help show on hover)."""

from __future__ import annotations

from typing import Any

from textual.binding import Binding

#: The actions that change something: on a server (start, run again, stop, answer, resolve an
#: unknown kickoff by adopting, sending again or dismissing it), in the config (add a crew) or
#: on the disk of the machine crewdash runs on (save). A read-only dashboard
#: (`crewdash --read-only`, `crewdash serve` without --allow-actions) has none of them: their
#: keys, buttons and palette entries are absent (`allowed`, every screen's `check_action`).
#: `answer_next` and `answer` open the human-input modal; `open` is the inbox's Enter.
MUTATING_ACTIONS = frozenset(
    {
        "new_run",
        "submit",
        "run_again",
        "edit_run_again",
        "stop_run",
        "resolve_run",
        "answer",
        "answer_next",
        "approve",
        "request_changes",
        "add_crew",
        "demo",
        "save",
    }
)


def allowed(node: Any, action: str) -> bool:
    """Whether `action` (its name, without a namespace) exists for `node`'s app: every action
    does, except the mutating ones when the app is read-only. Screens return it from
    `check_action` (False: the key is unbound and the Footer hides it)."""
    return action not in MUTATING_ACTIONS or not getattr(node.app, "read_only", False)


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
    Binding(
        "A",
        "audit",
        "Audit",
        id="audit",
        tooltip="Every human decision and operator action: who, when, channel, server's answer",
        show=False,
    ),
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
        "t",
        "crew_trends",
        "Trends",
        id="crew_trends",
        tooltip="The selected crew's trends: runs per hour, success, durations, waits",
        show=False,
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
    Binding(
        "m",
        "screen.mark_run",
        "Mark",
        id="mark_run",
        tooltip="Mark the selected run to compare another with it (d); again to unmark",
    ),
    Binding(
        "d",
        "screen.diff_runs",
        "Diff",
        id="diff_runs",
        tooltip="Compare the selected run with the marked one (m)",
        show=False,  # the footer is full at 120 columns; marking a run says to press d
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

# the run detail screen (its keys are not in help: they are in its footer)
DETAIL_BINDINGS: list[Binding] = [
    Binding("escape", "back", "Back", id="back", tooltip="Back to the runs"),
    Binding("y", "copy", "Copy", id="copy", tooltip="Copy what this tab shows to the clipboard"),
    Binding("w", "save", "Save", id="save", tooltip="Save the output (or .json: the whole run)"),
    Binding("s", "stop_run", "Stop", id="stop_run", tooltip="Stop this run (asks first)"),
    Binding(
        "i",
        "answer",
        "Answer",
        id="answer",
        tooltip="Answer this run's human-input request",
    ),
    Binding(
        "u",
        "resolve_run",
        "Resolve",
        id="resolve_run",
        tooltip="The kickoff's fate is unknown: adopt its id, send it again, or dismiss it",
    ),
    Binding(
        "g",
        "refresh_run",
        "Poll now",
        id="refresh_run",
        tooltip="Ask the server for this run's status now",
        show=False,
    ),
    Binding(
        "a",
        "run_again",
        "Run again",
        id="run_again",
        tooltip="Start again with the same inputs",
    ),
    Binding(
        "v",
        "raw_event",
        "Raw event",
        id="raw_event",
        tooltip="Show the selected event as it was received (Events tab)",
    ),
    Binding(
        "e",
        "edit_run_again",
        "Edit & run",
        id="edit_run_again",
        tooltip="Open the form with this run's inputs to change them first",
    ),
    Binding(
        "m",
        "mark_run",
        "Mark",
        id="mark_run",
        tooltip="Mark this run to compare another with it (d); again to unmark",
    ),
    Binding(
        "d",
        "diff_runs",
        "Diff",
        id="diff_runs",
        tooltip="Compare this run with the marked one (m)",
        show=False,  # as in the runs table: the footer is full; marking a run says to press d
    ),
]

# the run diff screen (in its footer, not in help)
DIFF_BINDINGS: list[Binding] = [
    Binding("escape", "back", "Back", id="diff_back", tooltip="Back to where you came from"),
    Binding("n", "next_section", "Next", id="diff_next", tooltip="Scroll to the next section"),
    Binding(
        "p",
        "previous_section",
        "Previous",
        id="diff_previous",
        tooltip="Scroll to the previous section",
    ),
]

# the human-input modal (in its footer, not in help)
ANSWER_BINDINGS: list[Binding] = [
    Binding(
        "ctrl+s",
        "approve",
        "Approve",
        id="answer_approve",
        tooltip="Approve the output (asks first)",
    ),
    Binding(
        "ctrl+r",
        "request_changes",
        "Request changes",
        id="answer_changes",
        tooltip="Send the feedback; the task runs again (asks first)",
    ),
    Binding("escape", "close", "Close", id="answer_close", tooltip="Close; answer later"),
]

# the kickoff form (in the footer while it has the focus)
FORM_BINDINGS: list[Binding] = [
    Binding(
        "ctrl+s",
        "submit",
        "Start run",
        id="submit_form",
        tooltip="Check the inputs and start a run with them",
    ),
    Binding(
        "ctrl+t",
        "toggle_raw",
        "Raw JSON",
        id="toggle_raw_json",
        tooltip="Edit all inputs as one JSON object, or go back to the fields",
    ),
]


def all_bindings() -> list[tuple[str, list[Binding]]]:
    """Every group of keys, titled, for the help screen."""
    return [
        ("Everywhere", APP_BINDINGS),
        ("Main screen", MAIN_BINDINGS),
        ("Runs table", RUNS_BINDINGS),
        ("First run", FIRST_RUN_BINDINGS),
    ]


# the crew trends screen (in its footer, not in help)
TRENDS_BINDINGS: list[Binding] = [
    Binding("escape", "back", "Back", id="trends_back", tooltip="Back to the dashboard"),
]
