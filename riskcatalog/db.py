"""Compile validated registers into a SQLite database with sqlite-utils.

Each build writes a new file beside the target and moves it into place only when
everything succeeded, so a failed build leaves the previous database byte-identical.
Keys are "<unit>-<id>" (e.g. yijia-LAND-01): ids are unique within a register only, and
single-column keys let Datasette link and label every foreign key.
"""

from __future__ import annotations

import datetime
import importlib.metadata
import os
import platform
import subprocess
import tempfile
from pathlib import Path
from typing import Iterable

import sqlite_utils

from . import vocab
from .catalog import REGISTER_FILE, Register, display_name, load_register
from .errors import CatalogInvalid
from .search import TOKENIZE, index_text


def bilingual(*names: str) -> dict[str, type]:
    return {f"{name}_{lang}": str for name in names for lang in ("zh", "en")}


LOOKUP = {"id": str, "label": str, "label_zh": str, "label_en": str, "rank": int}

#: Every table: columns (in order), primary key, foreign keys {column: (table, column)}.
TABLES: dict[str, tuple[dict, str | tuple, dict]] = {
    "levels": (LOOKUP, "id", {}),
    "categories": (LOOKUP, "id", {}),
    "measure_types": (LOOKUP, "id", {}),
    "natures": (LOOKUP, "id", {}),
    "source_kinds": (LOOKUP, "id", {}),
    "units": ({"id": str, **bilingual("name", "district", "city"), "provenance_source": str,
               **bilingual("provenance_note"), "declared_risks": int, "declared_measures": int, "folder": str},
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
}

#: Columns that may be empty; every other column is NOT NULL.
NULLABLE = {"number", "date", "replaced_by"}

#: Tables searched through Datasette: the table, its search table, and what gets indexed.
SEARCHED = {
    "risks": ("id", "title_zh", "title_en", "description_zh", "description_en", "post_zh", "post_en",
              "power_zh", "power_en", "manifestations_zh", "manifestations_en"),
    "measures": ("id", "title_zh", "title_en", "description_zh", "description_en", "owner_zh", "owner_en",
                 "evidence_zh", "evidence_en"),
}

REGISTER_VIEW = """
select
  u.name_zh as 单位, r.seq as 序号, a.name_zh as 领域, r.id as 编号, r.title_zh as 风险点,
  (select group_concat(value, '；') from json_each(r.manifestations_zh)) as 表现形式,
  l.label_zh as 风险等级,
  (select group_concat(label, '；') from (
     select m.id || ' ' || m.title_zh as label from risk_measures rm
     join measures m on m.key = rm.measure where rm.risk = r.key order by rm.position)) as 防控措施,
  r.responsible_post_zh as 直接责任人, r.responsible_leader_zh as 责任领导, r.supervisor_zh as 监督主体,
  r.key as risk_key
from risks r
join units u on u.id = r.unit
join areas a on a.key = r.area
join levels l on l.id = r.level
where r.status = 'active'
order by r.unit, r.seq
"""


def build(folders: Iterable[Path], output: Path, commit: str | None = None) -> list[Register]:
    """Validate and compile the register folders into output, atomically."""
    output = Path(output)
    fd, tmp = tempfile.mkstemp(dir=output.parent, prefix=f".{output.name}.", suffix=".tmp")
    os.close(fd)
    try:
        registers = _build_into(sqlite_utils.Database(tmp), [Path(f) for f in folders], commit)
        os.replace(tmp, output)
    except BaseException:
        os.unlink(tmp)
        raise
    return registers


def check(folders: Iterable[Path]) -> list[Register]:
    """Validate the register folders without building; raises CatalogInvalid with every error."""
    registers, errors = [], []
    for folder in folders:
        try:
            registers.append(load_register(folder))
        except CatalogInvalid as exc:
            errors.extend(exc.errors)
    if errors:
        raise CatalogInvalid(errors)
    return registers


def _build_into(db: sqlite_utils.Database, folders: list[Path], commit: str | None) -> list[Register]:
    # The file is private until os.replace, so a crash can only lose the temporary copy.
    db.execute("pragma journal_mode = off")
    db.execute("pragma synchronous = off")
    create_schema(db)
    registers, errors, units = [], [], {}
    for folder in folders:
        try:
            register = load_register(folder)
        except CatalogInvalid as exc:
            errors.extend(exc.errors)
            continue
        unit_id = register.unit["id"]
        if unit_id in units:
            errors.append(register.doc.error(("unit", "id"), f"unit {unit_id!r} is also the unit of "
                                                             f"{display_name(units[unit_id], REGISTER_FILE)} — give each register its own unit id"))
            continue
        units[unit_id] = folder
        if not errors:  # once the build is doomed, keep validating but stop writing
            insert_register(db, register)
        # Summaries only: a city's registers must not all stay in memory.
        registers.append(register.summary())
    if errors:
        raise CatalogInvalid(errors)
    finish(db, commit, folders)
    db.close()
    return registers


def create_schema(db: sqlite_utils.Database) -> None:
    """Create every table with types, NOT NULL, keys, foreign keys and indexes; fill the lookups."""
    for name, (columns, pk, foreign_keys) in TABLES.items():
        db[name].create(columns, pk=pk, not_null={c for c in columns if c not in NULLABLE},
                        foreign_keys=[(col, table, other) for col, (table, other) in foreign_keys.items()])
        for column in foreign_keys:
            if column != (pk[0] if isinstance(pk, tuple) else pk):  # a key's first column is indexed already
                db[name].create_index([column])
    db["units"].add_foreign_key("provenance_source", "sources", "key")
    db["units"].create_index(["provenance_source"])
    for name, words in (("levels", vocab.LEVELS), ("categories", vocab.CATEGORIES),
                        ("measure_types", vocab.MEASURE_TYPES), ("natures", vocab.NATURES),
                        ("source_kinds", vocab.SOURCE_KINDS)):
        db[name].insert_all(vocab.lookup_rows(words))


def _key(unit: str, entry_id: str | None) -> str | None:
    return f"{unit}-{entry_id}" if entry_id else None


def insert_register(db: sqlite_utils.Database, register: Register) -> None:
    """Insert one validated register's rows."""
    unit = register.unit["id"]
    reg = register.register
    db["units"].insert({
        "id": unit, **{k: v for k, v in reg["unit"].items() if k != "id"},
        "provenance_source": _key(unit, reg["provenance"]["source"]),
        "provenance_note_zh": reg["provenance"]["note_zh"], "provenance_note_en": reg["provenance"]["note_en"],
        "declared_risks": reg["totals"]["risks"], "declared_measures": reg["totals"]["measures"],
        "folder": str(register.folder),
    })
    review_days = {level["id"]: level["review_days"] for level in reg["levels"]}
    db["unit_levels"].insert_all({"unit": unit, "level": level["id"], "min_score": level["min_score"],
                                  "review_days": level["review_days"]} for level in reg["levels"])
    db["sources"].insert_all({"key": _key(unit, s["id"]), "unit": unit, "number": None, "date": None, **s}
                             for s in register.sources)
    db["areas"].insert_all({"key": _key(unit, a.record["id"]), "unit": unit, "position": n, **a.record}
                           for n, a in enumerate(register.areas, 1))
    controlled_by = _risks_by_measure(register)
    db["risks"].insert_all(_risk_row(unit, seq, area.record["id"], risk, review_days)
                           for seq, (area, risk) in enumerate(
                               ((a, r) for a in register.areas for r in a.risks), 1))
    db["measures"].insert_all(_measure_row(unit, area.record["id"], measure, controlled_by.get(measure["id"], []))
                              for area in register.areas for measure in area.measures)
    db["risk_measures"].insert_all({"risk": _key(unit, r["id"]), "measure": _key(unit, m), "position": n}
                                   for r in register.risks() for n, m in enumerate(r["measures"], 1))
    db["risk_sources"].insert_all({"risk": _key(unit, r["id"]), "source": _key(unit, s)}
                                  for r in register.risks() for s in r["sources"])
    db["measure_sources"].insert_all({"measure": _key(unit, m["id"]), "source": _key(unit, s)}
                                     for m in register.measures() for s in m.get("sources", []))


def _risks_by_measure(register: Register) -> dict[str, list[tuple[str, str]]]:
    """measure id -> [(risk id, area id)] in register order: the reverse of each risk's links."""
    result: dict[str, list[tuple[str, str]]] = {}
    for area in register.areas:
        for risk in area.risks:
            for measure_id in risk["measures"]:
                result.setdefault(measure_id, []).append((risk["id"], area.record["id"]))
    return result


def _risk_row(unit: str, seq: int, area_id: str, risk: dict, review_days: dict[str, int]) -> dict:
    reviewed = datetime.date.fromisoformat(risk["reviewed"])
    row = {k: v for k, v in risk.items() if k not in ("manifestations", "measures", "sources")}
    return {**row, "key": _key(unit, risk["id"]), "unit": unit, "seq": seq, "area": _key(unit, area_id),
            "manifestations_zh": [m["zh"] for m in risk["manifestations"]],
            "manifestations_en": [m["en"] for m in risk["manifestations"]],
            "score": risk["likelihood"] * risk["impact"],
            "next_review": (reviewed + datetime.timedelta(days=review_days[risk["level"]])).isoformat(),
            "status": risk.get("status", "active"), "replaced_by": _key(unit, risk.get("replaced_by")),
            "measure_ids": risk["measures"], "source_ids": risk["sources"]}


def _measure_row(unit: str, area_id: str, measure: dict, controlled: list[tuple[str, str]]) -> dict:
    row = {k: v for k, v in measure.items() if k != "sources"}
    return {**row, "key": _key(unit, measure["id"]), "unit": unit, "area": _key(unit, area_id),
            "status": measure.get("status", "active"), "replaced_by": _key(unit, measure.get("replaced_by")),
            "risk_ids": [risk_id for risk_id, _ in controlled],
            "area_ids": list(dict.fromkeys(area for _, area in controlled)),
            "source_ids": measure.get("sources", [])}


def finish(db: sqlite_utils.Database, commit: str | None, folders: list[Path]) -> None:
    """Search indexes, the register view, build facts, and the integrity checks."""
    # Any number of columns: sqlite-utils' register_function only knows fixed arities.
    db.conn.create_function("index_text", -1, index_text, deterministic=True)
    for table, columns in SEARCHED.items():
        search = f"{table}_search"
        # rowid of the search row = rowid of the record, so Datasette's table search can use it.
        db[search].create({"rowid": int, "text": str}, pk="rowid")
        db.execute(f"insert into [{search}] (rowid, text) select rowid, index_text("
                   + ", ".join(f"[{c}]" for c in columns) + f") from [{table}]")
        db[search].enable_fts(["text"], tokenize=TOKENIZE, create_triggers=False)
    db.create_view("register", REGISTER_VIEW.strip())
    db["build_info"].insert_all({"key": k, "value": str(v)} for k, v in _build_facts(db, commit, folders).items())
    problems = list(db.execute("pragma foreign_key_check").fetchall())
    integrity = db.execute("pragma integrity_check").fetchone()[0]
    if problems or integrity != "ok":  # a bug in this module, not in the catalogue
        raise RuntimeError(f"database checks failed: foreign keys {problems[:5]}, integrity {integrity}")


def _build_facts(db: sqlite_utils.Database, commit: str | None, folders: list[Path]) -> dict:
    return {
        "catalog_commit": commit or git_commit(folders[0]) or "unknown",
        "units": db["units"].count, "risks": db["risks"].count, "measures": db["measures"].count,
        "sqlite_utils_version": importlib.metadata.version("sqlite-utils"),
        "sqlite_version": db.execute("select sqlite_version()").fetchone()[0],
        "python_version": platform.python_version(),
    }


def git_commit(folder: Path) -> str | None:
    """The commit the catalogue folder was last committed at, if it is in a git work tree."""
    try:
        out = subprocess.run(["git", "-C", str(folder), "log", "-1", "--format=%H", "--", "."],
                             capture_output=True, text=True, timeout=10)
    except (OSError, subprocess.TimeoutExpired):
        return None
    return out.stdout.strip() or None
