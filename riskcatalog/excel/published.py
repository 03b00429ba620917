"""Registers in the layouts units publish: the heading found under the title rows, columns by their names.

The heading may sit under one or more title rows and span two rows; columns are known by their
usual names and variants (HEADINGS); merged cells cover every row they span; a 风险点 merged over
several rows is one risk; lists numbered inside a cell are split into items; one measure text
shared by several risks becomes one measure. Areas follow the 领域 or 科室 column (or heading rows
between the risks), ids the areas and the row order, so the same sheet always gives the same register.
"""

from __future__ import annotations

import datetime
import re
from dataclasses import dataclass

from openpyxl.utils import get_column_letter
from openpyxl.workbook.workbook import Workbook

from .. import fields, vocab
from . import layout, placement
from .reading import Grid, Imported, Problem, read_grid, register_record

#: Rows searched for the heading below the title rows.
HEADING_SEARCH = 15


#: Field -> the headings units give it (compared without spaces, line breaks and bracketed notes): a
#: field's name and the headings the registry knows it by; besides them, the 科室 a risk belongs to
#: (which stands for its area where the sheet has no 领域 column).
HEADINGS: dict[str, tuple[str, ...]] = {
    **{("area" if name == "name" else name): (declared.zh, *declared.headings)
       for name, declared in (("seq", fields.RISK["seq"]), ("name", fields.AREA["name"]))},
    "department": ("单位", "科室", "部门", "单位科室", "单位/科室", "科室/部门", "处室", "股室", "责任科室", "所在科室"),
    **{declared.name: (declared.zh, *declared.headings) for declared in fields.RISK.fields
       if declared.headings and declared.name != "seq"},
}
_FIELD_BY_HEADING = {heading: name for name, headings in HEADINGS.items() for heading in headings}
#: The columns a register cannot do without.
NEEDED = {"title": "风险点", "level": "风险等级", "measures": "防控措施"}
#: How units write a level.
LEVEL_WORDS = {"high": ("高", "一级", "1", "一", "高风险", "a", "一级风险", "较高"),
               "medium": ("中", "二级", "2", "二", "中风险", "b", "二级风险", "一般"),
               "low": ("低", "三级", "3", "三", "低风险", "c", "三级风险", "较低")}
_LEVEL_BY_WORD = {word: level for level, words in LEVEL_WORDS.items() for word in words}
_FOOTER = re.compile(r"^(填表人|填报人|审核人|制表人|负责人|单位负责人|注[:：]|备注|说明|填报日期|制表日期|日期[:：])")
_SECTION_NUMBER = re.compile(r"^\s*(?:[一二三四五六七八九十]+[、.．]|[（(][一二三四五六七八九十]+[)）]|\d+[、.．])\s*")
_DATE = re.compile(r"(\d{4})\s*[年.\-/]\s*(\d{1,2})\s*(?:[月.\-/]\s*(?:(\d{1,2})\s*日?)?)?")
_UNIT_IN_TITLE = re.compile(r"(?:单位|填报单位|部门)\s*[:：]\s*([^\s　:：]+)")


def heading_field(text: str) -> str | None:
    """The field a column heading names, if any: 廉政风险点 -> title."""
    plain = re.sub(r"[（(][^）)]*[）)]|[\s*＊:：]", "", text)
    return _FIELD_BY_HEADING.get(plain)


@dataclass
class Row:
    """One risk read from the sheet: its (first) row, its values by field and the group it is in."""

    row: int
    values: dict[str, str]
    area: str


@dataclass
class Layout:
    """Where a sheet's register is: the heading rows and which column holds which field."""

    grid: Grid
    first: int  # the heading's first row
    last: int  # the heading's last row
    columns: dict[str, int]


