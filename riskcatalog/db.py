"""Write compiled registers (riskcatalog.compile) into a SQLite database with sqlite-utils.

Keys are "<unit>-<id>" (e.g. yijia-LAND-01): ids are unique within a register only, and
single-column keys let Datasette link and label every foreign key.
"""

from __future__ import annotations

import importlib.metadata
import platform
from pathlib import Path

import sqlite_utils

from . import fields, git, vocab
from .search import TOKENIZE
from .tables import SEARCH_INDEXES, SEARCHED, TABLES, index_columns, index_name, nullable


#: A number as a circled numeral (① to ⑳), the way registers number the items of one cell.
def _circled(number: str) -> str:
    return f"(case when {number} between 1 and 20 then char(9311 + {number}) else {number} || '.' end)"


#: How the 登记表 view shows a field of a kind (r is the risk, u its unit, a its area, l its level):
#: the items of one cell (a risk's manifestations, measures, sources) numbered and on lines of their own.
_REGISTER_CELLS = {
    fields.ITEMS: lambda f: f"""(select group_concat({_circled("j.key + 1")} || ' ' || j.value, char(10))
     from json_each(r.{f.name}_zh) j)""",
    fields.CHOICE: lambda f: "l.label_zh" if f.name == "level" else f"r.{f.name}",
    fields.TEXT: lambda f: f"r.{f.name}_zh",
    fields.COMPUTED: lambda f: f"r.{f.name}",
}
_REGISTER_LISTS = {
    "measures": f"""(select group_concat(item, char(10)) from (
     select {_circled("rm.position")} || ' ' || m.id || ' ' || m.title_zh as item from risk_measures rm
     join measures m on m.key = rm.measure where rm.risk = r.key order by rm.position))""",
    "sources": """(select group_concat('《' || s.title_zh || '》', char(10)) from risk_sources x
     join sources s on s.key = x.source where x.risk = r.key)""",
    # the steps of its power where the risk arises, one a line, in the order the risk names them
    "steps": """(select group_concat(title, char(10)) from (select s.title_zh as title from risk_steps x
     join steps s on s.key = x.step where x.risk = r.key order by x.position))""",
}


def _register_cell(record: str, name: str) -> str:
    if record != "risk":  # the unit's and the area's name
        return f"{record[0]}.name_zh"
    f = fields.RISK[name]
    return _REGISTER_LISTS[name] if f.kind == fields.IDS else _REGISTER_CELLS[f.kind](f)


def register_view() -> str:
    """The register in the Chinese 登记表 layout, one row per active risk, with the risk's id after its area;
    _risk is the row's key."""
    cells = []
    for record, name in fields.REGISTER_COLUMNS:
        cells.append(f"{_register_cell(record, name)} as {fields.register_heading(record, name)}")
        if (record, name) == ("area", "name"):
            cells.append(f"r.id as {fields.RISK['id'].zh}")
    return f"""select
  {(',' + chr(10) + '  ').join(cells)},
  r.key as _risk
from risks r
join units u on u.id = r.unit
join areas a on a.key = r.area
join levels l on l.id = r.level
where r.status = 'active'
order by r.unit, r.seq"""


#: Active risks per level, as columns of area_summary: one per level of the vocabulary.
_LEVEL_COUNTS = "".join(f"sum(level = '{level}') as {level}, " for level in vocab.LEVELS)

