"""The 登记表 workbook of one or more registers, written from the catalogue database with openpyxl.

The first sheet is the register as a unit prints it: a title row with the unit, a row with the
unit and date, the heading frozen and repeated on every printed page, one row per active risk,
area cells merged, text wrapped, landscape on A4 or A3. The field sheets after it (layout.FIELD_SHEETS)
hold every field of every entry, withdrawn ones too, so `build.py import` gets the register back.

Used by `build.py export` (a database compiled in memory) and the site's downloads (the served
database): both hand over a sqlite3 connection.
"""

from __future__ import annotations

import copy
import datetime
import json
import sqlite3
from dataclasses import dataclass, field
from typing import IO, Iterator

from openpyxl import Workbook
from openpyxl.cell import WriteOnlyCell
from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE
from openpyxl.styles import Alignment, Border, Font, PatternFill, Side
from openpyxl.utils import get_column_letter
from openpyxl.worksheet.worksheet import Worksheet

from .. import fields, vocab
from ..formulas import formula_sign
from . import layout
from .layout import FIELD_HEADER_ROWS, FIELD_SHEETS, REGISTER_COLUMNS, REGISTER_SHEET, TITLE_ROWS, Column

#: openpyxl's paper sizes (ECMA-376 ST_PaperSize): A4 = 9, A3 = 8.
PAPER = {"A4": 9, "A3": 8}

_THIN = Side(style="thin", color="808080")
_BORDER = Border(left=_THIN, right=_THIN, top=_THIN, bottom=_THIN)
_WRAP = Alignment(wrap_text=True, vertical="top")
_CENTRE = Alignment(wrap_text=True, vertical="center", horizontal="center")
_GREY = PatternFill("solid", fgColor="D9D9D9")
#: The cells' styles by name: the site's level colours lightened for print.
STYLES = {
    "title": {"font": Font(bold=True, size=16), "alignment": Alignment(horizontal="center", vertical="center")},
    "subtitle": {"font": Font(size=11), "alignment": Alignment(horizontal="left", vertical="center")},
    "text": {"alignment": _WRAP, "border": _BORDER},
    "centred": {"alignment": _CENTRE, "border": _BORDER},
    "heading": {"font": Font(bold=True), "fill": _GREY, "alignment": _CENTRE, "border": _BORDER},
    "field name": {"font": Font(color="595959", size=9), "fill": _GREY, "alignment": _CENTRE, "border": _BORDER},
    **{f"level {level}": {"alignment": _CENTRE, "border": _BORDER, "fill": PatternFill("solid", fgColor=colour)}
       for level, colour in (("high", "F4C7C3"), ("medium", "FCE8B2"), ("low", "D9EAD3"))},
}


class Stylist:
    """Gives cells the STYLES: each style is set on one cell and copied to the others, since openpyxl
    otherwise hashes every font, fill and border again for every cell (most of a district's export)."""

    def __init__(self) -> None:
        self.made: dict[str, object] = {}

    def __call__(self, cell, style: str):
        quoted, cell.quotePrefix = cell.quotePrefix, False  # text_cell's mark is the cell's, not the style's
        if style in self.made:
            cell._style = copy.copy(self.made[style])
        else:
            for name, value in STYLES[style].items():
                setattr(cell, name, value)
            self.made[style] = copy.copy(cell._style)
        cell.quotePrefix = quoted
        return cell


def text_cell(sheet: Worksheet, value) -> WriteOnlyCell:
    """A cell holding value as it is: text that begins like a formula (riskcatalog.formulas) is a text
    cell marked quotePrefix, so it stays text even when edited, where openpyxl would make "=…" a
    formula (a reader's query must never run in the reader's Excel); a character XML cannot hold
    (a control character a query made) is written as its escape, \\x01, rather than failing the file."""
    if isinstance(value, str):
        value = ILLEGAL_CHARACTERS_RE.sub(lambda found: found[0].encode("unicode_escape").decode("ascii"), value)
    cell = WriteOnlyCell(sheet, value)
    if isinstance(value, str) and formula_sign(value):
        cell.data_type = "s"
        cell.quotePrefix = True
    return cell


