"""F1 / `?`: every key, by where it works, with the keymap applied, and how to remap."""

from __future__ import annotations

from collections.abc import Mapping

from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import VerticalScroll
from textual.screen import ModalScreen
from textual.widgets import Markdown

from crewdash.tui.bindings import MUTATING_ACTIONS, all_bindings
from crewdash.tui.format import HEALTH_LOOK, STATE_LOOK

INTRO = """\
# crewdash help

crewdash starts runs of your CrewAI crews and flows, watches them live, shows their results
and lets you answer when a run asks a human. Runs keep going on the server when you quit.

## The screen

- **Crews** (top left): every configured crew or flow, its health, and how many of its runs
  are active (`▶`) or waiting for you (`◆`).
- **Input form** (bottom left): the inputs of the selected crew. A red `*` marks a required
  field; mistakes show as you type. **Ctrl+S** or the *Start run* button starts a run.
- **Runs** (right): the runs of every crew, updated live. **Enter** opens a run: its inputs,
  history, result, each task's output, the raw JSON; stop it or run it again from there.
- **Status bar** (bottom): requests waiting in the inbox, the webhook receiver, crews that
  cannot be reached.

## When a run asks for a human

A toast and the bell say so, and the status bar counts it. **i** opens the answer window
(in a run's detail, or on a waiting run in the table, for that run): the output to review,
then **Approve**, or **Request changes** with feedback (the task runs again); a flow shows one
button per outcome. When you are idle on the dashboard (no key for a few seconds, nothing
typed, no other window open) the window opens by itself, and takes no typing for its first
moment, so keys meant for something else never land in it. **Esc** puts a request aside: it
waits for **i** and never opens by itself again. **I** lists every waiting request.

## When nobody knows whether a kickoff started

If the answer to a kickoff was lost, its run shows **unknown**. **u** resolves it: paste the
kickoff id from the AOP dashboard to follow that run, send the kickoff again (it may start a
second run), or say it did not start.
"""


def _marks_markdown() -> str:
    """What the symbols in the runs table and the crew list mean, from the same tables the
    widgets draw with (so the help cannot drift from the screen)."""
    meaning = {
        "pending": "queued, not started yet",
        "running": "a task is running",
        "input": "paused until a human answers",
        "completed": "finished; Enter shows the result",
        "error": "failed; Enter shows the error",
        "stopped": "stopped by an operator",
        "unknown": "the server sent a state crewdash does not know",
    }
    rows = [
        "## Marks in the runs table\n",
        "**State** column:\n\n| Mark | State | Means |\n|---|---|---|",
    ]
    rows += [
        f"| `{symbol}` | {word} | {meaning.get(word, '')} |"
        for symbol, word, _ in STATE_LOOK.values()
    ]
    rows.append(
        "\n**Progress** is tasks done of all tasks. The **Alert** column marks runs that "
        "need a look:\n\n| Mark | Means |\n|---|---|\n"
        "| `◆ input` | waiting for your answer: press **i** (or wait: it opens by itself) |\n"
        "| `! stalled` | no progress for three times this crew's usual run time |\n"
        "| `! offline` | the crew's server does not answer; the run may still be going |"
    )
    health = ", ".join(f"`{symbol}` {word}" for symbol, word, _ in HEALTH_LOOK.values())
    rows.append(f"\n**Crew health** in the crew list: {health}.")
    return "\n".join(rows)


OUTRO = """
## Remapping

Every key has an id. Put new keys in your config:

```toml
[ui.keymap]
stop_run = "x"
filter = "slash,f"
```

Press **Esc** to close this help.
"""


KEY_NAMES = {"question_mark": "?", "slash": "/", "escape": "esc"}


def _keys(binding: Binding, keymap: Mapping[str, str]) -> str:
    keys = keymap.get(binding.id or "", binding.key)
    return ", ".join(f"`{KEY_NAMES.get(k.strip(), k.strip())}`" for k in keys.split(","))


def help_markdown(keymap: Mapping[str, str] | None = None, *, read_only: bool = False) -> str:
    """The help text, with keys as the operator's keymap sets them (read-only: only the keys
    that exist there, and no input form)."""
    keymap = keymap or {}
    parts = [INTRO, _marks_markdown(), "\n# Keys"]
    for title, bindings in all_bindings():
        parts.append(f"\n## {title}\n\n| Key | Does | Id |\n|---|---|---|")
        for binding in bindings:
            if read_only and binding.action.rpartition(".")[2] in MUTATING_ACTIONS:
                continue
            does = binding.tooltip or binding.description
            parts.append(f"| {_keys(binding, keymap)} | {does} | `{binding.id}` |")
    parts.append(
        "\n## Read-only\n\nThis dashboard watches runs: it cannot start, stop or answer them."
        if read_only
        else "\n## Input form\n\n| Key | Does |\n|---|---|\n"
        "| `ctrl+s` | Check the inputs and start a run |\n"
        "| `ctrl+t` | Edit all inputs as one JSON object |\n"
        "| `tab` / `shift+tab` | Next / previous field |"
    )
    parts.append(OUTRO)
    return "\n".join(parts)


class HelpScreen(ModalScreen[None]):
    """Keys and how to remap them; Esc, F1, `?` or `q` closes."""

    BINDINGS = [
        Binding(
            "escape,f1,question_mark,q", "dismiss", "Close", id="help.close", tooltip="Close help"
        ),
    ]

    def compose(self) -> ComposeResult:
        keymap = dict(self.app.engine.config.ui.keymap) if hasattr(self.app, "engine") else {}
        with VerticalScroll(id="help"):
            yield Markdown(help_markdown(keymap, read_only=getattr(self.app, "read_only", False)))

    def on_mount(self) -> None:
        self.query_one("#help").focus()

    async def action_dismiss(self, result: None = None) -> None:
        self.dismiss(result)