def find_layout(grid: Grid, skip: set[str], problems: list[Problem]) -> Layout | None:
    """The heading of the register on this sheet, or None if the sheet has none."""
    for row in range(1, min(grid.rows, HEADING_SEARCH) + 1):
        fields = [heading_field(grid.get(row, c)) for c in range(1, grid.columns + 1)]
        if "title" not in fields or sum(f is not None for f in fields) < 3:
            continue
        below = [heading_field(grid.get(row + 1, c)) for c in range(1, grid.columns + 1)]
        texts_below = [grid.get(row + 1, c) for c in range(1, grid.columns + 1) if grid.get(row + 1, c)]
        two_rows = any(f is not None for f in below) and sum(f is not None for f in below) * 2 >= len(texts_below)
        last = row + 1 if two_rows else row
        return Layout(grid, row, last, _columns(grid, row, last, skip, problems))
    return None


def _columns(grid: Grid, first: int, last: int, skip: set[str], problems: list[Problem]) -> dict[str, int]:
    """field -> column, from a heading of one or two rows; unknown and repeated headings reported."""
    columns: dict[str, int] = {}
    for column in range(1, grid.columns + 1):
        upper, lower = grid.get(first, column), grid.get(last, column)
        texts = [t for t in dict.fromkeys((lower, upper)) if t]  # the lower row names the column more closely
        if not texts:
            continue
        name = next((heading_field(t) for t in texts if heading_field(t)), None)
        shown = lower or upper
        if name is None:
            if shown not in skip and upper not in skip:
                problems.append(Problem(grid.where(last if lower else first, column),
                                        f"unknown column {shown!r} — rename its heading to one the importer knows "
                                        f"({'、'.join(h[0] for h in HEADINGS.values())}) or leave it out with "
                                        f"--skip-column {shown}"))
        elif name in columns:
            problems.append(Problem(grid.where(last if lower else first, column),
                                    f"column {shown!r} is read as {HEADINGS[name][0]}, like column "
                                    f"{get_column_letter(columns[name])} — rename one of them"))
        else:
            columns[name] = column
    for name, heading in NEEDED.items():
        if name not in columns:
            problems.append(Problem(grid.where(first, 1), f"no {heading} column in the heading (row {first}) — "
                                                          f"add a column headed {heading}"))
    return columns


def read_rows(layout: Layout, problems: list[Problem]) -> list[Row]:
    """The risks below the heading: one per row, or per merged 风险点 cell over several rows."""
    grid, columns = layout.grid, layout.columns
    grouping = columns.get("area", columns.get("department"))
    section = ""
    risks: list[Row] = []
    for row in range(layout.last + 1, grid.rows + 1):
        filled = {c: grid.get(row, c) for c in range(1, grid.columns + 1) if grid.get(row, c)}
        if not filled:
            continue
        banner = _banner(grid, row, filled)
        if banner is not None:
            if _FOOTER.match(banner):
                continue
            if grouping is None:  # a heading row between the risks: the area of those below it
                section = _SECTION_NUMBER.sub("", banner).strip()
                continue
        if _FOOTER.match(next(iter(filled.values()))) and len(set(filled.values())) <= 2:
            continue  # 填表人：… 审核人：… below the register
        values = {name: grid.get(row, column) for name, column in columns.items()}
        title_cell = grid.merged.get((row, columns.get("title", 0)))
        if risks and title_cell is not None and title_cell[0] < row and risks[-1].row >= title_cell[0]:
            _continue_risk(risks[-1], values)  # one risk over several rows, its 风险点 merged
            continue
        if not values.get("title"):
            if "title" in columns:
                problems.append(Problem(grid.where(row, columns["title"]), "no 风险点 in this row, which has other "
                                        "cells filled — write the risk, or delete the row"))
            continue
        area = values.get("area") or values.get("department") or section
        risks.append(Row(row, values, area))
    _check_unheaded(grid, layout, problems)
    return risks


def _check_unheaded(grid: Grid, layout: Layout, problems: list[Problem]) -> None:
    """A column with text below the heading but no heading of its own is reported, not left out unseen."""
    for column in range(1, grid.columns + 1):
        if grid.get(layout.first, column) or grid.get(layout.last, column):
            continue
        row = next((r for r in range(layout.last + 1, grid.rows + 1)
                    if grid.get(r, column) and (r, column) not in grid.merged), None)
        if row is not None:
            problems.append(Problem(grid.where(row, column), "this column has no heading — give it one the "
                                                             "importer knows, or delete the column"))