@dataclass
class Register:
    """One unit's register as the workbook shows it: rows of the database, keys turned back into ids."""

    unit: dict
    levels: list[dict] = field(default_factory=list)
    areas: list[dict] = field(default_factory=list)
    risks: list[dict] = field(default_factory=list)
    measures: list[dict] = field(default_factory=list)
    sources: list[dict] = field(default_factory=list)
    posts: list[dict] = field(default_factory=list)
    powers: list[dict] = field(default_factory=list)
    steps: list[dict] = field(default_factory=list)
    branches: list[dict] = field(default_factory=list)
    area: dict | None = None  # the one area a workbook was asked for

    def active_risks(self) -> list[dict]:
        return [risk for risk in self.risks if risk["status"] == "active"]


def _rows(conn: sqlite3.Connection, sql: str, *params) -> list[dict]:
    cursor = conn.execute(sql, params)
    names = [column[0] for column in cursor.description]
    return [dict(zip(names, row)) for row in cursor]


def unit_ids(conn: sqlite3.Connection) -> list[str]:
    """Every unit in the database, in the order the build wrote them."""
    return [row[0] for row in conn.execute("select id from units order by rowid")]


def read(conn: sqlite3.Connection, units: list[str] | None = None, area: str | None = None) -> list[Register]:
    """The registers of the given units (default: all), or of one area id in each; unknown ids are left out."""
    registers = []
    for unit in _rows(conn, "select * from units order by rowid"):
        if units is not None and unit["id"] not in units:
            continue
        register = _read_register(conn, unit, area)
        if area is None or register.area is not None:
            registers.append(register)
    return registers


def _read_register(conn: sqlite3.Connection, unit: dict, area: str | None) -> Register:
    strip = len(unit["id"]) + 1  # keys are <unit>-<id>
    register = Register(unit=unit)
    register.levels = _rows(conn, "select ul.* from unit_levels ul join levels l on l.id = ul.level "
                                  "where ul.unit = ? order by l.rank", unit["id"])
    areas = _rows(conn, "select * from areas where unit = ? order by position", unit["id"])
    risks = _rows(conn, "select r.*, a.id as area_id, a.name_zh as area_zh from risks r join areas a on a.key = r.area "
                        "where r.unit = ? order by r.seq", unit["id"])
    measures = _rows(conn, "select m.*, a.id as area_id from measures m join areas a on a.key = m.area "
                           "where m.unit = ? order by m.rowid", unit["id"])
    sources = _rows(conn, "select * from sources where unit = ? order by rowid", unit["id"])
    posts, powers, steps, branches = _power_rows(conn, unit["id"])
    for row in risks + measures:
        row["replaced_by"] = row["replaced_by"][strip:] if row["replaced_by"] else None
    for row in risks + steps:
        row["power"] = row["power"][strip:] if row["power"] else None
    for row in steps:
        row["post"] = row["post"][strip:] if row["post"] else None
    for row in branches:  # the step as a measure names it (WELF-P01/survey); where it goes, by the step's id
        row["step"] = row["step"][strip:]
        row["to_step"] = row["to_step"].partition("/")[2] if row["to_step"] else None
    if area is not None:
        register.area = next((a for a in areas if a["id"] == area), None)
        risks = [r for r in risks if r["area_id"] == area]
        linked = {m for r in risks for m in json.loads(r["measure_ids"])}
        measures = [m for m in measures if m["id"] in linked]
        # its powers, and those its risks stand on and its measures act on
        placed = {r["power"] for r in risks} | {ref.partition("/")[0] for m in measures
                                                for ref in json.loads(m["step_ids"])}
        powers = [p for p in powers if p["area_id"] == area or p["id"] in placed]
        kept = {p["id"] for p in powers}
        steps = [s for s in steps if s["power"] in kept]
        branches = [b for b in branches if b["step"].partition("/")[0] in kept]
        named = {p for power in powers for p in json.loads(power["post_ids"])} | {s["post"] for s in steps}
        posts = [p for p in posts if p["id"] in named]
        cited = {s for entry in risks + measures + powers for s in json.loads(entry["source_ids"])}
        sources = [s for s in sources if s["id"] in cited]
        areas = [a for a in areas if a["id"] == area or a["id"] in {m["area_id"] for m in measures + powers}]
    register.areas, register.risks, register.measures, register.sources = areas, risks, measures, sources
    register.posts, register.powers, register.steps, register.branches = posts, powers, steps, branches
    return register


