"""The workbook's sheets and columns, shared by the export and the importer so the two stay in step.

The first sheet, 登记表, is the register as units print it. The field sheets after it hold every
field of the YAML, one row per entry: a Chinese heading in the first row, the field's name in the
second (English, and what the importer reads), so a workbook carries a register without loss.
Both come from the field registry (riskcatalog.fields): a field declared there has its columns here.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from .. import fields

REGISTER_SHEET = "登记表"
#: Rows above the 登记表's heading: the title, then the unit and date.
TITLE_ROWS = 2
#: Rows of a field sheet's heading: Chinese, then the field name.
FIELD_HEADER_ROWS = 2


@dataclass(frozen=True)
class Column:
    """One column: the name it goes by in the sheet (a YAML key, or unit/area), its Chinese heading, its
    width in characters, the registry's field, and the database column it is read from."""

    field: str
    zh: str
    width: int = 14
    source: fields.Field | None = None
    column: str | None = None


def _register_column(record: str, name: str) -> Column:
    declared = fields.RISK[name] if record == "risk" else {"unit": fields.UNIT, "area": fields.AREA}[record]["name"]
    return Column(record if name == "name" else name, fields.register_heading(record, name), declared.register, declared)


#: The 登记表's columns, in the Chinese layout; `unit` only in a workbook of several registers.
REGISTER_COLUMNS = [_register_column(record, name) for record, name in fields.REGISTER_COLUMNS]


def _sheet_columns(prefix: str, declared: fields.Field) -> list[Column]:
    """A field's columns in its field sheet: one per language for a text, else one, named by its YAML key."""
    heading = declared.sheet_zh or declared.zh
    if declared.kind in (fields.TEXT, fields.ITEMS):
        return [Column(f"{prefix}{declared.name}_zh", heading, declared.width, declared, f"{prefix}{declared.name}_zh"),
                Column(f"{prefix}{declared.name}_en", f"{heading}（英文）", declared.width, declared,
                       f"{prefix}{declared.name}_en")]
    name = declared.column if declared.kind == fields.CHOICE and declared.column else (declared.keys or (declared.name,))[0]
    return [Column(prefix + name, heading, declared.width, declared, prefix + (declared.column or declared.name))]


def _sheet(parts) -> list[Column]:
    return [column for _, prefix, declared_fields, _ in parts for declared in declared_fields if declared.in_sheet
            for column in _sheet_columns(prefix, declared)]


#: Sheet -> its columns. Enumerated values are written as their Chinese labels; lists one item a line,
#: manifestations numbered.
FIELD_SHEETS: dict[str, list[Column]] = {fields.UNIT.sheet: _sheet(fields.UNITS_TABLE)}
FIELD_SHEETS.update({record.sheet: _sheet(((None, "", record.fields, False),))
                     for record in fields.RECORDS_IN_ORDER if record.sheet and record is not fields.UNIT})

#: Columns that say where an entry belongs: its unit, the area of a risk, measure or power, the power of a
#: step, the step of a branch (as WELF-P01/survey). The build computes them; the importer places entries by them.
PLACES = ("unit", "area", "power", "step")
#: Columns the export writes for reading only: the importer leaves them out.
DERIVED = {c.field for columns in FIELD_SHEETS.values() for c in columns
           if c.source.kind == fields.COMPUTED and c.field not in PLACES}


def label(declared: fields.Field, value: str | None) -> str | None:
    """An enumerated value as the workbook shows it: its Chinese label."""
    return declared.vocabulary[value][0] if value else None


def value_of(declared: fields.Field, text: str) -> str | None:
    """The id a label stands for: the id itself, its Chinese or English label; None if none."""
    wanted = text.strip().lower()
    for key, (zh, en) in declared.vocabulary.items():
        if wanted in (key, zh, en.lower()):
            return key
    return None


def numbered(items: list) -> str:
    """A list in one cell, numbered a line each: "1. …\\n2. …"; an empty item stays an empty line."""
    return "\n".join(f"{n}. {item or ''}".rstrip() for n, item in enumerate(items, 1))


_NUMBERED_LINE = re.compile(r"^(\d+)\.(?: |$)", re.M)


def unnumbered(text: str) -> list[str | None]:
    """The items of a numbered() cell (an empty item is None); a cell without numbers is one item."""
    starts = list(_NUMBERED_LINE.finditer(text))
    if not starts or starts[0].start() != 0:
        return [text] if text.strip() else []
    ends = [m.start() - 1 for m in starts[1:]] + [len(text)]
    return [text[m.end():end] or None for m, end in zip(starts, ends)]


def one_a_line(items: list[str]) -> str:
    """A list of ids in one cell, one a line."""
    return "\n".join(items)


def register_title(unit_names: list[str], area: str = "") -> str:
    """The 登记表's title, in the workbook and on the printed page: the unit (and area) for one
    register, the number of units for several."""
    if len(unit_names) == 1:
        return f"{unit_names[0]}{area}廉政风险点登记表"
    return f"{len(unit_names)}个单位廉政风险点登记表"
