"""Registers in the layouts units publish: the register's sheet and heading found, columns read by
what their headings say, every reading said in the report.

The sheet is the first visible one with a register's heading (hidden sheets only when asked);
the heading sits under one or more title rows and may span two rows, group headings read with
the ones below them (headings.read_column). Merged cells cover every row they span; a 风险点
merged over several rows is one risk; lists numbered inside a cell are split into items; one
measure text shared by several risks becomes one measure. Areas follow the 领域 or 科室 column
(or heading rows between the risks), ids the areas and the row order, so the same file always
gives the same register. Level words are read as a scale (levels.read_levels); the unit's name
and the date come from the title rows, with what was taken off them said.
"""

from __future__ import annotations

import datetime
import re
from collections import Counter
from dataclasses import dataclass, field

from openpyxl.utils import get_column_letter

from .. import fields, vocab
from . import layout, levels, naming, placement
from .headings import HEADINGS, NEEDED, Reading, field_names, plain, read_column, read_heading
from .reading import Book, Grid, Imported, Problem, register_record
from .report import Report

#: Rows searched for the heading below the title rows.
HEADING_SEARCH = 15
#: A heading row names at least this many different fields.
HEADING_FIELDS = 3
_FOOTER = re.compile(r"^(填表人|填报人|审核人|制表人|负责人|单位负责人|注[:：]|备注|说明|填报日期|制表日期|日期[:：]|"
                     r"主要负责人|分管领导[:：]|联系人|联系电话)")
_SECTION_NUMBER = re.compile(r"^\s*(?:[一二三四五六七八九十]+[、.．]|[（(][一二三四五六七八九十]+[)）]|\d+[、.．])\s*")
_DATE = re.compile(r"(\d{4})\s*[年.\-/]\s*(\d{1,2})\s*(?:[月.\-/]\s*(?:(\d{1,2})\s*日?)?)?")


@dataclass
class Options:
    """What the user said about the file: the sheet, columns, levels, unit and date."""

    unit_id: str | None = None
    unit_name: str | None = None
    reviewed: str | None = None
    sheet: str | None = None
    #: heading (as plain() leaves it) -> field, or "skip"; and where each was given (for the report).
    columns: dict[str, str] = field(default_factory=dict)
    columns_from: dict[str, str] = field(default_factory=dict)
    levels: dict[str, str] = field(default_factory=dict)
    folder: str = ""


@dataclass
class Row:
    """One risk read from the sheet: its (first) row, its values by field and the group it is in."""

    row: int
    values: dict[str, str]
    area: str


@dataclass
class Layout:
    """Where a sheet's register is: the heading rows, which column holds which field, and each reading."""

    grid: Grid
    first: int  # the heading's first row
    last: int  # the heading's last row
    columns: dict[str, int]
    readings: list[tuple[int, str, Reading]] = field(default_factory=list)  # (column, heading text, reading)
    #: column -> field, for columns ticked (√) under a group heading: the level's over 高 | 中 | 低
    marks: dict[int, str] = field(default_factory=dict)
    #: field -> its further columns, whose texts join the first's (two columns of leaders side by side)
    joined: dict[str, list[int]] = field(default_factory=dict)
    skipped: list[int] = field(default_factory=list)


def _reading(grid: Grid, first: int, last: int, column: int, options: Options) -> tuple[Reading, str]:
    """A column's reading: what the user said of its heading, else what the heading says."""
    upper, lower = grid.get(first, column), grid.get(last, column)
    bounds = grid.merge_of(first, column)
    group = last > first and bounds is not None and bounds[3] > bounds[1] and bounds[2] < last
    letter = get_column_letter(column)
    if not (upper or lower) and letter in options.columns:  # a column with no heading, named by its letter
        return Reading(options.columns[letter], f"由 {options.columns_from.get(letter, '--column')} 指定 · given by "
                                                "the user"), f"（{letter} 列无表头 · no heading）"
    for text in (f"{upper}/{lower}", lower, upper):
        told = options.columns.get(plain(text).replace("/", "")) or options.columns.get(text)
        if told and text.strip("/"):
            return Reading(told, f"由 {options.columns_from.get(plain(text).replace('/', ''), '--column')} 指定 · "
                                 "given by the user"), text
    if group and upper != lower:
        above = read_heading(upper).field
        if (above == "level" and levels.level_named(lower)) or (
                above in _TICKED_GROUPS and read_heading(lower).field is None):
            return Reading(above, f"「{upper}」下的一栏，打勾处取「{lower}」 · {TICK}: ticked under {upper}"), \
                f"{upper}/{lower}"
    return read_column(upper, lower, group)


