"""A register folder in, the rows of every table out: the part of a build that runs in parallel.

compile_register() validates one folder and turns it into rows, in riskcatalog.tables'
column order, with each risk's and measure's search text already expanded and, if asked, the
folder's history from git (riskcatalog.history). It needs nothing from the database, so compile_all() spreads many registers (a district, a city)
over worker processes while riskcatalog.db writes the rows in order.
"""

from __future__ import annotations

import concurrent.futures
import datetime
import functools
import json
import multiprocessing
import os
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Callable, Iterator

from . import history
from .catalog import REGISTER_FILE, Register, display_name, load_register, stored_folder
from .errors import CatalogError, CatalogInvalid
from .search import index_text
from .tables import RANKED_BY, SEARCHED, TABLES
from .yamlload import parse_date

#: From this many registers on, compile_all uses worker processes: below it, starting them
#: costs more than it saves.
PARALLEL_FROM = 4
WORKERS = os.cpu_count() or 1


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
    #: The history's rows, when another process is still reading the history: they come last.
    history_rows: Callable[[], dict[str, list[tuple]]] | None = None


def compile_register(folder: Path, with_rows: bool = True, with_history: bool = False,
                     history_of: Callable[[], history.History] | None = None,
                     previous: Path | None = None, untouched: bool = False) -> Compiled:
    """Validate one register folder and, if asked, turn it into rows, with or without its history
    (read here, or by history_of when another process reads it; previous is the database this build
    replaces, whose history is reused)."""
    try:
        register = load_register(folder)
    except CatalogInvalid as exc:
        return Compiled(folder, exc.errors)
    unit = register.unit["id"]
    compiled = Compiled(folder, [], register.summary(), unit, register.doc.error(("unit", "id"), ""),
                        keys=_slug_keys(register), rows=register_rows(register) if with_rows else {})
    if history_of:
        compiled.history_rows = lambda: history_rows(history_of(), folder, unit)
    elif with_rows:
        found = history.OFF if not with_history else history.UNTOUCHED if untouched else history.read(folder, previous)
        compiled.rows.update(history_rows(found, folder, unit))
    return compiled


def history_rows(found: history.History, folder: Path, unit: str) -> dict[str, list[tuple]]:
    """A register's history as rows of unit_history, commits and changes."""
    if found.reused_unit not in (None, unit):  # the unit was renamed: the reused rows have the old keys
        found = history.read(folder)
    return {table: [_values(table, row) for row in records] for table, records in found.rows(unit).items()}


def compile_all(folders: list[Path], errors: list[CatalogError], with_rows: bool = True,
                with_history: bool = False, previous: Path | None = None) -> Iterator[Compiled]:
    """The valid registers among folders, in order; every problem goes into errors.

    Two registers may not share a unit id, nor a key: a table's rows would collide.
    """
    units: dict[str, Path] = {}
    keys: dict[tuple[str, str], str] = {}  # (table, key) -> what it names, "source 'x' of unit 'y' (file:line)"
    for compiled in _compiled(folders, with_rows, with_history, previous):
        if not compiled.errors and compiled.unit in units:
            compiled.errors.append(replace(compiled.unit_at, message=_same_unit(compiled, units[compiled.unit])))
        if not compiled.errors:
            compiled.errors.extend(_shared_keys(compiled, keys))
        errors.extend(compiled.errors)
        if not compiled.errors:
            units[compiled.unit] = compiled.folder
            yield compiled


def _same_unit(compiled: Compiled, other: Path) -> str:
    if os.path.samefile(compiled.folder, other):
        return f"the folder {compiled.folder} is given twice — give each register folder once"
    return (f"unit {compiled.unit!r} is also the unit of {display_name(other, REGISTER_FILE)} — "
            "give each register its own unit id")


def _slug_keys(register: Register) -> list[tuple[str, str, str, CatalogError]]:
    """The keys of a register's sources and areas, each with what it names and where its id is.

    Only these can be shared by two registers: a unit id and a source or area id are both
    lower-case words joined by hyphens, so yijia + expropriation-regulation and
    yijia-expropriation + regulation give one key. A risk or measure id starts with a capital,
    which marks where the unit ends.
    """
    unit = register.unit["id"]
    keys = [("sources", _key(unit, source["id"]), f"source {source['id']!r} of unit {unit!r}",
             register.sources_doc.error(("sources", n, "id"), "")) for n, source in enumerate(register.sources)]
    return keys + [("areas", _key(unit, area.record["id"]), f"area {area.record['id']!r} of unit {unit!r}",
                    area.doc.error(("area", "id"), "")) for area in register.areas]


