"""The search page and every list page (/search): entries as compact results, in sections.

One page answers a reader's search (q) and every set a reader follows from another page: a
heat-map cell, a level count, an area × level, a category, a measure type, a regulation, a
short address matching several registers. The set is the query string's filters; with q,
entries whose title holds the words come first, then those of an area with those words in its
name; without q they come in register order. Sections: risks, measures, regulations, each with its count.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from urllib.parse import urlencode

from ..search import fts_query, query_words
from . import params
from .catalogue import catalogue_database
from .pages import query_rows

#: Results shown per section and page.
PAGE_SIZE = 50
#: Pages a reader may ask for: past this, the data table (with its own paging) serves them.
MAX_PAGE = 20
#: How an id is typed: LAND-02, land-2, REIM-M05.
ENTRY_ID = re.compile(r"([A-Za-z][A-Za-z0-9]*)-(M?)(\d+)", re.I)


@dataclass(frozen=True)
class Filter:
    """A query-string filter: the sections it applies to, each with its SQL condition."""

    label_zh: str
    label_en: str
    conditions: dict[str, str]
    whole_number: bool = False


#: Aliases: r = risks, m = measures, s = sources. A section shows only when every filter applies to it.
FILTERS = {
    "unit": Filter("单位", "unit", {"risks": "r.unit = :unit", "measures": "m.unit = :unit",
                                   "sources": "s.unit = :unit"}),
    "area": Filter("领域", "area", {
        "risks": "r.area in (select key from areas where id = :area)",
        "measures": "exists (select 1 from json_each(m.area_ids) j where j.value = :area)"}),
    "level": Filter("风险等级", "level", {"risks": "r.level = :level"}),
    "category": Filter("风险类别", "category", {"risks": "r.category = :category"}),
    "likelihood": Filter("可能性", "likelihood", {"risks": "r.likelihood = :likelihood"}, whole_number=True),
    "impact": Filter("影响", "impact", {"risks": "r.impact = :impact"}, whole_number=True),
    "type": Filter("措施类型", "measure type", {"measures": "m.type = :type"}),
    "nature": Filter("措施性质", "nature", {"measures": "m.nature = :nature"}),
    "source": Filter("依据", "regulation", {
        "risks": "r.key in (select risk from risk_sources where source = :source)",
        "measures": "m.key in (select measure from measure_sources where source = :source)"}),
    "id": Filter("编号", "id", {"risks": "r.id = :id", "measures": "m.id = :id"}),
}

#: Which lookup table names the allowed values of a filter, for its choices and its check.
LOOKUP_OF = {"level": "levels", "category": "categories", "type": "measure_types", "nature": "natures"}


@dataclass
class Section:
    """One kind of entry in the results."""

    name: str
    label_zh: str
    label_en: str
    alias: str
    table: str
    columns: str
    joins: str = ""
    #: Fields a matching passage is looked for in, in order: (column, label).
    passages: tuple = ()
    count: int = 0
    rows: list[dict] = field(default_factory=list)


def _sections() -> list[Section]:
    return [
        Section("risks", "风险点", "Risks", "r", "risks",
                "r.key, r.id, r.unit, r.title_zh, r.title_en, r.level, r.status, r.likelihood, r.impact, "
                "r.description_zh, r.manifestations_zh, r.post_zh, r.power_zh, r.responsible_post_zh, "
                "r.responsible_leader_zh, r.supervisor_zh, r.description_en, "
                "a.name_zh as area_zh, a.name_en as area_en, a.key as area_key, u.name_zh as unit_zh",
                "join areas a on a.key = r.area join units u on u.id = r.unit",
                (("description_zh", "风险描述"), ("manifestations_zh", "表现形式"), ("post_zh", "岗位"),
                 ("power_zh", "职权事项"), ("responsible_post_zh", "直接责任人"),
                 ("responsible_leader_zh", "责任领导"), ("supervisor_zh", "监督主体"),
                 ("description_en", "Description"))),
        Section("measures", "防控措施", "Measures", "m", "measures",
                "m.key, m.id, m.unit, m.title_zh, m.title_en, m.type, m.nature, m.status, "
                "m.description_zh, m.owner_zh, m.frequency_zh, m.evidence_zh, m.description_en, "
                "t.label_zh as type_zh, t.label_en as type_en, a.name_zh as area_zh, a.name_en as area_en, "
                "a.key as area_key, u.name_zh as unit_zh",
                "left join measure_types t on t.id = m.type join areas a on a.key = m.area join units u on u.id = m.unit",
                (("description_zh", "措施内容"), ("owner_zh", "责任部门"), ("frequency_zh", "执行频次"),
                 ("evidence_zh", "留痕资料"), ("description_en", "Description"))),
        Section("sources", "依据", "Regulations", "s", "sources",
                "s.key, s.id, s.unit, s.title_zh, s.title_en, s.issuer_zh, s.issuer_en, s.year, s.number, "
                "k.label_zh as kind_zh, k.label_en as kind_en, u.name_zh as unit_zh, "
                "(select count(*) from risk_sources x where x.source = s.key) as risks_citing, "
                "(select count(*) from measure_sources x where x.source = s.key) as measures_citing",
                "left join source_kinds k on k.id = s.kind join units u on u.id = s.unit",
                (("issuer_zh", "发布机关"),)),
    ]


class BadFilter(ValueError):
    """A filter value the catalogue has no such thing for; the message is for the reader."""


async def search_page(datasette, request) -> dict:
    """Everything the search template needs: the query, filters, their choices and the sections."""
    db = catalogue_database(datasette)
    args = params.read(request.args, params.SEARCH)
    q = args["q"]
    filters = {name: args[name] for name in FILTERS if args[name]}
    only = args["kind"] or None
    page = _page(args["page"])
    choices, units_typed = await _choices(db, filters.get("unit", ""))
    error = _check(filters, choices)
    sections = [s for s in _sections() if all(s.name in FILTERS[f].conditions for f in filters)
                and (only is None or s.name == only)]
    if q == "" and not filters and only is None:
        sections = [s for s in sections if s.name != "sources"]  # a bare list: risks and measures only
    if error is None:
        for section in sections:
            await _fill(db, section, q, filters, page, datasette)
    return {"q": q, "filters": filters, "choices": choices, "error": error, "sections": sections,
            "page": page, "only": only, "page_size": PAGE_SIZE, "heading": await _heading(db, q, filters, choices),
            "total": sum(s.count for s in sections), "words": query_words(q),
            "table_url": {s.name: _table_url(datasette, s.name, q, filters) for s in sections},
            "download_url": {s.name: {extension: _table_url(datasette, s.name, q, filters, extension)
                                      for extension in ("xlsx", "excelcsv")} for s in sections},
            "several_units": len(choices["unit"]) > 1 or units_typed, "units_typed": units_typed,
            "more_url": lambda section, page: "?" + urlencode({**({"q": q} if q else {}), **filters,
                                                               "kind": section, "page": page})}


async def entry_by_id(datasette, kind: str, typed: str) -> list[str]:
    """The keys of the risks or measures with this id (any register): one means go straight there."""
    db = catalogue_database(datasette)
    rows = await db.execute(f"select key from [{kind}] where id = :id order by rowid limit 2", {"id": typed.upper()})
    return [row["key"] for row in rows]


def typed_id(q: str) -> str | None:
    """The entry id a search consists of (LAND-02, reim-m05), normalised, else None."""
    match = ENTRY_ID.fullmatch(q.strip())
    if not match:
        return None
    prefix, m, number = match.groups()
    return f"{prefix.upper()}-{m.upper()}{int(number):02d}"


def _page(text: str | None) -> int:
    try:
        return min(max(int(text or 1), 1), MAX_PAGE)
    except ValueError:
        return 1


#: Up to this many registers, the unit filter is a list to choose from; beyond it (a city's
#: thousands), a field to type the unit's id in.
UNITS_LISTED = 200


async def _choices(db, unit: str) -> tuple[dict[str, list[dict]], bool]:
    """The values each choice-filter may take, with labels: lookups, areas and units (all of them,
    or at city scale only the one asked for, and True: the unit is typed, not chosen)."""
    choices = {name: await query_rows(db, f"select id, label_zh, label_en from [{table}] order by rank")
               for name, table in LOOKUP_OF.items()}
    choices["area"] = await query_rows(db, "select id, name_zh as label_zh, name_en as label_en from area_summary "
                                           "order by position, id")
    units = "select id, name_zh as label_zh, name_en as label_en from units"
    choices["unit"] = await query_rows(db, f"{units} order by id limit {UNITS_LISTED + 1}")
    if len(choices["unit"]) <= UNITS_LISTED:
        return choices, False
    choices["unit"] = await query_rows(db, f"{units} where id = :unit", unit=unit)
    return choices, True


def _check(filters: dict[str, str], choices: dict) -> str | None:
    """The reader's message for the first filter value that names nothing, else None."""
    for name, value in filters.items():
        spec = FILTERS[name]
        if spec.whole_number and not (value.isdigit() and 1 <= int(value) <= 5):
            return f"{spec.label_zh}应为 1 到 5 的整数，而不是“{value}”。{spec.label_en.capitalize()} is a whole number 1–5."
        if name in choices and value not in {c["id"] for c in choices[name]}:
            return f"没有这个{spec.label_zh}：“{value}”。No such {spec.label_en}: {value}."
    return None