#: What a reading's why says of a column ticked under a group heading.
TICK = "tick"
#: Group headings whose columns below may each be ticked: the level, or the office answerable.
_TICKED_GROUPS = ("department", "responsible_post_zh")
#: Fields whose text may come from several columns, joined (two leaders' columns, two lists of measures).
_JOINABLE = ("post_zh", "power_zh", "description_zh", "manifestations", "measures", "responsible_post_zh",
             "responsible_leader_zh", "supervisor_zh", "notes_zh", "sources")


def find_layout(grid: Grid, options: Options, problems: list[Problem]) -> Layout | None:
    """The heading of the register on this sheet, or None if the sheet has none."""
    for row in range(1, min(grid.rows, HEADING_SEARCH) + 1):
        fields = _row_fields(grid, row, row, options)
        if len(fields) < HEADING_FIELDS or not fields & {"title_zh", "description_zh", "manifestations"}:
            continue
        last = row + 1 if _heading_below(grid, row, options) else row
        return _columns(grid, row, last, options, problems)
    return None


def _category_as_area(found: Layout) -> None:
    """A category column none of whose texts is a risk category names business areas (三重一大决策):
    read it as the area, where no column names one."""
    column = found.columns.get("category")
    if column is None or "area" in found.columns:
        return
    texts = {found.grid.get(row, column) for row in range(found.last + 1, found.grid.rows + 1)} - {""}
    if not texts or any(category_of(text) for text in texts):
        return
    found.columns["area"] = found.columns.pop("category")
    found.readings = [(c, t, Reading("area", r.why + "；其内容不是五类风险类别，读作领域 · it holds no risk category "
                                                     "(思想道德风险 …), so it names the areas") if c == column else r)
                      for c, t, r in found.readings]


def _heading_below(grid: Grid, row: int, options: Options) -> bool:
    """Whether the row below a heading row is its second row: the heading's cells merge down into it or a
    group heading spans columns above it, or it holds only short headings, most of them understood."""
    if row >= grid.rows:
        return False
    merges = [grid.merge_of(row, c) for c in range(1, grid.columns + 1)]
    if any(m and m[0] == row and (m[2] > row or m[3] > m[1]) and m[2] <= row + 1 for m in merges if m):
        wide = any(m and m[0] == row and m[2] == row and m[3] > m[1] for m in merges)
        down = any(m and m[0] == row and m[2] == row + 1 for m in merges)
        if wide or down:
            return any(grid.get(row + 1, c) and grid.merge_of(row + 1, c) in (None, grid.merge_of(row + 1, c))
                       and grid.get(row + 1, c) != grid.get(row, c) for c in range(1, grid.columns + 1))
    below = [grid.get(row + 1, c) for c in range(1, grid.columns + 1)
             if grid.get(row + 1, c) and grid.get(row + 1, c) != grid.get(row, c)]
    if not below or any(len(plain(text)) > _HEADING_LENGTH or plain(text).isdigit() for text in below):
        return False
    understood = _row_fields(grid, row + 1, row + 1, options)
    return len(understood) * 2 >= len(set(below))


#: A heading is short: a cell longer than this below the heading row is data.
_HEADING_LENGTH = 12


