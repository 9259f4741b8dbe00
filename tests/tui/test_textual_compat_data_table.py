"""TargetedDataTable (crewdash/tui/textual_compat/data_table.py) rewrites DataTable internals
of Textual 8.2: each one it touches is still there and still shaped as it expects, or this
fails (there is no fallback)."""

from __future__ import annotations

import inspect
from collections.abc import Callable

import pytest
from rich.text import Text
from textual.app import App, ComposeResult
from textual.cache import LRUCache
from textual.coordinate import Coordinate
from textual.geometry import Region
from textual.widget import Widget
from textual.widgets import DataTable, Input
from textual.widgets.data_table import ColumnKey

from crewdash.tui.textual_compat.data_table import DATA_TABLE_INTERNALS, TargetedDataTable


def test_every_internal_is_on_a_stock_data_table_with_the_expected_type() -> None:
    from textual._two_way_dict import TwoWayDict

    table: DataTable[str] = DataTable()
    for name in DATA_TABLE_INTERNALS:
        assert hasattr(table, name), name
    for name in ("_cell_render_cache", "_row_render_cache", "_row_renderable_cache"):
        assert isinstance(getattr(table, name), LRUCache), name
    assert isinstance(table._line_cache, LRUCache)
    assert isinstance(table._row_locations, TwoWayDict)
    assert isinstance(table._column_locations, TwoWayDict)
    assert isinstance(table._data, dict) and isinstance(table._updated_cells, set)
    assert isinstance(table._update_count, int)
    assert isinstance(table._require_update_dimensions, bool)
    assert table._y_offsets == []  # per line of rows (row key, line in the row): `_Frame`
    assert "(row.key, y) for y in range(row.height)" in inspect.getsource(
        DataTable._y_offsets.fget  # type: ignore[attr-defined]
    )


def test_the_stock_methods_still_do_what_the_targeted_ones_replace() -> None:
    """update_cell bumps the counter in every cache key; notify_style_update drops every cache;
    remove_row renumbers the rows and does the bookkeeping remove_rows does once."""
    update = inspect.getsource(DataTable.update_cell)
    assert "self._data[row_key][column_key] = value" in update
    assert "self._update_count += 1" in update
    assert "_clear_caches" in inspect.getsource(DataTable.notify_style_update) or (
        "_cell_render_cache.clear()" in inspect.getsource(DataTable.notify_style_update)
    )
    remove = inspect.getsource(DataTable.remove_row)
    for step in (
        "self._require_update_dimensions = True",
        "self.check_idle()",
        "self._row_locations = new_row_locations",
        "self._updated_cells.discard(CellKey(row_key, column_key))",
        "del self.rows[row_key]",
        "del self._data[row_key]",
        "self.cursor_coordinate = self.cursor_coordinate",
        "self.hover_coordinate = self.hover_coordinate",
        "self._update_count += 1",
    ):
        assert step in remove, step
    focus = inspect.getsource(Widget._on_focus)
    assert "self.has_focus = True" in focus and "DescendantFocus" in focus
    blur = inspect.getsource(Widget._on_blur)
    assert "self.has_focus = False" in blur and "DescendantBlur" in blur


class TableApp(App[None]):
    def compose(self) -> ComposeResult:
        yield Input(id="beside")
        yield TargetedDataTable[Text](id="table", cursor_type="row")


async def test_cache_keys_are_shaped_as_the_eviction_expects() -> None:
    """Cell caches are keyed by (row key, column key) first, row caches by row key first; the
    renderables by (count, index). Only the changed cell's render is dropped."""
    from textual.widgets.data_table import ColumnKey

    app = TableApp()
    async with app.run_test() as pilot:
        table = app.query_one(TargetedDataTable)
        _fill(table, lambda n: f"b{n}")
        await pilot.pause()
        assert table._cell_render_cache.keys() and table._row_render_cache.keys()
        keys = {row.key for row in table.rows.values()}
        for name in ("_cell_render_cache", "_row_render_cache"):
            cache = getattr(table, name)
            assert {k[0] for k in cache.keys() if k[0] in keys}, name  # noqa: SIM118
        columns = {k[1] for k in table._cell_render_cache.keys() if k[0] in keys}  # noqa: SIM118
        assert columns == {ColumnKey("a"), ColumnKey("b")}
        indexes = {k[1] for k in table._row_renderable_cache.keys()}  # noqa: SIM118
        assert indexes <= set(range(-1, 20))
        count = table._update_count
        table.update_cell("r3", "a", Text("changed"))
        table._evict_stale_cells()  # what the next render does first
        cached = {(k[0].value, k[1].value) for k in table._cell_render_cache.keys()}  # noqa: SIM118
        assert ("r3", "a") not in cached  # only the changed cell went
        assert ("r3", "b") in cached and ("r4", "a") in cached
        assert "r3" not in {k[0].value for k in table._row_render_cache.keys()}  # noqa: SIM118
        await pilot.pause()
        assert table._update_count == count  # the other cells' renders stay cached
        assert table.get_cell("r3", "a").plain == "changed"
        lines = table.render_lines(Region(0, 0, table.size.width, table.size.height))
        assert any("chang" in line.text and "b3" in line.text for line in lines)
        table.remove_rows([f"r{n}" for n in range(0, 20, 2)])
        await pilot.pause()
        assert table.row_count == 10
        assert [table.get_row_index(f"r{n}") for n in (1, 3, 19)] == [0, 1, 9]


