"""The compile stage: a checked register in, the rows of every table out.

compile_register() loads and validates one folder (riskcatalog.catalog) and turns it into rows,
in riskcatalog.tables' column order, with each risk's and measure's search text already expanded.
It needs nothing from the database or from git, so riskcatalog.schedule runs it for many registers
(a district, a city) in worker processes, beside the history stage, while riskcatalog.db writes
the rows in order. shared_keys() is the one rule across registers: no two may share a unit or a key.
"""

from __future__ import annotations

import datetime
import os
from dataclasses import dataclass, field, replace
from pathlib import Path

from . import fields
from .catalog import REGISTER_FILE, Register, display_name, load_register, stored_folder
from .errors import CatalogError, CatalogInvalid
from .search import index_text
from .tables import RANKED_BY, SEARCHED, as_row
from .yamlload import parse_date


@dataclass
class Compiled:
    """One register folder, validated and turned into rows: what a worker sends back."""

    folder: Path
    errors: list[CatalogError]
    summary: str = ""
    unit: str = ""
    unit_at: CatalogError | None = None  # where the unit id is written, for "the same unit twice"
    #: (table, key, what it names, where its id is written) of each source and area: see _slug_keys.
    keys: list[tuple[str, str, str, CatalogError]] = field(default_factory=list)
    #: Table -> rows as tuples in TABLES column order; "<table>_search" -> each row's search index columns.
    rows: dict[str, list[tuple]] = field(default_factory=dict)
    #: The Chinese title of each entry by (kind, id), and the unit's name as ("register", "register"):
    #: how the history's changes name the entries they touch (riskcatalog.history.table_rows).
    titles: dict[tuple[str, str], str] = field(default_factory=dict)


def compile_register(folder: Path, with_rows: bool = True) -> Compiled:
    """Validate one register folder and, if asked, turn it into rows."""
    try:
        register = load_register(folder)
    except CatalogInvalid as exc:
        return Compiled(folder, exc.errors)
    return Compiled(folder, [], register.summary(), register.unit["id"], register.doc.error(("unit", "id"), ""),
                    keys=_slug_keys(register), rows=register_rows(register) if with_rows else {},
                    titles=entry_titles(register) if with_rows else {})


def entry_titles(register: Register) -> dict[tuple[str, str], str]:
    """The Chinese title of each entry by (kind, id) (an area by its name) and the unit's name."""
    found = {("source", s["id"]): s["title_zh"] for s in register.sources}
    for area in register.areas:
        found[("area", area.record["id"])] = area.record["name_zh"]
        found.update({(kind, entry["id"]): entry["title_zh"] for kind, entries in
                      (("risk", area.risks), ("measure", area.measures)) for entry in entries})
    found[("register", "register")] = register.unit["name_zh"]
    return found


def shared_keys(compiled: Compiled, units: dict[str, Path], keys: dict[tuple[str, str], str]) -> list[CatalogError]:
    """What compiled shares with the registers before it (units: unit -> folder; keys: (table, key) -> what
    it names), which it records if it shares nothing: two registers may not share a unit id, nor a key, or
    a table's rows would collide."""
    if compiled.unit in units:
        return [replace(compiled.unit_at, message=_same_unit(compiled, units[compiled.unit]))]
    errors = _shared_keys(compiled, keys)
    if not errors:
        units[compiled.unit] = compiled.folder
    return errors


def _same_unit(compiled: Compiled, other: Path) -> str:
    if os.path.samefile(compiled.folder, other):
        return f"the folder {compiled.folder} is given twice — give each register folder once"
    return (f"unit {compiled.unit!r} is also the unit of {display_name(other, REGISTER_FILE)} — "
            "give each register its own unit id")


def _slug_keys(register: Register) -> list[tuple[str, str, str, CatalogError]]:
    """The keys of a register's sources, posts and areas, each with what it names and where its id is.

    Only these can be shared by two registers: a unit id and a source, post or area id are all
    lower-case words joined by hyphens, so yijia + expropriation-regulation and
    yijia-expropriation + regulation give one key. A risk, measure or power id starts with a
    capital, which marks where the unit ends.
    """
    unit = register.unit["id"]
    keys = [("sources", _key(unit, source["id"]), f"source {source['id']!r} of unit {unit!r}",
             register.sources_doc.error(("sources", n, "id"), "")) for n, source in enumerate(register.sources)]
    keys += [("posts", _key(unit, post["id"]), f"post {post['id']!r} of unit {unit!r}",
              register.posts_doc.error(("posts", n, "id"), "")) for n, post in enumerate(register.posts)]
    return keys + [("areas", _key(unit, area.record["id"]), f"area {area.record['id']!r} of unit {unit!r}",
                    area.doc.error(("area", "id"), "")) for area in register.areas]