def _row_fields(grid: Grid, first: int, last: int, options: Options) -> set[str]:
    return {_reading(grid, first, last, c, options)[0].field for c in range(1, grid.columns + 1)
            if _headed(grid, first, last, c, options)} - {None, "skip"}


def _headed(grid: Grid, first: int, last: int, column: int, options: Options) -> bool:
    """Whether a column has a heading, or the user named it by its letter."""
    return bool(grid.get(first, column) or grid.get(last, column)) or get_column_letter(column) in options.columns


def _columns(grid: Grid, first: int, last: int, options: Options, problems: list[Problem]) -> Layout:
    """field -> column, from a heading of one or two rows; unknown and repeated headings reported."""
    found = Layout(grid, first, last, {})
    unknown = []
    for column in range(1, grid.columns + 1):
        if not _headed(grid, first, last, column, options):
            continue
        reading, text = _reading(grid, first, last, column, options)
        found.readings.append((column, text, reading))
        name = reading.field
        if name is not None and TICK in reading.why:
            found.marks[column] = name
            found.columns.setdefault(name, column)
        elif name == "skip":
            found.skipped.append(column)
        elif name is None:
            unknown.append((column, text, reading))
        elif name in found.columns and name in _JOINABLE:
            found.joined.setdefault(name, []).append(column)
        elif name in found.columns:
            problems.append(grid.problem(last, column, f"column {text!r} is read as {reading.zh}, like column "
                                         f"{get_column_letter(found.columns[name])} — say which is which with "
                                         f"--column '{text}=…' (or =不导入 to leave it out)"))
        else:
            found.columns[name] = column
    for stands_in in ("description_zh", "manifestations"):
        # only a description or the manifestations, with no column naming the risk: it is the risk
        if "title_zh" not in found.columns and stands_in in found.columns:
            column = found.columns.pop(stands_in)
            found.columns["title_zh"] = column
            found.readings = [(c, t, Reading("title_zh", r.why + "；没有别的列写风险点，读作风险点 · no other column "
                                                                 "names the risk, so it is the risk") if c == column
                               else r) for c, t, r in found.readings]
    _category_as_area(found)
    summary = " | ".join(f"{get_column_letter(c)} {t}→{r.zh}" for c, t, r in found.readings)
    for column, text, reading in unknown:
        why = f"; {reading.why}" if reading.candidates else ""
        problems.append(grid.problem(last, column, f"column {text!r} is not understood{why} — say what it is with "
                                     f"--column '{text}=风险点' (any of {field_names()}), or leave it out with "
                                     f"--column '{text}=不导入'; a mapping file (--columns FILE) says it for every "
                                     f"file. The heading was read as: {summary}"))
    for name in NEEDED:
        if name not in found.columns:
            problems.append(grid.problem(first, 1, f"no {HEADINGS[name].zh} column in the heading (row "
                                         f"{grid.local_row(first)}) — add a column headed {HEADINGS[name].zh}, or "
                                         f"say which column it is with --column 'HEADING={HEADINGS[name].zh}'. The "
                                         f"heading was read as: {summary}"))
    return found


