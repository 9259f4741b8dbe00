"""Every private part of Textual that crewdash relies on (crewdash/tui/textual_compat.py) is
still there and still does what crewdash expects: an upgrade that changes one fails here."""

from __future__ import annotations

import inspect
from pathlib import Path

from textual.app import App
from textual.widgets import Button, Footer

from crewdash.aop.models import Secret
from crewdash.tui import textual_compat
from crewdash.tui.textual_compat import CrashReporting


def test_the_app_methods_crewdash_overrides_exist_with_the_expected_signatures() -> None:
    assert list(inspect.signature(App._handle_exception).parameters) == ["self", "error"]
    assert list(inspect.signature(App._print_error_renderables).parameters) == ["self"]
    # Textual's own handler keeps the exception and sets the exit code: crewdash relies on it
    source = inspect.getsource(App._handle_exception)
    assert "self._return_code = 1" in source
    assert "_driver" in inspect.getsource(App.bell)
    assert app_source_has("App.bell", "self._driver")
    assert App()._driver is None  # set when the app runs: write_to_terminal reads it
    assert set(textual_compat.HOOKED) == {
        "_handle_exception",
        "_print_error_renderables",
        "_driver",
        "OptionList._move_page",
        "OptionList._index_to_line",
        "Footer._bindings_ready",
        "DOMNode.__watchers",
        "textual.widgets._text_area",
        "ChopsUpdate.render_segments",
    }


async def test_footer_watchers_are_where_prune_footer_watchers_looks() -> None:
    """A FooterKey watches the Footer's `compact`; Textual keeps that in `__watchers`, where
    `prune_footer_watchers` drops the keys that left the DOM."""

    class FooterApp(App[None]):
        BINDINGS = [("a", "bell", "A")]

        def compose(self):  # type: ignore[no-untyped-def]
            yield Button("one", id="one")
            yield Button("two", id="two")
            yield Footer()

    app = FooterApp()
    async with app.run_test() as pilot:
        await pilot.pause()  # the Footer builds its keys after the first refresh
        footer = app.query_one(Footer)
        watchers = getattr(footer, "__watchers", None)
        assert isinstance(watchers, dict) and watchers.get("compact")
        for target in ("#two", "#one", "#two"):  # each focus change rebuilds the keys
            app.query_one(target).focus()
            await pilot.pause()
        stale = len(watchers["compact"])
        textual_compat.prune_footer_watchers(list(app.screen_stack))
        assert 0 < len(watchers["compact"]) < stale


def app_source_has(name: str, text: str) -> bool:
    owner, attribute = name.split(".")
    return text in inspect.getsource(getattr({"App": App}[owner], attribute))


def test_footer_bindings_ready_is_textuals_private_reactive() -> None:
    from textual.reactive import Reactive

    assert isinstance(Footer.__dict__.get("_bindings_ready"), Reactive)
    assert textual_compat.footer_bindings_ready(Footer()) is False
    footer = Footer()
    textual_compat.mark_footer_bindings_ready(footer)
    assert textual_compat.footer_bindings_ready(footer) is True


def test_text_area_comes_from_the_private_module_textual_loads_it_from() -> None:
    import sys

    from textual.widgets import TextArea  # loads textual.widgets._text_area

    assert textual_compat.TEXT_AREA_MODULE in sys.modules
    assert textual_compat.loaded_text_area_type() is TextArea


class Boom(Exception):
    pass


class CrashingApp(CrashReporting[None]):
    BINDINGS = [("x", "explode", "Explode")]

    def action_explode(self) -> None:
        raise Boom(
            f"failed while holding {Secret('tok-planted-1234567')!r} and tok-planted-1234567"
        )


async def test_an_unhandled_exception_becomes_a_scrubbed_report_and_no_terminal_traceback(
    tmp_path: Path, capsys: object
) -> None:
    app = CrashingApp()
    app.crash_dir = tmp_path
    try:
        async with app.run_test() as pilot:
            await pilot.press("x")
            await pilot.pause()
    except Boom:
        pass  # the test harness re-raises the app's exception; the real app exits
    assert app.return_code == 1
    report = app.crash_report
    assert report is not None and report.parent == tmp_path / "crashes"
    text = report.read_text()
    assert "Boom" in text and "action_explode" in text
    assert "tok-planted-1234567" not in text and "****" in text
    app._print_error_renderables()  # what App.run does after restoring the terminal
    out, err = capsys.readouterr()  # type: ignore[attr-defined]
    assert "Traceback" not in out + err and "Boom" not in out + err


def test_paging_an_option_list_before_its_lines_exist_does_nothing() -> None:
    """The random-key soak's crash: PageDown in the command palette as it opened raised
    KeyError in OptionList._move_page (Textual 8.2 reads a line map not built yet)."""
    import inspect as _inspect

    from textual.widgets import OptionList

    textual_move_page = getattr(OptionList._move_page, "original", OptionList._move_page)
    # still the code that needed the guard (an upgrade that fixes it can drop the guard)
    assert "self._index_to_line[self.highlighted or 0]" in _inspect.getsource(textual_move_page)
    textual_compat.guard_option_list_paging()
    textual_compat.guard_option_list_paging()  # idempotent: wraps once
    assert getattr(OptionList._move_page, "crewdash_guard", False)
    options = OptionList("one", "two", "three")  # never laid out: no lines yet
    options.action_page_down()
    options.action_page_up()
    assert options.highlighted in (None, 0)
