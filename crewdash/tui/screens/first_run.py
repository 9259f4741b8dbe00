"""Shown when no crew is configured: add one (saved to the config file) or open the demo."""

from __future__ import annotations

from typing import TYPE_CHECKING, ClassVar

from textual import on
from textual.app import ComposeResult
from textual.binding import BindingType
from textual.containers import Horizontal, Vertical
from textual.screen import Screen
from textual.widgets import Button, Footer, Header, Input, Label, Select, Static

from crewdash.aop.models import Secret
from crewdash.core.config.model import CrewConfig, CrewKind, TokenSource
from crewdash.tui.bindings import FIRST_RUN_BINDINGS, allowed

if TYPE_CHECKING:
    from crewdash.tui.host import Host

WELCOME = (
    "crewdash starts deployed CrewAI crews and flows, shows their runs live and lets you "
    "answer their human-input requests. No crew is configured yet.\n\n"
    "Add one (its URL and bearer token are on the deployment's page in CrewAI AOP), or open "
    "the demo: simulated deployments on this machine, nothing leaves it."
)


def crew_from_fields(name: str, url: str, token: str, kind: str) -> CrewConfig:
    """A crew from the add form; raises ValueError naming the field that is wrong.

    A token written as `$NAME` is read from that environment variable at start-up instead of
    being stored in the file."""
    name, url, token = name.strip(), url.strip(), token.strip()
    if not name or not name.replace("-", "").replace("_", "").isalnum():
        raise ValueError("name: letters, digits, - and _ only")
    if not url.startswith(("http://", "https://")):
        raise ValueError("url must start with https:// (or http://)")
    if not token:
        raise ValueError("token: paste the bearer token, or $NAME to read it from a variable")
    source = (
        TokenSource(env=token[1:]) if token.startswith("$") else TokenSource(inline=Secret(token))
    )
    return CrewConfig(name=name, url=url.rstrip("/"), token=source, kind=CrewKind(kind))


class FirstRunScreen(Screen[None]):
    BINDINGS: ClassVar[list[BindingType]] = list(FIRST_RUN_BINDINGS)  # a copy: the type is wider

    app: Host  # type: ignore[assignment]  # narrowed to what the screen reads of its app

    def compose(self) -> ComposeResult:
        yield Header()
        with Vertical(id="first-run"):
            yield Static("Welcome to crewdash", classes="title")
            yield Static(WELCOME)
            with Horizontal(classes="buttons"):
                if not self.app.read_only:  # read-only: no config change, no other app
                    yield Button("Add a crew", id="add", variant="primary", tooltip="a")
                    yield Button("Open the demo", id="demo", tooltip="d")
                yield Button("Quit", id="quit", tooltip="Ctrl+Q")
            with Vertical(id="add-crew-form"):
                yield Label("Name (how crewdash calls it)", classes="field-label")
                yield Input(placeholder="research", id="crew-name")
                yield Label("URL of the deployment", classes="field-label")
                yield Input(placeholder="https://research-crew.crewai.com", id="crew-url")
                yield Label("Bearer token, or $VARIABLE holding it", classes="field-label")
                yield Input(password=True, placeholder="$RESEARCH_TOKEN", id="crew-token")
                yield Label("Kind", classes="field-label")
                yield Select(
                    [("crew", "crew"), ("flow", "flow")],
                    value="crew",
                    allow_blank=False,
                    id="crew-kind",
                )
                yield Static("", id="add-error")
                with Horizontal(classes="buttons"):
                    yield Button("Save crew", id="save", variant="primary")
        yield Footer()

    def on_mount(self) -> None:
        self.query_one("#quit" if self.app.read_only else "#add", Button).focus()

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        return allowed(self, action)

    def action_add_crew(self) -> None:
        self.query_one("#add-crew-form").add_class("-shown")
        self.query_one("#crew-name", Input).focus()

    def action_demo(self) -> None:
        self.app.exit("demo")

    @on(Button.Pressed, "#add")
    def _add(self) -> None:
        self.action_add_crew()

    @on(Button.Pressed, "#demo")
    def _demo(self) -> None:
        self.action_demo()

    @on(Button.Pressed, "#quit")
    def _quit(self) -> None:
        self.app.exit(None)

    @on(Button.Pressed, "#save")
    @on(Input.Submitted, "#crew-token")
    def _save(self) -> None:
        from crewdash.core.config.load import save_crew

        if self.app.read_only:
            return  # the form is never shown in a read-only app (no `a`, no Add button)

        error = self.query_one("#add-error", Static)
        try:
            crew = crew_from_fields(
                self.query_one("#crew-name", Input).value,
                self.query_one("#crew-url", Input).value,
                self.query_one("#crew-token", Input).value,
                str(self.query_one("#crew-kind", Select).value),
            )
        except ValueError as exc:
            error.update(str(exc))
            return
        if self.app.config_path is None:
            error.update("no config file to save to (start crewdash with --config PATH)")
            return
        try:
            save_crew(self.app.config_path, crew)
        except Exception as exc:  # ConfigError, OSError: say it, keep the form
            error.update(str(exc))
            return
        self.app.exit("reload")