def choose_sheet(book: Book, options: Options, report: Report, problems: list[Problem]) -> Layout | None:
    """The register's sheet and its heading: the one asked for, else the first visible one with a
    register's heading. Hidden sheets are passed over unless asked for; each sheet passed over is said."""
    names = book.sheet_names()
    if options.sheet is not None and options.sheet not in names:
        problems.append(Problem(book.shown, f"no {book.part_en} {options.sheet!r} — the file's {book.part_en}s are: "
                                            f"{'、'.join(names)}"))
        return None
    passed: list[str] = []
    chosen: Layout | None = None
    for sheet in book.sheets:
        if sheet.name in getattr(book, "continued", ()):
            continue
        if chosen is not None:
            passed.append(f"「{sheet.name}」（未读：登记表已在前面找到 · not read: the register came first）")
            continue
        if options.sheet is not None and sheet.name != options.sheet:
            passed.append(f"「{sheet.name}」（未要求 · not asked for）")
            continue
        if sheet.hidden and options.sheet is None:
            passed.append(f"「{sheet.name}」（隐藏，未读；要导入它请用 --sheet {sheet.name} · hidden, not read; "
                          f"--sheet {sheet.name} imports it）")
            continue
        grid = book.grid(sheet.name)
        sheet_problems: list[Problem] = []
        found = find_layout(grid, options, sheet_problems)
        if found is None:
            passed.append(f"「{sheet.name}」（前 {HEADING_SEARCH} 行没有登记表表头 · no register heading in its first "
                          f"{HEADING_SEARCH} rows）")
            continue
        problems.extend(sheet_problems)
        chosen = found
        hidden = "（隐藏，按 --sheet 读取 · hidden, read as asked by --sheet）" if sheet.hidden else ""
        report.say("sheet", f"读取{book.part_zh}「{sheet.name}」{hidden} · read {book.part_en} {sheet.name}")
    continued = sorted(getattr(book, "continued", ()))
    if continued:
        report.say("sheet", f"{'、'.join(continued)} 重复第一个表格的表头，作为其续表读入 · repeat the first table's "
                            "heading: read as its continuation")
    for line in passed:
        report.say("sheet", f"跳过 · passed over {line}")
    if chosen is None:
        hidden = [s.name for s in book.sheets if s.hidden]
        also = (f"; hidden {book.part_en}s were not read ({'、'.join(hidden)}) — --sheet NAME reads one"
                if hidden and options.sheet is None else "")
        problems.append(Problem(book.shown, f"no {book.part_en} has a register's heading row (a row naming "
                                            f"{'、'.join(HEADINGS[n].zh for n in NEEDED)} …) in its first "
                                            f"{HEADING_SEARCH} rows{also} — put the column headings in one row above "
                                            "the risks, or say what a heading means with --column 'HEADING=风险点'"))
    return chosen


def read_rows(found: Layout, report: Report, problems: list[Problem]) -> list[Row]:
    """The risks below the heading: one per row, or per merged 风险点 cell over several rows."""
    grid, columns = found.grid, found.columns
    grouping = columns.get("area", columns.get("department"))
    heading_rows = [[grid.get(r, c) for c in range(1, grid.columns + 1)] for r in range(found.first, found.last + 1)]
    section, last_group, filled_down = "", "", []
    risks: list[Row] = []
    continued = 0
    for row in range(found.last + 1, grid.rows + 1):
        filled = {c: grid.get(row, c) for c in range(1, grid.columns + 1) if grid.get(row, c)}
        if not filled:
            continue
        if [grid.get(row, c) for c in range(1, grid.columns + 1)] in heading_rows:
            report.say("rows", f"{grid.where(row)}：重复的表头，跳过 · the heading again, left out")
            continue
        banner = _banner(grid, row, filled)
        if banner is not None and not _FOOTER.match(banner) and grouping is None:
            section = _SECTION_NUMBER.sub("", banner).strip()  # a heading row between the risks: their area
            report.say("rows", f"{grid.where(row)}「{banner}」：领域标题行，其下各行属「{section}」 · a heading row: "
                               f"the risks below it are in the area {section}")
            continue
        first_text = next(iter(filled.values()))
        if (banner is not None or len(set(filled.values())) <= 2) and _FOOTER.match(first_text):
            report.say("rows", f"{grid.where(row)}「{_short(first_text)}」：表尾签名行，不导入 · a signature line "
                               "below the register, left out")
            continue
        values = _values(found, row)
        title_cell = grid.merge_of(row, columns.get("title_zh", 0))
        if risks and title_cell is not None and title_cell[0] < row and risks[-1].row >= title_cell[0]:
            _continue_risk(risks[-1], values)  # one risk over several rows, its 风险点 merged
            continued += 1
            continue
        if not values.get("title_zh"):
            if "title_zh" in columns:
                problems.append(grid.problem(row, columns["title_zh"], "no 风险点 in this row, which has other cells "
                                                                       "filled — write the risk, or delete the row"))
            continue
        if grouping is not None:
            if values.get("area") or values.get("department"):
                last_group = values.get("area") or values.get("department")
            elif last_group:
                filled_down.append(grid.where(row, grouping))
                values["area" if "area" in columns else "department"] = last_group
        area = values.get("area") or values.get("department") or section
        risks.append(Row(row, values, area))
    if continued:
        report.say("rows", f"{continued} 行并入其上方合并的风险点 · rows added to the risk whose merged 风险点 covers "
                           "them")
    if filled_down:
        report.say("rows", f"{len(filled_down)} 个空的{HEADINGS['area' if 'area' in columns else 'department'].zh}"
                           f"单元格按上一行读（{filled_down[0]} 起） · empty cells read as the one above them "
                           f"(from {filled_down[0]})")
    _check_unheaded(grid, found, problems)
    return risks


