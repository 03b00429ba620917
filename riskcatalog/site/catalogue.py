"""Which database the site serves as the catalogue: recognised by what it holds, whatever its name.

A catalogue database is one riskcatalog's build wrote: it has the tables the site's pages read
(TABLES) and the build's facts (build_info, BUILD_FACTS). The file may be called anything:
catalog.db, hanzheng.db, 易家街道.db. One server shows one catalogue: the first catalogue
database given (in the order of the command line) gets the site (home page, search, lists,
entry pages, changes, downloads, ready-made queries). A second catalogue database is served as
plain Datasette, and so is any database that is not a catalogue; the log says why, and the home
page names the catalogues it does not show. (Several registers are shown together by building
them into one database: `python build.py reg1 reg2 -o district.db`.)

What every catalogue database is served with (table titles, column descriptions, facets, the
ready-made queries) ships with the package in catalogue.yml, read by metadata(); a deployment's
metadata.yml may override any of it.
"""

from __future__ import annotations

import functools
import logging
import weakref
from dataclasses import dataclass, field
from pathlib import Path

import yaml

from .. import fields
from . import datasette_adapter

LOG = logging.getLogger("riskcatalog.site")

#: The tables and views the site's pages read; a database holding them all (and BUILD_FACTS) is a catalogue.
TABLES = ("units", "areas", "risks", "measures", "sources", "risk_measures", "risk_sources", "measure_sources",
          "levels", "categories", "measure_types", "natures", "source_kinds", "area_summary", "heatmap",
          "register", "build_info", "unit_history", "commits", "changes", "change_kinds", "entry_kinds",
          "posts", "powers", "steps", "branches", "risk_steps", "measure_steps", "power_posts", "power_sources",
          "risks_search_fts", "measures_search_fts", "sources_search_fts")
#: Facts the build writes into build_info (riskcatalog.db).
BUILD_FACTS = ("catalog_commit", "units", "risks", "measures")
#: Databases Datasette adds by itself, which are nobody's register.
DATASETTE_OWN = ("_internal", "_memory")


@dataclass(frozen=True)
class Recognition:
    """What a server's databases are: the catalogue it shows, other catalogues, and the rest with why."""

    served: str | None = None
    #: Catalogue databases beyond the first: served as plain Datasette (one catalogue per site).
    unshown: tuple[str, ...] = ()
    #: Databases that are not catalogues: name -> why, in Chinese and English.
    plain: dict[str, str] = field(default_factory=dict)

    def log_lines(self) -> list[str]:
        """What the log says about the databases that do not get the catalogue's pages."""
        lines = [f"riskcatalog: {name} 按普通 Datasette 提供，没有目录页面。{name} is served as plain Datasette, "
                 f"without the catalogue's pages. {why}" for name, why in self.plain.items()]
        if self.unshown:
            others = "、".join(self.unshown)
            lines.append(f"riskcatalog: 本站展示目录数据库 {self.served}；{others} 也是目录数据库，按普通 Datasette 提供"
                         f"（一个站点展示一个目录）。The site shows the catalogue {self.served}; {', '.join(self.unshown)}"
                         " is served as plain Datasette, one catalogue per site: build registers into one database "
                         "(build.py reg1 reg2 -o district.db), or serve each database on its own.")
        return lines


def catalogue_database(datasette):
    """The catalogue database the site serves (a Datasette Database: .name for its URLs), or None.

    Every page of the site asks this, never a database name: the catalogue may be called anything."""
    served = recognised(datasette).served
    return datasette.get_database(served) if served else None


#: Each Datasette's recognition, with the names of the databases it was made from (recognised
#: again if databases are added or removed).
_RECOGNISED: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()


def recognised(datasette) -> Recognition:
    """Which of datasette's databases are catalogues, read once per set of databases.

    Synchronous, as Datasette asks for the site's routes before it starts: each database's
    schema is read straight from its file (datasette_adapter.schema_of)."""
    names = tuple(datasette.databases)
    known = _RECOGNISED.get(datasette)
    if known is None or known[0] != names:
        known = _RECOGNISED[datasette] = (names, _recognise(datasette, names))
    return known[1]


def _recognise(datasette, names: tuple[str, ...]) -> Recognition:
    catalogues, plain = [], {}
    for name in names:
        if name in DATASETTE_OWN:
            continue
        why = not_a_catalogue(datasette_adapter.schema_of(datasette.get_database(name)))
        if why:
            plain[name] = why
        else:
            catalogues.append(name)
    return Recognition(catalogues[0] if catalogues else None, tuple(catalogues[1:]), plain)


def not_a_catalogue(schema: datasette_adapter.Schema) -> str | None:
    """Why a database with this schema is not a catalogue (in Chinese, then English), or None if it is one."""
    if schema.error:
        return f"无法读取（{schema.error}）。It could not be read: {schema.error}."
    missing = [table for table in TABLES if table not in schema.tables]
    if len(missing) == len(TABLES):
        return "它不含廉政风险目录的任何表。It has none of the catalogue's tables (risks, measures, areas, …)."
    if missing:
        listed = ", ".join(missing[:6]) + (", …" if len(missing) > 6 else "")
        return (f"缺少目录的表 {listed}，可能由旧版本构建，请重新构建。"
                f"It lacks the catalogue's tables {listed}: built by an older riskcatalog? Build it again.")
    facts = [fact for fact in BUILD_FACTS if fact not in schema.build_facts]
    if facts:
        return (f"build_info 缺少 {', '.join(facts)}，不是 riskcatalog 构建的数据库。"
                f"Its build_info lacks {', '.join(facts)}: riskcatalog's build did not write it.")
    return None


def log_recognition(datasette) -> None:
    """Say in the log which databases are served without the catalogue's pages, and why."""
    for line in recognised(datasette).log_lines():
        LOG.warning(line)


@functools.cache
def metadata() -> dict:
    """What every catalogue database is served with: its description, each table's title, description,
    column descriptions, facets, sort and search, and the ready-made queries (catalogue.yml).

    The one place the site's table and column wording comes from; the columns of the tables a register
    fills are described by the field registry, and catalogue.yml names fields as {risk.supervisor} (their labels,
    fields.labelled). A deployment's metadata.yml (databases: <name>: …)
    overrides it key by key."""
    found = yaml.safe_load(fields.labelled((Path(__file__).parent / "catalogue.yml").read_text(encoding="utf-8")))
    for table in fields.REGISTER_TABLES:
        found["tables"][table]["columns"] = {column.name: column.description for column in fields.table_columns(table)}
    return found