class TwinApp(App[None]):
    """The targeted table beside a stock one, fed the same rows and moves."""

    def compose(self) -> ComposeResult:
        yield TargetedDataTable[Text](id="targeted", cursor_type="row", zebra_stripes=True)
        yield DataTable[Text](id="stock", cursor_type="row", zebra_stripes=True)


def _fill(table: DataTable[Text], second: Callable[[int], str]) -> None:
    """Columns a and b and 20 rows: "row n" and `second(n)`, keyed rn."""
    table.add_column("a", key="a")
    table.add_column("b", key="b")
    for n in range(20):
        table.add_row(Text(f"row {n}"), Text(second(n)), key=f"r{n}")


def _twins(
    app: App[None],
    rows: int,
    cells: Callable[[int], tuple[Text, Text]],
    *,
    height: int,
    width: int | None = None,
    column_width: int | None = None,
) -> tuple[TargetedDataTable[Text], DataTable[Text]]:
    """The app's targeted and stock tables, each fed columns a and b and `rows` rows
    (`cells(n)`, made anew for each table), `height` lines high (and `width` cells wide)."""
    targeted = app.query_one(TargetedDataTable)
    stock = app.query_one("#stock", DataTable)
    for table in (targeted, stock):
        table.styles.height = height
        if width is not None:
            table.styles.width = width
        table.add_column("a", key="a", width=column_width)
        table.add_column("b", key="b", width=column_width)
        for n in range(rows):
            table.add_row(*cells(n), key=f"r{n}")
    return targeted, stock


def _lines(table: DataTable[Text]) -> list[list[tuple[str, str]]]:
    """Every line on screen, as (text, style) segments."""
    lines = table.render_lines(Region(0, 0, table.size.width, table.size.height))
    return [[(seg.text, str(seg.style)) for seg in line] for line in lines]


async def test_a_row_cursor_line_reads_as_stock_and_survives_a_cursor_move() -> None:
    """With a row cursor, a line is cached by whether the cursor is on its row, not by where the
    cursor is (`_render_line`): the lines stay those of a stock DataTable through cursor moves,
    updates, a hover and removals, and a cursor move re-renders only the two rows it touched."""
    import random

    app = TwinApp()
    async with app.run_test(size=(60, 30)) as pilot:
        targeted, stock = _twins(app, 40, lambda n: (Text(f"row {n}"), Text(f"b{n}")), height=12)
        app.set_focus(None)  # neither looks focused: the same styles
        await pilot.pause()
        assert _lines(targeted) == _lines(stock)
        rng = random.Random(3)
        for step in range(60):
            move = rng.choice(("down", "up", "update", "tick", "hover", "remove", "scroll"))
            for table in (targeted, stock):
                if move == "down":
                    table.action_cursor_down()
                elif move == "up":
                    table.action_cursor_up()
                elif move == "update":
                    row = f"r{step % 40}"
                    if row in {k.value for k in table.rows}:
                        table.update_cell(row, "b", Text(f"new {step}", style="bold"))
                elif move == "tick":  # a clock in every row on screen, as the runs table's
                    for key in list(table.rows)[:12]:
                        table.update_cell(key, "a", Text(f"{key.value} {step}s"))
                elif move == "hover":  # as after the mouse moved over the table
                    table._show_hover_cursor = True
                    table.hover_coordinate = table.hover_coordinate._replace(row=step % 9)
                elif move == "scroll":  # lines below the header come from further down
                    table.scroll_to(y=step % 23, animate=False)
                elif step % 20 == 0:  # a few removals, several rows at once
                    gone = [f"r{n}" for n in range(step, step + 9)]
                    if isinstance(table, TargetedDataTable):
                        table.remove_rows(gone)
                    else:
                        for row in gone:
                            table.remove_row(row)
            await pilot.pause()
            assert _lines(targeted) == _lines(stock), (step, move)

        rendered: list[object] = []
        original = targeted._kept_cells  # asked for a row's cells when its line is not kept

        def counting(row_key: object, *args: object, **kwargs: object) -> object:
            rendered.append(row_key)
            return original(row_key, *args, **kwargs)  # type: ignore[arg-type]

        targeted._kept_cells = counting  # type: ignore[method-assign,assignment]  # a counting spy
        targeted.move_cursor(row=2)
        targeted._clear_caches()  # (the loop above cached lines of both states of some rows)
        targeted.refresh()  # every line, as a frame repainting rows far apart renders them
        await pilot.pause()
        rendered.clear()
        targeted.move_cursor(row=3)
        targeted.refresh()
        await pilot.pause()
        two = [targeted.coordinate_to_cell_key(Coordinate(row, 0)).row_key for row in (2, 3)]
        assert sorted(rendered, key=str) == sorted(two, key=str)  # the cursor's two rows