def _values(found: Layout, row: int) -> dict[str, str]:
    """A row's texts by field: joined columns joined, ticked columns as the headings ticked."""
    grid = found.grid
    values = {name: grid.get(row, column) for name, column in found.columns.items() if column not in found.marks}
    for name, more in found.joined.items():
        texts = [values.get(name, ""), *(grid.get(row, column) for column in more)]
        values[name] = ("\n" if name in ("manifestations", "measures", "sources") else "；").join(
            dict.fromkeys(text for text in texts if text))
    for column, name in found.marks.items():
        values[f"mark:{column}"] = grid.get(row, column)
        if name != "level" and levels.is_mark(grid.get(row, column)):
            values[name] = "、".join(filter(None, (values.get(name), grid.get(found.last, column))))
    return values


def _short(text: str) -> str:
    return text if len(text) <= 60 else text[:60] + "…"


def _check_unheaded(grid: Grid, found: Layout, problems: list[Problem]) -> None:
    """A column with text below the heading but no heading of its own is reported, not left out unseen."""
    read = {column for column, _, _ in found.readings}
    for column in range(1, grid.columns + 1):
        if column in read:
            continue
        row = next((r for r in range(found.last + 1, grid.rows + 1)
                    if grid.get(r, column) and grid.merge_of(r, column) is None), None)
        if row is not None:
            letter = get_column_letter(column)
            problems.append(grid.problem(row, column, f"this column has no heading — give it one, say what it is with "
                                                      f"--column '{letter}={fields.RISK['power'].zh}' (any field), or leave it out with "
                                                      f"--column '{letter}=不导入'"))


def _banner(grid: Grid, row: int, filled: dict[int, str]) -> str | None:
    """The text of a row that is one cell across the sheet (a section heading or a note), else None."""
    if len(set(filled.values())) != 1:
        return None
    bounds = {grid.merge_of(row, c) for c in filled}
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


#: A risk numbered in its own cell (1、学校发展决策…), where the register has no 序号 column for it.
_NUMBERED_TITLE = re.compile(r"^\s*(?:\d{1,3}\s*(?:[、．]|\.(?!\d))|[（(]\d{1,3}[)）]|[①-⑳])\s*(?=\S)")
_MEASURE_ID = re.compile(r"^[A-Z][A-Z0-9]*-M\d{2,}\s+")


def _measure_key(text: str) -> str:
    """Measure texts that differ only in spaces and end punctuation are one measure."""
    return re.sub(r"[\s。.；;，,]", "", text)


def category_of(text: str) -> str | None:
    """A risk category as its id: 思想道德风险, 思想道德 or ethics -> ethics."""
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


