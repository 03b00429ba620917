"""What the site asks of Datasette beyond the plugin hooks and APIs that 0.65 and 1.0 share.

Written for Datasette 0.65 (pyproject.toml pins 0.65.x). The rest of riskcatalog.site uses
documented plugin hooks (register_routes, extra_template_vars, extra_css_urls, render_cell,
register_output_renderer, asgi_wrapper, prepare_connection, prepare_jinja2_environment, startup,
handle_exception), documented APIs (get_database, Database.execute, urls, render_template,
plugin_config, setting) and Datasette's own templates by their blocks; Datasette 1.0 keeps those.
Each thing here is 0.65's only, or reads Datasette's internals, and says why: a move to 1.0
changes this file. `make test-datasette-1` runs the tests against the newest 1.0 alpha, and
docs/architecture.md records what breaks there.
"""

from __future__ import annotations

import contextlib
import re
import sqlite3
import weakref
from dataclasses import dataclass, field
from pathlib import Path

from datasette import hookimpl
from datasette.utils import sqlite_timelimit  # noqa: F401 (downloads: a query's time limit, as Datasette's own)
from jinja2 import BaseLoader

#: Debug pages closed to the public (riskcatalog.site.limits). 0.65's: databases (the database's
#: absolute path), threads (tasks with the Python installation's paths), messages, allow-debug,
#: patterns, permissions. 1.0 adds tasks, actions, allowed, rules, check and debug/autocomplete
#: (the permission system's workings); closing a page a version lacks costs nothing.
DEBUG_PAGES = ("databases", "threads", "messages", "allow-debug", "patterns", "permissions",
               "tasks", "actions", "allowed", "rules", "check", "debug/autocomplete")


# --- The catalogue's metadata: titles, column descriptions, facets, ready-made queries -------------

@hookimpl
def get_metadata(datasette, key, database, table):
    """0.65's metadata hook: the packaged metadata (riskcatalog.site.catalogue.metadata) for the catalogue
    database the site serves, whatever its name. Datasette merges a deployment's metadata.yml after
    it, so the deployment's wins, key by key.

    1.0 removed this hook: there the titles and descriptions are set at startup
    (datasette.set_resource_metadata, set_column_metadata), the table settings (facets, sort, size,
    label_column, fts_table, hidden) go in the configuration, and the queries in datasette.add_query."""
    from . import catalogue  # here, not above: catalogue reads schemas through this module

    served = catalogue.recognised(datasette).served
    if not served:
        return {}
    if datasette not in _SERVED:
        described = _fresh(catalogue.metadata())
        _SERVED[datasette] = described, frozenset(
            {"databases", *described, *(key for table in described["tables"].values() for key in table)})
    described, keys = _SERVED[datasette]
    # Datasette asks for keys the catalogue does not set (allow, plugins, licence…) several times a
    # request: those get nothing.
    return {"databases": {served: _spine(described)}} if key is None or key in keys else {}


#: Each Datasette's own copy of the catalogue's metadata, and the keys it sets: 0.65 merges a
#: deployment's metadata.yml into what a plugin returns (the same values each time), never into the package's.
_SERVED: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()


def _spine(described: dict) -> dict:
    """described, with the database's and each table's dictionary copied: 0.65's views write the
    licence and source into those (update_with_inherited_metadata), which must not stay for the next page."""
    return {**described, "tables": {name: dict(table) for name, table in described["tables"].items()}}


def _fresh(value):
    """A copy of value's dictionaries (lists and text shared)."""
    return {key: _fresh(item) for key, item in value.items()} if isinstance(value, dict) else value


def site_metadata(datasette) -> dict:
    """The site's own metadata (title, license, source, about…), as a deployment's metadata.yml sets it.
    0.65's datasette.metadata() (undocumented); 1.0 reads these from the configuration's top level."""
    return datasette.metadata() or {}


async def tables_metadata(datasette, database: str) -> dict[str, dict]:
    """Each table's metadata in a database (title, description, columns…), as served: the package's
    under the deployment's. 0.65's datasette.metadata() (undocumented); 1.0: get_resource_metadata,
    which is async, as this is for that reason."""
    return datasette.metadata("tables", database=database) or {}


async def table_metadata(datasette, database: str, table: str | None) -> dict:
    """One table's metadata (empty for a query). 0.65's datasette.table_metadata() (undocumented);
    1.0: get_resource_metadata and get_column_metadata, which are async."""
    return (datasette.table_metadata(database, table) or {}) if table else {}


async def canned_queries(datasette, database: str) -> dict[str, dict]:
    """The ready-made queries of a database, by name, each with its title and description.
    0.65's datasette.get_canned_queries() (undocumented); 1.0 stores queries (datasette.list_queries)."""
    return await datasette.get_canned_queries(database, None)


