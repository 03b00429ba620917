"""Reading any register file for import: what it is, its sheets or tables as grids, within limits.

Every import reads through here. open_book looks at a file's first bytes (never its name) and
hands it to the reader of its kind — xlsx (Excel and WPS), xls (Excel 97–2003), word (.docx
tables) or csvtext (CSV) — or refuses it in one line saying what it is. Each reader gives a Book:
its sheets (or tables) by name, hidden ones marked, each read into a Grid only when asked.

Reading is bounded for any file, however it was made: every reader counts rows, columns, cells
(empty ones too), the characters of each cell and of the whole file, and the area of merged
ranges as it reads them (a Tally), and stops at the first limit passed with one line naming it.
Merged ranges are kept as ranges, never expanded into cells, so a range over a whole sheet costs
what a small one does.
"""

from __future__ import annotations

import bisect
from dataclasses import dataclass, field
from pathlib import Path

from openpyxl.utils import get_column_letter

from ..catalog import POSTS_FILE, REGISTER_FILE, SOURCES_FILE

#: Limits on what is read at all. A register of thousands of risks is a few MB and a few
#: hundred thousand cells; each limit is far above that and far below what would take a
#: machine's memory or minutes.
MAX_BYTES = 20 * 1024 * 1024
MAX_UNPACKED = 100 * 1024 * 1024
MAX_ROWS = 20_000
MAX_COLUMNS = 200
#: Cells read in one file, empty ones counted: written cells cost time to read whatever they hold.
MAX_CELLS = 500_000
#: Excel's own limit for one cell.
MAX_CELL_TEXT = 32_767
#: Characters of text in one file (all its strings), and cells covered by its merged ranges.
MAX_TEXT = 20_000_000
MAX_MERGED = 500_000
#: The risk matrix an imported register starts from (the shipped register's).
LEVELS = [{"id": "high", "min_score": 15, "review_days": 90}, {"id": "medium", "min_score": 8, "review_days": 180},
          {"id": "low", "min_score": 1, "review_days": 360}]

MIB = 1024 * 1024


@dataclass(frozen=True)
class Problem:
    """One thing wrong with a file: where (book, book!sheet or book!sheet!cell), what to do, and
    order, the place's position (part, row, column) for listing problems as they sit in the file."""

    where: str
    message: str
    order: tuple = ()

    def __str__(self) -> str:
        return f"{self.where}: {self.message}"

    def key(self) -> tuple:
        return (self.order, self.where, self.message)


class ImportRefused(Exception):
    """The file cannot be imported; carries every problem found."""

    def __init__(self, problems: list[Problem]):
        self.problems = problems
        super().__init__("\n".join(map(str, problems)))


def refused(where: str, message: str) -> ImportRefused:
    return ImportRefused([Problem(where, message)])


