"""The database's tables: columns in order, keys, foreign keys, and what is searched.

Shared by riskcatalog.compile (which turns a register into rows in this column order)
and riskcatalog.db (which creates the tables and writes the rows).
"""

from __future__ import annotations


def bilingual(*names: str) -> dict[str, type]:
    return {f"{name}_{lang}": str for name in names for lang in ("zh", "en")}


LOOKUP = {"id": str, "label": str, "label_zh": str, "label_en": str, "rank": int}

#: Every table: columns (in order), primary key, foreign keys {column: (table, column)}.
TABLES: dict[str, tuple[dict, str | tuple, dict]] = {
    "levels": ({**LOOKUP, "colour": str, "text_colour": str}, "id", {}),
    "categories": (LOOKUP, "id", {}),
    "measure_types": (LOOKUP, "id", {}),
    "natures": (LOOKUP, "id", {}),
    "source_kinds": (LOOKUP, "id", {}),
    "units": ({"id": str, **bilingual("name", "district", "city"), "provenance_source": str,
               **bilingual("provenance_note"), "declared_risks": int, "declared_measures": int, "folder": str,
               "languages": str},
              "id", {}),
    "unit_levels": ({"unit": str, "level": str, "min_score": int, "review_days": int}, ("unit", "level"),
                    {"unit": ("units", "id"), "level": ("levels", "id")}),
    "sources": ({"key": str, "unit": str, "id": str, "kind": str, **bilingual("title", "issuer"), "year": int,
                 "number": str, "date": str, "file": str, "line": int}, "key",
                {"unit": ("units", "id"), "kind": ("source_kinds", "id")}),
    "areas": ({"key": str, "unit": str, "id": str, "position": int, **bilingual("name", "description"),
               "file": str, "line": int}, "key", {"unit": ("units", "id")}),
    "risks": ({"key": str, "unit": str, "id": str, "seq": int, "area": str, **bilingual("title", "description",
               "post", "power"), "category": str, **bilingual("manifestations"), "likelihood": int, "impact": int,
               "score": int, "level": str, **bilingual("responsible_post", "responsible_leader", "supervisor"),
               "reviewed": str, "next_review": str, "status": str, "replaced_by": str, "measure_ids": str,
               "source_ids": str, "file": str, "line": int}, "key",
              {"unit": ("units", "id"), "area": ("areas", "key"), "category": ("categories", "id"),
               "level": ("levels", "id"), "replaced_by": ("risks", "key")}),
    "measures": ({"key": str, "unit": str, "id": str, "area": str, **bilingual("title", "description"),
                  "type": str, "nature": str, **bilingual("owner", "frequency", "evidence"), "status": str,
                  "replaced_by": str, "risk_ids": str, "area_ids": str, "source_ids": str, "file": str, "line": int},
                 "key", {"unit": ("units", "id"), "area": ("areas", "key"), "type": ("measure_types", "id"),
                         "nature": ("natures", "id"), "replaced_by": ("measures", "key")}),
    "risk_measures": ({"risk": str, "measure": str, "position": int}, ("risk", "measure"),
                      {"risk": ("risks", "key"), "measure": ("measures", "key")}),
    "risk_sources": ({"risk": str, "source": str}, ("risk", "source"),
                     {"risk": ("risks", "key"), "source": ("sources", "key")}),
    "measure_sources": ({"measure": str, "source": str}, ("measure", "source"),
                        {"measure": ("measures", "key"), "source": ("sources", "key")}),
    "build_info": ({"key": str, "value": str}, "key", {}),
    # The history (修订记录, riskcatalog.history): what each commit that touched a register changed.
    "change_kinds": (LOOKUP, "id", {}),
    "entry_kinds": (LOOKUP, "id", {}),
    "unit_history": ({"unit": str, "status": str, "note_zh": str, "note_en": str, "commits": int,
                      "first_day": str, "last_day": str, "path": str, "format": str}, "unit",
                     {"unit": ("units", "id")}),
    "commits": ({"key": str, "unit": str, "sha": str, "date": str, "day": str, "author": str, "subject": str,
                 "body": str, "changes": int, "invalid": int}, "key", {"unit": ("units", "id")}),
    "changes": ({"id": int, "unit": str, "commit_key": str, "date": str, "day": str, "kind": str, "entry": str,
                 "entry_id": str, "title": str, "area": str, "change": str, "field": str, "field_zh": str,
                 "old": str, "new": str, "old_text": str, "new_text": str, "replaced_by": str, "summary_zh": str,
                 "file": str}, "id",
                {"unit": ("units", "id"), "commit_key": ("commits", "key"), "kind": ("entry_kinds", "id"),
                 "change": ("change_kinds", "id")}),
}