async def test_a_clock_tick_renders_only_the_changed_cell_of_each_row() -> None:
    """A row cursor's rows keep their cells: a changed cell is rendered again alone, the
    row's other cells are not asked for again (`_kept_cells`)."""
    app = TwinApp()
    async with app.run_test(size=(60, 30)) as pilot:
        table = app.query_one(TargetedDataTable)
        _fill(table, lambda n: f"{n}s")
        await pilot.pause()
        table.refresh()  # a frame of every line in the table's settled look
        await pilot.pause()
        cells: list[tuple[int, int]] = []
        original = table._render_cell

        def counting(row: int, column: int, *args: object, **kwargs: object) -> object:
            cells.append((row, column))
            return original(row, column, *args, **kwargs)  # type: ignore[arg-type]

        table._render_cell = counting  # type: ignore[method-assign,assignment]  # a counting spy
        for n in range(10):
            table.update_cell(f"r{n}", "b", Text(f"{n + 1}s"))
        await pilot.pause()  # the frame that shows them
        lines = _lines(table)
        assert sorted(cells) == [(n, 1) for n in range(10)]  # column b of the ten rows only
        assert "1s" in "".join(text for text, _ in lines[1]) and "10s" in str(lines[10])


def test_the_row_render_is_what_the_patching_rebuilds() -> None:
    """`_render_line_in_row` keeps a row's cells and patches a changed one with `_render_cell`,
    its row's style from `_get_row_style`, and its cursor and hover as the row's: true when on
    the row (a row cursor). Stock DataTable must still build a row that way."""
    source = inspect.getsource(DataTable._render_line_in_row)
    assert "scrollable_row.append(cell_lines)" in source
    assert "row_style = self._get_row_style(row_index, base_style)" in source
    for argument in ("row_index,", "column_index,", "row_style,", "[line_no]"):
        assert argument in source, argument
    assert "cursor_row == cell_row" in inspect.getsource(DataTable._should_highlight)
    rows = inspect.getsource(DataTable._get_row_style)
    assert "zebra_stripes" in rows and "fixed_rows" in rows and "row_index % 2" in rows
    # what changes column widths, row order or size bumps the count both caches are keyed on
    for method in (DataTable.add_row, DataTable.add_column, DataTable.sort, DataTable._on_resize):
        assert "self._update_count += 1" in inspect.getsource(method), method.__name__
    assert "_clear_caches" in inspect.getsource(DataTable.clear)


class CursorTwinApp(App[None]):
    """A targeted and a stock table with a cell cursor and a fixed column."""

    def compose(self) -> ComposeResult:
        yield TargetedDataTable[Text](id="targeted", cursor_type="cell", fixed_columns=1)
        yield DataTable[Text](id="stock", cursor_type="cell", fixed_columns=1)


async def test_a_plain_cell_is_laid_out_without_rich_and_reads_as_stock() -> None:
    """`_render_cell`'s short way: a one-line plain Text that fits is built without Rich and
    reads as the stock table's, with a row or a cell cursor on it, a hover, zebra stripes and
    a fixed column; a styled, wrapped or too wide one goes through Rich as before."""
    for app in (TwinApp(), CursorTwinApp()):
        await _plain_cells_read_as_stock(app)


