"""TargetedDataTable (crewdash/tui/textual_compat/data_table.py) rewrites DataTable internals
of Textual 8.2: each one it touches is still there and still shaped as it expects, or this
fails (there is no fallback)."""

from __future__ import annotations

import inspect

from rich.text import Text
from textual.app import App, ComposeResult
from textual.cache import LRUCache
from textual.geometry import Region
from textual.widget import Widget
from textual.widgets import DataTable, Input

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
        table.add_column("a", key="a")
        table.add_column("b", key="b")
        for n in range(20):
            table.add_row(Text(f"row {n}"), Text(f"b{n}"), key=f"r{n}")
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
