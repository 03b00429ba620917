"""An .xlsx workbook (Excel, WPS) read as a stream: each part parsed as it unzips, limits checked as it goes.

openpyxl reads a whole sheet into objects, a cell for every cell a merged range covers, before
anything can be checked: a 5 KB file with one range over a sheet took it minutes and gigabytes.
Here each part is fed to expat a chunk at a time; the sheet's declared size is checked before
its rows, each cell's position and text while it is read, and merged ranges are kept as ranges.
Only text is kept: numbers as written, dates as YYYY-MM-DD, formulas as their saved result.
A document type declaration (the way to an entity bomb) is refused.
"""

from __future__ import annotations

import datetime
import posixpath
import re
import zipfile
from pathlib import Path
from xml.parsers import expat

from openpyxl.styles.numbers import BUILTIN_FORMATS, is_date_format
from openpyxl.utils.cell import range_boundaries
from openpyxl.utils.datetime import CALENDAR_MAC_1904, CALENDAR_WINDOWS_1900, from_excel

from .reading import MAX_CELLS, Book, Grid, ImportRefused, Part, Sheet, refused, text_of

#: Number formats Excel builds in that show a date, East Asian ones included (27–36, 50–58).
_DATE_FORMATS = {*range(14, 23), *range(27, 37), *range(45, 48), *range(50, 59)}
_CHUNK = 64 * 1024
_CELL = re.compile(r"([A-Z]{1,3})(\d+)$")


class _Stop(Exception):
    """Raised inside a handler to end a parse early (the rows wanted were read)."""


def _local(name: str) -> str:
    return name.rsplit(":", 1)[-1]


def _parse(archive: zipfile.ZipFile, member: str, where: str, start=None, end=None, text=None) -> None:
    """Feed one part of the archive to expat a chunk at a time; handlers get local names."""
    parser = expat.ParserCreate()
    parser.buffer_text = True

    def doctype(*_):
        raise refused(where, "the file declares a document type, which a workbook never does — save it again "
                             "from Excel or WPS")

    parser.StartDoctypeDeclHandler = doctype
    parser.EntityDeclHandler = doctype
    if start:
        parser.StartElementHandler = lambda name, attrs: start(_local(name), attrs)
    if end:
        parser.EndElementHandler = lambda name: end(_local(name))
    if text:
        parser.CharacterDataHandler = text
    try:
        with archive.open(member) as stream:
            while chunk := stream.read(_CHUNK):
                parser.Parse(chunk, False)
            parser.Parse(b"", True)
    except _Stop:
        pass
    except expat.ExpatError as exc:
        raise refused(where, f"the file is damaged ({member}: {exc}) — open it in Excel or WPS, save a new copy "
                             "and import that") from None
    except (zipfile.BadZipFile, OSError, EOFError) as exc:
        raise refused(where, f"the file is damaged ({exc}) — open it in Excel or WPS, save a new copy and import "
                             "that") from None


def _attr(attrs: dict, name: str) -> str | None:
    """An attribute by its local name (r:id and id alike)."""
    for key, value in attrs.items():
        if _local(key) == name:
            return value
    return None


