"""The site wing: Datasette hooks for the catalogue (Chinese search, page data, links, limits).

Registered through the `datasette` entry point in pyproject.toml, so every Datasette that runs
with the project installed (the served site and the tests) gets them. The site reads the
database the build wrote and the Chinese search expansion (riskcatalog.search) it shares with
the build; it never loads the validator or the YAML.
"""

from __future__ import annotations

from datasette import Response, hookimpl
from datasette.utils import tilde_decode
from markupsafe import Markup, escape

from ..search import fts_query
from . import hardening, history, pages

DATABASE = pages.DATABASE


@hookimpl(trylast=True)
def prepare_connection(conn):
    """Replace Datasette's escape_fts so every search expands Chinese words as the index does."""
    conn.create_function("escape_fts", 1, fts_query, deterministic=True)
    hardening.harden(conn)


#: Columns whose values are keys of a row page: canned queries and views link them.
KEY_COLUMNS = {"risk_key": "risks", "measure_key": "measures", "area_key": "areas"}


@hookimpl
def register_routes(datasette):
    """The home page, when the catalogue is served: our own view rather than Datasette's index,
    which checks permissions table by table (most of its time) for a list the page doesn't show;
    and the changes page (最近修订)."""
    if DATABASE in datasette.databases:
        return [(r"^/$", _home), (r"^/changes$", _changes)]
    return []


async def _home(datasette, request):
    context = await pages.home(datasette)
    return Response.html(await datasette.render_template("home.html", context, request=request, view_name="home"))


async def _changes(datasette, request):
    """The changes page (最近修订): recent changes across the registers, from the build's history."""
    context = await history.changes_page(datasette, request)
    return Response.html(await datasette.render_template("changes.html", context, request=request,
                                                         view_name="changes"))


@hookimpl
def render_cell(value, column, table, database, datasette):
    """Link key columns (risk_key, measure_key, area_key) in query results to their row pages."""
    if database == DATABASE and column in KEY_COLUMNS and isinstance(value, str) and value:
        path = datasette.urls.row(DATABASE, KEY_COLUMNS[column], value)
        return Markup(f'<a href="{escape(path)}">{escape(value)}</a>')
    return None


@hookimpl
def extra_template_vars(template, database, table, view_name, request, datasette):
    """The levels' labels and colours on every page; the page data of the risk, measure and area pages."""
    if DATABASE not in datasette.databases:
        return None

    async def variables() -> dict:
        found = {"catalog_levels": await pages.levels(datasette.get_database(DATABASE))}
        if view_name == "row" and database == DATABASE and table in pages.ROW_PAGES:
            found.update(await pages.ROW_PAGES[table](datasette, tilde_decode(request.url_vars["pks"])))
        if view_name == "row" and database == DATABASE and table in history.HISTORY_PAGES:
            found.update(await history.entry_history(datasette, table, tilde_decode(request.url_vars["pks"])))
        return found

    return variables