def _shared_keys(compiled: Compiled, keys: dict[tuple[str, str], str]) -> list[CatalogError]:
    """An error for each key of compiled that an earlier register has already; records the others.

    Within one register keys are unique already: its source, post and area ids are.
    """
    errors = []
    for table, key, named, at in compiled.keys:
        first = keys.get((table, key))
        if first is None:
            keys[(table, key)] = f"{named} ({at.file}:{at.line})"
        else:
            errors.append(replace(at, message=f"{named} and {first} would both have the key {key!r} — "
                                              "rename one of the two ids"))
    return errors


def register_rows(register: Register) -> dict[str, list[tuple]]:
    """Every table's rows for one validated register, and the search text of its risks and measures."""
    unit = register.unit["id"]
    reg = register.register
    review_days = {level["id"]: level["review_days"] for level in reg["levels"]}
    controlled_by = _risks_by_measure(register)
    records = {
        "units": [_unit_row(register)],
        "unit_levels": [{"unit": unit, "level": level["id"], "min_score": level["min_score"],
                         "review_days": level["review_days"]} for level in reg["levels"]],
        "sources": [{"key": _key(unit, s["id"]), "unit": unit, **s} for s in register.sources],
        "areas": [{"key": _key(unit, a.record["id"]), "unit": unit, "position": n, **a.record}
                  for n, a in enumerate(register.areas, 1)],
        "risks": [_risk_row(unit, seq, area.record["id"], risk, review_days)
                  for seq, (area, risk) in enumerate(((a, r) for a in register.areas for r in a.risks), 1)],
        "measures": [_measure_row(unit, area.record["id"], measure, controlled_by.get(measure["id"], []))
                     for area in register.areas for measure in area.measures],
        "risk_measures": [{"risk": _key(unit, r["id"]), "measure": _key(unit, m), "position": n}
                          for r in register.risks() for n, m in enumerate(r["measures"], 1)],
        "risk_sources": [{"risk": _key(unit, r["id"]), "source": _key(unit, s)}
                         for r in register.risks() for s in r.get("sources", [])],
        "measure_sources": [{"measure": _key(unit, m["id"]), "source": _key(unit, s)}
                            for m in register.measures() for s in m.get("sources", [])],
        **_power_rows(register),
    }
    folder = records["units"][0]["folder"]  # resolved once: a path's resolution is many system calls
    for record in (r for table_records in records.values() for r in table_records if "file" in r):
        record["file"] = f"{folder}/{record['file'].rpartition('/')[2]}"
    rows = {table: [as_row(table, row) for row in table_records] for table, table_records in records.items()}
    also = found_by(register)
    for table, columns in SEARCHED.items():
        ranked = RANKED_BY.get(table)
        rows[f"{table}_search"] = [(*(_search_text({**row, **also.get((table, row["id"]), {})}, fields)
                                      for fields in columns.values()), *([row[ranked]] if ranked else []))
                                   for row in records[table]]
    return rows


def _unit_row(register: Register) -> dict:
    """The units row: register.yml's unit, provenance, publication and totals under their columns' prefixes
    (riskcatalog.fields.UNITS_TABLE), the provenance source as a key, the languages and the folder."""
    reg, unit = register.register, register.unit["id"]
    row = {prefix + key: value for mapping, prefix, declared, _ in fields.UNITS_TABLE if mapping
           for key, value in reg.get(mapping, {}).items() if key in {k for f in declared for k in f.keys}}
    return {**row, "provenance_source": _key(unit, row.get("provenance_source")), "languages": register.languages,
            "folder": stored_folder(register.folder)}


def found_by(register: Register) -> dict[tuple[str, str], dict]:
    """What else a risk or measure is found by: its areas' names and the titles it cites."""
    titles = {s["id"]: " ".join(filter(None, (s["title_zh"], s.get("title_en")))) for s in register.sources}
    names = {a.record["id"]: a.record for a in register.areas}
    controlled_by = _risks_by_measure(register)
    found: dict[tuple[str, str], dict] = {}
    for area in register.areas:
        for kind, entries in (("risks", area.risks), ("measures", area.measures)):
            for entry in entries:
                areas = [area.record["id"]] + [a for _, a in controlled_by.get(entry["id"], [])]
                records = [names[a] for a in dict.fromkeys(areas)]
                found[(kind, entry["id"])] = {"area_zh": [a["name_zh"] for a in records],
                                              "area_en": [a.get("name_en") for a in records],
                                              "cited": [titles[s] for s in entry.get("sources", [])]}
    return found


def _search_text(row: dict, fields: tuple[str, ...]) -> str:
    """The text one search column holds for a record: its fields, lists item by item, expanded."""
    return index_text(*(" ".join(filter(None, v)) if isinstance(v, list) else v for v in map(row.get, fields)))


def _key(unit: str, entry_id: str | None) -> str | None:
    return f"{unit}-{entry_id}" if entry_id else None


