"""The data behind the catalogue's own pages: home, risk, measure and area.

Each function runs a few small queries against the catalogue database (whatever its name:
riskcatalog.site.catalogue) and returns the variables its template (templates/home.html,
entry-*.html) renders.
"""

from __future__ import annotations

import json
import weakref
from urllib.parse import urlencode

from .. import fields
from . import identity
from .catalogue import catalogue_database
from .datasette_adapter import canned_queries


async def query_rows(db, sql: str, **params) -> list[dict]:
    return [dict(row) for row in (await db.execute(sql, params)).rows]


async def query_one(db, sql: str, **params) -> dict | None:
    rows = await query_rows(db, sql, **params)
    return rows[0] if rows else None


def list_url(datasette, **filters) -> str:
    """The list page of the entries these filters pick (riskcatalog.site.search): /search?level=high."""
    return datasette.urls.path("/search?" + urlencode(filters))


async def _edit_url(datasette, entry: dict) -> str | None:
    """Link to the entry's YAML file and line in the repository its register is kept in, if it names one."""
    kept = identity.repository(datasette, (await identity.units(datasette)).get(entry.get("unit")))
    if not kept or not entry.get("file"):
        return None
    return f"{kept[0]}/blob/{kept[1]}/{entry['file']}#L{entry['line']}"


#: Each served Datasette's levels: read once, as the database is served immutable.
_LEVELS: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()


async def levels(datasette) -> list[dict]:
    """The levels, highest first, with their labels and colours (the levels table)."""
    if datasette not in _LEVELS:
        _LEVELS[datasette] = await query_rows(catalogue_database(datasette), "select * from levels order by rank")
    return _LEVELS[datasette]


async def home(datasette) -> dict:
    db = catalogue_database(datasette)  # the home route exists only when there is one
    # area_summary and heatmap are computed by the build (riskcatalog.db.SUMMARIES).
    areas = await query_rows(db, "select * from area_summary order by position, id")
    totals = await query_one(db, "select (select count(*) from units) as units, "
                            "(select count(*) from sources) as sources, (select count(*) from powers) as powers, "
                            "(select count(*) from posts) as posts")
    totals.update(risks=sum(a["risks"] for a in areas), measures=sum(a["measures"] for a in areas))
    unit = await query_one(db, """
        select u.*, s.title_zh as report_title_zh, s.title_en as report_title_en, s.date as report_date,
               s.issuer_zh as report_issuer_zh, s.issuer_en as report_issuer_en, s.key as report_key
        from units u left join sources s on s.key = u.provenance_source order by u.id limit 1""")
    for area in areas:
        area["url"] = (datasette.urls.row(db.name, "areas", area["key"]) if area["units"] == 1
                       else list_url(datasette, area=area["id"]))
    queries = await canned_queries(datasette, db.name)
    return {"catalog": {
        "totals": totals, "unit": unit, "areas": areas,
        "heatmap": await _heatmap(datasette, db),
        "queries": [{"name": name, "title": q.get("title", name), "description": q.get("description", ""),
                     "url": datasette.urls.query(db.name, name)} for name, q in queries.items()
                    if q.get("listed", True)],
    }}


async def _heatmap(datasette, db) -> list[list[dict]]:
    """5 × 5 likelihood × impact cells, likelihood 5 on top, each with its count, level and link.

    The build computed each cell's count and level (riskcatalog.db.SUMMARIES); a cell no matrix
    covers has no level.
    """
    cells = {(r["likelihood"], r["impact"]): r for r in await query_rows(db, "select * from heatmap")}
    grid = []
    for likelihood in range(5, 0, -1):
        row = []
        for impact in range(1, 6):
            cell = cells.get((likelihood, impact), {})
            row.append({"likelihood": likelihood, "impact": impact, "score": likelihood * impact,
                        "count": cell.get("risks", 0), "level": cell.get("level"),
                        "url": list_url(datasette, likelihood=likelihood, impact=impact)})
        grid.append(row)
    return grid


async def risk_page(datasette, key: str) -> dict:
    db = catalogue_database(datasette)
    risk = await query_one(db, """
        select r.*, a.name_zh as area_zh, a.name_en as area_en, l.label_zh as level_zh, l.label_en as level_en,
               c.label_zh as category_zh, c.label_en as category_en, u.name_zh as unit_zh, u.name_en as unit_en
        from risks r join areas a on a.key = r.area join levels l on l.id = r.level
        left join categories c on c.id = r.category join units u on u.id = r.unit
        where r.key = :key""", key=key)
    if risk is None:
        return {}
    return {"entry": risk,
            "manifestations": list(zip(json.loads(risk["manifestations_zh"]), json.loads(risk["manifestations_en"]))),
            "measures": await query_rows(db, """
                select m.key, m.id, m.title_zh, m.title_en, m.type, m.owner_zh, m.owner_en, m.frequency_zh, m.status,
                       t.label_zh as type_zh, t.label_en as type_en, n.label_zh as nature_zh, n.label_en as nature_en
                from risk_measures rm join measures m on m.key = rm.measure
                left join measure_types t on t.id = m.type left join natures n on n.id = m.nature
                where rm.risk = :key order by rm.position""", key=key),
            "sources": await _sources(db, "risk_sources", "risk", key),
            "steps": await _steps(db, "risk_steps", "risk", key),
            "details": fields.details(fields.RISK, risk), "edit_url": await _edit_url(datasette, risk)}