#: What the home page shows, computed once per build: over a city's registers the same
#: aggregates would scan every risk on every page view. Table -> (columns, key, rows).
SUMMARIES: dict[str, tuple[dict, str | tuple, str]] = {
    "area_summary": ({"id": str, "name_zh": str, "name_en": str, "key": str, "position": int, "units": int,
                      **{level: int for level in vocab.LEVELS}, "risks": int, "measures": int}, "id", f"""
        with r as (select area, {_LEVEL_COUNTS}count(*) as risks
                   from risks where status = 'active' group by area),
             m as (select area, count(*) as measures from measures where status = 'active' group by area)
        select a.id, min(a.name_zh), min(a.name_en), min(a.key), min(a.position), count(*),
               {"".join(f"coalesce(sum(r.{level}), 0), " for level in vocab.LEVELS)}
               coalesce(sum(r.risks), 0), coalesce(sum(m.measures), 0)
        from areas a left join r on r.area = a.key left join m on m.area = a.key
        group by a.id"""),
    # Every cell of the 5 × 5 matrix, empty ones too, with the level most registers' matrices give
    # it (ties to the higher level): registers may set their own thresholds.
    "heatmap": ({"likelihood": int, "impact": int, "score": int, "level": str, "risks": int},
                ("likelihood", "impact"), """
        with ratings(n) as (values (1), (2), (3), (4), (5)),
             cells as (select l.n as likelihood, i.n as impact from ratings l, ratings i),
             unit_cells as (
               select c.likelihood, c.impact,
                      (select ul.level from unit_levels ul where ul.unit = u.id
                         and ul.min_score <= c.likelihood * c.impact order by ul.min_score desc limit 1) as level
               from cells c, units u),
             votes as (
               select uc.likelihood, uc.impact, uc.level, row_number() over (
                        partition by uc.likelihood, uc.impact order by count(*) desc, min(lv.rank)) as place
               from unit_cells uc join levels lv on lv.id = uc.level
               group by uc.likelihood, uc.impact, uc.level),
             counts as (select likelihood, impact, count(*) as risks from risks where status = 'active'
                        group by likelihood, impact)
        select v.likelihood, v.impact, v.likelihood * v.impact, v.level, coalesce(c.risks, 0)
        from votes v left join counts c on c.likelihood = v.likelihood and c.impact = v.impact
        where v.place = 1"""),
}


#: Bytes per database page (set before the first table is created).
PAGE_SIZE = 16384
#: Memory each search index gathers its terms in before writing them (FTS5's 'hashsize').
FTS_HASH_BYTES = 32 * 1024 * 1024
#: Page cache while building: well under the 1 GB the build may use at city scale.
BUILD_CACHE_KIB = 256 * 1024


def open_private(path: Path) -> sqlite_utils.Database:
    """A new database file only this build sees until it is moved into place: no journal, no syncs."""
    db = sqlite_utils.Database(path)
    # Pages of 16 KiB hold a risk's or measure's row (2 KB of bilingual text) without leaving half of
    # each page empty, as 4 KiB pages do: a city's database is a tenth smaller (docs/benchmarks.md).
    db.execute(f"pragma page_size = {PAGE_SIZE}")
    # The file is private until it replaces the target, so a crash can only lose this copy.
    db.execute("pragma journal_mode = off")
    db.execute("pragma synchronous = off")
    # A city's indexes and search index outgrow SQLite's default 2 MB cache many times over.
    db.execute(f"pragma cache_size = -{BUILD_CACHE_KIB}")
    return db


def create_schema(db: sqlite_utils.Database) -> None:
    """Create every table with types, NOT NULL, keys and foreign keys; fill the lookups."""
    for name, (columns, pk, foreign_keys) in TABLES.items():
        db[name].create(columns, pk=pk, not_null={c for c in columns if not nullable(name, c)},
                        foreign_keys=[(col, table, other) for col, (table, other) in foreign_keys.items()])
    db["units"].add_foreign_key("provenance_source", "sources", "key")
    for table in SEARCHED:
        for index in SEARCH_INDEXES:  # the whole text, and the headings alone
            name = index_name(table, index)
            # The search index alone, without a copy of its text (contentless): the text is derived from the
            # record's own columns (riskcatalog.search.index_text), and pages read the record, never the
            # index's text. Its rowid is the record's, so Datasette's table search (fts_table in metadata.yml)
            # uses it. Which column holds each token, not where in it (detail=column): the index is half the
            # size, and a word is found as its pairs (riskcatalog.search.phrase_query). sqlite-utils'
            # enable_fts always keeps a content table and every position. (The column sizes stay: without
            # them the index cannot be read row by row, as a count or a dump does.)
            db.execute(f"create virtual table [{name}] using fts5({', '.join(index_columns(table, index))}, "
                       f"content='', detail=column, tokenize='{TOKENIZE}')")
            # Terms gathered in memory up to FTS_HASH_BYTES before each write: fewer, larger segments to merge
            # (a city's index is a tenth smaller and quicker to write than with FTS5's 1 MB).
            db.execute(f"insert into [{name}]([{name}], rank) values ('hashsize', {FTS_HASH_BYTES})")
    for name, rows in vocab.LOOKUPS.items():
        db[name].insert_all(rows())


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
            texts = [(rowid, *columns) for rowid, columns in enumerate(rows[f"{table}_search"], first)]
            full = index_columns(table)
            for index in SEARCH_INDEXES:  # each index's columns, picked from the whole text's
                picked = [full.index(column) + 1 for column in index_columns(table, index)]
                _insert_many(db, index_name(table, index), ["rowid", *index_columns(table, index)],
                             texts if index == "search" else [(t[0], *map(t.__getitem__, picked)) for t in texts])
        _insert_many(db, table, list(columns), rows[table])