class XlsxBook(Book):
    """An .xlsx (or .xlsm) workbook: its sheets listed from workbook.xml, each streamed when asked."""

    kind = "Excel 工作簿 (.xlsx) · Excel workbook (.xlsx)"

    def __init__(self, path: Path, shown: str, archive: zipfile.ZipFile):
        super().__init__(path, shown)
        self.archive = archive
        self.names = set(archive.namelist())
        self._strings: list[str] | None = None
        self._dates: set[int] | None = None
        self.epoch = CALENDAR_WINDOWS_1900
        self.targets: dict[str, str] = {}
        self._read_workbook()

    def _read_workbook(self) -> None:
        relations: dict[str, str] = {}

        def relation(name, attrs):
            if name == "Relationship" and attrs.get("Id") and attrs.get("Target"):
                relations[attrs["Id"]] = attrs["Target"]

        if "xl/_rels/workbook.xml.rels" in self.names:
            _parse(self.archive, "xl/_rels/workbook.xml.rels", self.shown, relation)
        found: list[tuple[str, str | None, str | None]] = []

        def sheet(name, attrs):
            if name == "sheet" and len(found) < 1000:
                found.append((attrs.get("name", ""), attrs.get("state"), _attr(attrs, "id")))
            elif name == "workbookPr" and attrs.get("date1904") in ("1", "true"):
                self.epoch = CALENDAR_MAC_1904

        _parse(self.archive, "xl/workbook.xml", self.shown, sheet)
        for name, state, relation_id in found:
            target = relations.get(relation_id or "")
            if target is None:
                continue
            member = target.lstrip("/") if target.startswith("/") else posixpath.normpath(posixpath.join("xl", target))
            if member in self.names and "worksheets/" in member:  # chart sheets hold no cells
                self.targets[name] = member
                self.sheets.append(Sheet(name, state if state in ("hidden", "veryHidden") else None))

    def close(self) -> None:
        self.archive.close()

    def strings(self) -> list[str]:
        """The shared strings, read once; each string and their total bounded as they are read."""
        if self._strings is None:
            self._strings = []
            if "xl/sharedStrings.xml" in self.names:
                self._read_strings()
        return self._strings

    def _read_strings(self) -> None:
        where = f"{self.shown}!sharedStrings"
        strings, tally = self._strings, self.tally
        state = {"depth": 0, "text": [], "length": 0, "phonetic": 0, "in_t": False}

        def start(name, attrs):
            if name == "si":
                state["text"], state["length"] = [], 0
                tally.cell(where)
            elif name == "rPh":
                state["phonetic"] += 1  # furigana-like readings: not the cell's text
            elif name == "t":
                state["in_t"] = True

        def end(name):
            if name == "t":
                state["in_t"] = False
            elif name == "rPh":
                state["phonetic"] -= 1
            elif name == "si":
                text = "".join(state["text"])
                tally.stored(where, len(text))
                strings.append(text)

        def text(data):
            if state["in_t"] and not state["phonetic"]:
                state["length"] += len(data)
                tally.string(f"{where} (string {len(strings) + 1:,})", state["length"])
                state["text"].append(data)

        _parse(self.archive, "xl/sharedStrings.xml", where, start, end, text)

    def dates(self) -> set[int]:
        """The cell styles (indexes into cellXfs) whose number format shows a date."""
        if self._dates is None:
            self._dates = set()
            if "xl/styles.xml" in self.names:
                self._read_styles()
        return self._dates

    def _read_styles(self) -> None:
        formats = dict(BUILTIN_FORMATS)
        state = {"xfs": False, "index": 0}

        def start(name, attrs):
            if name == "numFmt" and attrs.get("numFmtId", "").isdigit():
                formats[int(attrs["numFmtId"])] = attrs.get("formatCode", "")
            elif name == "cellXfs":
                state["xfs"] = True
            elif name == "xf" and state["xfs"]:
                number = int(attrs["numFmtId"]) if attrs.get("numFmtId", "").isdigit() else 0
                if number in _DATE_FORMATS or (number >= 164 and is_date_format(formats.get(number))):
                    self._dates.add(state["index"])
                state["index"] += 1

        def end(name):
            if name == "cellXfs":
                state["xfs"] = False

        _parse(self.archive, "xl/styles.xml", f"{self.shown}!styles", start, end)

    def read(self, name: str) -> Grid:
        """The sheet's cells as text; ImportRefused at the first limit passed."""
        member, where = self.targets[name], f"{self.shown}!{name}"
        strings, dates, tally = self.strings(), self.dates(), self.tally
        grid = Grid(self.shown, name, parts=[Part("sheet", name, 1)])
        state = {"row": 0, "column": 0, "cell": None, "type": None, "style": 0, "value": [], "length": 0,
                 "in": None, "phonetic": 0}

        def start(tag, attrs):
            if tag == "c":
                row, column = _position(attrs.get("r"), state)
                tally.cell(where)
                tally.position(where, row, column)
                state.update(cell=(row, column), type=attrs.get("t"), value=[], length=0,
                             style=int(attrs["s"]) if attrs.get("s", "").isdigit() else 0)
            elif tag == "row":
                state["row"] = int(attrs["r"]) if attrs.get("r", "").isdigit() else state["row"] + 1
                state["column"] = 0
                tally.position(where, state["row"], 1)
            elif tag in ("v", "t") and state["cell"] is not None:
                state["in"] = tag
            elif tag == "rPh":
                state["phonetic"] += 1
            elif tag == "mergeCell" and attrs.get("ref"):
                _merge(grid, attrs["ref"], where, tally)
            elif tag == "dimension" and attrs.get("ref"):
                _dimension(attrs["ref"], where, tally)

        def end(tag):
            if tag in ("v", "t"):
                state["in"] = None
            elif tag == "rPh":
                state["phonetic"] -= 1
            elif tag == "c" and state["cell"] is not None:
                text = _cell_text("".join(state["value"]), state["type"], state["style"], strings, dates, self.epoch)
                if text:
                    tally.stored(where, len(text))
                    grid.put(*state["cell"], text)
                state["cell"] = None

        def text(data):
            if state["in"] and not state["phonetic"]:
                state["length"] += len(data)
                tally.string(grid.where(*state["cell"]), state["length"])
                state["value"].append(data)

        _count_cells(self.archive, member, where, tally)
        _parse(self.archive, member, where, start, end, text)
        return grid