async def measure_page(datasette, key: str) -> dict:
    db = catalogue_database(datasette)
    measure = await query_one(db, """
        select m.*, a.name_zh as area_zh, a.name_en as area_en, t.label_zh as type_zh, t.label_en as type_en,
               n.label_zh as nature_zh, n.label_en as nature_en
        from measures m join areas a on a.key = m.area left join measure_types t on t.id = m.type
        left join natures n on n.id = m.nature where m.key = :key""", key=key)
    if measure is None:
        return {}
    return {"entry": measure,
            "risks": await _linked_risks(db, "risk_measures", "measure", key, order="a.position, r.seq"),
            "sources": await _sources(db, "measure_sources", "measure", key),
            "steps": await _steps(db, "measure_steps", "measure", key),
            "details": fields.details(fields.MEASURE, measure), "edit_url": await _edit_url(datasette, measure)}


async def area_page(datasette, key: str) -> dict:
    db = catalogue_database(datasette)
    area = await query_one(db, "select * from areas where key = :key", key=key)
    if area is None:
        return {}
    risks = await query_rows(db, """
        select r.key, r.id, r.title_zh, r.title_en, r.level, r.score, r.status, r.measure_ids,
               l.label_zh as level_zh, l.label_en as level_en
        from risks r join levels l on l.id = r.level where r.area = :key order by l.rank, r.seq""", key=key)
    groups: dict[str, dict] = {}
    for risk in risks:
        group = groups.setdefault(risk["level"], {"level": risk["level"], "label_zh": risk["level_zh"],
                                                   "label_en": risk["level_en"], "risks": []})
        group["risks"].append(risk)
    return {"entry": area, "levels": list(groups.values()),
            "measures": await query_rows(db, """
                select key, id, title_zh, title_en, type, nature, status from measures
                where area = :key order by id""", key=key),
            "edit_url": await _edit_url(datasette, area)}


async def source_page(datasette, key: str) -> dict:
    """A regulation (or the report): what it is, and every risk and measure citing it."""
    db = catalogue_database(datasette)
    source = await query_one(db, """
        select s.*, k.label_zh as kind_zh, k.label_en as kind_en, u.name_zh as unit_zh
        from sources s left join source_kinds k on k.id = s.kind join units u on u.id = s.unit
        where s.key = :key""", key=key)
    if source is None:
        return {}
    return {"entry": source,
            "risks": await _linked_risks(db, "risk_sources", "source", key, order="r.rowid"),
            "measures": await query_rows(db, """
                select m.key, m.id, m.title_zh, m.title_en, m.status, t.label_zh as type_zh, t.label_en as type_en,
                       a.key as area_key, a.name_zh as area_zh
                from measure_sources x join measures m on m.key = x.measure left join measure_types t on t.id = m.type
                join areas a on a.key = m.area where x.source = :key order by m.rowid""", key=key),
            "is_provenance": bool(await query_one(db, "select 1 from units where provenance_source = :key", key=key)),
            "details": fields.details(fields.SOURCE, source), "edit_url": await _edit_url(datasette, source)}


async def _linked_risks(db, link_table: str, column: str, key: str, order: str) -> list[dict]:
    """The risks a link table ties to key (a measure's, a regulation's), with their level and area."""
    return await query_rows(db, f"""
        select r.key, r.id, r.title_zh, r.title_en, r.level, r.status, l.label_zh as level_zh,
               l.label_en as level_en, a.key as area_key, a.name_zh as area_zh, a.name_en as area_en
        from {link_table} x join risks r on r.key = x.risk join levels l on l.id = r.level
        join areas a on a.key = r.area where x.{column} = :key order by {order}""", key=key)


async def _steps(db, link_table: str, column: str, key: str) -> list[dict]:
    """The steps a risk stands on (or a measure acts on), each with its power: for the power's flowchart."""
    return await query_rows(db, f"""
        select s.id, s.position, s.title_zh, s.title_en, p.key as power_key, p.id as power_id,
               p.title_zh as power_zh, p.title_en as power_en
        from {link_table} x join steps s on s.key = x.step join powers p on p.key = s.power
        where x.{column} = :key order by x.position""", key=key)


async def _sources(db, link_table: str, column: str, key: str) -> list[dict]:
    return await query_rows(db, f"""
        select s.key, s.title_zh, s.title_en, s.issuer_zh, s.year, s.number, s.date, k.label_zh as kind_zh
        from {link_table} x join sources s on s.key = x.source left join source_kinds k on k.id = s.kind
        where x.{column} = :key order by s.year, s.key""", key=key)


ROW_PAGES = {"risks": risk_page, "measures": measure_page, "areas": area_page, "sources": source_page}