def _levels(found: Layout, rows: list[Row], options: Options, report: Report, problems: list[Problem]) -> dict:
    """Each row's level word read as a scale: row -> level; each word's reading in the report."""
    grid = found.grid
    words: dict[int, tuple[str, str]] = {}  # row -> (word, where)
    for risk in rows:
        marks = [c for c, name in found.marks.items() if name == "level"]
        if marks:
            ticked = [c for c in marks if risk.values.get(f"mark:{c}")]
            if len(ticked) == 1 and levels.is_mark(risk.values[f"mark:{ticked[0]}"]):
                words[risk.row] = (grid.get(found.last, ticked[0]), grid.where(risk.row, ticked[0]))
            else:
                where = grid.where(risk.row, ticked[0] if ticked else min(marks))
                what = "several levels are ticked" if len(ticked) > 1 else "no level is ticked" if not ticked else \
                    f"{risk.values[f'mark:{ticked[0]}']!r} is not a tick"
                problems.append(Problem(where, f"{what} — tick one of "
                                               f"{'、'.join(grid.get(found.last, c) for c in marks)} (√)",
                                        grid.order(risk.row, ticked[0] if ticked else min(marks))))
        elif risk.values.get("level"):
            words[risk.row] = (risk.values["level"], grid.where(risk.row, found.columns["level"]))
        elif "level" in found.columns:
            problems.append(grid.problem(risk.row, found.columns["level"],
                                         f"no {fields.RISK['level'].zh} — write 高, 中 or 低 (or 一级, 二级, 三级)"))
    verdicts = levels.read_levels([word for word, _ in words.values()], options.levels)
    counts = Counter(word for word, _ in words.values())
    order = {level: n for n, level in enumerate(levels.LEVELS)}
    for word, verdict in sorted(verdicts.items(), key=lambda item: (order.get(item[1].level, 3), item[0])):
        cells = [(row, where) for row, (w, where) in words.items() if w == word]
        if verdict.level is not None:
            report.say("levels", f"「{word}」→ {levels.LEVEL_ZH[verdict.level]}：{counts[word]} 个风险点；"
                                 f"{verdict.how}")
            continue
        if verdict.how == "counts":  # 1中2低: the levels of a row's several risks, counted
            for row, where in cells:
                problems.append(Problem(where, f"{fields.RISK['level'].zh} {word!r} counts the levels of several risks — give each risk "
                                               "its own row and its own level", grid.order(row)))
            continue
        if verdict.how == "not a level":
            for row, where in cells:
                problems.append(Problem(where, f"{fields.RISK['level'].zh} {word!r} is not a level — write 高, 中 or 低 (or 一级, 二级, "
                                               "三级), or say which level it is with --level "
                                               f"'{word}=二级'", grid.order(row)))
            continue
        row, where = cells[0]
        more = f" (and {len(cells) - 1} more cells)" if len(cells) > 1 else ""
        problems.append(Problem(where, f"{fields.RISK['level'].zh} {word!r} cannot be read safely{more}: {verdict.how.split(': ', 1)[1]} "
                                       f"— say which level it is with --level '{word}=一级' (or 二级, 三级)",
                                grid.order(row)))
    return {row: verdicts[word].level for row, (word, _) in words.items()}


