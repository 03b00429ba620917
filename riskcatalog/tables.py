"""The database's tables: columns in order, keys, foreign keys, and what is searched.

The tables a register fills (units, unit_levels, sources, areas, risks, measures) take their
columns from the field registry (riskcatalog.fields); the link tables, the history's and the
lookups are declared here. Shared by riskcatalog.compile (which turns a register into rows in this
column order) and riskcatalog.db (which creates the tables and writes the rows).
"""

from __future__ import annotations

import json

from . import fields

LOOKUP = {"id": str, "label": str, "label_zh": str, "label_en": str, "rank": int}


def _columns(table: str) -> dict[str, type]:
    return {column.name: column.type for column in fields.table_columns(table)}


#: Every table: columns (in order), primary key, foreign keys {column: (table, column)}.
TABLES: dict[str, tuple[dict, str | tuple, dict]] = {
    "levels": ({**LOOKUP, "colour": str, "text_colour": str}, "id", {}),
    "categories": (LOOKUP, "id", {}),
    "measure_types": (LOOKUP, "id", {}),
    "natures": (LOOKUP, "id", {}),
    "source_kinds": (LOOKUP, "id", {}),
    "units": (_columns("units"), "id", {}),
    "unit_levels": (_columns("unit_levels"), ("unit", "level"), {"unit": ("units", "id"), "level": ("levels", "id")}),
    "sources": (_columns("sources"), "key", {"unit": ("units", "id"), "kind": ("source_kinds", "id")}),
    "areas": (_columns("areas"), "key", {"unit": ("units", "id")}),
    # Powers, their steps and the posts that exercise them (职权目录, 权力运行流程图, 岗位廉政风险防控卡).
    "posts": (_columns("posts"), "key", {"unit": ("units", "id")}),
    "powers": (_columns("powers"), "key", {"unit": ("units", "id"), "area": ("areas", "key")}),
    "steps": (_columns("steps"), "key", {"unit": ("units", "id"), "power": ("powers", "key"), "post": ("posts", "key")}),
    "branches": (_columns("branches"), ("step", "position"),
                 {"unit": ("units", "id"), "step": ("steps", "key"), "to_step": ("steps", "key")}),
    "risks": (_columns("risks"), "key",
              {"unit": ("units", "id"), "area": ("areas", "key"), "category": ("categories", "id"),
               "level": ("levels", "id"), "replaced_by": ("risks", "key"), "power": ("powers", "key")}),
    "measures": (_columns("measures"), "key",
                 {"unit": ("units", "id"), "area": ("areas", "key"), "type": ("measure_types", "id"),
                  "nature": ("natures", "id"), "replaced_by": ("measures", "key")}),
    "risk_measures": ({"risk": str, "measure": str, "position": int}, ("risk", "measure"),
                      {"risk": ("risks", "key"), "measure": ("measures", "key")}),
    "risk_sources": ({"risk": str, "source": str}, ("risk", "source"),
                     {"risk": ("risks", "key"), "source": ("sources", "key")}),
    "measure_sources": ({"measure": str, "source": str}, ("measure", "source"),
                        {"measure": ("measures", "key"), "source": ("sources", "key")}),
    # How powers, risks and measures link to them.
    "power_posts": ({"power": str, "post": str, "position": int}, ("power", "post"),
                    {"power": ("powers", "key"), "post": ("posts", "key")}),
    "power_sources": ({"power": str, "source": str}, ("power", "source"),
                      {"power": ("powers", "key"), "source": ("sources", "key")}),
    "risk_steps": ({"risk": str, "step": str, "position": int}, ("risk", "step"),
                   {"risk": ("risks", "key"), "step": ("steps", "key")}),
    "measure_steps": ({"measure": str, "step": str, "position": int}, ("measure", "step"),
                      {"measure": ("measures", "key"), "step": ("steps", "key")}),
    "build_info": ({"key": str, "value": str}, "key", {}),
    # The history (修订记录, riskcatalog.history): each register's baseline and what each revision since changed.
    "change_kinds": (LOOKUP, "id", {}),
    "entry_kinds": (LOOKUP, "id", {}),
    "unit_history": ({"unit": str, "status": str, "note_zh": str, "note_en": str, "commits": int,
                      "first_day": str, "last_day": str, "path": str, "format": str}, "unit",
                     {"unit": ("units", "id")}),
    # A register's baseline (kind baseline: 登记确定, where its revisions start) and each revision after it.
    "commits": ({"key": str, "unit": str, "sha": str, "kind": str, "date": str, "day": str, "author": str,
                 "subject": str, "body": str, "truncated": int, "changes": int, "invalid": int}, "key",
                {"unit": ("units", "id")}),
    "changes": ({"id": int, "unit": str, "commit_key": str, "date": str, "day": str, "kind": str, "entry": str,
                 "entry_id": str, "title": str, "area": str, "change": str, "field": str, "field_zh": str,
                 "old": str, "new": str, "old_text": str, "new_text": str, "words": str, "replaced_by": str,
                 "summary_zh": str, "headline": str, "file": str}, "id",
                {"unit": ("units", "id"), "commit_key": ("commits", "key"), "kind": ("entry_kinds", "id"),
                 "change": ("change_kinds", "id")}),
}