async def _plain_cells_read_as_stock(app: App[None]) -> None:
    async with app.run_test(size=(60, 30)) as pilot:
        targeted, stock = _twins(
            app, 12, lambda n: (Text(f"{n}m 0{n}s"), Text(f"b{n}")), height=12, column_width=8
        )
        app.set_focus(None)
        await pilot.pause()
        through_rich: list[tuple[int, int]] = []
        original = DataTable._render_cell

        def counting(
            table: DataTable[Text], row: int, column: int, *args: object, **kwargs: object
        ) -> object:
            if table is targeted and row >= 0:
                through_rich.append((row, column))
            return original(table, row, column, *args, **kwargs)  # type: ignore[arg-type]

        DataTable._render_cell = counting  # type: ignore[assignment,method-assign]
        try:
            for step, value in enumerate(
                (Text("9m 59s"), Text("x" * 9), Text("bold", style="bold"), Text("1h 02m"))
            ):
                for table in (targeted, stock):
                    table.update_cell("r2", "a", value)
                    table.update_cell("r3", "b", Text(f"{step}s"))
                    table.move_cursor(row=step % 4 + 1, column=step % 2)
                    table.hover_coordinate = Coordinate(step % 3 + 2, 1)
                await pilot.pause()
                assert _lines(targeted) == _lines(stock), (type(app).__name__, step)
        finally:
            DataTable._render_cell = original  # type: ignore[method-assign]
        rich_rows = {row for row, _ in through_rich}
        assert rich_rows == {2}, through_rich  # only the too wide and the styled cell


async def test_a_changed_cell_repaints_where_data_table_places_it() -> None:
    """`update_cells` works out each column's place once a call (`_column_places`): the region
    it repaints is DataTable's own for that cell (`_get_cell_region`), scrolled or not, with a
    row label column or none; else the terminal would show the old clock."""
    app = TwinApp()
    async with app.run_test(size=(60, 30)) as pilot:
        table = app.query_one(TargetedDataTable)
        table.styles.height = 8
        for key, width in (("a", 7), ("b", 3), ("c", 12)):
            table.add_column(key, key=key, width=width)
        for n in range(30):
            label = Text(f"L{n}") if n == 5 else None
            table.add_row(Text(f"a{n}"), Text("b"), Text(f"{n}s"), key=f"r{n}", label=label)
        await pilot.pause()
        for scroll in (0, 11):
            table.scroll_to(y=scroll, animate=False)
            await pilot.pause()
            places = table._column_places()
            for row in range(scroll, scroll + 6):
                for column, column_key in enumerate(("a", "b", "c")):
                    row_key = table.coordinate_to_cell_key(Coordinate(row, column)).row_key
                    expected = table._get_cell_region(Coordinate(row, column))
                    found = table._cell_region_on_screen(
                        row_key, row, ColumnKey(column_key), places
                    )
                    assert found == expected.translate(-table.scroll_offset), (scroll, row)


async def test_the_cell_key_index_stays_bounded_and_still_finds_a_changed_cells_renders(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """A changed cell's renders are found through an index of the cell cache's keys
    (`_drop_cell_renders`), made again from the cache past CELL_KEYS_KEPT notes: a night of
    cursor moves does not grow it, and what it drops is every render of the changed cell."""
    from crewdash.tui.textual_compat import plain_cells

    monkeypatch.setattr(plain_cells, "CELL_KEYS_KEPT", 40)
    app = TwinApp()
    async with app.run_test(size=(60, 30)) as pilot:
        table = app.query_one(TargetedDataTable)
        _fill(table, lambda n: f"{n}s")
        for n in range(30):  # each move renders the two rows it touches in a new look
            table.move_cursor(row=n % 20)
            await pilot.pause()
        noted = sum(len(keys) for keys in table._cell_keys.values())
        assert noted <= len(table._cell_render_cache) + 40
        assert any(k[0] == "r3" and k[1] == "b" for k in table._cell_render_cache.keys())  # noqa: SIM118
        table.update_cell("r3", "b", Text("4s"))
        table._evict_stale_cells()
        left = [k for k in table._cell_render_cache.keys() if k[0] == "r3" and k[1] == "b"]  # noqa: SIM118
        assert left == []


async def test_a_table_narrower_than_its_columns_reads_as_stock() -> None:
    """The columns overflow the table (`_Frame.fits` false): lines are cut to its width as
    DataTable cuts them, before and after a tick."""
    app = TwinApp()
    async with app.run_test(size=(60, 30)) as pilot:
        targeted, stock = _twins(
            app, 8, lambda n: (Text(f"{n}s"), Text(f"b{n}")), height=6, width=13, column_width=8
        )
        app.set_focus(None)
        await pilot.pause()
        assert _lines(targeted) == _lines(stock)
        for table in (targeted, stock):
            for n in range(8):
                table.update_cell(f"r{n}", "b", Text(f"{n + 1}m 0{n}s"))
        await pilot.pause()
        assert _lines(targeted) == _lines(stock)
        assert targeted._new_frame() is not None and not targeted._new_frame().fits  # type: ignore[union-attr]