async def _fill(db, section: Section, q: str, filters: dict[str, str], page: int, datasette) -> None:
    """The section's count and one page of its rows: with words, title matches first, then area
    matches, then the rest, each in register order; without, in register order."""
    params: dict = {name: int(value) if FILTERS[name].whole_number else value.upper() if name == "id" else value
                    for name, value in filters.items()}
    params.update(limit=PAGE_SIZE, offset=(page - 1) * PAGE_SIZE, **(_tiers(q) if q else {}))
    if q and not filters:
        section.count, section.rows = await _from_index(db, section, params)
    else:
        section.count, section.rows = await _from_table(db, section, bool(q), list(filters), params)
    words = query_words(q)
    for row in section.rows:
        row["url"] = datasette.urls.row(db.name, section.table, row["key"])
        row["title_marks"] = marks(row["title_zh"], words)
        row["passage"] = passage(row, section.passages, words) if words else None


def _live(section: Section) -> list[str]:
    """The condition that leaves withdrawn entries out, through the partial index of them
    (riskcatalog.db): status = 'active' would read every matching row of a wide table."""
    if section.name == "sources":
        return []
    return [f"rowid not in (select rowid from [{section.table}] where status != 'active')"]


async def _from_index(db, section: Section, params: dict) -> tuple[int, list[dict]]:
    """Words alone: the search index counts and orders; only the page's rows are read from the table."""
    fts, a = f"{section.table}_search_fts", section.alias
    where = " and ".join([f"{fts} match :fts", *_live(section)])
    count = (await db.execute(f"select count(*) from {fts} where {where}", params)).first()[0]
    ranked = await db.execute(f"select rowid from {fts} where {where} order by {_TIERS.format(fts=fts)}, rowid "
                              "limit :limit offset :offset", params)
    order = [row[0] for row in ranked]
    rows = await query_rows(db, f"select {a}.rowid as _rowid, {section.columns} from [{section.table}] {a} "
                                f"{section.joins} where {a}.rowid in ({', '.join(map(str, order))})")
    return count, sorted(rows, key=lambda row: order.index(row["_rowid"]))