def _power_rows(conn: sqlite3.Connection, unit: str) -> tuple[list[dict], ...]:
    """A unit's posts, powers (with their area's id), steps and branches, in the register's order."""
    return (_rows(conn, "select * from posts where unit = ? order by rowid", unit),
            _rows(conn, "select p.*, a.id as area_id from powers p join areas a on a.key = p.area "
                        "where p.unit = ? order by p.rowid", unit),
            _rows(conn, "select * from steps where unit = ? order by rowid", unit),
            _rows(conn, "select * from branches where unit = ? order by rowid", unit))


def write(registers: list[Register], target: str | IO[bytes], paper: str = "A4") -> None:
    """The workbook of the registers (the 登记表 and the field sheets) into a path or binary file."""
    # Write-only: rows stream to the file, so a district's workbook does not sit in memory cell by cell.
    workbook, style = Workbook(write_only=True), Stylist()
    register_sheet(workbook.create_sheet(REGISTER_SHEET), registers, paper, style)
    for name, columns in FIELD_SHEETS.items():
        rows = (sheet_row(row, columns) for register in registers for row in FIELD_ROWS[name](register))
        field_sheet(workbook.create_sheet(name), columns, rows, style)
    workbook.properties.title = title(registers)
    workbook.properties.creator = "riskcatalog"
    # Fixed, so the same register gives the same workbook (openpyxl stamps the time of saving otherwise).
    workbook.properties.created = workbook.properties.modified = datetime.datetime(2000, 1, 1)
    workbook.save(target)


def title(registers: list[Register]) -> str:
    """The workbook's title (and file name): the unit (and area) for one register, the number of units for several."""
    area = registers[0].area["name_zh"] if len(registers) == 1 and registers[0].area else ""
    return layout.register_title([register.unit["name_zh"] for register in registers], area)


def notice(registers: list[Register]) -> str | None:
    """What the printed register says of registers that declare their text modelled, so that no page of it
    passes for official text; None when none does."""
    modelled = [r.unit["provenance_kind"] == "modelled" for r in registers]
    if all(modelled):
        return vocab.TEXT_KINDS["modelled"][0]
    return "部分单位为模拟文本，非官方" if any(modelled) else None


def _subtitle(registers: list[Register]) -> str:
    """The second row: the unit (or units) and the date of the latest review among the risks shown."""
    if len(registers) == 1:
        unit = registers[0].unit
        units = "".join(filter(None, (unit["city_zh"], unit["district_zh"], unit["name_zh"])))
    else:
        names = [r.unit["name_zh"] for r in registers]
        units = "、".join(names[:5]) + (f"等{len(names)}个单位" if len(names) > 5 else "")
    reviewed = max((risk["reviewed"] for r in registers for risk in r.active_risks()), default=None)
    date = datetime.date.fromisoformat(reviewed) if reviewed else None
    when = f"{date.year}年{date.month}月{date.day}日" if date else "—"
    return f"单位：{units}　　　　日期：{when}"


