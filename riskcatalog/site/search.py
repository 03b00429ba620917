"""The search page and every list page (/search): entries as compact results, in sections.

One page answers a reader's search (q) and every set a reader follows from another page: a
heat-map cell, a level count, an area × level, a category, a measure type, a regulation, a
short address matching several registers. The set is the query string's filters. With q, the
page says how it read the query (its words, and what the thesaurus added: riskcatalog.search)
and lists the entries holding every word in the order riskcatalog.site.ranking gives, then those
holding some of them (部分匹配); an id typed in any form (LAND02, land 2, reim-m5) opens the entry.
Without q entries come in register order. Sections: risks, measures, regulations, each with its count.
"""

from __future__ import annotations

import json
import re
import weakref
from dataclasses import dataclass, field
from urllib.parse import urlencode

from markupsafe import Markup, escape

from .. import thesaurus
from ..fields import AREA, MEASURE, RISK, SOURCE, UNIT
from ..search import Reading, fts_query, pairs, read
from . import params, ranking
from .catalogue import catalogue_database
from .pages import levels, query_rows

#: Results shown per section and page: a phone's screenful or two; more are a tap away, and each row
#: costs the page its rendering (docs/benchmarks.md).
PAGE_SIZE = 20
#: Pages a reader may ask for: past this, the data table (with its own paging) serves them.
MAX_PAGE = 20
#: How an id may be typed: LAND-02, land-2, LAND02, land 2, REIM-M05, reim m5 (letters, then digits,
#: with or without a hyphen, space or underscore between).
ENTRY_ID = re.compile(r"[A-Za-z][A-Za-z0-9]*(?:[\s_-]*[A-Za-z0-9]+)*")
_SEPARATOR = re.compile(r"[\s_-]+")


@dataclass(frozen=True)
class Filter:
    """A query-string filter: the sections it applies to, each with its SQL condition."""

    label_zh: str
    label_en: str
    conditions: dict[str, str]
    whole_number: bool = False


