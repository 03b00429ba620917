"""Reading a workbook for import: opened safely, its sheets as grids, problems located at cells.

Every import reads through here: open_workbook refuses a file that is no readable workbook in one
line; read_grid gives a sheet's texts with merged cells carried to every cell they cover; an
Imported register carries, for each entry, the cell it came from, so the validator's findings
can be reported at that cell.
"""

from __future__ import annotations

import datetime
import warnings
import zipfile
from dataclasses import dataclass, field
from pathlib import Path

from openpyxl import load_workbook
from openpyxl.utils import get_column_letter
from openpyxl.workbook.workbook import Workbook
from openpyxl.worksheet.worksheet import Worksheet

from ..catalog import POSTS_FILE, REGISTER_FILE, SOURCES_FILE

#: Limits on what is opened at all: a register of thousands of risks is a few MB.
MAX_BYTES = 20 * 1024 * 1024
MAX_UNPACKED = 100 * 1024 * 1024
MAX_ROWS = 20_000
MAX_COLUMNS = 200
#: The risk matrix an imported register starts from (the shipped register's).
LEVELS = [{"id": "high", "min_score": 15, "review_days": 90}, {"id": "medium", "min_score": 8, "review_days": 180},
          {"id": "low", "min_score": 1, "review_days": 360}]

_MIB = 1024 * 1024
_OLE = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"  # an OLE2 compound file: .xls, or an encrypted .xlsx


@dataclass(frozen=True, order=True)
class Problem:
    """One thing wrong with a workbook: where (book, book!sheet or book!sheet!cell) and what to do."""

    where: str
    message: str

    def __str__(self) -> str:
        return f"{self.where}: {self.message}"


class ImportRefused(Exception):
    """The workbook cannot be imported; carries every problem found."""

    def __init__(self, problems: list[Problem]):
        self.problems = problems
        super().__init__("\n".join(map(str, problems)))


def open_workbook(path: Path, shown: str) -> Workbook:
    """The workbook at path, or ImportRefused with one line saying what the file is instead."""
    refuse = lambda message: ImportRefused([Problem(shown, message)])  # noqa: E731
    if not path.is_file():
        raise refuse("no such file — check the name and folder")
    size = path.stat().st_size
    if size == 0:
        raise refuse("the file is empty — save the register from Excel or WPS as .xlsx")
    if size > MAX_BYTES:
        raise refuse(f"file is {size / _MIB:.1f} MB, over the {MAX_BYTES // _MIB} MB limit — "
                     "split the register into several workbooks")
    with path.open("rb") as file:
        head = file.read(4096)
    if head.startswith(_OLE):
        if "EncryptionInfo".encode("utf-16-le") in path.read_bytes():
            raise refuse("the workbook is password-protected — open it in Excel or WPS, remove the password "
                         "(文件 › 信息 › 保护工作簿 › 用密码进行加密, leave it empty) and save it again")
        raise refuse("this is an Excel 97–2003 workbook (.xls) — open it in Excel or WPS and save it as "
                     "an Excel workbook (.xlsx)")
    if not head.startswith(b"PK\x03\x04"):
        raise refuse(_not_a_zip(head))
    try:
        with zipfile.ZipFile(path) as archive:
            names = set(archive.namelist())
            unpacked = sum(info.file_size for info in archive.infolist())
    except (zipfile.BadZipFile, OSError) as exc:
        raise refuse(f"the file is damaged ({exc}) — open it in Excel or WPS, save a new copy and import that")
    if "xl/workbook.xml" not in names:
        kind = "an OpenDocument spreadsheet (.ods)" if "content.xml" in names else "a zip archive, not a workbook"
        raise refuse(f"this is {kind} — open it in Excel or WPS and save it as an Excel workbook (.xlsx)")
    if unpacked > MAX_UNPACKED:  # a zip bomb, or far more than a register
        raise refuse(f"the workbook unpacks to {unpacked / _MIB:.0f} MB, over the {MAX_UNPACKED // _MIB} MB "
                     "limit — split the register into several workbooks")
    try:
        with warnings.catch_warnings():  # openpyxl warns of features it leaves out (data validation, …)
            warnings.simplefilter("ignore")
            return load_workbook(path, data_only=True)
    except Exception as exc:  # openpyxl raises many kinds for a damaged file; each means the same here
        raise refuse(f"the file is damaged ({type(exc).__name__}: {exc}) — open it in Excel or WPS, save a new "
                     "copy and import that") from None


def _not_a_zip(head: bytes) -> str:
    for encoding in ("utf-8-sig", "gb18030"):
        try:
            text = head.decode(encoding)
        except UnicodeDecodeError:
            continue
        if "," in text or "\t" in text:
            return ("this is a CSV or text file, not a workbook — open it in Excel or WPS and save it as "
                    "an Excel workbook (.xlsx)")
        return "this is a text file, not a workbook — save the register from Excel or WPS as .xlsx"
    return "this is not an Excel workbook — save the register from Excel or WPS as .xlsx"



@dataclass
class Grid:
    """A sheet's values by (row, column), 1-based, as text; merged areas filled from their first cell."""

    book: str
    sheet: str
    cells: dict[tuple[int, int], str]
    rows: int
    columns: int
    merged: dict[tuple[int, int], tuple[int, int, int, int]]  # cell -> (min_row, min_col, max_row, max_col)

    def get(self, row: int, column: int) -> str:
        return self.cells.get((row, column), "")

    def where(self, row: int, column: int | None = None) -> str:
        cell = f"!{get_column_letter(column)}{row}" if column else f"!A{row}"
        return f"{self.book}!{self.sheet}{cell}"


def read_grid(sheet: Worksheet, book: str) -> Grid:
    """The sheet as a Grid; ImportRefused if it is over the size limits."""
    if sheet.max_row > MAX_ROWS or sheet.max_column > MAX_COLUMNS:
        raise ImportRefused([Problem(f"{book}!{sheet.title}", f"the sheet has {sheet.max_row:,} rows and "
                                     f"{sheet.max_column:,} columns, over the limit of {MAX_ROWS:,} rows and "
                                     f"{MAX_COLUMNS} columns — split it, or delete the empty rows below the register")])
    cells = {}
    for row in sheet.iter_rows():
        for cell in row:
            text = _text(cell.value)
            if text:
                cells[(cell.row, cell.column)] = text
    merged = {}
    for area in sheet.merged_cells.ranges:
        bounds = (area.min_row, area.min_col, area.max_row, area.max_col)
        first = cells.get((area.min_row, area.min_col), "")
        for row in range(area.min_row, area.max_row + 1):
            for column in range(area.min_col, area.max_col + 1):
                merged[(row, column)] = bounds
                if first:
                    cells[(row, column)] = first
    return Grid(book, sheet.title, cells, sheet.max_row, sheet.max_column, merged)


def _text(value) -> str:
    """A cell's value as text: whole numbers without .0, dates as YYYY-MM-DD, blanks as ""."""
    if value is None:
        return ""
    if isinstance(value, datetime.datetime):
        return value.date().isoformat()
    if isinstance(value, datetime.date):
        return value.isoformat()
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value).replace("\r\n", "\n").replace("\r", "\n").strip()



@dataclass
class Imported:
    """A register read from a workbook: its files' data, and the cell each entry and field came from."""

    register: dict
    areas: list[dict]  # {"area": …, "powers": […] (where it has any), "risks": […], "measures": […]} per area file
    sources: list[dict]
    posts: list[dict] = field(default_factory=list)
    #: What the importer read and how, where that is not plain from the sheet (printed with the summary).
    notes: list[str] = field(default_factory=list)
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