def _insert_many(db: sqlite_utils.Database, table: str, columns: list[str], rows) -> None:
    db.conn.executemany(f"insert into [{table}] ({', '.join(f'[{c}]' for c in columns)}) "
                        f"values ({', '.join('?' * len(columns))})", rows)


#: Indexes beyond one per foreign key: the risks table's default sort (Datasette orders by
#: the sort column, then the key), the heat map's lists and an area's risks of one level; an id typed
#: as a search or a short address (a city holds each id thousands of times); an entry's history,
#: newest first; the changes of a period; the changes page's filters.
INDEXES = {"risks": [("seq", "key"), ("likelihood", "impact"), ("area", "level"), ("id",)],
           "measures": [("id",)],
           "changes": [("entry", "date"), ("date",), ("day",), ("area", "date")]}

#: Partial indexes of the withdrawn entries, few among many: the search page leaves them out by
#: rowid without reading the active ones (an index on all statuses would mislead the planner).
PARTIAL_INDEXES = [f"create index {table}_withdrawn on {table}(status) where status != 'active'"
                   for table in ("risks", "measures")]


def create_indexes(db: sqlite_utils.Database) -> None:
    """An index on every foreign key (joins, facets) and the INDEXES; made once the rows are in,
    which is faster than keeping them up to date row by row."""
    for table in db.tables:
        # A key's first column is indexed already, and so is the first column of one of the INDEXES.
        keys = {fk.column for fk in table.foreign_keys} - {table.pks[0]} - {c[0] for c in INDEXES.get(table.name, [])}
        for columns in [(column,) for column in sorted(keys)] + INDEXES.get(table.name, []):
            table.create_index(columns)
    for statement in PARTIAL_INDEXES:  # sqlite-utils' create_index has no WHERE
        db.execute(statement)


def finish(db: sqlite_utils.Database, commit: str | None, folders: list[Path]) -> None:
    """Indexes, summaries, the register view, build facts, and the integrity checks."""
    db.create_view("register", register_view())
    for name, (columns, pk, rows) in SUMMARIES.items():
        level_key = [("level", "levels", "id")] if "level" in columns else []
        english = {column for column in columns if column.endswith("_en")}  # empty in a register kept in Chinese
        db[name].create(columns, pk=pk, not_null=set(columns) - english, foreign_keys=level_key)
        db.execute(f"insert into [{name}] ({', '.join(columns)}) {rows}")
    create_indexes(db)
    db["build_info"].insert_all({"key": k, "value": str(v)} for k, v in _build_facts(db, commit, folders).items())
    db.conn.commit()  # insert_rows leaves its rows in the connection's open transaction
    problems = list(db.execute("pragma foreign_key_check").fetchall())
    integrity = db.execute("pragma integrity_check").fetchone()[0]
    if problems or integrity != "ok":  # a bug in this module, not in the catalogue
        raise RuntimeError(f"database checks failed: foreign keys {problems[:5]}, integrity {integrity}")


def _build_facts(db: sqlite_utils.Database, commit: str | None, folders: list[Path]) -> dict:
    return {
        "catalog_commit": commit or git.last_commit(folders[0]) or "unknown",
        "units": db["units"].count, "risks": db["risks"].count, "measures": db["measures"].count,
        "sqlite_utils_version": importlib.metadata.version("sqlite-utils"),
        "sqlite_version": db.execute("select sqlite_version()").fetchone()[0],
        "python_version": platform.python_version(),
    }

