"""How values read in Datasette's own pages: levels as badges, entries and counts as links.

Canned queries (catalogue.yml) name their columns in Chinese and English ("风险点 Risk") and
carry the keys that link a row's entries in columns that start with `_` (`_risk`, `_measure`,
`_area_id`), which the query page hides. Table pages show levels as badges too.
"""

from __future__ import annotations

from urllib.parse import urlencode

from markupsafe import Markup, escape

from .. import vocab
from ..fields import RISK
from .catalogue import catalogue_database
from .pages import levels


def badge(level: dict) -> Markup:
    """A level as the badge every page shows: 一级 high, coloured by the levels table."""
    return Markup(f'<span class="level level-{escape(level["id"])}">{escape(level["label_zh"])} '
                  f'<span lang="en">{escape(level["label_en"])}</span></span>')


#: Columns of canned queries that hold a level (its id or Chinese label): shown as its badge.
LEVEL_HEADS = {RISK["level"].zh, "原等级", "新等级"}


#: Columns of canned queries whose cells may become links: entries, areas, and counts by level.
LINK_HEADS = {"风险点", "防控措施", "领域", "名称", "合计", *(zh for zh, _ in vocab.LEVELS.values())}


def may_render(column: str, table: str | None) -> bool:
    """Whether render() may have something for this column: a page renders thousands of cells, and
    most need no coroutine at all."""
    if table is not None:
        return column == "level"
    return column.split(" ")[0] in LEVEL_HEADS | LINK_HEADS


async def render(datasette, row, value, column: str, table: str | None) -> Markup | None:
    """The cell's HTML, or None for Datasette's own rendering."""
    if table is not None:  # a table page: level ids as badges
        return await _level(datasette, value) if column == "level" else None
    keys = row.keys()
    head = column.split(" ")[0]
    if head in LEVEL_HEADS:
        return await _level(datasette, value)
    link = _entry_link(datasette, row, keys, head)
    if link is None and "_area_id" in keys and isinstance(value, int) and value:
        link = await _count_link(datasette, row, head)
    if link is None:
        return None
    return Markup(f'<a href="{escape(link)}">{escape(value)}</a>')


def _entry_link(datasette, row, keys, head: str) -> str | None:
    """A risk's, measure's or area's name links to its page (or its list, for an area); a 名称 column
    links to whichever of the two its row names."""
    if head in ("风险点", "名称") and "_risk" in keys and row["_risk"]:
        return datasette.urls.row(catalogue_database(datasette).name, "risks", row["_risk"])
    if head in ("防控措施", "名称") and "_measure" in keys and row["_measure"]:
        return datasette.urls.row(catalogue_database(datasette).name, "measures", row["_measure"])
    if head == "领域" and "_area_id" in keys:
        return datasette.urls.path("/search?" + urlencode({"area": row["_area_id"]}))
    return None


async def _count_link(datasette, row, head: str) -> str | None:
    """A count of an area's risks by level (or in total) links to the list of those risks."""
    args = {"area": row["_area_id"]}
    level = next((lvl for lvl in await levels(datasette) if lvl["label_zh"] == head), None)
    if level is not None:
        args["level"] = level["id"]
    elif head != "合计":
        return None
    return datasette.urls.path("/search?" + urlencode(args))


async def _level(datasette, value) -> Markup | None:
    """A level id or Chinese label as its badge."""
    level = next((lvl for lvl in await levels(datasette) if value in (lvl["id"], lvl["label_zh"])), None)
    return badge(level) if level else None
