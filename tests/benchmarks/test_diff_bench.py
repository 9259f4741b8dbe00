"""The run diff on long outputs: the core diff (computed once, when the screen opens) and the
diff screen's first frame and scrolling (the columns are laid out once per width).

Run: `uv run pytest tests/benchmarks/test_diff_bench.py -m benchmark -s`
"""

from __future__ import annotations

import time
from dataclasses import replace

import pytest

from crewdash.aop.models import RunResult
from crewdash.core.models import RunRecord
from crewdash.core.runs.diff import diff_runs
from crewdash.tui.screens.run_diff import RunDiffScreen
from crewdash.tui.widgets.diff_view import DiffView
from tests.tui.screens_fixtures import FakeEngine, ScreenApp, completed_run

pytestmark = pytest.mark.benchmark

SECTIONS = 1_000  # a heading, a wrapped paragraph, a list and a code block each: ~10k lines


def _report(edit_every: int) -> str:
    parts = []
    for n in range(SECTIONS):
        word = "changed" if edit_every and n % edit_every == 0 else "steady"
        parts.append(
            f"## Section {n}\n\nThe {word} paragraph number {n} wraps over\ntwo lines of "
            f"text.\n\n- item {n}\n- item {n + 1}\n\n```\ncode {n}\n```\n"
        )
    return "\n".join(parts)


def _long_pair() -> tuple[RunRecord, RunRecord]:
    a = completed_run(result=RunResult(_report(0)))
    b = replace(a, local_id="run-2", request_id="req-2", result=RunResult(_report(10)))
    return a, b


def test_core_diff_of_two_long_outputs() -> None:
    a, b = _long_pair()
    start = time.perf_counter()
    diff = diff_runs(a, b)
    elapsed = time.perf_counter() - start
    rows = len(diff.output.rows)
    print(
        f"\ndiff of {rows:,} logical lines, {diff.output.count('changed')} changed: "
        f"{elapsed * 1000:.0f} ms"
    )
    assert diff.output.count("changed") == SECTIONS // 10


async def test_diff_screen_first_frame_and_scrolling() -> None:
    a, b = _long_pair()
    engine = FakeEngine([a, b])
    app = ScreenApp(lambda: RunDiffScreen(engine, a, b))
    start = time.perf_counter()
    async with app.run_test(size=(120, 36)) as pilot:
        await pilot.pause()
        opened = time.perf_counter() - start
        view = app.screen.query_one(DiffView)
        start = time.perf_counter()
        for _ in range(50):  # no animation: the frames' cost, not an animation's length
            view.scroll_page_down(animate=False)
            await pilot.pause()
        scrolled = time.perf_counter() - start
        print(
            f"\ndiff screen of {view.line_count:,} lines: open {opened * 1000:.0f} ms, "
            f"50 page-downs {scrolled * 1000:.0f} ms"
        )
        assert view.scroll_offset.y > 0
