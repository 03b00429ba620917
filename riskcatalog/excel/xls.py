"""An Excel 97–2003 workbook (.xls), read with xlrd.

xlrd reads a sheet whole, so each sheet's declared size (its DIMENSIONS record) is checked
before xlrd reads it, and the file itself is within MAX_BYTES; a .xls sheet holds at most
65,536 rows and 256 columns in any case. Sheets are read one at a time, when asked.
"""

from __future__ import annotations

import io
import struct
from pathlib import Path

import xlrd
from xlrd.biffh import XL_CELL_BOOLEAN, XL_CELL_DATE, XL_CELL_EMPTY, XL_CELL_ERROR, XL_CELL_BLANK, error_text_from_code

from .reading import Book, Grid, ImportRefused, Part, Sheet, refused, text_of

_DIMENSIONS, _EOF = 0x0200, 0x000A
_HIDDEN = {1: "hidden", 2: "veryHidden"}


class XlsBook(Book):
    kind = "Excel 97–2003 工作簿 (.xls) · Excel 97–2003 workbook (.xls)"

    def __init__(self, path: Path, shown: str, book: xlrd.book.Book):
        super().__init__(path, shown)
        self.book = book
        # BOUNDSHEET's visibility, which xlrd keeps before it loads a sheet (Sheet.visibility needs the load).
        visibility = getattr(book, "_sheet_visibility", [])
        self.sheets = [Sheet(name, _HIDDEN.get(visibility[n] if n < len(visibility) else 0))
                       for n, name in enumerate(book.sheet_names())]

    def read(self, name: str) -> Grid:
        where, index = f"{self.shown}!{name}", self.sheet_names().index(name)
        declared = _declared_size(self.book, index)
        if declared:
            rows, columns = declared
            self.tally.dimension(where, rows, columns, f"{rows:,} × {columns:,}")
        try:
            sheet = self.book.sheet_by_index(index)
        except (xlrd.XLRDError, struct.error, IndexError, AssertionError, ValueError) as exc:
            raise refused(where, f"the sheet is damaged ({exc}) — open the file in Excel or WPS, save it as an Excel "
                                 "workbook (.xlsx) and import that") from None
        grid = Grid(self.shown, name, parts=[Part("sheet", name, 1)])
        for first_row, last_row, first_column, last_column in sheet.merged_cells:
            self.tally.merge(where, first_row + 1, first_column + 1, last_row, last_column)
            if last_row - first_row > 1 or last_column - first_column > 1:
                grid.merges.append((first_row + 1, first_column + 1, last_row, last_column))
        for row in range(sheet.nrows):
            self.tally.position(where, row + 1, sheet.row_len(row))
            for column, (kind, value) in enumerate(zip(sheet.row_types(row), sheet.row_values(row)), 1):
                self.tally.cell(where)
                if kind in (XL_CELL_EMPTY, XL_CELL_BLANK):
                    continue
                text = self._text(kind, value)
                self.tally.string(grid.where(row + 1, column), len(text))
                self.tally.stored(where, len(text))
                grid.put(row + 1, column, text)
        self.book.unload_sheet(index)
        return grid

    def _text(self, kind: int, value) -> str:
        if kind == XL_CELL_DATE:
            try:
                return xlrd.xldate_as_datetime(value, self.book.datemode).date().isoformat()
            except (xlrd.xldate.XLDateError, ValueError, OverflowError):
                return text_of(value)
        if kind == XL_CELL_BOOLEAN:
            return "TRUE" if value else "FALSE"
        if kind == XL_CELL_ERROR:
            return error_text_from_code.get(value, "#ERROR")
        return text_of(value)


def _declared_size(book: xlrd.book.Book, index: int) -> tuple[int, int] | None:
    """The rows and columns a sheet's DIMENSIONS record declares, read before xlrd makes its cells."""
    positions = getattr(book, "_sh_abs_posn", [])
    if index >= len(positions):
        return None
    stream, position = book.mem, positions[index]
    for _ in range(64):  # DIMENSIONS comes among the sheet's first records
        if position + 4 > len(stream):
            return None
        code, length = struct.unpack_from("<HH", stream, position)
        if code == _DIMENSIONS and length >= 10:
            if length >= 14:  # BIFF8: 32-bit row numbers
                first_row, last_row, first_column, last_column = struct.unpack_from("<IIHH", stream, position + 4)
            else:
                first_row, last_row, first_column, last_column = struct.unpack_from("<HHHH", stream, position + 4)
            return max(last_row - first_row, 0), max(last_column - first_column, 0)
        if code == _EOF:
            return None
        position += 4 + length
    return None


def open_xls(path: Path, shown: str, data: bytes) -> XlsBook:
    try:
        book = xlrd.open_workbook(file_contents=data, formatting_info=True, on_demand=True, ragged_rows=True,
                                  logfile=io.StringIO())
    except ImportRefused:
        raise
    except Exception as exc:  # xlrd raises many kinds for a damaged or foreign OLE file; each means the same here
        raise refused(shown, f"this is an Excel 97–2003 file that cannot be read ({type(exc).__name__}: {exc}) — "
                             "open it in Excel or WPS, save it as an Excel workbook (.xlsx) and import that") from None
    return XlsBook(path, shown, book)
