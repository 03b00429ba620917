"""A workbook this project exported: every field of the register in its field sheets, read back exactly."""

from __future__ import annotations

import re

from .. import fields
from ..catalog import POSTS_FILE, SOURCES_FILE
from . import layout
from .reading import Book, Imported, Problem, register_record


#: The sheets of posts and powers: a workbook exported before powers were kept has none, and its register none.
OPTIONAL_SHEETS = {record.sheet for record in fields.POWER_RECORDS}


def is_exported(workbook: Book) -> bool:
    """Whether the workbook has this project's field sheets (their second row holds field names)."""
    return all(name in workbook.sheet_names() and workbook.grid(name).get(2, 1) == columns[0].field
               for name, columns in layout.FIELD_SHEETS.items() if name in (fields.RISK.sheet, fields.MEASURE.sheet))


def from_fields(workbook: Book, problems: list[Problem]) -> Imported | None:
    """The register held by an exported workbook's field sheets, exactly as it was."""
    book = workbook.shown
    sheets = {name: _field_rows(workbook, book, name, problems) for name in layout.FIELD_SHEETS}
    units = sheets[fields.UNIT.sheet]
    if len(units) != 1:
        sheet = fields.UNIT.sheet
        problems.append(Problem(f"{book}!{sheet}", f"the workbook holds {len(units)} registers — export one unit's "
                                                   "workbook (build.py export --unit ID) and import that" if units else
                                                   f"no register in the {sheet} sheet — fill in its row"))
        return None
    imported = Imported({}, [], [])
    areas = {area.get("id"): {"area": _without(area, "unit"), "powers": [], "risks": [], "measures": []}
             for area, _ in sheets[fields.AREA.sheet]}
    for kind, sheet in (("risks", fields.RISK.sheet), ("measures", fields.MEASURE.sheet)):
        for entry, area, where in _under(sheet, sheets[sheet], areas, "area", problems):
            imported.rows[(f"{entry['area']}.yml", kind, len(area[kind]))] = where
            area[kind].append(_without(entry, "unit", "area", *layout.DERIVED))
    _powers_from(sheets, areas, imported, problems)
    imported.columns = {(name, column.field): n for name, sheet in layout.FIELD_SHEETS.items()
                        for n, column in enumerate(sheet, 1)}
    imported.areas = [{"area": a["area"], **({"powers": a["powers"]} if a["powers"] else {}), "risks": a["risks"],
                       "measures": a["measures"]} for a in areas.values()]
    imported.sources = [_without(source, "unit") for source, _ in sheets[fields.SOURCE.sheet]]
    for n, (_, where) in enumerate(sheets[fields.SOURCE.sheet]):
        imported.rows[(SOURCES_FILE, "sources", n)] = where
    imported.register = _register(sheets[fields.UNIT.sheet][0][0], [level for level, _ in sheets[fields.LEVEL.sheet]], imported)
    return imported


def _powers_from(sheets: dict, areas: dict, imported: Imported, problems: list[Problem]) -> None:
    """The posts, and each area's powers with their steps and branches, from their sheets (a workbook exported
    before powers were kept has none of these sheets: its register has no powers)."""
    imported.posts = [_without(post, "unit") for post, _ in sheets[fields.POST.sheet]]
    for n, (_, where) in enumerate(sheets[fields.POST.sheet]):
        imported.rows[(POSTS_FILE, "posts", n)] = where
    powers: dict[str, dict] = {}
    for entry, area, where in _under(fields.POWER.sheet, sheets[fields.POWER.sheet], areas, "area", problems):
        imported.rows[(f"{entry['area']}.yml", "powers", len(area["powers"]))] = where
        powers[entry.get("id")] = {**_without(entry, "unit", "area"), "steps": []}
        area["powers"].append(powers[entry.get("id")])
    steps: dict[str, dict] = {}
    for entry, power, _ in _under(fields.STEP.sheet, sheets[fields.STEP.sheet], powers, "power", problems):
        steps[f"{entry['power']}/{entry.get('id')}"] = step = _without(entry, "unit", "power")
        power["steps"].append(step)
    for entry, step, _ in _under(fields.BRANCH.sheet, sheets[fields.BRANCH.sheet], steps, "step", problems,
                                 "write it as POWER/step (e.g. WELF-P01/survey)"):
        step.setdefault("branches", []).append(_without(entry, "unit", "step"))


#: The sheet each kind of entry a row may belong under is listed in.
_LISTED_IN = {"area": fields.AREA.sheet, "power": fields.POWER.sheet, "step": fields.STEP.sheet}