def register_sheet(sheet: Worksheet, registers: list[Register], paper: str, style: Stylist) -> None:
    """The 登记表: title rows, the frozen heading repeated on every page, one row per active risk."""
    columns = REGISTER_COLUMNS if len(registers) > 1 else [c for c in REGISTER_COLUMNS if c.field != "unit"]
    last = get_column_letter(len(columns))
    # Widths, the frozen heading and the page go before the first row: a write-only sheet writes them there.
    for n, column in enumerate(columns, 1):
        sheet.column_dimensions[get_column_letter(n)].width = column.width
    _page_setup(sheet, paper, TITLE_ROWS + 1, notice(registers))
    said = notice(registers)
    heading = f"{title(registers)}（{said}）" if said else title(registers)
    for row, (text, kind) in enumerate(((heading, "title"), (_subtitle(registers), "subtitle")), 1):
        sheet.append([style(text_cell(sheet, text), kind)])
        sheet.merged_cells.add(f"A{row}:{last}{row}")
    sheet.append([style(text_cell(sheet, column.zh), "heading") for column in columns])
    row = TITLE_ROWS + 1
    groups: dict[str, list[tuple[int, object]]] = {"unit": [], "area": []}  # (first row, value) of each run
    for seq, (register, risk) in enumerate(((r, risk) for r in registers for risk in r.active_risks()), 1):
        row += 1
        values = _register_row(register, risk, seq)
        sheet.row_dimensions[row].height = row_height(values, columns)  # before the row is written
        sheet.append([style(text_cell(sheet, values[c.field]), _register_style(c.field, risk)) for c in columns])
        for name in groups:
            run = (register.unit["id"], risk["area_id"] if name == "area" else "")
            if not groups[name] or groups[name][-1][1] != run:
                groups[name].append((row, run))
    for name, runs in groups.items():
        if name in [c.field for c in columns]:
            _merge_runs(sheet, get_column_letter([c.field for c in columns].index(name) + 1), runs, row)


def _register_style(field: str, risk: dict) -> str:
    if field == "level":
        return f"level {risk['level']}"
    return "centred" if field in ("seq", "unit", "area") else "text"


def _register_row(register: Register, risk: dict, seq: int) -> dict:
    """One risk as the 登记表 shows it."""
    measures = {m["id"]: m for m in register.measures}
    sources = {s["id"]: s for s in register.sources}
    cited = [sources[s] for s in json.loads(risk["source_ids"])]
    steps = {(step["power"], step["id"]): step for step in register.steps}
    return {
        "unit": register.unit["name_zh"], "seq": seq, "area": risk["area_zh"], "post": risk["post_zh"],
        "power": risk["power_zh"], "title": risk["title_zh"],
        "steps": "\n".join(steps[(risk["power"], step)]["title_zh"] for step in json.loads(risk["step_ids"])),
        "manifestations": layout.numbered(json.loads(risk["manifestations_zh"])),
        "level": layout.label(fields.RISK["level"], risk["level"]),
        "measures": layout.numbered([f"{m} {measures[m]['title_zh']}" for m in json.loads(risk["measure_ids"])]),
        "responsible_post": risk["responsible_post_zh"], "responsible_leader": risk["responsible_leader_zh"],
        "supervisor": risk["supervisor_zh"],
        "sources": "\n".join(f"《{s['title_zh']}》" + (f"（{s['number']}）" if s["number"] else "") for s in cited),
    }


#: Points per line of wrapped 11-point text, Chinese glyphs included, and the cell's padding.
LINE_POINTS, PADDING_POINTS = 15, 4