async def _from_table(db, section: Section, words: bool, filters: list[str], params: dict) -> tuple[int, list[dict]]:
    """Filters (and words, if any): the table, with the filters' conditions."""
    a, fts = section.alias, f"{section.table}_search_fts"
    conditions = [f"{a}.{condition}" for condition in _live(section)]
    conditions += [FILTERS[name].conditions[section.name] for name in filters]
    ordering = f"{a}.rowid"
    if words:
        conditions.append(f"{a}.rowid in (select rowid from {fts} where {fts} match :fts)")
        ordering = _TIERS.format(fts=fts).replace("when rowid", f"when {a}.rowid") + f", {a}.rowid"
    where = " and ".join(conditions) or "1"
    count = (await db.execute(f"select count(*) from [{section.table}] {a} where {where}", params)).first()[0]
    rows = await query_rows(db, f"select {section.columns} from [{section.table}] {a} {section.joins} "
                                f"where {where} order by {ordering} limit :limit offset :offset", **params)
    return count, rows


#: Matches ranked by where the words are: all in the title first, then all in the area's name, then
#: elsewhere (FTS5 column filters: cheaper than bm25 over a broad word's tens of thousands of matches).
_TIERS = ("case when rowid in (select rowid from {fts} where {fts} match :in_title) then 0 "
          "when rowid in (select rowid from {fts} where {fts} match :in_area) then 1 else 2 end")