def _banner(grid: Grid, row: int, filled: dict[int, str]) -> str | None:
    """The text of a row that is one cell across the sheet (a section heading or a note), else None."""
    if len(set(filled.values())) != 1:
        return None
    bounds = {grid.merged.get((row, c)) for c in filled}
    wide = len(bounds) == 1 and None not in bounds and next(iter(bounds))[3] > next(iter(bounds))[1]
    return next(iter(filled.values())) if wide or len(filled) == 1 and 1 in filled else None


def _continue_risk(risk: Row, values: dict[str, str]) -> None:
    """Add a row's measures and manifestations to the risk whose merged 风险点 covers it."""
    for name in ("manifestations", "measures", "sources"):
        if values.get(name) and values[name] not in risk.values.get(name, ""):
            risk.values[name] = "\n".join(filter(None, (risk.values.get(name), values[name])))


_MARKER = re.compile(r"(?:[（(](\d{1,2})[)）])|([①-⑳])|(?:(?<![\d.])(\d{1,2})(?:[、．]|\.(?!\d)|[)）](?!\S*[（(])))")


def split_items(text: str) -> list[str]:
    """The items of a list written in one cell: 1. 1、 （1） ① numbering, else lines, else ；."""
    text = text.strip()
    items = _numbered_items(text)
    if items is None:
        lines = [line for line in text.split("\n") if line.strip()]
        items = lines if len(lines) > 1 else re.split(r"[；;]", text)
    return [cleaned for cleaned in (_clean_item(item) for item in items) if cleaned]


def _numbered_items(text: str) -> list[str] | None:
    """Items between the markers 1, 2, 3, … in order, if the text starts with the first; else None."""
    starts, expected = [], 1
    for match in _MARKER.finditer(text):
        circled = match.group(2)
        number = ord(circled) - ord("①") + 1 if circled else int(match.group(1) or match.group(3))
        if number == expected and (expected > 1 or not text[:match.start()].strip()):
            starts.append(match)
            expected += 1
    if len(starts) < 2 and not (starts and len(text) > starts[0].end()):
        return None
    ends = [m.start() for m in starts[1:]] + [len(text)]
    return [text[m.end():end] for m, end in zip(starts, ends)]


def _clean_item(item: str) -> str:
    return re.sub(r"[\s；;，,、]+$", "", item.strip())


_MEASURE_ID = re.compile(r"^[A-Z][A-Z0-9]*-M\d{2,}\s+")


def _measure_key(text: str) -> str:
    """Measure texts that differ only in spaces and end punctuation are one measure."""
    return re.sub(r"[\s。.；;，,]", "", text)


def level_of(text: str) -> str | None:
    """high, medium or low for the ways units write a level: 高, 一级, 一级（高）, 高风险, …"""
    plain = re.sub(r"[\s（(][^）)]*[）)]?$|\s", "", text).lower()
    return _LEVEL_BY_WORD.get(plain) or _LEVEL_BY_WORD.get(text.strip().lower())


def category_of(text: str) -> str | None:
    """A 风险类别 as its id: 思想道德风险, 思想道德 or ethics -> ethics."""
    found = layout.value_of(fields.RISK["category"], text)
    if found:
        return found
    return next((key for key, (zh, _) in vocab.CATEGORIES.items()
                 if zh.removesuffix("风险") == text.strip()), None)


def date_of(text: str) -> str | None:
    """The first date in a text as YYYY-MM-DD (a month alone is its first day), or None."""
    match = _DATE.search(text)
    if not match:
        return None
    try:
        return datetime.date(int(match.group(1)), int(match.group(2)), int(match.group(3) or 1)).isoformat()
    except ValueError:
        return None


