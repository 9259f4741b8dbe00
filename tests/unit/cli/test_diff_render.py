"""`crewdash diff` in words: the unified text, equal lines counted away from changes."""

from __future__ import annotations

import pytest

from crewdash.commands.support.diff_render import seconds_text, text_lines
from crewdash.core.runs.text_diff import diff_text


@pytest.mark.parametrize(
    ("seconds", "text"),
    [(None, "-"), (0.25, "0.2s"), (42.0, "42.0s"), (185.0, "3m 05s"), (3720.0, "1h 02m")],
)
def test_seconds_text(seconds: float | None, text: str) -> None:
    assert seconds_text(seconds) == text


def test_equal_lines_far_from_a_change_are_counted() -> None:
    a = "\n\n".join(f"para {n}" for n in range(10))
    b = a.replace("para 5", "para five")
    lines = list(text_lines(diff_text(a, b), context=1))
    assert lines == [
        "  ... 9 equal lines",
        "",
        "- para [-5-]",
        "+ para {+five+}",
        "",
        "  ... 7 equal lines",
    ]


def test_added_and_removed_lines_are_marked() -> None:
    lines = list(text_lines(diff_text("- one\n- two", "- one\n- two\n- three")))
    assert lines == ["  - one", "  - two", "+ - three"]
    lines = list(text_lines(diff_text("- one\n- two", "- two")))
    assert lines == ["- - one", "  - two"]