def from_layout(found: Layout, rows: list[Row], unit_id: str, unit_name: str, reviewed: str | None,
                options: Options, report: Report, problems: list[Problem]) -> Imported:
    """A register from a sheet laid out as units lay theirs out: one area per 领域 or 科室 group.

    A measure is defined in the area of the first risk that names it, in the order first named.
    """
    grid, columns = found.grid, found.columns
    imported = Imported({}, [], [])
    areas: dict[str, dict] = {}  # group text -> area file data
    measures: dict[str, str] = {}  # measure text (as _measure_key compares it) -> id
    sources: dict[str, dict] = {}  # 依据 text -> source
    row_levels = _levels(found, rows, options, report, problems)
    shared = 0
    for risk_row in rows:
        if risk_row.area not in areas:
            number = len(areas) + 1
            areas[risk_row.area] = {"area": {"id": f"area-{number}", "name_zh": risk_row.area or unit_name},
                                    "risks": [], "measures": []}
        area = areas[risk_row.area]
        file, prefix = f"{area['area']['id']}.yml", f"A{list(areas).index(risk_row.area) + 1}"
        risk = _risk(risk_row, f"{prefix}-{len(area['risks']) + 1:02d}", grid, columns, reviewed, problems)
        risk["level"] = row_levels.get(risk_row.row)
        for text in split_items(risk_row.values.get("measures", "")):
            text = _MEASURE_ID.sub("", text)  # "LAND-M01 …", as this project's own 登记表 numbers them
            if _measure_key(text) not in measures:
                measures[_measure_key(text)] = f"{prefix}-M{len(area['measures']) + 1:02d}"
                imported.rows[(file, "measures", len(area["measures"]))] = (grid, risk_row.row)
                area["measures"].append({"id": measures[_measure_key(text)], "title_zh": text})
            elif measures[_measure_key(text)] not in risk["measures"]:
                shared += 1
            if measures[_measure_key(text)] not in risk["measures"]:
                risk["measures"].append(measures[_measure_key(text)])
        for text in split_items(risk_row.values.get("sources", "")):
            source = sources.setdefault(text, _source(text, len(sources) + 1))
            if source["id"] not in risk.setdefault("sources", []):
                risk["sources"].append(source["id"])
        if not risk["measures"] and "measures" in columns:
            problems.append(grid.problem(risk_row.row, columns["measures"], "no 防控措施 for this risk — write at least "
                                                                            "one measure"))
        imported.rows[(file, "risks", len(area["risks"]))] = (grid, risk_row.row)
        area["risks"].append(risk)
    imported.areas = list(areas.values())
    imported.sources = list(sources.values())
    for note in placement.place(imported):  # powers and steps where the risks' power and steps name them
        report.say("powers", note)
    imported.columns = {(grid.sheet, name): column for name, column in columns.items()}
    imported.register = register_record(unit_id, unit_name, imported, ["zh"],
                                         f"由 {grid.book}（{grid.sheet}）导入，导入时的解读见 导入说明.md。")
    _say_areas(found, imported, report)
    if shared:
        report.say("rows", f"{shared} 处防控措施与前面的风险点文字相同，合为同一条措施并链接 · measures written the same "
                           "as an earlier risk's were made one measure, linked to each")
    return imported


def _say_areas(found: Layout, imported: Imported, report: Report) -> None:
    grouping = next((name for name in ("area", "department") if name in found.columns), None)
    if grouping:
        where = found.grid.where(found.last, found.columns[grouping])
        report.say("areas", f"按「{HEADINGS[grouping].zh}」列（{where}）分领域 · areas from that column")
    for area in imported.areas:
        report.say("areas", f"{area['area']['id']}：{area['area']['name_zh']}（{len(area['risks'])} 个风险点 · risks）")


def _risk(risk_row: Row, risk_id: str, grid: Grid, columns: dict[str, int], reviewed: str | None,
          problems: list[Problem]) -> dict:
    """A risk's fields from its row; problems with its category or date reported at their cells."""
    values = risk_row.values
    at = lambda name, message: grid.problem(risk_row.row, columns[name], message)  # noqa: E731
    title = values["title_zh"]
    risk: dict = {"id": risk_id, "title_zh": _NUMBERED_TITLE.sub("", title) if numbered_title(title) else title}
    for name in ("description_zh", "post_zh", "power_zh", "responsible_post_zh", "responsible_leader_zh",
                 "supervisor_zh", "notes_zh"):
        if values.get(name):
            risk[name] = values[name]
    if values.get("department") and values.get("area"):  # 科室 beside 领域: the post is in that 科室
        risk["post_zh"] = values["department"] + (f"：{risk['post_zh']}" if "post_zh" in risk else "")
    if values.get("category"):
        risk["category"] = category_of(values["category"])
        if risk["category"] is None:
            problems.append(at("category", f"{fields.RISK['category'].zh} {values['category']!r} is not one of "
                                           f"{'、'.join(zh for zh, _ in vocab.CATEGORIES.values())} — "
                                           "use one of these, or leave the cell empty"))
    if values.get("steps"):  # titles, until placement declares the steps (riskcatalog.excel.placement)
        risk["steps"] = split_items(values["steps"])
    manifestations = split_items(values.get("manifestations", ""))
    if manifestations:
        risk["manifestations"] = [{"zh": text} for text in manifestations]
    risk["level"] = None
    risk["measures"] = []
    date = reviewed
    if values.get("reviewed"):
        date = date_of(values["reviewed"])
        if date is None:
            problems.append(at("reviewed", f"{values['reviewed']!r} is not a date — write it like 2019-01-15"))
    risk["reviewed"] = date
    return risk


