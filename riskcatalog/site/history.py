"""The data behind the history on the site (修订记录): an entry's history and the changes page (最近修订).

Reads the tables the build's history wrote (unit_history, commits, changes; riskcatalog.history)
and returns the variables templates/_history.html and templates/changes.html render.
"""

from __future__ import annotations

import datetime
from urllib.parse import urlencode

from .pages import DATABASE, query_rows, repository
from .params import CHANGES, read as read_parameters

#: Pages whose entries show their history (templates/_history.html).
HISTORY_PAGES = ("risks", "measures")
#: Row pages by the kind of entry a change names.
ENTRY_TABLES = {"risk": "risks", "measure": "measures", "area": "areas", "source": "sources", "register": "units"}
#: The changes page shows this many commits' changes; older ones are on the next pages.
PAGE_COMMITS = 50
#: "Kind of change" on the changes page: the change kinds, and 等级调整 (a change of level).
LEVEL_FILTER = "level"

#: A change with its commit, the labels of its kinds and whether its entry is still in the register
#: (a removed entry has no page).
_CHANGES = """
    select c.*, k.sha, k.subject, k.author, ck.label_zh as change_zh, ck.label_en as change_en,
      ek.label_zh as kind_zh, ek.label_en as kind_en,
      case c.kind when 'risk' then exists(select 1 from risks x where x.key = c.entry)
        when 'measure' then exists(select 1 from measures x where x.key = c.entry)
        when 'area' then exists(select 1 from areas x where x.key = c.entry)
        when 'source' then exists(select 1 from sources x where x.key = c.entry)
        when 'register' then exists(select 1 from units x where x.id = c.entry) end as present
    from changes c join commits k on k.key = c.commit_key join change_kinds ck on ck.id = c.change
    join entry_kinds ek on ek.id = c.kind"""


def commit_url(datasette, sha: str) -> str | None:
    """Link to a commit in the repository metadata.yml names (plugins.riskcatalog.repository), if any."""
    base = repository(datasette)
    return f"{base}/commit/{sha}" if base else None


def _by_commit(datasette, changes: list[dict]) -> list[dict]:
    """Changes grouped by their commit, in the order given, each change with its entry's page."""
    commits: dict[str, dict] = {}
    for change in changes:
        table = ENTRY_TABLES.get(change["kind"])
        change["url"] = datasette.urls.row(DATABASE, table, change["entry"]) if change["present"] else None
        change["replaced_by_url"] = (datasette.urls.row(DATABASE, table, change["replaced_by"])
                                     if change["replaced_by"] else None)
        if change["replaced_by"]:  # shown by its id, as the register writes it
            change["replaced_by"] = change["replaced_by"].removeprefix(f"{change['unit']}-")
        commit = commits.setdefault(change["commit_key"], {
            "sha": change["sha"], "short": change["sha"][:8], "date": change["date"], "day": change["day"],
            "subject": change["subject"], "author": change["author"], "url": commit_url(datasette, change["sha"]),
            "changes": []})
        commit["changes"].append(change)
    return list(commits.values())


async def _notes(db, unit: str | None = None) -> list[dict]:
    """Each register's history: what it covers, or why it is absent or partial."""
    return await query_rows(db, "select * from unit_history where :unit is null or unit = :unit order by unit", unit=unit)


async def entry_history(datasette, table: str, key: str) -> dict:
    """The history (修订记录) on a risk's or measure's page: its changes by commit, newest first."""
    db = datasette.get_database(DATABASE)
    changes = await query_rows(db, f"{_CHANGES} where c.entry = :key order by c.date desc, c.id", key=key)
    unit = await query_rows(db, f"select unit from [{table}] where key = :key", key=key)
    return {"entry_history": {"commits": _by_commit(datasette, changes),
                              "notes": await _notes(db, unit[0]["unit"] if unit else None)}}


async def changes_page(datasette, request) -> dict:
    """The changes page (最近修订): the latest commits' changes across the registers, filtered by area,
    kind of change, kind of entry and date, a page of commits at a time."""
    db = datasette.get_database(DATABASE)
    chosen = read_parameters(request.args, CHANGES)
    page = int(chosen.pop("page") or 1)
    where, params = _filters(chosen)
    changes = await query_rows(db, f"""
        with shown as (select distinct c.commit_key, c.date from changes c {where}
                       order by c.date desc, c.commit_key desc limit {PAGE_COMMITS + 1} offset :skip)
        {_CHANGES} join shown on shown.commit_key = c.commit_key {where}
        order by c.date desc, c.commit_key desc, c.id""", skip=(max(page, 1) - 1) * PAGE_COMMITS, **params)
    commits = _by_commit(datasette, changes)
    filters = {name: value for name, value in chosen.items() if value}
    return {"changes": {
        "commits": commits[:PAGE_COMMITS], "chosen": chosen, "page": page,
        "older": "/changes?" + urlencode({**filters, "page": page + 1}) if len(commits) > PAGE_COMMITS else None,
        "newer": "/changes?" + urlencode({**filters, "page": page - 1}) if page > 1 else None,
        # area ids are shared by every register, so one choice covers a district's or a city's registers
        "areas": await query_rows(db, "select id, name_zh, name_en from area_summary order by position, id"),
        "change_kinds": await query_rows(db, "select * from change_kinds order by rank"),
        "entry_kinds": await query_rows(db, "select * from entry_kinds order by rank"),
        "notes": await _notes(db),
        "feed_url": datasette.urls.query(DATABASE, "changes_feed") + ".atom"
                    + ("?" + urlencode({k: v for k, v in filters.items() if k != "since"}) if filters else ""),
        "table_url": datasette.urls.table(DATABASE, "changes"),
        "queries": {name: datasette.urls.query(DATABASE, name) for name in ("changes_since", "level_changes")},
    }}


def _filters(chosen: dict[str, str]) -> tuple[str, dict]:
    """The changes page's filters as SQL conditions on changes c; a date not of the form YYYY-MM-DD is ignored."""
    conditions, params = [], {}
    if chosen["area"]:
        conditions.append("c.area = c.unit || '-' || :area")
        params["area"] = chosen["area"]
    if chosen["change"] == LEVEL_FILTER:
        conditions.append("c.field = 'level'")
    elif chosen["change"]:
        conditions.append("c.change = :change")
        params["change"] = chosen["change"]
    if chosen["kind"]:
        conditions.append("c.kind = :kind")
        params["kind"] = chosen["kind"]
    if _is_date(chosen["since"]):
        conditions.append("c.day >= :since")
        params["since"] = chosen["since"]
    return ("where " + " and ".join(conditions)) if conditions else "", params


def _is_date(text: str) -> bool:
    try:
        datetime.date.fromisoformat(text)
    except ValueError:
        return False
    return True
