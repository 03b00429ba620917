"""Datasette hooks: Chinese search, the page data of the catalogue's own pages, links.

Registered through the `datasette` entry point in pyproject.toml, so every Datasette
that runs with the project installed (the served site and the tests) gets them.
"""

from __future__ import annotations

import re
import sqlite3
import threading

from datasette import Response, hookimpl
from datasette.utils import tilde_decode
from markupsafe import Markup, escape

from . import pages
from .search import fts_query

DATABASE = "catalog"

#: Columns whose values are keys of a row page: canned queries and views link them.
KEY_COLUMNS = {"risk_key": "risks", "measure_key": "measures", "area_key": "areas"}


#: Longest string or blob a reader's query may make. The SQL time limit is only checked between
#: steps, so one randomblob(1e9) would otherwise hold a thread for many seconds.
MAX_VALUE_BYTES = 10_000_000


@hookimpl(trylast=True)
def prepare_connection(conn):
    """Replace Datasette's escape_fts so every search expands Chinese words as the index does."""
    conn.create_function("escape_fts", 1, fts_query, deterministic=True)
    conn.setlimit(sqlite3.SQLITE_LIMIT_LENGTH, MAX_VALUE_BYTES)
    # fts3_tokenizer() returns (and with two arguments replaces) a native pointer; nothing here uses FTS3.
    for arity in (1, 2):
        conn.create_function("fts3_tokenizer", arity, _refuse_fts3_tokenizer)
    for name in ("printf", "format"):
        conn.create_function(name, -1, _printf, deterministic=True)


def _refuse_fts3_tokenizer(*args):
    raise PermissionError("fts3_tokenizer() is disabled")


#: A %c conversion with a precision: the character repeated that many times.
_REPEATED_CHAR = re.compile(r"%[-+ #0,!]*(?:\d+|\*)?\.(\d+|\*)l{0,2}c")
_BUILTIN = threading.local()


def _printf(*args):
    """SQLite's printf, less one stall: SQLite 3.40 keeps repeating %c past the length limit, so
    printf('%.*c', 1e9, 'x') holds a thread ~5 s where the time limit cannot stop it."""
    for precision in _REPEATED_CHAR.findall(str(args[0]) if args and args[0] is not None else ""):
        counts = args[1:] if precision == "*" else [precision]
        if any(_number(count) > MAX_VALUE_BYTES for count in counts):
            raise ValueError(f"printf: repeating a character over {MAX_VALUE_BYTES:,} times is refused")
    return _builtin_printf(args)


def _number(value) -> float:
    try:
        return abs(float(value))
    except (TypeError, ValueError):
        return 0.0


def _builtin_printf(args: tuple):
    """The built-in printf, from a private in-memory connection (this one's printf is _printf)."""
    conn = getattr(_BUILTIN, "conn", None)
    if conn is None:  # one per thread: Datasette runs queries on several
        conn = _BUILTIN.conn = sqlite3.connect(":memory:")
        conn.setlimit(sqlite3.SQLITE_LIMIT_LENGTH, MAX_VALUE_BYTES)
    return conn.execute(f"select printf({', '.join('?' * len(args))})", args).fetchone()[0]


@hookimpl
def asgi_wrapper(datasette):
    """Mark every HTML page as Chinese, so browsers pick Chinese glyphs and fonts."""
    return _set_html_lang


@hookimpl
def register_routes(datasette):
    """The home page, when the catalogue is served: our own view rather than Datasette's index,
    which checks permissions table by table (most of its time) for a list the page doesn't show."""
    if DATABASE in datasette.databases:
        return [(r"^/$", _home)]
    return []


async def _home(datasette, request):
    context = await pages.home(datasette)
    return Response.html(await datasette.render_template("home.html", context, request=request, view_name="home"))


@hookimpl
def render_cell(value, column, table, database, datasette):
    """Link key columns (risk_key, measure_key, area_key) in query results to their row pages."""
    if database == DATABASE and column in KEY_COLUMNS and isinstance(value, str) and value:
        path = datasette.urls.row(DATABASE, KEY_COLUMNS[column], value)
        return Markup(f'<a href="{escape(path)}">{escape(value)}</a>')
    return None


@hookimpl
def extra_template_vars(template, database, table, view_name, request, datasette):
    """Page data for the risk, measure and area pages."""
    if view_name == "row" and database == DATABASE and table in pages.ROW_PAGES:
        key = tilde_decode(request.url_vars["pks"])
        return lambda: pages.ROW_PAGES[table](datasette, key)
    return None


def _set_html_lang(app):
    async def wrapped(scope, receive, send):
        if scope["type"] != "http":
            return await app(scope, receive, send)
        held: dict = {"start": None, "body": []}

        async def flush() -> None:
            start, held["start"] = held["start"], None
            body = b"".join(held["body"]).replace(b"<html>", b'<html lang="zh-CN">', 1)
            headers = [(k, v) for k, v in start["headers"] if k.lower() != b"content-length"]
            headers.append((b"content-length", str(len(body)).encode()))
            await send({**start, "headers": headers})
            await send({"type": "http.response.body", "body": body})

        async def send_with_lang(message):
            if message["type"] == "http.response.start":
                content_type = dict(message.get("headers", [])).get(b"content-type", b"")
                if not content_type.startswith(b"text/html"):
                    return await send(message)
                held["start"] = message
                return None
            if held["start"] is None:
                return await send(message)
            held["body"].append(message.get("body", b""))
            if not message.get("more_body"):
                await flush()
            return None

        await app(scope, receive, send_with_lang)
        if held["start"] is not None:
            # The app ended without a last body message: Datasette 0.65's ?_trace=1 does so for
            # pages over 256 KB. Send what came rather than no response at all.
            await flush()

    return wrapped
