"""Write compiled registers (riskcatalog.compile) into a SQLite database with sqlite-utils.

Each build writes a new file beside the target and moves it into place only when
everything succeeded, so a failed build leaves the previous database byte-identical.
Keys are "<unit>-<id>" (e.g. yijia-LAND-01): ids are unique within a register only, and
single-column keys let Datasette link and label every foreign key.
"""

from __future__ import annotations

import importlib.metadata
import os
import platform
import subprocess
import tempfile
from pathlib import Path
from typing import Iterable

import sqlite_utils

from . import vocab
from .compile import compile_all
from .errors import CatalogInvalid
from .search import TOKENIZE
from .tables import NULLABLE, SEARCHED, TABLES


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


#: What the home page shows, computed once per build: over a city's registers the same
#: aggregates would scan every risk on every page view. Table -> (columns, key, rows).
SUMMARIES: dict[str, tuple[dict, str | tuple, str]] = {
    "area_summary": ({"id": str, "name_zh": str, "name_en": str, "key": str, "position": int, "units": int,
                      "high": int, "medium": int, "low": int, "risks": int, "measures": int}, "id", """
        with r as (select area, sum(level = 'high') as high, sum(level = 'medium') as medium,
                          sum(level = 'low') as low, count(*) as risks
                   from risks where status = 'active' group by area),
             m as (select area, count(*) as measures from measures where status = 'active' group by area)
        select a.id, min(a.name_zh), min(a.name_en), min(a.key), min(a.position), count(*),
               coalesce(sum(r.high), 0), coalesce(sum(r.medium), 0), coalesce(sum(r.low), 0),
               coalesce(sum(r.risks), 0), coalesce(sum(m.measures), 0)
        from areas a left join r on r.area = a.key left join m on m.area = a.key
        group by a.id"""),
    "heatmap": ({"likelihood": int, "impact": int, "risks": int}, ("likelihood", "impact"), """
        select likelihood, impact, count(*) from risks where status = 'active'
        group by likelihood, impact"""),
}


def build(folders: Iterable[Path], output: Path, commit: str | None = None) -> list[str]:
    """Validate and compile the register folders into output, atomically; their summaries."""
    output = Path(output)
    fd, tmp = tempfile.mkstemp(dir=output.parent, prefix=f".{output.name}.", suffix=".tmp")
    os.close(fd)
    try:
        summaries = _build_into(sqlite_utils.Database(tmp), [Path(f) for f in folders], commit)
        os.replace(tmp, output)
    except BaseException:
        os.unlink(tmp)
        raise
    return summaries


def check(folders: Iterable[Path]) -> list[str]:
    """Validate the register folders without building: their summaries, or CatalogInvalid with every error."""
    errors: list = []
    summaries = [compiled.summary for compiled in compile_all([Path(f) for f in folders], errors, with_rows=False)]
    if errors:
        raise CatalogInvalid(errors)
    return summaries


#: Page cache while building: well under the 1 GB the build may use at city scale.
BUILD_CACHE_KIB = 256 * 1024


def _build_into(db: sqlite_utils.Database, folders: list[Path], commit: str | None) -> list[str]:
    # The file is private until os.replace, so a crash can only lose the temporary copy.
    db.execute("pragma journal_mode = off")
    db.execute("pragma synchronous = off")
    # A city's indexes and search index outgrow SQLite's default 2 MB cache many times over.
    db.execute(f"pragma cache_size = -{BUILD_CACHE_KIB}")
    create_schema(db)
    # Summaries only: a city's registers must not all stay in memory.
    summaries, errors = [], []
    for compiled in compile_all(folders, errors):
        if not errors:  # once the build is doomed, keep validating but stop writing
            insert_rows(db, compiled.rows)
        summaries.append(compiled.summary)
    if errors:
        raise CatalogInvalid(errors)
    finish(db, commit, folders)
    db.close()
    return summaries


def create_schema(db: sqlite_utils.Database) -> None:
    """Create every table with types, NOT NULL, keys and foreign keys; fill the lookups."""
    for name, (columns, pk, foreign_keys) in TABLES.items():
        db[name].create(columns, pk=pk, not_null={c for c in columns if c not in NULLABLE},
                        foreign_keys=[(col, table, other) for col, (table, other) in foreign_keys.items()])
    db["units"].add_foreign_key("provenance_source", "sources", "key")
    for table in SEARCHED:
        # rowid of the search row = rowid of the record, so Datasette's table search can use it.
        db[f"{table}_search"].create({"rowid": int, "text": str}, pk="rowid")
    for name, words in (("levels", vocab.LEVELS), ("categories", vocab.CATEGORIES),
                        ("measure_types", vocab.MEASURE_TYPES), ("natures", vocab.NATURES),
                        ("source_kinds", vocab.SOURCE_KINDS)):
        db[name].insert_all(vocab.lookup_rows(words))


def insert_rows(db: sqlite_utils.Database, rows: dict[str, list[tuple]]) -> None:
    """Write one compiled register's rows; its search texts take the rowids of their records.

    executemany rather than sqlite-utils' insert_all, which inspects every value and re-plans
    each batch: at city scale that was a third of the build (docs/benchmarks.md).
    """
    for table, (columns, _, _) in TABLES.items():
        if table not in rows:
            continue
        if table in SEARCHED:  # the records written next take the rowids from `first` on, in order
            first = db.conn.execute(f"select coalesce(max(rowid), 0) + 1 from [{table}]").fetchone()[0]
            db.conn.executemany(f"insert into [{table}_search] (rowid, text) values (?, ?)",
                                ((rowid, text) for rowid, (text,) in enumerate(rows[f"{table}_search"], first)))
        db.conn.executemany(f"insert into [{table}] ({', '.join(f'[{c}]' for c in columns)}) "
                            f"values ({', '.join('?' * len(columns))})", rows[table])


#: Indexes beyond one per foreign key: the risks table's default sort (Datasette orders by
#: the sort column, then the key) and the heat map's links.
INDEXES = {"risks": [("seq", "key"), ("likelihood", "impact")]}


def create_indexes(db: sqlite_utils.Database) -> None:
    """An index on every foreign key (joins, facets) and the INDEXES; made once the rows are in,
    which is faster than keeping them up to date row by row."""
    for table in db.tables:
        keys = {fk.column for fk in table.foreign_keys} - {table.pks[0]}  # a key's first column is indexed already
        for columns in [(column,) for column in sorted(keys)] + INDEXES.get(table.name, []):
            table.create_index(columns)


def finish(db: sqlite_utils.Database, commit: str | None, folders: list[Path]) -> None:
    """Indexes, search, summaries, the register view, build facts, and the integrity checks."""
    create_indexes(db)
    for table in SEARCHED:
        db[f"{table}_search"].enable_fts(["text"], tokenize=TOKENIZE, create_triggers=False)
    db.create_view("register", REGISTER_VIEW.strip())
    for name, (columns, pk, rows) in SUMMARIES.items():
        db[name].create(columns, pk=pk, not_null=set(columns))
        db.execute(f"insert into [{name}] ({', '.join(columns)}) {rows}")
    db["build_info"].insert_all({"key": k, "value": str(v)} for k, v in _build_facts(db, commit, folders).items())
    db.conn.commit()  # insert_rows leaves its rows in the connection's open transaction
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