#: Columns that may be empty, as "table.column"; every other column is NOT NULL. A register's tables
#: follow the registry (a field a register may leave out, every English text); a change need not name
#: an area, a field or values (an entry added), nor words (a short text); a history may have no first or
#: last day or path; a baseline may have no commit (not yet committed, or past a shallow clone's boundary).
NULLABLE = {f"{table}.{column.name}" for table in fields.REGISTER_TABLES
            for column in fields.table_columns(table) if column.nullable}
NULLABLE |= {f"{table}.{column}" for table, (columns, _, _) in TABLES.items() for column in columns
             if column.endswith("_en")}  # English is optional everywhere: a register may be kept in Chinese
NULLABLE |= {"unit_history.first_day", "unit_history.last_day", "unit_history.path", "commits.sha",
             *(f"changes.{c}" for c in ("area", "field", "field_zh", "old", "new", "old_text", "new_text",
                                        "words", "replaced_by"))}


def nullable(table: str, column: str) -> bool:
    return f"{table}.{column}" in NULLABLE


def _searched(record: fields.Record) -> dict[str, tuple[str, ...]]:
    """The search columns of a record's table, by weight, and the columns that fill them: its title fields,
    the names of its areas, the rest of its searched fields and the titles it cites."""
    columns = {part: tuple(name for f in record.fields if f.search == part for name in f.columns)
               for part in ("title", "body")}
    entry = record in (fields.RISK, fields.MEASURE)
    return {"title": columns["title"], "area": ("area_zh", "area_en") if entry else (),
            "body": columns["body"], "cited": ("cited",) if entry else ()}


#: What readers find entries by: each searched table's index columns, in order of weight, and the
#: fields that fill them. The search page ranks an entry whose title holds the words before one whose
#: area's name holds them, before one whose other fields do, before one that only cites a regulation
#: whose title holds them (riskcatalog.site.ranking). Besides an entry's own fields (the registry's
#: `search`), risks and measures are found by `area_zh`/`area_en` (the names of the areas they belong
#: to or control) and `cited` (the titles of the regulations they cite). Every table has the same
#: columns (a regulation's area and cited are empty), so one search expression reads any of them.
SEARCHED: dict[str, dict[str, tuple[str, ...]]] = {
    record.table: _searched(record) for record in (fields.RISK, fields.MEASURE, fields.SOURCE)}

#: The field that orders entries of equal relevance (a high level first), indexed as one more column
#: of the search index, which readers' words are never looked for in (riskcatalog.search.READ_COLUMNS):
#: the index then orders a city's matches by it without reading their rows.
RANKED_BY: dict[str, str] = {"risks": "level"}


#: The search indexes of a searched table: its whole text (`<table>_search_fts`: what a search must
#: match), and its headings alone (`<table>_titles_fts`: the title and the area's name, a tenth of the
#: size), which ranks by where the words stand without reading the whole index's long lists of a
#: city's common words. Index -> the columns of SEARCHED it holds.
SEARCH_INDEXES = {"search": None, "titles": ("title", "area")}  # None: every column of SEARCHED


def index_columns(table: str, index: str = "search") -> list[str]:
    """The columns of one of a table's search indexes: the searched ones by weight, then the ranking one."""
    return [*(SEARCH_INDEXES[index] or SEARCHED[table]), *([RANKED_BY[table]] if table in RANKED_BY else [])]


def index_name(table: str, index: str = "search") -> str:
    return f"{table}_{index}_fts"


def as_row(table: str, record: dict) -> tuple:
    """A record as a tuple in the table's column order: absent columns NULL, lists and mappings as JSON."""
    columns = TABLES[table][0]
    if not record.keys() <= columns.keys():  # a bug in the build, not in the catalogue: the schema allows no other field
        raise KeyError(f"{table} has no column {sorted(record.keys() - columns.keys())}")
    return tuple(json.dumps(v, ensure_ascii=False) if isinstance(v, (list, dict)) else v
                 for v in map(record.get, columns))