def _tiers(q: str) -> dict[str, str]:
    words = fts_query(q)
    return {"fts": words, "in_title": f"{{title}} : ({words})", "in_area": f"{{area}} : ({words})"}


def marks(text: str, words: list[str]) -> list[tuple[str, bool]]:
    """text cut into (part, is a searched word) pieces, for highlighting; case is ignored."""
    if not words or not text:
        return [(text or "", False)]
    pattern = re.compile("|".join(re.escape(w) for w in sorted(set(words), key=len, reverse=True)), re.I)
    pieces, last = [], 0
    for found in pattern.finditer(text):
        pieces += [(text[last:found.start()], False), (found.group(), True)]
        last = found.end()
    return [piece for piece in pieces + [(text[last:], False)] if piece[0]]


#: Characters of a passage shown before and after the first searched word.
BEFORE, AFTER = 24, 72


def passage(row: dict, fields: tuple, words: list[str]) -> dict | None:
    """The first field (in the section's order) that holds a searched word: its label and the
    words around it, highlighted. Lists (表现形式) are looked into item by item."""
    lowered = [w.lower() for w in words]
    for column, label in fields:
        for text in _texts(row.get(column)):
            at = min((i for i in (text.lower().find(w) for w in lowered) if i >= 0), default=-1)
            if at < 0:
                continue
            start, end = max(0, at - BEFORE), min(len(text), at + AFTER)
            cut = ("…" if start else "") + text[start:end] + ("…" if end < len(text) else "")
            return {"label": label, "marks": marks(cut, words)}
    return None


def _texts(value) -> list[str]:
    if isinstance(value, str) and value.startswith("["):  # a JSON list column such as manifestations_zh
        return json.loads(value)
    return [value] if isinstance(value, str) else []


async def _heading(db, q: str, filters: dict[str, str], choices: dict) -> dict:
    """What the page is: the words searched and each filter in words, Chinese and English."""
    parts_zh, parts_en = [], []
    labels = {name: {c["id"]: c for c in values} for name, values in choices.items()}
    if "likelihood" in filters and "impact" in filters:
        parts_zh.append(f"可能性 {filters['likelihood']} × 影响 {filters['impact']}")
        parts_en.append(f"likelihood {filters['likelihood']} × impact {filters['impact']}")
    for name, value in filters.items():
        if name in ("likelihood", "impact") and "likelihood" in filters and "impact" in filters:
            continue
        spec = FILTERS[name]
        choice = labels.get(name, {}).get(value)
        if name == "source":
            title = (await db.execute("select title_zh, title_en from sources where key = :k", {"k": value})).first()
            choice = {"label_zh": f"《{title[0]}》", "label_en": title[1] or f"《{title[0]}》"} if title else None
        parts_zh.append(f"{spec.label_zh}：{choice['label_zh'] if choice else value}")
        parts_en.append(f"{spec.label_en}: {(choice['label_en'] or choice['label_zh']) if choice else value}")
    return {"zh": " · ".join(parts_zh), "en": " · ".join(parts_en)}


def _table_url(datasette, table: str, q: str, filters: dict[str, str], extension: str = "") -> str:
    """The same set in Datasette's data table, every column, for those who want them (or as a
    download: extension "xlsx" or "excelcsv", every row, riskcatalog.site.downloads)."""
    args: list[tuple[str, str]] = [("status", "active")] if table != "sources" else []
    if q:
        args.append(("_search", q))
    for name, value in filters.items():
        if name == "area":  # the value is an area id the page has checked: a slug, safe to quote
            args.append(("_where", f"exists (select 1 from json_each(area_ids) where value = '{value}')"
                         if table == "measures" else f"area in (select key from areas where id = '{value}')"))
        elif name == "source":
            link = "risk_sources" if table == "risks" else "measure_sources"
            args.append(("_through", f'{{"table":"{link}","column":"source","value":"{value}"}}'))
        else:
            args.append((name, value))
    path = datasette.urls.table(catalogue_database(datasette).name, table) + (f".{extension}" if extension else "")
    return path + ("?" + urlencode(args) if args else "")


def as_json(context: dict) -> dict:
    """The search page for programs: the query, filters and each section's count and rows."""
    return {"q": context["q"], "filters": context["filters"], "error": context["error"], "page": context["page"],
            **{s.name: {"count": s.count, "rows": [{k: v for k, v in row.items() if k not in ("title_marks",)}
                                                   for row in s.rows]} for s in context["sections"]}}