#: Aliases: r = risks, m = measures, s = sources. A section shows only when every filter applies to it.
FILTERS = {
    "unit": Filter(UNIT.zh, "unit", {"risks": "r.unit = :unit", "measures": "m.unit = :unit",
                                   "sources": "s.unit = :unit"}),
    "area": Filter(AREA.zh, "area", {
        "risks": "r.area in (select key from areas where id = :area)",
        "measures": "exists (select 1 from json_each(m.area_ids) j where j.value = :area)"}),
    "level": Filter(RISK["level"].zh, "level", {"risks": "r.level = :level"}),
    "category": Filter(RISK["category"].zh, "category", {"risks": "r.category = :category"}),
    "likelihood": Filter(RISK["likelihood"].zh, "likelihood", {"risks": "r.likelihood = :likelihood"}, whole_number=True),
    "impact": Filter(RISK["impact"].zh, "impact", {"risks": "r.impact = :impact"}, whole_number=True),
    "type": Filter(MEASURE["type"].zh, "measure type", {"measures": "m.type = :type"}),
    "nature": Filter(MEASURE["nature"].zh, "nature", {"measures": "m.nature = :nature"}),
    "source": Filter(SOURCE.zh, "regulation", {
        "risks": "r.key in (select risk from risk_sources where source = :source)",
        "measures": "m.key in (select measure from measure_sources where source = :source)"}),
    "id": Filter(RISK["id"].zh, "id", {"risks": "r.id = :id", "measures": "m.id = :id"}),
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
    #: Entries holding some of the words, after those holding all (部分匹配): counted on the page where the
    #: full matches end (None before it: a city's broad words would otherwise count tens of thousands).
    partial: int | None = 0
    rows: list[dict] = field(default_factory=list)


def _cited(link: str, condition: str) -> str:
    """The titles of the regulations an entry cites, as a JSON list: a search may have matched one."""
    return (f"(select json_group_array('《' || s.title_zh || '》') from {link} x join sources s on s.key = x.source "
            f"where {condition}) as cited_zh")


def _passages(record, *columns: str) -> tuple[tuple[str, str], ...]:
    """The columns a passage may come from, each with its label from the field registry: the field's Chinese
    name, or its English for an English column; cited_zh (the titles of the regulations cited) is the sources'."""
    found = ((column, record["sources"] if column == "cited_zh" else record.by_key[column]) for column in columns)
    return tuple((column, f.en if column.endswith("_en") else f.zh) for column, f in found)


def _sections() -> list[Section]:
    return [
        Section("risks", RISK.zh, "Risks", "r", "risks",
                "r.key, r.id, r.unit, r.title_zh, r.title_en, r.level, r.status, r.likelihood, r.impact, "
                "r.description_zh, r.manifestations_zh, r.post_zh, r.power_zh, r.responsible_post_zh, "
                "r.responsible_leader_zh, r.supervisor_zh, r.description_en, "
                "a.name_zh as area_zh, a.name_en as area_en, a.key as area_key, u.name_zh as unit_zh, "
                + _cited("risk_sources", "x.risk = r.key"),
                "join areas a on a.key = r.area join units u on u.id = r.unit",
                _passages(RISK, "description_zh", "manifestations_zh", "post_zh", "power_zh", "responsible_post_zh",
                          "responsible_leader_zh", "supervisor_zh", "description_en", "cited_zh")),
        Section("measures", MEASURE.zh, "Measures", "m", "measures",
                "m.key, m.id, m.unit, m.title_zh, m.title_en, m.type, m.nature, m.status, "
                "m.description_zh, m.owner_zh, m.frequency_zh, m.evidence_zh, m.description_en, "
                "t.label_zh as type_zh, t.label_en as type_en, a.name_zh as area_zh, a.name_en as area_en, "
                "a.key as area_key, u.name_zh as unit_zh, " + _cited("measure_sources", "x.measure = m.key"),
                "left join measure_types t on t.id = m.type join areas a on a.key = m.area join units u on u.id = m.unit",
                _passages(MEASURE, "description_zh", "owner_zh", "frequency_zh", "evidence_zh", "description_en",
                          "cited_zh")),
        Section("sources", SOURCE.zh, "Regulations", "s", "sources",
                "s.key, s.id, s.unit, s.title_zh, s.title_en, s.issuer_zh, s.issuer_en, s.year, s.number, "
                "k.label_zh as kind_zh, k.label_en as kind_en, u.name_zh as unit_zh, "
                "(select count(*) from risk_sources x where x.source = s.key) as risks_citing, "
                "(select count(*) from measure_sources x where x.source = s.key) as measures_citing",
                "left join source_kinds k on k.id = s.kind join units u on u.id = s.unit",
                _passages(SOURCE, "issuer_zh")),
    ]


class BadFilter(ValueError):
    """A filter value the catalogue has no such thing for; the message is for the reader."""


@dataclass
class Asked:
    """What a request asks the search page for: the one place its parameters are read."""

    q: str
    filters: dict[str, str]
    only: str | None  # one section (kind=risks), for its later pages
    page: int

    @classmethod
    def of(cls, request) -> "Asked":
        """Read by the one strict parser (riskcatalog.site.params): a malformed value is a 400."""
        args = params.read(request.args, params.SEARCH)
        filters = {name: args[name] for name in FILTERS if args[name]}
        return cls(args["q"], filters, args["kind"] or None, _page(args["page"]))


async def search_page(datasette, request) -> dict:
    """Everything the search template needs: the query and how it was read, filters, their choices
    and the sections; for an id typed as the search, the entry it names (entry) or the entries, one
    per register, that have it."""
    db = catalogue_database(datasette)
    asked = Asked.of(request)
    q, filters, page = asked.q, asked.filters, asked.page
    entries = await entries_by_typed_id(datasette, q) if q and not filters else []
    if entries:  # the search is an id: the entries with it, as the list page ?id= lists them
        filters = {"id": entries[0]["id"]}
    reading = read(q) if q and not entries else None
    choices, units_typed = await _choices(db, filters.get("unit", ""))
    error = _check(filters, choices)
    sections = [s for s in _sections() if all(s.name in FILTERS[f].conditions for f in filters)
                and (asked.only is None or s.name == asked.only)]
    if q == "" and not filters and asked.only is None:
        sections = [s for s in sections if s.name != "sources"]  # a bare list: risks and measures only
    if error is None:
        for section in sections:
            await _fill(db, section, reading, filters, page, datasette)
    found = sum(s.count + (s.partial or 0) for s in sections)
    searched = q if reading else ""
    return {"q": q, "filters": filters, "choices": choices, "error": error, "sections": sections,
            "page": page, "only": asked.only, "page_size": PAGE_SIZE,
            "heading": await _heading(db, searched, filters, choices),
            "reading": reading, "total": sum(s.count for s in sections), "partial": sum(s.partial or 0 for s in sections),
            "entry": entries[0] if len(entries) == 1 else None, "typed_id": entries[0]["id"] if entries else None,
            "ways_on": await _ways_on(db, reading) if reading and not found and not error else [],
            "table_url": {s.name: _table_url(datasette, s.name, searched, filters) for s in sections},
            "download_url": {s.name: {extension: _table_url(datasette, s.name, searched, filters, extension)
                                      for extension in ("xlsx", "excelcsv")} for s in sections},
            "several_units": len(choices["unit"]) > 1 or units_typed, "units_typed": units_typed,
            "more_url": lambda section, page: "?" + urlencode({**({"q": q} if q else {}), **asked.filters,
                                                               "kind": section, "page": page})}


async def entry_by_id(datasette, kind: str, typed: str) -> list[str]:
    """The keys of the risks or measures with this id (any register): one means go straight there."""
    db = catalogue_database(datasette)
    rows = await db.execute(f"select key from [{kind}] where id = :id order by rowid limit 2", {"id": typed.upper()})
    return [row["key"] for row in rows]


async def entries_by_typed_id(datasette, q: str) -> list[dict]:
    """The risks or measures a search typed as an id names (kind, key, id, url), up to two: one
    entry, or the first two of the registers sharing the id; [] when q is no id anyone has."""
    candidates = typed_ids(q)
    if not candidates:
        return []
    db = catalogue_database(datasette)
    marks = ", ".join(f":c{n}" for n in range(len(candidates)))
    bound = {f"c{n}": c for n, c in enumerate(candidates)}
    for kind in ("risks", "measures"):  # through the index on id: a city holds each id thousands of times
        rows = await query_rows(db, f"select key, id from [{kind}] where id in ({marks}) order by rowid limit 2",
                                **bound)
        if rows:
            return [{"kind": kind, **row, "url": datasette.urls.row(db.name, kind, row["key"])} for row in rows]
    return []


def typed_ids(q: str) -> list[str]:
    """The ids a search may be (LAND02, land 2, LAND-2, reim-m5 -> LAND-02, REIM-M05), normalised:
    letters and digits, then digits, however they are split. A text may be read several ways
    (REIMM5: REIM-M05 or REIMM-05; A101: A-101 or A1-01): splits where a hyphen or space was typed
    come first, and the database says which exists."""
    typed = q.strip().upper()
    if len(typed) > 30 or not ENTRY_ID.fullmatch(typed):
        return []
    pieces = _SEPARATOR.split(typed)
    text = "".join(pieces)
    typed_at = {sum(map(len, pieces[:n])) for n in range(1, len(pieces))}  # where a separator stood
    found = []
    for end in sorted(range(1, len(text)), key=lambda end: end not in typed_at):
        prefix, rest = text[:end], text[end:]
        if re.fullmatch(r"[A-Z][A-Z0-9]*", prefix) and re.fullmatch(r"M?\d+", rest):
            m, number = ("M", rest[1:]) if rest[0] == "M" else ("", rest)
            found += [f"{prefix}-{m}{int(number):02d}", f"{prefix}-{m}{number}"]
    return list(dict.fromkeys(found))


def typed_id(q: str) -> str | None:
    """The entry id a short address is (LAND-02, reim-m5 -> REIM-M05), normalised, else None."""
    ids = typed_ids(q)
    return ids[0] if ids else None


def _page(text: str | None) -> int:
    try:
        return min(max(int(text or 1), 1), MAX_PAGE)
    except ValueError:
        return 1


#: Up to this many registers, the unit filter is a list to choose from; beyond it (a city's
#: thousands), a field to type the unit's id in.
UNITS_LISTED = 200


#: Each served database's choices, read once: the database is served immutable.
_CHOICES: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()


async def _choices(db, unit: str) -> tuple[dict[str, list[dict]], bool]:
    """The values each choice-filter may take, with labels: lookups, areas and units (all of them,
    or at city scale only the one asked for, and True: the unit is typed, not chosen)."""
    if db not in _CHOICES:
        choices = {name: await query_rows(db, f"select id, label_zh, label_en from [{table}] order by rank")
                   for name, table in LOOKUP_OF.items()}
        choices["area"] = await query_rows(db, "select id, name_zh as label_zh, name_en as label_en "
                                               "from area_summary order by position, id")
        choices["unit"] = await query_rows(db, f"{_UNITS} order by id limit {UNITS_LISTED + 1}")
        _CHOICES[db] = choices
    choices = dict(_CHOICES[db])
    if len(choices["unit"]) <= UNITS_LISTED:
        return choices, False
    choices["unit"] = await query_rows(db, f"{_UNITS} where id = :unit", unit=unit)
    return choices, True


_UNITS = "select id, name_zh as label_zh, name_en as label_en from units"


def _check(filters: dict[str, str], choices: dict) -> str | None:
    """The reader's message for the first filter value that names nothing, else None."""
    for name, value in filters.items():
        spec = FILTERS[name]
        if spec.whole_number and not (value.isdigit() and 1 <= int(value) <= 5):
            return f"{spec.label_zh}应为 1 到 5 的整数，而不是“{value}”。{spec.label_en.capitalize()} is a whole number 1–5."
        if name in choices and value not in {c["id"] for c in choices[name]}:
            return f"没有这个{spec.label_zh}：“{value}”。No such {spec.label_en}: {value}."
    return None


async def _fill(db, section: Section, reading: Reading | None, filters: dict[str, str], page: int,
                datasette) -> None:
    """The section's counts and one page of its rows: with words, in the order ranking gives (each
    partial match with the words it holds and lacks); without, in register order."""
    bound: dict = {name: int(value) if FILTERS[name].whole_number else value.upper() if name == "id" else value
                    for name, value in filters.items()}
    offset = (page - 1) * PAGE_SIZE
    known = {level["id"]: level for level in await levels(datasette)}
    if reading:
        scope = ranking.Scope(section.table, section.alias, [FILTERS[name].conditions[section.name] for name in filters],
                              bound, _live(section, "f.rowid"), list(known))
        ranked = await db.execute_fn(lambda conn: ranking.rank(conn, scope, reading, offset, PAGE_SIZE))
        section.count, section.partial = ranked.count, ranked.partial
        section.rows = await _rows(db, section, ranked.rowids)
        for row in section.rows:
            held = ranked.held.get(row["_rowid"])
            if held is not None:
                row["partial"] = {"held": [reading.words[n].text for n in held],
                                  "missing": [w.text for n, w in enumerate(reading.words) if n not in held]}
    else:
        section.count, section.rows = await _from_table(db, section, list(filters),
                                                        {**bound, "limit": PAGE_SIZE, "offset": offset})
    for row in section.rows:
        row["url"] = datasette.urls.row(db.name, section.table, row["key"])
        if row.get("level") in known:  # its badge's words, looked up here rather than by the template
            row["level_zh"], row["level_en"] = known[row["level"]]["label_zh"], known[row["level"]]["label_en"]
        row["title_marks"] = marks(row["title_zh"], reading.highlights() if reading else [])
        row["passage"] = passage(row, section.passages, reading) if reading else None


def _live(section: Section, rowid: str) -> list[str]:
    """The condition that leaves withdrawn entries out, through the partial index of them
    (riskcatalog.db): status = 'active' would read every matching row of a wide table."""
    if section.name == "sources":
        return []
    return [f"{rowid} not in (select rowid from [{section.table}] where status != 'active')"]


async def _rows(db, section: Section, rowids: list[int]) -> list[dict]:
    """The rows of these rowids, in their order: only the page's rows are read from the table."""
    if not rowids:
        return []
    a = section.alias
    rows = await query_rows(db, f"select {a}.rowid as _rowid, {section.columns} from [{section.table}] {a} "
                                f"{section.joins} where {a}.rowid in ({', '.join(map(str, rowids))})")
    return sorted(rows, key=lambda row: rowids.index(row["_rowid"]))


async def _from_table(db, section: Section, filters: list[str], bound: dict) -> tuple[int, list[dict]]:
    """A list page (filters, no words): the table, with the filters' conditions, in register order."""
    a = section.alias
    conditions = _live(section, f"{a}.rowid") + [FILTERS[name].conditions[section.name] for name in filters]
    where = " and ".join(conditions) or "1"
    count = (await db.execute(f"select count(*) from [{section.table}] {a} where {where}", bound)).first()[0]
    rows = await query_rows(db, f"select {section.columns} from [{section.table}] {a} {section.joins} "
                                f"where {where} order by {a}.rowid limit :limit offset :offset", **bound)
    return count, rows


#: Thesaurus terms offered when a search finds nothing, and the characters they must share with it.
WAYS_ON = 8


async def _ways_on(db, reading: Reading) -> list[str]:
    """For a search that found nothing: the thesaurus's terms nearest it (sharing most pairs of
    characters with its words: 公款旅游, 公款吃喝) that find something in this catalogue."""
    typed = {pair for word in reading.words for pair in pairs(word.text)}
    near = sorted((term for term in thesaurus.shipped().terms if typed & set(pairs(term))),
                  key=lambda term: -len(typed & set(pairs(term))))
    found = []
    for term in near[:WAYS_ON * 3]:  # each checked in the index, where the first match ends the look
        exists = "select 1 from risks_search_fts where risks_search_fts match :q limit 1"
        if (await db.execute(exists, {"q": fts_query(term)})).first():
            found.append(term)
        if len(found) == WAYS_ON:
            break
    return found


def marked(pieces: list[tuple[str, bool]]) -> Markup:
    """marks() as HTML, the searched words in <mark> (the template filter `marked`): every piece escaped."""
    return Markup("".join(f"<mark>{escape(text)}</mark>" if hit else str(escape(text)) for text, hit in pieces))


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


#: Characters of a passage shown before and after where the words matched.
BEFORE, AFTER = 24, 72


def passage(row: dict, fields: tuple, reading: Reading) -> dict | None:
    """The passage where the words matched: among the section's fields (lists such as a risk's manifestations
    item by item), the first holding the query as typed, else the one of the entry's own fields holding
    most of its words (the first of those, in the section's order), else a regulation it cites whose
    title holds them; its label and the words around the match, highlighted."""
    phrase = (reading.phrase or reading.words[0].text).lower() if reading.words else ""
    forms = [[form.lower() for form in word.forms()] for word in reading.words]
    best, best_score = None, (False, False, 0)
    for column, label in fields:
        own = column != "cited_zh"  # the entry's own words before the title of a regulation it cites
        for text in _texts(row.get(column)):
            lowered = text.lower()
            held = sum(any(f in lowered for f in word) for word in forms)
            score = (phrase in lowered, own, held)
            if held and score > best_score:
                best, best_score = (label, text, lowered), score
    if best is None:
        return None
    label, text, lowered = best
    at = lowered.find(phrase) if best_score[0] else min(
        (i for i in (lowered.find(f) for word in forms for f in word) if i >= 0), default=0)
    start, end = max(0, at - BEFORE), min(len(text), at + AFTER)
    cut = ("…" if start else "") + text[start:end] + ("…" if end < len(text) else "")
    return {"label": label, "marks": marks(cut, reading.highlights())}


def _texts(value) -> list[str]:
    if isinstance(value, str) and value.startswith("["):  # a JSON list column such as manifestations_zh
        return json.loads(value)
    return [value] if isinstance(value, str) else []


async def _heading(db, q: str, filters: dict[str, str], choices: dict) -> dict:
    """What the page is: the words searched and each filter in words, Chinese and English."""
    parts_zh, parts_en = [], []
    labels = {name: {c["id"]: c for c in values} for name, values in choices.items()}
    if "likelihood" in filters and "impact" in filters:
        parts_zh.append(f"{RISK['likelihood'].zh} {filters['likelihood']} × {RISK['impact'].zh} {filters['impact']}")
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


def reading_json(reading: Reading | None) -> dict | None:
    """How a query was read, for programs: its words, each with what else counts as it."""
    if reading is None:
        return None
    return {"words": [{"word": w.text, "also": w.also, "parts": [{"word": p.text, "also": p.also} for p in w.parts]}
                      for w in reading.words],
            "phrase": reading.phrase, "ignored": reading.ignored, "cut": reading.cut}


def as_json(context: dict) -> dict:
    """The search page for programs: the query and how it was read, filters, the entry an id names,
    and each section's counts and rows (each row's match: "all" words, or "partial" with the words
    it holds and lacks)."""
    entry = context["entry"]
    return {"q": context["q"], "reading": reading_json(context["reading"]), "filters": context["filters"],
            "error": context["error"], "page": context["page"], "id": context["typed_id"],
            "entry": {k: entry[k] for k in ("kind", "key", "id", "url")} if entry else None,
            **{s.name: {"count": s.count, "partial": s.partial,
                        "rows": [{**{k: v for k, v in row.items() if k not in ("title_marks", "_rowid", "partial")},
                                  **_match(row, context["reading"])} for row in s.rows]}
               for s in context["sections"]}}


def _match(row: dict, reading: Reading | None) -> dict:
    if reading is None:
        return {}
    if "partial" in row:
        return {"match": "partial", **row["partial"]}
    return {"match": "all"}