def numbered_title(text: str) -> bool:
    """Whether a risk's text starts with a number of its own (not the first of a list of several)."""
    return _NUMBERED_TITLE.match(text) is not None and len(split_items(text)) == 1


def _source(text: str, number: int) -> dict:
    """A 依据 as a source: 《title》（number） split into its parts."""
    match = re.fullmatch(r"《(.+?)》\s*(?:[（(](.+)[)）])?", text)
    source = {"id": f"source-{number}", "title_zh": match.group(1) if match else text}
    if match and match.group(2):
        source["number"] = match.group(2)
    return source


def title_texts(grid: Grid, before: int) -> list[tuple[str, str]]:
    """(where, text) of the title rows above the heading, and of a Word document's paragraphs before its table."""
    texts = list(grid.preamble)
    seen = {text for _, text in texts}
    for row in range(1, before):
        for column in range(1, grid.columns + 1):
            text = grid.get(row, column)
            if text and text not in seen:
                seen.add(text)
                texts.append((grid.where(row, column), text))
    return texts


def unit_name_of(texts: list[tuple[str, str]], report: Report) -> str | None:
    """The unit's name from the title rows: a 单位： label first, else the title; what was taken off said."""
    found = [(where, text, naming.unit_in(text)) for where, text in texts]
    for how in ("label", "title"):
        for where, text, result in found:
            if result and result[1] == how:
                name, _, removed = result
                taken = "，去掉 " + "、".join(f"「{r}」" for r in removed) if removed else ""
                report.say("unit", f"{fields.UNIT['name'].zh}「{name}」：取自 {where}「{_short(text)}」{taken} · unit name {name}, from "
                                   f"{where}" + (f", with {'、'.join(removed)} taken off" if removed else ""))
                return name
    return None


def register_date(texts: list[tuple[str, str]], found: Layout, options: Options, report: Report,
                  problems: list[Problem]) -> str | None:
    """The register's date: --reviewed, else the first date in the title rows; None (and a problem)
    where there is neither and no column of review dates dates each risk."""
    written = next(((where, text, date_of(text)) for where, text in texts if date_of(text)), None)
    if options.reviewed:
        also = f"（标题中的日期 {written[2]} 未采用 · the title's date {written[2]} not taken）" if written else ""
        report.say("date", f"{options.reviewed}：由 --reviewed 指定{also} · given by --reviewed")
        return options.reviewed
    if "reviewed" in found.columns:
        report.say("date", f"每个风险点的日期取自「{HEADINGS['reviewed'].zh}」列 · each risk's date from that column")
    if written:
        where, text, date = written
        month_only = not re.search(r"\d{4}\s*[年.\-/]\s*\d{1,2}\s*[月.\-/]\s*\d{1,2}", text)
        note = "（只写了年月，取该月1日 · the month only: its first day taken）" if month_only else ""
        report.say("date", f"{date}：取自 {where}「{_short(text)}」{note} · from {where}")
        return date
    if "reviewed" not in found.columns:
        problems.append(Problem(found.grid.title_where(), "no date in the title rows — give the date the register "
                                                          "was drawn up or last reviewed with --reviewed YYYY-MM-DD "
                                                          "(the file's own save date is not taken for it)"))
    return None