class Tally:
    """What one file has cost so far, checked against the limits as each thing is read."""

    def __init__(self, book: str):
        self.book = book
        self.cells = self.text = self.merged = 0

    def cell(self, where: str, count: int = 1) -> None:
        """count more cells read (or about to be)."""
        self.cells += count
        if self.cells > MAX_CELLS:
            raise refused(where, f"more than {MAX_CELLS:,} cells (empty ones counted), over the limit — delete the "
                                 "empty rows and columns beyond the register, or split it into several files")

    def position(self, where: str, row: int, column: int) -> None:
        if row > MAX_ROWS or column > MAX_COLUMNS:
            raise refused(where, f"a cell at row {row:,}, column {column:,}, beyond the limit of {MAX_ROWS:,} rows and "
                                 f"{MAX_COLUMNS} columns — delete the rows and columns beyond the register (even "
                                 "empty ones that carry a format), or split it into several files")

    def string(self, where: str, length: int) -> None:
        """A string being read has reached `length` characters (called as it grows)."""
        if length > MAX_CELL_TEXT:
            raise refused(where, f"a text of more than {MAX_CELL_TEXT:,} characters, over the limit of one cell — "
                                 "shorten it, or check that the file is a register")

    def stored(self, where: str, length: int) -> None:
        self.text += length
        if self.text > MAX_TEXT:
            raise refused(where, f"more than {MAX_TEXT:,} characters of text, over the limit — split the register "
                                 "into several files")

    def merge(self, where: str, first_row: int, first_column: int, last_row: int, last_column: int) -> None:
        """A merged range, checked before anything is made of it."""
        shown = f"{get_column_letter(first_column)}{first_row}:{_letter(last_column)}{last_row}"
        if last_row > MAX_ROWS or last_column > MAX_COLUMNS:
            raise refused(where, f"merged range {shown} reaches row {last_row:,}, column {last_column:,}, beyond the "
                                 f"limit of {MAX_ROWS:,} rows and {MAX_COLUMNS} columns — unmerge it (合并后居中 › "
                                 "取消单元格合并) and merge only the register's cells")
        self.merged += (last_row - first_row + 1) * (last_column - first_column + 1)
        if self.merged > MAX_MERGED:
            raise refused(where, f"merged ranges cover more than {MAX_MERGED:,} cells, over the limit — unmerge the "
                                 "ranges beyond the register")

    def dimension(self, where: str, rows: int, columns: int, shown: str) -> None:
        """The size a sheet declares for itself, checked before its cells are read."""
        if rows > MAX_ROWS or columns > MAX_COLUMNS:
            raise refused(where, f"the sheet's used range is {shown} ({rows:,} rows, {columns:,} columns), over the "
                                 f"limit of {MAX_ROWS:,} rows and {MAX_COLUMNS} columns — delete the rows and columns "
                                 "beyond the register (even empty ones that carry a format), or split it")


def _letter(column: int) -> str:
    return get_column_letter(column) if column <= 18278 else str(column)


@dataclass(frozen=True)
class Part:
    """Where a run of a grid's rows came from: a sheet (cells as A1), a Word table (第N行第M列) or
    a paragraph, and the row number that run starts at there."""

    kind: str  # "sheet", "table", "paragraph" or "text" (a CSV file: cells as A1, no sheet name)
    label: str
    first: int  # the grid row the part starts at
    local: int = 1  # that row's number in the part


@dataclass
class Grid:
    """A sheet's (or table's) texts by (row, column), 1-based; merged ranges kept as ranges.

    get() gives a merged range's text in every cell it covers, as a reader sees it.
    """

    book: str
    sheet: str
    cells: dict[tuple[int, int], str] = field(default_factory=dict)
    rows: int = 0
    columns: int = 0
    merges: list[tuple[int, int, int, int]] = field(default_factory=list)  # (min_row, min_col, max_row, max_col)
    parts: list[Part] = field(default_factory=list)
    #: Text above the grid that is not in it (a Word document's paragraphs before its table).
    preamble: list[tuple[str, str]] = field(default_factory=list)  # (where, text)
    _by_row: dict[int, list[tuple[int, int, int, int]]] | None = None

    def put(self, row: int, column: int, text: str) -> None:
        if text:
            self.cells[(row, column)] = text
        self.rows, self.columns = max(self.rows, row), max(self.columns, column)

    def merge_of(self, row: int, column: int) -> tuple[int, int, int, int] | None:
        """The merged range covering a cell, if any."""
        if self._by_row is None:  # built once; Tally.merge bounded the rows it covers
            self._by_row = {}
            for bounds in self.merges:
                for covered in range(bounds[0], bounds[2] + 1):
                    self._by_row.setdefault(covered, []).append(bounds)
        for bounds in self._by_row.get(row, ()):
            if bounds[1] <= column <= bounds[3]:
                return bounds
        return None

    def get(self, row: int, column: int) -> str:
        text = self.cells.get((row, column))
        if text is not None:
            return text
        bounds = self.merge_of(row, column) if self.merges else None
        return self.cells.get((bounds[0], bounds[1]), "") if bounds else ""

    def _part(self, row: int) -> Part:
        parts = self.parts or [Part("sheet", self.sheet, 1)]
        return parts[max(bisect.bisect_right([p.first for p in parts], row) - 1, 0)]

    def where(self, row: int, column: int | None = None) -> str:
        """A cell as its reader finds it: book!sheet!C5, book.docx!表格1!第5行第3列, book.csv!C5."""
        part, local = self._part(row), self.local_row(row)
        if part.kind == "paragraph":
            return f"{self.book}!{part.label}"
        if part.kind == "table":
            return f"{self.book}!{part.label}!第{local}行" + (f"第{column}列" if column else "")
        cell = f"{get_column_letter(column or 1)}{local}"
        return f"{self.book}!{cell}" if part.kind == "text" else f"{self.book}!{part.label}!{cell}"

    def local_row(self, row: int) -> int:
        """A grid row's number in its sheet or table."""
        part = self._part(row)
        return part.local + row - part.first

    def title_where(self) -> str:
        """Where a title is looked for: the sheet's A1, or the document (a Word table's title is above it)."""
        return self.where(1, 1) if self._part(1).kind in ("sheet", "text") else self.book

    def order(self, row: int, column: int | None = None) -> tuple:
        return (self.sheet, row, column or 0)

    def problem(self, row: int, column: int | None, message: str) -> Problem:
        return Problem(self.where(row, column), message, self.order(row, column))