#: Columns that may be empty, by name or as "table.column"; every other column is NOT NULL. A register
#: need give only ids, Chinese names and titles, each risk's level, measures and review date
#: (schema.json): English is optional in a register kept in Chinese (languages: [zh]), and a level may
#: stand without the ratings. A change need not name an area, a field or values (an entry added).
NULLABLE = {"number", "date", "replaced_by", "provenance_source", "provenance_note_zh", "district_zh", "city_zh",
            "description_zh", "post_zh", "power_zh", "category", "likelihood", "impact", "score",
            "responsible_post_zh", "responsible_leader_zh", "supervisor_zh", "type", "nature", "owner_zh",
            "frequency_zh", "evidence_zh", "kind", "issuer_zh", "year",
            "unit_history.first_day", "unit_history.last_day", "unit_history.path",
            *(f"changes.{c}" for c in ("area", "field", "field_zh", "old", "new", "old_text", "new_text"))}
NULLABLE |= {column for columns, _, _ in TABLES.values() for column in columns if column.endswith("_en")}

#: What readers find entries by: each searched table's index columns, in order of weight, and the
#: fields that fill them. The search page ranks an entry whose title holds the words before one whose
#: area's name holds them, before one whose other fields do, before one that only cites a regulation
#: whose title holds them (riskcatalog.site.ranking). Besides an entry's own fields, risks and measures
#: are found by `area_zh`/`area_en` (the names of the areas they belong to or control) and `cited` (the
#: titles of the regulations they cite). Every table has the same columns (a regulation's area and
#: cited are empty), so one search expression reads any of them.
SEARCHED: dict[str, dict[str, tuple[str, ...]]] = {
    "risks": {
        "title": ("id", "title_zh", "title_en"),
        "area": ("area_zh", "area_en"),
        "body": ("description_zh", "description_en", "post_zh", "post_en", "power_zh", "power_en",
                 "manifestations_zh", "manifestations_en", "responsible_post_zh", "responsible_post_en",
                 "responsible_leader_zh", "responsible_leader_en", "supervisor_zh", "supervisor_en"),
        "cited": ("cited",),
    },
    "measures": {
        "title": ("id", "title_zh", "title_en"),
        "area": ("area_zh", "area_en"),
        "body": ("description_zh", "description_en", "owner_zh", "owner_en", "frequency_zh", "frequency_en",
                 "evidence_zh", "evidence_en"),
        "cited": ("cited",),
    },
    "sources": {
        "title": ("title_zh", "title_en", "number"),
        "area": (),
        "body": ("issuer_zh", "issuer_en"),
        "cited": (),
    },
}

#: The field that orders entries of equal relevance (a high level first), indexed as one more column
#: of the search index, which readers' words are never looked for in (riskcatalog.search.READ_COLUMNS):
#: the index then orders a city's matches by it without reading their rows.
RANKED_BY: dict[str, str] = {"risks": "level"}


def index_columns(table: str) -> list[str]:
    """The columns of a table's search index: the searched ones by weight, then the ranking one."""
    return [*SEARCHED[table], *([RANKED_BY[table]] if table in RANKED_BY else [])]
