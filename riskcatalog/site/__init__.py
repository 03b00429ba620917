"""The site wing: Datasette hooks for the catalogue (Chinese search, page data, links, limits).

Registered through the `datasette` entry point in pyproject.toml, so every Datasette that runs
with the project installed (the served site and the tests) gets them, with the templates and
static files in this package. The site serves the catalogue database whatever its name
(riskcatalog.site.catalogue); it reads the database the build wrote and the Chinese search
expansion (riskcatalog.search) it shares with the build; it never loads the validator or the
YAML. What it needs of Datasette beyond the documented hooks is in datasette_adapter.
"""

from __future__ import annotations

import re
from urllib.parse import urlencode

from datasette import NotFound, Response, hookimpl
from datasette.utils import tilde_decode, tilde_encode

from .. import fields
from .. import search as search_text
from ..search import fts_query
from . import (cells, datasette_adapter, downloads, errors, hardening, history, identity, limits, pages, params, powers,
               search, textsize, wording)
from .catalogue import catalogue_database, log_recognition, recognised
from .datasette_adapter import get_metadata  # noqa: F401 (a hook: the catalogue's metadata, in 0.65)

#: The language of the catalogue's pages (<html lang>).
PAGE_LANG = "zh-CN"


@hookimpl(trylast=True)
def prepare_connection(conn, database, datasette):
    """Replace Datasette's escape_fts so every search expands Chinese words as the index does; give SQL
    (the Atom feed's query) the site's address of a row of this database."""
    conn.create_function("escape_fts", 1, fts_query, deterministic=True)
    conn.create_function("row_path", 2, lambda table, key: datasette.urls.row(database, table, key),
                         deterministic=True)
    hardening.harden(conn)


@hookimpl
def prepare_jinja2_environment(env):
    """An empty value (a register kept in Chinese has no English) prints as nothing, never as "None"; the
    catalogue's pages declare their language and large-text mode (page_lang, page_class), have a main
    landmark (datasette_adapter.set_page_frame) and read the field registry's names (F); text with the
    searched words highlighted is written by a filter (a search page marks a hundred titles and passages:
    a macro per piece is most of its time); "中文 English" text marks its English (bilingual)."""
    env.finalize = lambda value: "" if value is None else value
    env.globals["F"] = fields.LABELS  # the field registry's names: {{ F.risk.supervisor.zh }}, a risk's supervisor
    env.filters["marked"] = search.marked
    env.filters["bilingual"] = wording.bilingual  # "中文 English": the English spoken in an English voice
    datasette_adapter.set_page_frame(env)


@hookimpl
def startup(datasette):
    """Say in the log which databases are served without the catalogue's pages, and why; read the thesaurus
    and the word dictionary as the server starts, not at a reader's first search: a bad thesaurus stops the
    server with its file and line (riskcatalog.thesaurus)."""
    log_recognition(datasette)
    search_text.warm_up()


@hookimpl
def register_routes(datasette):
    """The catalogue's own pages, when it is served: home, search and lists, short addresses, the
    changes page (最近修订), the powers, their flowcharts and cards, the workbook, the levels' colours,
    the large-text switch."""
    db = catalogue_database(datasette)
    if db is None:
        return []
    return [
        # Our own home rather than Datasette's index, which checks permissions table by table
        # (most of its time) for a list the page doesn't show.
        (r"^/$", _home),
        (r"^/search(?P<format>\.json)?$", _search),
        (r"^/changes$", _changes),
        (r"^/-/levels\.css$", _levels_css),
        (r"^/-/text-size$", textsize.switch),
        # An id as readers write it (LAND-02); real keys start with the unit (yijia-LAND-02).
        (rf"^/{re.escape(tilde_encode(db.name))}/(?P<kind>risks|measures)/(?P<typed>[A-Za-z][A-Za-z0-9]*-[Mm]?\d+)$",
         _short_address),
        # The powers (职权目录), each power's flowchart, the posts' risk cards, and their Word files.
        (r"^/powers$", _powers),
        (r"^/powers/(?P<reference>[^/]+)$", _power),
        (r"^/cards$", _cards),
        (r"^/cards/(?P<reference>[^/]+)$", _cards),
        (r"^/-/handbook\.docx$", powers.handbook_download),
        (r"^/-/cards\.docx$", powers.cards_download),
        *downloads.routes(),
    ]


async def _home(datasette, request):
    context = await pages.home(datasette)
    return Response.html(await datasette.render_template("home.html", context, request=request, view_name="home"))


async def _powers(datasette, request):
    """The 职权目录: a unit's powers by area and by post."""
    context = await powers.catalogue_page(datasette, request)
    return Response.html(await datasette.render_template("powers.html", context, request=request, view_name="powers"))


async def _power(datasette, request):
    """A power's page: its flowchart, drawn on the server as SVG, and the same as text."""
    context = await powers.power_page(datasette, request, request.url_vars["reference"])
    if isinstance(context, Response):
        return context
    return Response.html(await datasette.render_template("power.html", context, request=request, view_name="power"))


async def _cards(datasette, request):
    """The risk cards (岗位廉政风险防控卡) of a unit's posts, or of one post, a card a printed page."""
    context = await powers.cards_page(datasette, request, request.url_vars.get("reference"))
    if isinstance(context, Response):
        return context
    return Response.html(await datasette.render_template("cards.html", context, request=request, view_name="cards"))


