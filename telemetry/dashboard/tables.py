"""Write rows into a Textual DataTable by difference, so cursor and scroll survive a refresh.

Only cells whose text changed are updated; rows that left are removed, new ones added, and
the display order is fixed by one `sort` keyed on the rows' identity cells. Clearing and
refilling instead would jump the cursor to the top twice a second.
"""

from __future__ import annotations

from collections.abc import Sequence

from textual.widgets import DataTable

__all__ = ["TableRows"]

Row = tuple[str, dict[str, str]]  # (row key, column key -> cell text)


class TableRows:
    """Keeps what one DataTable shows; `sync` makes it show `rows`, in their order."""

    def __init__(self, table: DataTable[str], columns: Sequence[tuple[str, str]], identity: Sequence[str]) -> None:
        """`columns`: (key, label) pairs; `identity`: the columns whose cells tell rows apart
        (none: a change of order refills the table, fine for one without a cursor)."""
        self.table = table
        self._columns = [key for key, _ in columns]
        self._identity = tuple(identity)
        self._cells: dict[str, dict[str, str]] = {}
        for key, label in columns:
            table.add_column(label, key=key)

    def sync(self, rows: Sequence[Row]) -> None:
        table = self.table
        selected = self.selected_key()
        wanted = {key for key, _ in rows}
        for key in [k for k in self._cells if k not in wanted]:
            table.remove_row(key)
            del self._cells[key]
        for key, cells in rows:
            shown = self._cells.get(key)
            if shown is None:
                table.add_row(*(cells[column] for column in self._columns), key=key)
            else:
                for column in self._columns:
                    if shown[column] != cells[column]:
                        table.update_cell(key, column, cells[column])
            self._cells[key] = dict(cells)
        self._order([key for key, _ in rows])
        if selected in self._cells:
            index = table.get_row_index(selected)
            if index != table.cursor_row:
                table.move_cursor(row=index, scroll=False)

    def selected_key(self) -> str | None:
        table = self.table
        if not table.row_count or not 0 <= table.cursor_row < table.row_count:
            return None
        return table.ordered_rows[table.cursor_row].key.value

    def _order(self, keys: list[str]) -> None:
        if [row.key.value for row in self.table.ordered_rows] == keys:
            return
        if not self._identity:
            self.table.clear()
            for key in keys:
                self.table.add_row(*(self._cells[key][column] for column in self._columns), key=key)
            return
        position = {tuple(self._cells[key][c] for c in self._identity): i for i, key in enumerate(keys)}

        def place(values: object) -> int:
            return position[values if isinstance(values, tuple) else (values,)]

        self.table.sort(*self._identity, key=place)