def sql_path(datasette, database: str) -> str:
    """Where a database's arbitrary SQL runs (?sql=…): 0.65's database page; 1.0 moved it to
    /<database>/-/query (and redirects the old address)."""
    return datasette.urls.database(database)


# --- Responses ---------------------------------------------------------------------------------

def renderer_refusal(text: str, status: int, headers: dict | None = None) -> dict:
    """An output renderer's refusal, plain text with its status (riskcatalog.site.downloads).

    0.65 puts the status of the page on a Response a renderer returns (200), and keeps the status of
    a dict: a form its source marks "will be deprecated in Datasette 1.0", where a Response keeps its own."""
    return {"body": text, "status_code": status, "content_type": "text/plain; charset=utf-8", "headers": headers}


# --- Templates ---------------------------------------------------------------------------------

#: The <html> element of Datasette's base.html: 0.65 writes <html>, 1.0 <html lang="en">.
_HTML_ELEMENT = re.compile(r"<html(\s[^>]*)?>")
#: Where the page's own content starts (the messages above it, then <section class="content">) and
#: ends (that section's end, before the footer): the span that becomes the page's <main> landmark.
_CONTENT_START = re.compile(r"\{%-?\s*block messages\s*-?%\}")
_CONTENT_END = re.compile(r"</section>(\s*)</div>(\s*)<footer")
#: Datasette's query page (the SQL page, ?sql=…) heads its sections h3 straight after its h1.
_SECTION_HEADING = re.compile(r"<(/?)h3>")


class _PageFrame(BaseLoader):
    """Datasette's base.html with what every page a reader reaches needs and its blocks do not reach.

    - <html> gets the page's language (page_lang) and, in large-text mode, its class (page_class):
      the lang attribute makes browsers pick Chinese glyphs and screen readers read the page in a
      Chinese voice; the class enlarges every size given in rem before the first paint.
    - The messages and the content are one <main id="content"> landmark, the target of the skip link
      (base.html's nav block): Datasette's base.html has none, and its content section has no block.
    - The SQL page's sections (Custom SQL query, Query parameters) are headed h2, not h3: headings in
      order, none skipped, for readers who move through a page by its headings; in English, as written.

    Rather than a copy of base.html (which falls behind Datasette's), the template is changed as it
    loads; where Datasette's markup no longer matches, the page keeps Datasette's own (and the
    accessibility tests fail on the missing landmark)."""

    def __init__(self, loader: BaseLoader):
        self.loader = loader

    def get_source(self, environment, template):
        source, filename, uptodate = self.loader.get_source(environment, template)
        if template == "default:base.html":
            source = _HTML_ELEMENT.sub(lambda element: '{% if page_lang %}<html lang="{{ page_lang }}"'
                                       '{% if page_class %} class="{{ page_class }}"{% endif %}>'
                                       f"{{% else %}}{element.group(0)}{{% endif %}}", source, count=1)
            if _CONTENT_START.search(source) and _CONTENT_END.search(source):
                source = _CONTENT_START.sub(lambda start: '<main id="content" tabindex="-1">' + start.group(0),
                                            source, count=1)
                source = _CONTENT_END.sub(r"</section>\1</main>\1</div>\2<footer", source, count=1)
        elif template == "default:query.html":
            source = _SECTION_HEADING.sub(lambda tag: "</h2>" if tag.group(1) else '<h2 lang="en">', source)
        return source, filename, uptodate

    def list_templates(self):
        return self.loader.list_templates()


def set_page_frame(env) -> None:
    """Let pages declare their language and class on <html>, and give them a <main> landmark
    (prepare_jinja2_environment)."""
    env.loader = _PageFrame(env.loader)


# --- Recognising a catalogue database ----------------------------------------------------------

@dataclass(frozen=True)
class Schema:
    """What a database holds, as far as recognising a catalogue goes."""

    tables: frozenset[str] = field(default_factory=frozenset)  # tables and views
    build_facts: frozenset[str] = field(default_factory=frozenset)  # the keys of build_info
    error: str | None = None


def schema_of(db) -> Schema:
    """A database's tables and views and the keys of its build_info, read from its file.

    Datasette asks a plugin for its routes (register_routes) synchronously, before it starts,
    while its Database API is async; so the file is opened here, read-only, from 0.65's
    Database.path and is_memory (attributes outside the documented API)."""
    if db.is_memory or not db.path:
        return Schema(error="an in-memory database, which the site does not read")
    try:
        with contextlib.closing(sqlite3.connect(Path(db.path).resolve().as_uri() + "?mode=ro", uri=True)) as conn:
            tables = frozenset(row[0] for row in conn.execute(
                "select name from sqlite_master where type in ('table', 'view')"))
            facts = frozenset(row[0] for row in conn.execute("select key from build_info")) \
                if "build_info" in tables else frozenset()
    except sqlite3.Error as exc:
        return Schema(error=str(exc))
    return Schema(tables, facts)