def from_layout(layout_: Layout, rows: list[Row], unit_id: str, unit_name: str | None, reviewed: str | None,
                problems: list[Problem]) -> Imported:
    """A register from a sheet laid out as units lay theirs out: one area per 领域 or 科室 group.

    A measure is defined in the area of the first risk that names it, in the order first named.
    """
    grid, columns = layout_.grid, layout_.columns
    imported = Imported({}, [], [])
    areas: dict[str, dict] = {}  # group text -> area file data
    measures: dict[str, str] = {}  # measure text (as _measure_key compares it) -> id
    sources: dict[str, dict] = {}  # 依据 text -> source
    for risk_row in rows:
        if risk_row.area not in areas:
            number = len(areas) + 1
            areas[risk_row.area] = {"area": {"id": f"area-{number}", "name_zh": risk_row.area or unit_name or grid.sheet},
                                    "risks": [], "measures": []}
        area = areas[risk_row.area]
        file, prefix = f"{area['area']['id']}.yml", f"A{list(areas).index(risk_row.area) + 1}"
        risk = _risk(risk_row, f"{prefix}-{len(area['risks']) + 1:02d}", grid, columns, reviewed, problems)
        for text in split_items(risk_row.values.get("measures", "")):
            text = _MEASURE_ID.sub("", text)  # "LAND-M01 …", as this project's own 登记表 numbers them
            if _measure_key(text) not in measures:
                measures[_measure_key(text)] = f"{prefix}-M{len(area['measures']) + 1:02d}"
                imported.rows[(file, "measures", len(area["measures"]))] = (grid, risk_row.row)
                area["measures"].append({"id": measures[_measure_key(text)], "title_zh": text})
            if measures[_measure_key(text)] not in risk["measures"]:
                risk["measures"].append(measures[_measure_key(text)])
        for text in split_items(risk_row.values.get("sources", "")):
            source = sources.setdefault(text, _source(text, len(sources) + 1))
            if source["id"] not in risk.setdefault("sources", []):
                risk["sources"].append(source["id"])
        if not risk["measures"] and "measures" in columns:
            problems.append(Problem(grid.where(risk_row.row, columns["measures"]), "no 防控措施 for this risk — "
                                                                                  "write at least one measure"))
        imported.rows[(file, "risks", len(area["risks"]))] = (grid, risk_row.row)
        area["risks"].append(risk)
    imported.areas = list(areas.values())
    imported.sources = list(sources.values())
    imported.notes += placement.place(imported)
    imported.columns = {(grid.sheet, name): column for name, column in columns.items()}
    imported.register = register_record(unit_id, unit_name or grid.sheet, imported, ["zh"],
                                         f"由工作簿 {grid.book}（工作表 {grid.sheet}）导入。")
    return imported


def _risk(risk_row: Row, risk_id: str, grid: Grid, columns: dict[str, int], reviewed: str | None,
          problems: list[Problem]) -> dict:
    """A risk's fields from its row; problems with its level, category or date reported at their cells."""
    values = risk_row.values
    at = lambda name: grid.where(risk_row.row, columns[name])  # noqa: E731
    risk: dict = {"id": risk_id, "title_zh": values["title"]}
    for name in ("description", "post", "power", "responsible_post", "responsible_leader", "supervisor"):
        if values.get(name):
            risk[f"{name}_zh"] = values[name]
    if values.get("department") and values.get("area"):  # 科室 beside 领域: the post is in that 科室
        risk["post_zh"] = values["department"] + (f"：{risk['post_zh']}" if "post_zh" in risk else "")
    if values.get("category"):
        risk["category"] = category_of(values["category"])
        if risk["category"] is None:
            problems.append(Problem(at("category"), f"风险类别 {values['category']!r} is not one of "
                                    f"{'、'.join(zh for zh, _ in vocab.CATEGORIES.values())} — "
                                    "use one of these, or leave the cell empty"))
    if values.get("steps"):  # titles, until placement declares the steps (riskcatalog.excel.placement)
        risk["steps"] = split_items(values["steps"])
    manifestations = split_items(values.get("manifestations", ""))
    if manifestations:
        risk["manifestations"] = [{"zh": text} for text in manifestations]
    risk["level"] = level_of(values.get("level", "")) if values.get("level") else None
    if "level" in columns and risk["level"] is None:
        what = f"风险等级 {values['level']!r} is not a level" if values.get("level") else "no 风险等级"
        problems.append(Problem(at("level"), f"{what} — write 高, 中 or 低 (or 一级, 二级, 三级)"))
    risk["measures"] = []
    date = reviewed
    if values.get("reviewed"):
        date = date_of(values["reviewed"])
        if date is None:
            problems.append(Problem(at("reviewed"), f"{values['reviewed']!r} is not a date — write it like 2019-01-15"))
    risk["reviewed"] = date
    return risk


