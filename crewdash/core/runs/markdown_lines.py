"""Markdown text as the logical lines a run diff compares.

Two runs of a crew rarely wrap a paragraph at the same words: compared line by line, a
re-flowed paragraph would show as all changed. So a paragraph (or a list item with its
continuation lines) becomes one logical line, its whitespace collapsed; the lines that mean
something on their own stay lines: headings, list items, table rows, block quotes, rules, and
every line of a code block exactly as written. Blank lines between blocks become one "".
"""

from __future__ import annotations

import re

_FENCE = re.compile(r"^ {0,3}(`{3,}|~{3,})")
_LIST_ITEM = re.compile(r"^\s*(?:[-*+]|\d{1,9}[.)])(?:\s|$)")
_HEADING = re.compile(r"^ {0,3}#{1,6}(?:\s|$)")
_RULE = re.compile(r"^ {0,3}(?:(?:-\s*){3,}|(?:\*\s*){3,}|(?:_\s*){3,})$")
_QUOTE = re.compile(r"^ {0,3}>")
_TABLE_ROW = re.compile(r"^\s*\|")
_INDENTED_CODE = re.compile(r"^(?: {4}|\t)")


def _collapse(line: str) -> str:
    return " ".join(line.split())


def _stands_alone(line: str) -> bool:
    """A line that is a block of its own (never joined to the line before or after)."""
    return any(p.match(line) for p in (_HEADING, _RULE, _QUOTE, _TABLE_ROW))


def _hard_break(raw: str) -> bool:
    """Markdown's hard line break: two trailing spaces or a trailing backslash."""
    return raw.endswith("  ") or raw.rstrip().endswith("\\")


def logical_lines(text: str | None) -> list[str]:
    """The logical lines of `text` (see the module docstring); [] for None or blank text."""
    out: list[str] = []
    fence: str | None = None  # the fence that opened the code block we are in
    joinable = False  # the last line out is a paragraph or list item a wrapped line continues
    after_blank = True
    in_list = False  # the last block was a list item: an indented line after it belongs to it
    indented_code = False
    for raw in (text or "").splitlines():
        if fence is not None:
            out.append(raw.rstrip())
            if raw.strip().startswith(fence) and not raw.strip().strip(fence[0]):
                fence = None
            continue
        if not raw.strip():
            if out and out[-1] != "":
                out.append("")
            joinable, after_blank = False, True
            continue
        if _INDENTED_CODE.match(raw) and (indented_code or (after_blank and not in_list)):
            out.append(raw.rstrip())  # indented code: kept as written, never joined
            joinable, after_blank, indented_code = False, False, True
            continue
        indented_code = after_blank = False
        opened = _FENCE.match(raw)
        if opened:
            fence = opened.group(1)
            out.append(raw.rstrip())
            joinable = in_list = False
            continue
        item = bool(_LIST_ITEM.match(raw))
        alone = _stands_alone(raw)
        if joinable and not item and not alone:
            out[-1] = f"{out[-1]} {_collapse(raw)}"
        else:
            indent = raw[: len(raw) - len(raw.lstrip())] if item else ""  # nesting shows
            out.append(indent + _collapse(raw))
            in_list = item or (in_list and raw[:1].isspace())
        joinable = not alone and not _hard_break(raw)
    while out and out[-1] == "":
        out.pop()
    return out
