"""The data behind the history on the site (修订记录): an entry's history and the changes page (最近修订).

Reads the tables the build's history wrote (unit_history, commits, changes; riskcatalog.history):
each register's baseline (登记确定, where its revisions start) and its revisions, newest first, and
returns the variables templates/_history.html and templates/changes.html render. A page carries a
bounded amount: the changes page PAGE_COMMITS revisions and REVISION_CHANGES changes of each (the
rest on the revision's own page), an entry's page its ENTRY_REVISIONS latest revisions (the rest on
the changes page, filtered to the entry).
"""

from __future__ import annotations

import datetime
import json
from urllib.parse import urlencode

from .catalogue import catalogue_database
from . import identity
from .pages import query_rows
from .params import CHANGES, read as read_declared

#: Pages whose entries show their history (templates/_history.html).
HISTORY_PAGES = ("risks", "measures")
#: Row pages by the kind of entry a change names.
ENTRY_TABLES = {"risk": "risks", "measure": "measures", "area": "areas", "source": "sources", "register": "units"}
#: Revisions a page of /changes shows; the changes of each revision it shows (the rest on the revision's
#: own page, ?revision=); the revisions an entry's page shows (the rest on /changes?entry=).
PAGE_COMMITS, REVISION_CHANGES, ENTRY_REVISIONS = 50, 12, 5
#: Changes one revision's own page shows at most (a commit that rewrote a whole register).
ALL_CHANGES = 2000
#: "Kind of change" on the changes page: the change kinds, and 等级调整 (a change of level).
LEVEL_FILTER = "level"
#: The changes page's filters, kept from page to page.
FILTERS = ("area", "change", "kind", "since", "entry", "revision")
#: The ratings shown beside a change of level rather than on their own (riskcatalog.history.RATINGS).
RATINGS = ("likelihood", "impact")

#: A change with its commit, the labels of its kinds and whether its entry is still in the register
#: (a removed entry has no page).
_CHANGES = """
    select c.*, ck.label_zh as change_zh, ck.label_en as change_en, ek.label_zh as kind_zh, ek.label_en as kind_en,
      case c.kind when 'risk' then exists(select 1 from risks x where x.key = c.entry)
        when 'measure' then exists(select 1 from measures x where x.key = c.entry)
        when 'area' then exists(select 1 from areas x where x.key = c.entry)
        when 'source' then exists(select 1 from sources x where x.key = c.entry)
        when 'register' then exists(select 1 from units x where x.id = c.entry) end as present
    from changes c join change_kinds ck on ck.id = c.change join entry_kinds ek on ek.id = c.kind"""


def read_parameters(request) -> tuple[dict[str, str], int]:
    """The changes page's filters as given (each trimmed; blank for none) and its page number (1 when
    none), read by the site's one parser (riskcatalog.site.params: a malformed one is a 400). A filter
    that names nothing simply matches nothing."""
    chosen = read_declared(request.args, CHANGES)
    return chosen, int(chosen.pop("page") or 1)


def commit_url(datasette, unit: dict | None, sha: str | None) -> str | None:
    """Link to a commit in the repository its register is kept in (register.yml's publication, or the
    deployment's plugins.riskcatalog.repository), if either names one."""
    kept = identity.repository(datasette, unit)
    return f"{kept[0]}/commit/{sha}" if kept and sha else None


async def entry_history(datasette, table: str, key: str) -> dict:
    """The history (修订记录) on a risk's or measure's page: its latest revisions, newest first, how many
    more there are, and the baseline when the entry was in the register then."""
    db = catalogue_database(datasette)
    chosen = {name: "" for name in FILTERS} | {"entry": key}
    revisions = await _revisions(db, chosen, ENTRY_REVISIONS + 1, 0)
    more = len(revisions) > ENTRY_REVISIONS
    count = (await query_rows(db, "select count(distinct commit_key) as n from changes where entry = :key",
                              key=key))[0]["n"] if more else len(revisions)
    unit = await query_rows(db, f"select unit from [{table}] where key = :key", key=key)
    return {"entry_history": {
        "commits": await _with_changes(datasette, db, revisions[:ENTRY_REVISIONS], chosen, REVISION_CHANGES),
        "count": count, "more": count - min(count, ENTRY_REVISIONS),
        "all_url": datasette.urls.path("/changes?" + urlencode({"entry": key})),
        "notes": await _notes(db, unit[0]["unit"] if unit else None)}}


