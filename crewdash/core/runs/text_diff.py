"""A line diff of two Markdown texts, with the changed words of each changed line marked.

The texts are compared as logical lines (`markdown_lines`: a re-flowed paragraph is no
change), aligned with difflib; a line that was edited pairs with its new version (the most
alike line of the other side), and the words that differ within the pair are marked.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from difflib import SequenceMatcher
from typing import Literal

from crewdash.core.runs.markdown_lines import logical_lines

RowTag = Literal["equal", "changed", "added", "removed"]

_TOKEN = re.compile(r"\s+|\w+|[^\w\s]")
PAIR_RATIO = 0.5  # an edited line is at least this alike to its old version (else: -/+)
_PAIR_LIMIT = 2_500  # line pairs weighed in one changed block; beyond, pair in order


@dataclass(frozen=True, slots=True)
class Span:
    """A run of words of a changed line: `changed` marks what the other side lacks."""

    text: str
    changed: bool


@dataclass(frozen=True, slots=True)
class DiffRow:
    """One row of the side-by-side view: a line of A, of B, or of both."""

    tag: RowTag
    a: str | None  # None: the line exists only in B (added)
    b: str | None  # None: the line exists only in A (removed)
    a_spans: tuple[Span, ...] = ()  # the words of a changed line, marked; () otherwise
    b_spans: tuple[Span, ...] = ()


@dataclass(frozen=True, slots=True)
class TextDiff:
    """Two texts compared. `a_missing`/`b_missing`: that side has no text at all (None)."""

    rows: tuple[DiffRow, ...]
    a_missing: bool = False
    b_missing: bool = False

    @property
    def changed(self) -> bool:
        return self.a_missing != self.b_missing or any(r.tag != "equal" for r in self.rows)

    def count(self, tag: RowTag) -> int:
        return sum(1 for r in self.rows if r.tag == tag)


def word_spans(a: str, b: str) -> tuple[tuple[Span, ...], tuple[Span, ...]]:
    """The words of `a` and of `b`, the ones that differ marked."""
    ta, tb = _TOKEN.findall(a), _TOKEN.findall(b)
    left: list[Span] = []
    right: list[Span] = []
    # autojunk (difflib's default): spaces, very common in a long line, would make it quadratic
    for op, i1, i2, j1, j2 in SequenceMatcher(None, ta, tb).get_opcodes():
        _add(left, "".join(ta[i1:i2]), op != "equal")
        _add(right, "".join(tb[j1:j2]), op != "equal")
    return tuple(left), tuple(right)


def _add(spans: list[Span], text: str, changed: bool) -> None:
    if not text:
        return
    if spans and spans[-1].changed == changed:
        spans[-1] = Span(spans[-1].text + text, changed)
    else:
        spans.append(Span(text, changed))


def _changed_row(a: str, b: str) -> DiffRow:
    a_spans, b_spans = word_spans(a, b)
    return DiffRow("changed", a, b, a_spans, b_spans)


def _pairs(old: list[str], new: list[str]) -> list[tuple[int, int]]:
    """Which old line became which new one, in order: each old line takes the most alike new
    line after the last one taken, when alike enough (`PAIR_RATIO`, on words: a long
    paragraph compared letter by letter would cost far more and mean less)."""
    if len(old) * len(new) > _PAIR_LIMIT:
        return [(i, i) for i in range(min(len(old), len(new)))]
    new_words = [_TOKEN.findall(line) for line in new]
    pairs: list[tuple[int, int]] = []
    start = 0
    for i, line in enumerate(old):
        best, best_ratio = -1, PAIR_RATIO
        matcher = SequenceMatcher(None, b=_TOKEN.findall(line))  # b is the one difflib indexes
        for j in range(start, len(new)):
            matcher.set_seq1(new_words[j])
            if matcher.real_quick_ratio() >= best_ratio and matcher.quick_ratio() >= best_ratio:
                ratio = matcher.ratio()
                if ratio >= best_ratio:
                    best, best_ratio = j, ratio
        if best >= 0:
            pairs.append((i, best))
            start = best + 1
    return pairs


def _replace_rows(old: list[str], new: list[str]) -> list[DiffRow]:
    """The rows of a block of old lines replaced by new ones: pairs as changed rows, the
    lines between them as removed (old) and added (new)."""
    rows: list[DiffRow] = []
    i = j = 0
    for pi, pj in [*_pairs(old, new), (len(old), len(new))]:
        rows.extend(DiffRow("removed", line, None) for line in old[i:pi])
        rows.extend(DiffRow("added", None, line) for line in new[j:pj])
        if pi < len(old) and pj < len(new):
            rows.append(_changed_row(old[pi], new[pj]))
        i, j = pi + 1, pj + 1
    return rows


def _plain_lines(text: str | None) -> list[str]:
    return [line.rstrip() for line in (text or "").splitlines()]


def diff_text(a: str | None, b: str | None, *, markdown: bool = True) -> TextDiff:
    """Compare two Markdown texts (None: that side has none) as logical lines; or, not
    `markdown` (an error's traceback), line by line as written."""
    split = logical_lines if markdown else _plain_lines
    old, new = split(a), split(b)
    rows: list[DiffRow] = []
    # autojunk: lines that are everywhere (blank lines, fences) do not anchor the alignment;
    # without it a long output of many such lines takes quadratic time (measured: minutes)
    matcher = SequenceMatcher(None, old, new)
    for op, i1, i2, j1, j2 in matcher.get_opcodes():
        if op == "equal":
            rows.extend(DiffRow("equal", line, line) for line in old[i1:i2])
        elif op == "delete":
            rows.extend(DiffRow("removed", line, None) for line in old[i1:i2])
        elif op == "insert":
            rows.extend(DiffRow("added", None, line) for line in new[j1:j2])
        else:
            rows.extend(_replace_rows(old[i1:i2], new[j1:j2]))
    return TextDiff(tuple(rows), a_missing=a is None, b_missing=b is None)