@dataclass(frozen=True)
class Sheet:
    """A sheet (or table) of a book: its name and whether it is hidden (and how: hidden, veryHidden)."""

    name: str
    hidden: str | None = None


class Book:
    """A file's sheets, each read into a Grid when asked. Readers subclass it."""

    #: What the file is, as the report names it.
    kind = "workbook"
    #: What a grid of it is called: 工作表 (sheet) or 表格 (table).
    part_zh, part_en = "工作表", "sheet"

    def __init__(self, path: Path, shown: str):
        self.path, self.shown = path, shown
        self.tally = Tally(shown)
        self.sheets: list[Sheet] = []
        #: What the reader itself had to decide (an encoding, a delimiter), for the report.
        self.notes: list[tuple[str, str]] = []
        self._grids: dict[str, Grid] = {}

    def grid(self, name: str) -> Grid:
        """A sheet read into a Grid, once (a second look costs nothing and counts nothing twice)."""
        if name not in self._grids:
            self._grids[name] = self.read(name)
        return self._grids[name]

    def read(self, name: str) -> Grid:
        raise NotImplementedError

    def close(self) -> None:
        """Let go of the file (readers that keep it open close it)."""

    def sheet_names(self) -> list[str]:
        return [sheet.name for sheet in self.sheets]


@dataclass
class Imported:
    """A register read from a file: its files' data, and the cell each entry and field came from."""

    register: dict
    areas: list[dict]  # {"area": …, "powers": […] (where it has any), "risks": […], "measures": […]} per area file
    sources: list[dict]
    posts: list[dict] = field(default_factory=list)
    #: (file, list, index) -> (grid, row) of the entry; (sheet, field) -> column.
    rows: dict[tuple[str, str, int], tuple[Grid, int]] = field(default_factory=dict)
    columns: dict[tuple[str, str], int] = field(default_factory=dict)

    def files(self) -> dict[str, dict]:
        """File name -> data, in the canonical order of keys (fmt orders them on writing)."""
        files = {REGISTER_FILE: self.register}
        if self.sources:
            files[SOURCES_FILE] = {"sources": self.sources}
        if self.posts:
            files[POSTS_FILE] = {"posts": self.posts}
        files.update({f"{a['area']['id']}.yml": a for a in self.areas})
        return files


def register_record(unit_id: str, unit_name: str, imported: Imported, languages: list[str], note: str) -> dict:
    """register.yml of an imported register: its totals counted, the shipped register's matrix."""
    active = lambda entries: sum(e.get("status", "active") == "active" for e in entries)  # noqa: E731
    return {"unit": {"id": unit_id, "name_zh": unit_name}, "provenance": {"note_zh": note}, "languages": languages,
            "totals": {"risks": sum(active(a["risks"]) for a in imported.areas),
                       "measures": sum(active(a["measures"]) for a in imported.areas)},
            "areas": [a["area"]["id"] for a in imported.areas], "levels": LEVELS}


def text_of(value) -> str:
    """A cell's value as text: whole numbers without .0, blanks as "", line ends as \\n, trimmed."""
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value).replace("\r\n", "\n").replace("\r", "\n").strip()