def _shared_keys(compiled: Compiled, keys: dict[tuple[str, str], str]) -> list[CatalogError]:
    """An error for each key of compiled that an earlier register has already; records the others.

    Within one register keys are unique already: its source ids and its area ids are.
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


def _compiled(folders: list[Path], with_rows: bool, with_history: bool, previous: Path | None) -> Iterator[Compiled]:
    work = functools.partial(compile_register, with_rows=with_rows, with_history=with_history, previous=previous)
    if len(folders) < PARALLEL_FROM and with_rows and with_history:
        # git and the reading of its history take as long as the rest of a small build: a thread reads
        # them meanwhile (git itself runs in its own processes; a forked pool worker could inherit a
        # lock another thread holds, such as tracemalloc's or logging's, and never start)
        with concurrent.futures.ThreadPoolExecutor(1) as reader:
            pending = [reader.submit(history.read, folder, previous) for folder in folders]
            for folder, found in zip(folders, pending):
                yield compile_register(folder, history_of=found.result)
        return
    if len(folders) < PARALLEL_FROM or WORKERS < 2:
        yield from map(work, folders)
        return
    # Most of a city's registers may never have been committed: one git process finds which.
    untouched = history.untouched(folders) if with_rows and with_history else set()
    tasks = [(folder, folder in untouched) for folder in folders]
    # imap keeps the folders' order, so the database comes out the same as a serial build's.
    with multiprocessing.Pool(WORKERS) as pool:  # the platform's start method: compile_register pickles
        yield from pool.imap(functools.partial(_task, work), tasks, chunksize=4)


def _task(work: Callable[..., Compiled], task: tuple[Path, bool]) -> Compiled:
    """One register for a worker: its folder, and whether no commit touched it."""
    folder, untouched = task
    return work(folder, untouched=untouched)


def register_rows(register: Register) -> dict[str, list[tuple]]:
    """Every table's rows for one validated register, and the search text of its risks and measures."""
    unit = register.unit["id"]
    reg = register.register
    review_days = {level["id"]: level["review_days"] for level in reg["levels"]}
    provenance = reg.get("provenance", {})
    controlled_by = _risks_by_measure(register)
    records = {
        "units": [{
            "id": unit, **{k: v for k, v in reg["unit"].items() if k != "id"},
            "provenance_source": _key(unit, provenance.get("source")),
            "provenance_note_zh": provenance.get("note_zh"), "provenance_note_en": provenance.get("note_en"),
            "languages": register.languages,
            "declared_risks": reg["totals"]["risks"], "declared_measures": reg["totals"]["measures"],
            "folder": stored_folder(register.folder)}],
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
    }
    folder = records["units"][0]["folder"]  # resolved once: a path's resolution is many system calls
    for record in (r for table_records in records.values() for r in table_records if "file" in r):
        record["file"] = f"{folder}/{record['file'].rpartition('/')[2]}"
    rows = {table: [_values(table, row) for row in table_records] for table, table_records in records.items()}
    also = found_by(register)
    for table, columns in SEARCHED.items():
        ranked = RANKED_BY.get(table)
        rows[f"{table}_search"] = [(*(_search_text({**row, **also.get((table, row["id"]), {})}, fields)
                                      for fields in columns.values()), *([row[ranked]] if ranked else []))
                                   for row in records[table]]
    return rows


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


def _values(table: str, row: dict) -> tuple:
    """A record as a tuple in the table's column order: absent columns NULL, lists as JSON."""
    columns = TABLES[table][0]
    if not row.keys() <= columns.keys():  # a bug here, not in the catalogue: the schema allows no other field
        raise KeyError(f"{table} has no column {sorted(row.keys() - columns.keys())}")
    return tuple(json.dumps(v, ensure_ascii=False) if isinstance(v, (list, dict)) else v
                 for v in map(row.get, columns))


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


def _risk_row(unit: str, seq: int, area_id: str, risk: dict, review_days: dict[str, int]) -> dict:
    reviewed = parse_date(risk["reviewed"])  # a real date from 1900 to 2100: the schema says so
    row = {k: v for k, v in risk.items() if k not in ("manifestations", "measures", "sources")}
    manifestations = risk.get("manifestations", [])
    rated = "likelihood" in risk  # a unit may give the level alone: no score then
    return {**row, "key": _key(unit, risk["id"]), "unit": unit, "seq": seq, "area": _key(unit, area_id),
            # Two lists of the same length: an English item missing is null, never a shifted pair.
            "manifestations_zh": [m["zh"] for m in manifestations],
            "manifestations_en": [m.get("en") for m in manifestations],
            "score": risk["likelihood"] * risk["impact"] if rated else None,
            "next_review": (reviewed + datetime.timedelta(days=review_days[risk["level"]])).isoformat(),
            "status": risk.get("status", "active"), "replaced_by": _key(unit, risk.get("replaced_by")),
            "measure_ids": risk["measures"], "source_ids": risk.get("sources", [])}


def _measure_row(unit: str, area_id: str, measure: dict, controlled: list[tuple[str, str]]) -> dict:
    row = {k: v for k, v in measure.items() if k != "sources"}
    return {**row, "key": _key(unit, measure["id"]), "unit": unit, "area": _key(unit, area_id),
            "status": measure.get("status", "active"), "replaced_by": _key(unit, measure.get("replaced_by")),
            "risk_ids": [risk_id for risk_id, _ in controlled],
            "area_ids": list(dict.fromkeys(area for _, area in controlled)),
            "source_ids": measure.get("sources", [])}