#: How a cell element starts, with or without a namespace prefix (<c r=…>, <x:c>, <c/>).
_CELL_TAGS = (b"<c ", b"<c>", b"<c/>", b":c ", b":c>", b":c/>")


def _count_cells(archive: zipfile.ZipFile, member: str, where: str, tally) -> None:
    """Count a sheet's cell elements as it unzips, at the speed of zlib, before expat parses any: a
    sheet of millions of empty cells is refused in a fraction of a second, not after reading them."""
    count, tail = 0, b""
    try:
        with archive.open(member) as stream:
            while chunk := stream.read(_CHUNK * 16):
                text = tail + chunk
                count += sum(text.count(tag) for tag in _CELL_TAGS)
                if count > MAX_CELLS:
                    tally.cell(where, MAX_CELLS + 1)
                tail = text[-5:]
                count -= sum(tail.count(tag) for tag in _CELL_TAGS)  # counted again with the next chunk
    except (zipfile.BadZipFile, OSError, EOFError) as exc:
        raise refused(where, f"the file is damaged ({exc}) — open it in Excel or WPS, save a new copy and import "
                             "that") from None


def _position(reference: str | None, state: dict) -> tuple[int, int]:
    """A cell's row and column from its r="C5" (or the next column of its row, where r is left out)."""
    match = _CELL.match(reference or "")
    if match:
        column = 0
        for letter in match.group(1):
            column = column * 26 + ord(letter) - 64
        state["row"], state["column"] = int(match.group(2)), column
    else:
        state["column"] += 1
    return state["row"], state["column"]


def _merge(grid: Grid, reference: str, where: str, tally) -> None:
    try:
        first_column, first_row, last_column, last_row = range_boundaries(reference)
    except (ValueError, TypeError):
        raise refused(where, f"merged range {reference!r} is not a range — the file is damaged; open it in Excel "
                             "or WPS, save a new copy and import that") from None
    if None in (first_column, first_row, last_column, last_row):
        raise refused(where, f"merged range {reference} covers whole rows or columns — unmerge it and merge only "
                             "the register's cells")
    tally.merge(where, first_row, first_column, last_row, last_column)
    if (last_row, last_column) != (first_row, first_column):
        grid.merges.append((first_row, first_column, last_row, last_column))


def _dimension(reference: str, where: str, tally) -> None:
    try:
        first_column, first_row, last_column, last_row = range_boundaries(reference)
    except (ValueError, TypeError):
        return  # a size the sheet gets wrong is no reason to refuse it: its cells are checked one by one
    if last_row and last_column:
        tally.dimension(where, last_row - (first_row or 1) + 1, last_column - (first_column or 1) + 1, reference)


def _cell_text(value: str, kind: str | None, style: int, strings: list[str], dates: set[int], epoch) -> str:
    """A cell's text from its saved value and type (s, inlineStr, str, b, e, d or a number)."""
    if kind == "s":
        index = int(value) if value.strip().isdigit() else -1
        return text_of(strings[index]) if 0 <= index < len(strings) else ""
    if kind in ("inlineStr", "str", "e"):
        return text_of(value)
    if kind == "b":
        return "TRUE" if value.strip() in ("1", "true") else "FALSE"
    if kind == "d":
        return value.strip()[:10]
    if not value.strip():
        return ""
    try:
        number = float(value)
    except ValueError:
        return text_of(value)
    if style in dates:
        try:
            when = from_excel(number, epoch)
        except (ValueError, OverflowError):
            return text_of(number)
        return when.date().isoformat() if isinstance(when, datetime.datetime) else str(when)
    return text_of(number)


def open_xlsx(path: Path, shown: str, archive: zipfile.ZipFile) -> XlsxBook:
    try:
        return XlsxBook(path, shown, archive)
    except ImportRefused:
        raise
    except (KeyError, ValueError) as exc:
        raise refused(shown, f"the file is damaged ({exc}) — open it in Excel or WPS, save a new copy and import "
                             "that") from None
