"""Quitting while a widget is still being mounted (the form, just after start) leaves cleanly:
a widget whose children are torn down before its own mount handler runs would raise
(NoMatches in InputForm's or Textual's Select's on_mount) and print a traceback on exit."""

from __future__ import annotations

import asyncio

from crewdash.tui.widgets.input_form import InputForm
from tests.tui.shell_apps import main_app


async def test_quitting_while_the_form_mounts_exits_cleanly() -> None:
    app = main_app()
    async with app.run_test(size=(120, 36)) as pilot:
        for _ in range(5000):  # the moment the form is in the DOM but not mounted yet
            forms = app.query(InputForm)
            if forms and not forms.first().is_mounted:
                break
            await asyncio.sleep(0)
        else:
            raise AssertionError("never saw the form being mounted")
        app.exit()
        for _ in range(100):  # the exit waits for the mount
            if app.return_code is not None:
                break
            await pilot.pause()
    # run_test re-raises what a handler raised; the return code says the exit was clean
    assert app.return_code == 0