def row_height(values: dict, columns: list[Column]) -> float:
    """The height a row's wrapped text needs: Excel and LibreOffice keep a written row's height as
    the file says, and openpyxl cannot measure text, so it is estimated from the widest lines."""
    lines = 1
    for column in columns:
        text = values.get(column.field)
        if isinstance(text, str):
            lines = max(lines, sum(-(-_display_width(line) // column.width) or 1 for line in text.split("\n")))
    return lines * LINE_POINTS + PADDING_POINTS


def _display_width(text: str) -> int:
    """Width in Excel's column units (the width of "0"): a Chinese character takes about two."""
    return sum(2 if ord(char) > 0x2E7F else 1 for char in text)


def _merge_runs(sheet: Worksheet, column: str, runs: list[tuple[int, object]], last_row: int) -> None:
    """Merge each run of rows with the same value in one column (the area of consecutive risks)."""
    ends = [first - 1 for first, _ in runs[1:]] + [last_row]
    for (first, _), end in zip(runs, ends):
        if end > first:
            sheet.merged_cells.add(f"{column}{first}:{column}{end}")


def _page_setup(sheet: Worksheet, paper: str, heading: int, said: str | None = None) -> None:
    """Landscape on the paper given, one page wide, the heading frozen and printed on every page; the notice of
    a modelled register in every page's footer."""
    sheet.freeze_panes = f"A{heading + 1}"
    sheet.print_title_rows = f"{heading}:{heading}"
    sheet.page_setup.orientation = "landscape"
    sheet.page_setup.paperSize = PAPER[paper]
    sheet.page_setup.fitToWidth = 1
    sheet.page_setup.fitToHeight = 0  # as many pages down as it takes
    sheet.sheet_properties.pageSetUpPr.fitToPage = True
    sheet.print_options.horizontalCentered = True
    sheet.page_margins.left = sheet.page_margins.right = 0.4
    sheet.page_margins.top = sheet.page_margins.bottom = 0.6
    sheet.oddFooter.center.text = "第 &P 页，共 &N 页"
    if said:
        sheet.oddFooter.left.text = said


def field_sheet(sheet: Worksheet, columns: list[Column], rows: Iterator[dict], style: Stylist) -> None:
    """A sheet of one kind of entry: Chinese headings, field names under them, one row per entry."""
    for n, column in enumerate(columns, 1):
        sheet.column_dimensions[get_column_letter(n)].width = column.width
    sheet.freeze_panes = f"{'D' if columns[0].field == 'unit' else 'B'}{FIELD_HEADER_ROWS + 1}"
    sheet.append([style(text_cell(sheet, column.zh), "heading") for column in columns])
    sheet.append([style(text_cell(sheet, column.field), "field name") for column in columns])
    for values in rows:
        sheet.append([style(text_cell(sheet, values.get(column.field)), "text") for column in columns])
    sheet.print_title_rows = f"1:{FIELD_HEADER_ROWS}"
    sheet.page_setup.orientation = "landscape"


def sheet_row(row: dict, columns: list[Column]) -> dict:
    """A database row as its field sheet shows it: labels for ids of a vocabulary, lists one item a line
    (a risk's manifestations numbered), ids without their unit's prefix."""
    return {column.field: _sheet_cell(row, column) for column in columns}


def _sheet_cell(row: dict, column: Column):
    declared, value = column.source, row.get(column.column)
    if column.field == "area":  # a key in the database, the area's id in the sheet
        return row["area_id"]
    if value is None or declared.kind in (fields.TEXT, fields.PLAIN, fields.INTEGER, fields.DATE) \
            or column.field in layout.PLACES:
        return value
    if declared.kind == fields.CHOICE:
        return layout.label(declared, value)
    if declared.kind == fields.ITEMS:
        return layout.numbered(json.loads(value))
    if declared.kind in (fields.IDS, fields.COMPUTED):
        return layout.one_a_line(json.loads(value))
    if declared.kind == fields.LANGUAGES:
        return ", ".join(json.loads(value))
    return value


def _unit_row(unit: dict) -> dict:
    """The units row with its provenance source as the register writes it: an id, not a key."""
    source = unit["provenance_source"]
    return {**unit, "provenance_source": source[len(unit["id"]) + 1:] if source else None}


#: Field sheet -> the rows of one register it holds.
FIELD_ROWS = {fields.UNIT.sheet: lambda r: [_unit_row(r.unit)], fields.LEVEL.sheet: lambda r: r.levels,
              fields.AREA.sheet: lambda r: r.areas, fields.RISK.sheet: lambda r: r.risks,
              fields.MEASURE.sheet: lambda r: r.measures, fields.SOURCE.sheet: lambda r: r.sources,
              fields.POST.sheet: lambda r: r.posts, fields.POWER.sheet: lambda r: r.powers,
              fields.STEP.sheet: lambda r: r.steps, fields.BRANCH.sheet: lambda r: r.branches}