def _risks_by_measure(register: Register) -> dict[str, list[tuple[str, str]]]:
    """measure id -> [(risk id, area id)] in register order: the reverse of each risk's links."""
    result: dict[str, list[tuple[str, str]]] = {}
    for area in register.areas:
        for risk in area.risks:
            for measure_id in risk["measures"]:
                result.setdefault(measure_id, []).append((risk["id"], area.record["id"]))
    return result


def _columns(record: fields.Record, entry: dict) -> dict:
    """An entry's fields as its table's columns (riskcatalog.fields): a list of {zh, en} as a list per language,
    ids under their column's name (measures -> measure_ids), defaults where the entry leaves a field out; nested
    records (a power's steps) go to tables of their own."""
    row = {}
    for declared in record.yaml_fields:
        if declared.kind in (fields.RECORD, fields.RECORDS):
            continue
        value = entry.get(declared.keys[0])
        if declared.kind == fields.ITEMS:  # two lists of the same length: an English item missing is null
            row[f"{declared.name}_zh"] = [item["zh"] for item in value or []]
            row[f"{declared.name}_en"] = [item.get("en") for item in value or []]
        elif declared.kind == fields.IDS:
            row[declared.column or declared.name] = value or []
        elif declared.kind == fields.CHOICE and value is None:
            row[declared.column or declared.name] = declared.default
        elif declared.kind == fields.TEXT:
            row.update((key, entry[key]) for key in declared.keys if key in entry)
        elif value is not None:
            row[declared.column or declared.keys[0]] = value
    where = {"file": entry["file"], "line": entry["line"]} if "file" in entry else {}
    return {**row, **where}


def _risk_row(unit: str, seq: int, area_id: str, risk: dict, review_days: dict[str, int]) -> dict:
    reviewed = parse_date(risk["reviewed"])  # a real date from 1900 to 2100: the schema says so
    rated = "likelihood" in risk  # a unit may give the level alone: no score then
    return {**_columns(fields.RISK, risk), "key": _key(unit, risk["id"]), "unit": unit, "seq": seq,
            "area": _key(unit, area_id), "score": risk["likelihood"] * risk["impact"] if rated else None,
            "next_review": (reviewed + datetime.timedelta(days=review_days[risk["level"]])).isoformat(),
            "replaced_by": _key(unit, risk.get("replaced_by")), "power": _key(unit, risk.get("power"))}


def _measure_row(unit: str, area_id: str, measure: dict, controlled: list[tuple[str, str]]) -> dict:
    return {**_columns(fields.MEASURE, measure), "key": _key(unit, measure["id"]), "unit": unit,
            "area": _key(unit, area_id), "replaced_by": _key(unit, measure.get("replaced_by")),
            "risk_ids": [risk_id for risk_id, _ in controlled],
            "area_ids": list(dict.fromkeys(area for _, area in controlled))}


def step_key(unit: str, power_id: str, step_id: str) -> str:
    """A step's key: <unit>-<POWER>/<step>, so that without its unit it reads as a measure names it (WELF-P01/survey)."""
    return f"{unit}-{power_id}/{step_id}"


def _power_rows(register: Register) -> dict[str, list[dict]]:
    """The rows of the posts, powers, their steps and branches, and the links of powers, risks and measures to them."""
    unit = register.unit["id"]
    rows: dict[str, list[dict]] = {"posts": [{**_columns(fields.POST, post), "key": _key(unit, post["id"]), "unit": unit}
                                             for post in register.posts],
                                   "powers": [], "steps": [], "branches": [], "power_posts": [], "power_sources": []}
    for area in register.areas:
        for power in area.powers:
            key = _key(unit, power["id"])
            rows["powers"].append({**_columns(fields.POWER, power), "key": key, "unit": unit,
                                   "area": _key(unit, area.record["id"])})
            rows["power_posts"] += [{"power": key, "post": _key(unit, post), "position": n}
                                    for n, post in enumerate(power.get("posts", []), 1)]
            rows["power_sources"] += [{"power": key, "source": _key(unit, source)} for source in power.get("sources", [])]
            for n, step in enumerate(power["steps"], 1):
                step_at = step_key(unit, power["id"], step["id"])
                rows["steps"].append({**_columns(fields.STEP, step), "key": step_at, "unit": unit, "power": key,
                                      "position": n, "post": _key(unit, step.get("post"))})
                rows["branches"] += [{**_columns(fields.BRANCH, branch), "unit": unit, "step": step_at, "position": b,
                                      "to_step": step_key(unit, power["id"], branch["to"]) if "to" in branch else None}
                                     for b, branch in enumerate(step.get("branches", []), 1)]
    rows["risk_steps"] = [{"risk": _key(unit, risk["id"]), "step": step_key(unit, risk["power"], step), "position": n}
                          for risk in register.risks() for n, step in enumerate(risk.get("steps", []), 1)]
    rows["measure_steps"] = [{"measure": _key(unit, measure["id"]), "step": f"{unit}-{reference}", "position": n}
                             for measure in register.measures() for n, reference in enumerate(measure.get("steps", []), 1)]
    return rows
