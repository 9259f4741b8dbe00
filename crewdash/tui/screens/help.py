"""F1 / `?`: every key, by where it works, with the keymap applied, and how to remap."""

from __future__ import annotations

from collections.abc import Mapping

from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import VerticalScroll
from textual.screen import ModalScreen
from textual.widgets import Markdown

from crewdash.tui.bindings import all_bindings

INTRO = """\
# crewdash keys

Pick a crew on the left, fill its form, **Ctrl+S** starts a run. Runs of every crew appear
on the right and update live; **Enter** opens one. When a run asks for human input a toast
and the bell tell you; press **i** to answer. **Ctrl+P** opens the command palette.
"""

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


def help_markdown(keymap: Mapping[str, str] | None = None) -> str:
    """The help text, with keys as the operator's keymap sets them."""
    keymap = keymap or {}
    parts = [INTRO]
    for title, bindings in all_bindings():
        parts.append(f"\n## {title}\n\n| Key | Does | Id |\n|---|---|---|")
        for binding in bindings:
            does = binding.tooltip or binding.description
            parts.append(f"| {_keys(binding, keymap)} | {does} | `{binding.id}` |")
    parts.append(
        "\n## Input form\n\n| Key | Does |\n|---|---|\n"
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
            yield Markdown(help_markdown(keymap))

    def on_mount(self) -> None:
        self.query_one("#help").focus()

    async def action_dismiss(self, result: None = None) -> None:
        self.dismiss(result)