async def changes_page(datasette, request) -> dict:
    """The changes page (最近修订): the revisions across the registers, newest first, a page of them at a
    time, each with its changes; filtered by area, kind of change, kind of entry, date, entry or revision."""
    db = catalogue_database(datasette)
    chosen, page = read_parameters(request)
    revisions = await _revisions(db, chosen, PAGE_COMMITS + 1, (page - 1) * PAGE_COMMITS)
    filters = {name: value for name, value in chosen.items() if value}
    link = lambda number: datasette.urls.path("/changes?" + urlencode({**filters, "page": number}))  # noqa: E731
    return {"changes": {
        "commits": await _with_changes(datasette, db, revisions[:PAGE_COMMITS], chosen,
                                       ALL_CHANGES if chosen["revision"] else REVISION_CHANGES),
        "chosen": chosen, "page": page, "filtered": bool(filters),
        "older": link(page + 1) if len(revisions) > PAGE_COMMITS else None,
        "newer": link(page - 1) if page > 1 else None,
        "entry": await _entry(datasette, db, chosen["entry"]) if chosen["entry"] else None,
        # area ids are shared by every register, so one choice covers a district's or a city's registers
        "areas": await query_rows(db, "select id, name_zh, name_en from area_summary order by position, id"),
        "change_kinds": await query_rows(db, "select * from change_kinds order by rank"),
        "entry_kinds": await query_rows(db, "select * from entry_kinds order by rank"),
        "notes": await _notes(db),
        "feed_url": datasette.urls.query(db.name, "changes_feed") + ".atom"
                    + ("?" + urlencode({k: v for k, v in filters.items() if k in ("area", "change", "kind")})
                       if any(k in filters for k in ("area", "change", "kind")) else ""),
        "table_url": datasette.urls.table(db.name, "changes"),
        "queries": {name: datasette.urls.query(db.name, name) for name in ("changes_since", "level_changes")},
    }}


async def _revisions(db, chosen: dict[str, str], limit: int, skip: int) -> list[dict]:
    """The revisions (and baselines) the filters pick, newest first and each register's baseline last."""
    where, params = _filters(chosen)
    # A baseline belongs with every revision of its register, and with an entry that was in the register then.
    baseline = "1" if not any(chosen[name] for name in ("area", "change", "kind", "revision")) else "0"
    if _is_date(chosen["since"]):
        baseline += " and k.day >= :since"
    if chosen["entry"]:
        baseline += """ and u.id = coalesce((select unit from risks where key = :entry),
            (select unit from measures where key = :entry), (select unit from changes where entry = :entry))
            and not exists (select 1 from changes c where c.entry = :entry and c.change = 'added')"""
    # Two parts, each by an index: the revisions by their changes, the baselines by their units.
    return await query_rows(db, f"""
        select * from (
          select k.*, u.name_zh as unit_name from commits k join units u on u.id = k.unit
          where k.key in (select c.commit_key from changes c where 1 {where})
          union all
          select k.*, u.name_zh from units u join commits k on k.key = u.id || '-baseline' where {baseline})
        order by kind = 'baseline', date desc, key desc limit :limit offset :skip""",
                            limit=limit, skip=skip, **params)