def _under(sheet: str, rows: list[tuple[dict, tuple]], parents: dict, field: str, problems: list[Problem],
           hint: str = "add it there or fix the id"):
    """(entry, the entry it belongs under, where it came from) for each row of a sheet, by the id in its column
    field (a risk's area, a step's power, a branch's step); a row whose parent is not there is reported."""
    for entry, (grid, row) in rows:
        parent = parents.get(entry.get(field))
        if parent is None:
            problems.append(Problem(grid.where(row, _column_of(sheet, field)), f"{field} {entry.get(field)!r} is not "
                                    f"in the {_LISTED_IN[field]} sheet — {hint}"))
        else:
            yield entry, parent, (grid, row)


def _register(unit: dict, levels: list[dict], imported: Imported) -> dict:
    """register.yml from the unit's and the levels' sheets' rows."""
    register = register_record(unit.get("id"), unit.get("name_zh"), imported, unit.get("languages") or ["zh"], "")
    del register["provenance"]
    for mapping, prefix, declared, _ in fields.UNITS_TABLE:  # the unit's sheet's columns back into register.yml
        keys = {prefix + key: key for f in declared if f.kind != fields.COMPUTED for key in f.keys}
        found = {key: unit[column] for column, key in keys.items() if column in unit}
        if mapping and found:
            register[mapping] = found
    register["levels"] = [{"id": level.get("level"), **_without(level, "unit", "level")} for level in levels]
    return register


def _column_of(sheet: str, name: str) -> int:
    return next(n for n, column in enumerate(layout.FIELD_SHEETS[sheet], 1) if column.field == name)


def _without(entry: dict, *names: str) -> dict:
    return {k: v for k, v in entry.items() if k not in names}


def _field_rows(workbook: Book, book: str, name: str, problems: list[Problem]) -> list[tuple[dict, tuple]]:
    """Each row of a field sheet as an entry of YAML fields, with (grid, row) it came from."""
    if name not in workbook.sheet_names():
        if name not in OPTIONAL_SHEETS:
            problems.append(Problem(book, f"sheet {name} is missing — export the register again, or import its "
                                          "登记表 sheet alone"))
        return []
    grid = workbook.grid(name)
    known = {column.field: column for column in layout.FIELD_SHEETS[name]}
    named = {}  # column number -> the field name in the second row
    for column in range(1, grid.columns + 1):
        text = grid.get(layout.FIELD_HEADER_ROWS, column)
        if text in known:
            named[column] = text
        elif text:
            problems.append(Problem(grid.where(layout.FIELD_HEADER_ROWS, column),
                                    f"unknown field {text!r} — the field names of this sheet are "
                                    f"{', '.join(known)}; fix the name or delete the column"))
    entries = []
    for row in range(layout.FIELD_HEADER_ROWS + 1, grid.rows + 1):
        entry = {}
        for column, key in named.items():
            text = grid.get(row, column)
            value = _field_value(known[key], text, grid.where(row, column), problems) if text else None
            if value is not None:
                entry[key] = value
        if any(grid.get(row, column) for column in named):
            _pair_manifestations(entry)
            entries.append((entry, (grid, row)))
    return entries


def _field_value(column: layout.Column, text: str, where: str, problems: list[Problem]):
    """A field sheet's cell as the YAML value, by the kind of field it holds: labels to ids, whole numbers,
    lists; None for none."""
    declared, kind = column.source, column.source.kind
    if kind == fields.CHOICE:
        value = layout.value_of(declared, text)
        if value is None:
            labels = "、".join(zh for zh, _ in declared.vocabulary.values())
            problems.append(Problem(where, f"{text!r} is not one of {labels} — use one of these"))
        return None if value == declared.default else value
    if kind == fields.INTEGER:
        if not re.fullmatch(r"\d+", text):
            problems.append(Problem(where, f"{text!r} is not a whole number — write a whole number"))
            return None
        return int(text)
    if kind == fields.IDS:
        return [item for item in re.split(r"[\s,，、;；]+", text) if item]
    if kind == fields.LANGUAGES:
        return [item for item in re.split(r"[\s,，、]+", text) if item]
    if kind == fields.ITEMS:
        return layout.unnumbered(text)
    return text


def _pair_manifestations(entry: dict) -> None:
    """manifestations_zh and _en (lists, one item a line) back into [{zh, en}, …]."""
    if "manifestations_zh" not in entry:
        entry.pop("manifestations_en", None)
        return
    english = entry.pop("manifestations_en", [])
    entry["manifestations"] = [{"zh": zh, **({"en": english[n]} if n < len(english) and english[n] else {})}
                               for n, zh in enumerate(entry.pop("manifestations_zh")) if zh]