def _source(text: str, number: int) -> dict:
    """A 依据 as a source: 《title》（number） split into its parts."""
    match = re.fullmatch(r"《(.+?)》\s*(?:[（(](.+)[)）])?", text)
    source = {"id": f"source-{number}", "title_zh": match.group(1) if match else text}
    if match and match.group(2):
        source["number"] = match.group(2)
    return source


def title_facts(grid: Grid, before: int) -> tuple[str | None, str | None]:
    """The unit's name and the date written in the title rows above the heading."""
    texts = [grid.get(row, column) for row in range(1, before) for column in range(1, grid.columns + 1)]
    texts = list(dict.fromkeys(t for t in texts if t))
    name = None
    for text in texts:
        match = _UNIT_IN_TITLE.search(text)
        if match:
            name = match.group(1)
            break
    if name is None and texts:
        title = re.sub(r"\s", "", texts[0])
        name = re.split(r"(?:\d{4}年度?)?(?:岗位)?(?:廉政|廉洁)?风险", title)[0] or None
    date = next((d for d in map(date_of, texts) if d), None)
    return name, date


def from_first_register_sheet(workbook: Workbook, book: str, unit_id: str, unit_name: str | None,
                              reviewed: str | None, skip: frozenset[str], problems: list[Problem]) -> Imported | None:
    """The register on the first sheet with a register's heading; None (and a problem) if no sheet has one."""
    for sheet in workbook.worksheets:
        grid = read_grid(sheet, book)
        sheet_problems: list[Problem] = []
        found = find_layout(grid, skip, sheet_problems)
        if found is None:
            continue
        problems.extend(sheet_problems)
        notes = _steps_without_powers(found)
        rows = read_rows(found, problems)
        title_name, title_date = title_facts(grid, found.first)
        date = reviewed or title_date or _saved_date(workbook)
        if date is None and "reviewed" not in found.columns:
            problems.append(Problem(grid.where(1, 1), "no date in the title rows — write the date of the register "
                                                      "there (e.g. 2019年1月15日) or give --reviewed YYYY-MM-DD"))
        if not rows and not problems:
            problems.append(Problem(grid.where(found.last + 1, 1), "no risks below the heading — fill in the register"))
        name = unit_name or title_name
        if name is None:
            problems.append(Problem(grid.where(1, 1), "no unit name in the title rows — write it there "
                                                      "(e.g. 易家街道廉政风险点登记表) or give --unit-name NAME"))
        imported = from_layout(found, rows, unit_id, name, date, problems)
        imported.notes[:0] = notes
        return imported
    problems.append(Problem(book, f"no sheet has a register's heading row ({'、'.join(NEEDED.values())} …) in its "
                                  f"first {HEADING_SEARCH} rows — put the column headings in one row above the risks"))
    return None


def _steps_without_powers(found: Layout) -> list[str]:
    """A sheet with a 流程环节 (重要环节 …) column but no 职权事项 column names its business by that column: read
    it as the power each risk arises in (职权事项), as registers without powers use it, and say so."""
    if "steps" not in found.columns or "power" in found.columns:
        return []
    column = found.columns.pop("steps")
    found.columns["power"] = column
    heading = found.grid.get(found.first, column) or found.grid.get(found.last, column)
    return [f"「{heading}」列没有「职权事项」列相配，读作职权事项（不画流程图）· read as the power each risk arises in, "
            "since the sheet has no 职权事项 column (no flowcharts)"]


def _saved_date(workbook: Workbook) -> str | None:
    """The date the workbook was last saved, for a register whose title gives none."""
    when = workbook.properties.modified or workbook.properties.created
    return when.date().isoformat() if when else None