async def _with_changes(datasette, db, revisions: list[dict], chosen: dict[str, str], each: int) -> list[dict]:
    """The revisions, each with the changes the filters pick (at most `each`, the count of the rest), by
    entry; a change of level carries the ratings that moved with it."""
    where, params = _filters(chosen)
    keys = [revision["key"] for revision in revisions if revision["kind"] == "revision"]
    changes = await query_rows(db, f"""
        select * from (select *, row_number() over (partition by commit_key order by id) as place,
                              count(*) over (partition by commit_key) as of
                       from ({_CHANGES} where c.commit_key in (select value from json_each(:keys)) {where}))
        where place <= :each order by commit_key, id""", keys=json.dumps(keys), each=each, **params)
    by_revision: dict[str, list[dict]] = {}
    for change in changes:
        by_revision.setdefault(change["commit_key"], []).append(change)
    registers = await identity.units(datasette)
    for revision in revisions:
        found = by_revision.get(revision["key"], [])
        revision.update(short=(revision["sha"] or "")[:8],
                        url=commit_url(datasette, registers.get(revision["unit"]), revision["sha"]),
                        entries=_by_entry(datasette, found), hidden=(found[0]["of"] - len(found)) if found else 0,
                        all_url=datasette.urls.path("/changes?" + urlencode({"revision": revision["key"]})))
    return revisions


def _by_entry(datasette, changes: list[dict]) -> list[dict]:
    """A revision's changes grouped by entry, in order, each entry with its page; the ratings of a risk
    whose level changed go with that change."""
    entries: dict[str, dict] = {}
    database = catalogue_database(datasette).name
    for change in changes:
        table = ENTRY_TABLES.get(change["kind"])
        entry = entries.setdefault(change["entry"], {
            "kind_zh": change["kind_zh"], "kind_en": change["kind_en"], "id": change["entry_id"],
            "title": change["title"], "changes": [],
            "url": datasette.urls.row(database, table, change["entry"]) if change["present"] else None})
        change["replaced_by_url"] = (datasette.urls.row(database, table, change["replaced_by"])
                                     if change["replaced_by"] else None)
        if change["replaced_by"]:  # shown by its id, as the register writes it
            change["replaced_by"] = change["replaced_by"].removeprefix(f"{change['unit']}-")
        change["words"] = json.loads(change["words"]) if change["words"] else None
        change["what"] = change["summary_zh"].partition("：")[2] if change["change"] == "changed" else ""
        entry["changes"].append(change)
    for entry in entries.values():
        level = next((c for c in entry["changes"] if c["field"] == "level"), None)
        if level:
            level["ratings"] = [c for c in entry["changes"] if c["field"] in RATINGS]
            entry["changes"] = [c for c in entry["changes"] if c["field"] not in RATINGS]
    return list(entries.values())


async def _entry(datasette, db, key: str) -> dict | None:
    """The entry the changes page is filtered to: its id, title and page."""
    for table in ("risks", "measures"):
        found = await query_rows(db, f"select key, id, title_zh from {table} where key = :key", key=key)
        if found:
            return {**found[0], "url": datasette.urls.row(db.name, table, key)}
    return None


async def _notes(db, unit: str | None = None) -> list[dict]:
    """Each register's history: what it covers, or why it is absent or partial."""
    return await query_rows(db, "select * from unit_history where :unit is null or unit = :unit order by unit", unit=unit)


def _filters(chosen: dict[str, str]) -> tuple[str, dict]:
    """The changes page's filters as SQL conditions on changes c (each starting with `and`); a date not of
    the form YYYY-MM-DD is ignored."""
    conditions, params = [], {name: chosen[name] for name in FILTERS}
    if chosen["area"]:
        conditions.append("c.area = c.unit || '-' || :area")
    if chosen["change"] == LEVEL_FILTER:
        conditions.append("c.field = 'level'")
    elif chosen["change"]:
        conditions.append("c.change = :change")
    if chosen["kind"]:
        conditions.append("c.kind = :kind")
    if _is_date(chosen["since"]):
        conditions.append("c.day >= :since")
    if chosen["entry"]:
        conditions.append("c.entry = :entry")
    if chosen["revision"]:
        conditions.append("c.commit_key = :revision")
    return "".join(f" and {condition}" for condition in conditions), params


def _is_date(text: str) -> bool:
    try:
        datetime.date.fromisoformat(text)
    except ValueError:
        return False
    return True