async def _search(datasette, request):
    """The search page (or a list page); an id typed as the search opens its entry (search.json names it)."""
    context = await search.search_page(datasette, request)
    status = 400 if context["error"] else 200
    if request.url_vars.get("format"):
        return Response.json(search.as_json(context), status=status)
    if context["entry"]:
        return Response.redirect(context["entry"]["url"])
    html = await datasette.render_template("search.html", context, request=request, view_name="search")
    return Response.html(html, status=status)


async def _short_address(datasette, request):
    """/<catalogue>/risks/LAND-02: the entry when one register has it, the list when several do."""
    kind = request.url_vars["kind"]
    given = params.value_of(params.SHORT_ADDRESS, request.url_vars["typed"])
    typed = search.typed_id(given)  # None: not in an id's form (LAND-9999…9), so no entry has it
    keys = await search.entry_by_id(datasette, kind, typed) if typed else []
    if not keys:
        raise NotFound(f"没有编号为 {typed or given} 的{'风险点' if kind == 'risks' else '防控措施'}。"
                       f"No {kind[:-1]} has the id {typed or given}.")
    if len(keys) == 1:
        return Response.redirect(datasette.urls.row(catalogue_database(datasette).name, kind, keys[0]))
    return Response.redirect(datasette.urls.path("/search?" + urlencode({"id": typed})))


async def _changes(datasette, request):
    """The changes page (最近修订): recent changes across the registers, from the build's history."""
    context = await history.changes_page(datasette, request)
    return Response.html(await datasette.render_template("changes.html", context, request=request,
                                                         view_name="changes"))


async def _levels_css(datasette, request):
    """Each level's colours, from the levels table: the badges and the heat map on every page."""
    css = "".join(f".level-{level['id']} {{ background: {level['colour']}; color: {level['text_colour']}; }}\n"
                  for level in await pages.levels(datasette))
    return Response(css, content_type="text/css; charset=utf-8",
                    headers={"Cache-Control": f"max-age={datasette.setting('default_cache_ttl')}"})


@hookimpl
def extra_css_urls(datasette):
    """The catalogue's stylesheets, from this package (static/), and the levels' colours; none without a catalogue."""
    if catalogue_database(datasette) is None:
        return []
    return [datasette.urls.static_plugins("riskcatalog", "catalog.css"),
            datasette.urls.static_plugins("riskcatalog", "history.css"),
            datasette.urls.static_plugins("riskcatalog", "powers.css"),
            datasette.urls.path("/-/levels.css")]


@hookimpl
def extra_js_urls(datasette):
    """Large-text mode, applied before the page is drawn (static/pages.js); none without a catalogue."""
    if catalogue_database(datasette) is None:
        return []
    return [datasette.urls.static_plugins("riskcatalog", "pages.js")]


@hookimpl
def register_output_renderer(datasette):
    """.xlsx and CSV for Excel of every table, view and query, with every row (riskcatalog.site.downloads)."""
    return downloads.renderers()


@hookimpl
def asgi_wrapper(datasette):
    """The limits at the door (riskcatalog.site.limits) in front of everything; behind them, Datasette's
    own "CSV" link gives every row, not one page (riskcatalog.site.downloads.complete_csv)."""
    door = limits.door(datasette)
    return lambda app: door(downloads.complete_csv(datasette, app))


@hookimpl
def handle_exception(datasette, request, exception):
    """A client error as 400 in Chinese and English; an unexpected one as a 500 that shows nothing of
    the server (riskcatalog.site.errors)."""
    return errors.answer(datasette, request, exception)


@hookimpl
def render_cell(row, value, column, table, database, datasette):
    """Levels as badges; in canned queries, entries and counts as links (riskcatalog.site.cells)."""
    if cells.may_render(column, table) and database == recognised(datasette).served:
        return cells.render(datasette, row, value, column, table)
    return None


@hookimpl
def extra_template_vars(template, database, table, view_name, request, datasette):
    """What the catalogue's templates show beyond Datasette's own context: the catalogue's name, levels
    and titles on every page; column labels on table pages; parameter checks on query pages; the
    entry pages' data and template."""
    db = catalogue_database(datasette)
    if db is None:
        return None

    async def variables() -> dict:
        found = {"page_lang": PAGE_LANG, "page_class": textsize.page_class(request),
                 "large_text": textsize.is_large(request), "catalog_database": db.name, "catalog_page": database == db.name,
                 "catalog_sql_path": datasette_adapter.sql_path(datasette, db.name),
                 "catalog_unshown": recognised(datasette).unshown,
                 "catalog_levels": await pages.levels(datasette), "catalog_titles": await wording.titles(datasette, db.name),
                 "catalog_identity": await identity.identity(datasette)}
        if database != db.name:
            return found
        # By template: Datasette renders a canned query from its table view.
        if template.startswith("query") and request is not None:
            found["parameter_errors"] = wording.parameter_errors(request)
            found["parameter_labels"] = wording.PARAMETERS
        elif template.startswith(("table", "row")):
            found["column_labels"] = await wording.column_labels(datasette, database, table)
        if view_name == "row":
            found.update(await _row_page(datasette, table, tilde_decode(request.url_vars["pks"])))
        return found

    return variables


async def _row_page(datasette, table: str, key: str) -> dict:
    """A row page of the catalogue: an entry's own page (entry-<table>.html, with its data and history),
    or the catalogue's page of any other row (row.html extends the template named here)."""
    if table not in pages.ROW_PAGES:
        return {"catalog_row_template": "_catalog_data_row.html"}
    found = {"catalog_row_template": f"entry-{table}.html", **await pages.ROW_PAGES[table](datasette, key)}
    if table in history.HISTORY_PAGES:
        found.update(await history.entry_history(datasette, table, key))
    return found
