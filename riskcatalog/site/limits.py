"""Limits at the door: an ASGI wrapper in front of the whole site (Datasette's asgi_wrapper hook).

Before Datasette sees a request, the door checks that:
- the Host header is a name the site is served under (metadata's plugins.riskcatalog.hosts):
  Datasette builds `next_url` and `Link` from it, and responses are cached for five minutes.
  Where no names are configured, the site's own address is known, and a response to any other
  Host is marked no-store, so no cache keeps its links;
- the path is not a debug page that shows the server's paths or tasks;
- the facets asked for are distinct and few, and the query string short: a table page repeats
  the query string in the link of every facet value;
- a search has a bounded length and number of words, and Datasette's parameters are of a form
  Datasette 0.65 can read (riskcatalog.site.params, the one parser of every parameter).

Then it admits each costly request (COSTLY: a search or list, a table, view or query page with its
filters and facets, a reader's SQL, a download) through one Admission: they work one at a time
(all SQL threads but THREADS_KEPT_FOR_PAGES), so the site's own pages always find a free SQL
thread and a free core; a few more wait their turn, the rest are answered 503 with Retry-After at
once. A reader's SQL (`sql=`, `_where=`) is first prepared in a worker process the operating
system bounds (riskcatalog.site.planning): SQLite's preparation runs before any time limit.
Each refusal is worded in Chinese, then English. See docs/limits.md.
"""

from __future__ import annotations

import asyncio
import contextlib
import contextvars
import html
import json
import time
from collections import deque
from dataclasses import dataclass
from typing import AsyncIterator, Awaitable, Callable
from urllib.parse import parse_qsl, urlencode

from datasette.utils import MultiParams, escape_sqlite, tilde_decode

from . import hardening, params, planning
from .datasette_adapter import DEBUG_PAGES

Scope = dict
Receive = Callable[[], Awaitable[dict]]
Send = Callable[[dict], Awaitable[None]]
App = Callable[[Scope, Receive, Send], Awaitable[None]]

#: Debug pages closed to the public: those of Datasette 0.65 and 1.0 (datasette_adapter.DEBUG_PAGES).
CLOSED_PAGES = DEBUG_PAGES

#: Parameters that each add a facet to a table page.
FACET_PARAMETERS = ("_facet", "_facet_array", "_facet_date")
#: Facets one request may ask for: each costs up to facet_time_limit_ms.
MAX_FACETS = 5
#: Characters of a query string, besides a `sql` parameter (bounded by SQLite's statement limit):
#: a table page repeats its query string in the link of every facet value, up to 1,000 per facet.
MAX_QUERY_CHARS = 8192

#: Parameters that hold a reader's SQL: prepared in a bounded worker first (riskcatalog.site.planning).
READER_SQL_PARAMETERS = ("sql", "_where")
#: The catalogue's own pages that take parameters, and their parameters (riskcatalog.site.params):
#: read at the door too, so a malformed one is refused before it waits for a turn.
OWN_PARAMETERS = {"/search": params.SEARCH, "/search.json": params.SEARCH, "/changes": params.CHANGES,
                  "/-/register.xlsx": params.REGISTER_WORKBOOK, "/powers": params.POWERS, "/cards": params.CARDS,
                  "/-/handbook.docx": params.POWERS, "/-/cards.docx": params.CARDS}
#: The catalogue's own pages that are costly: the search and every list page, the 登记表 workbook.
COSTLY_PAGES = ("/search", "/search.json", "/-/register.xlsx")
#: Downloads (riskcatalog.site.downloads, Datasette's CSV, the Word documents of riskcatalog.site.powers):
#: every row, written out.
DOWNLOADS = (".xlsx", ".excelcsv", ".csv", ".fullcsv", ".docx")
#: SQL threads left free for the site's own pages; the rest may run costly requests.
THREADS_KEPT_FOR_PAGES = 2
#: Costly requests admitted at once (working, waiting for a turn or sending their response): each
#: may hold a response of up to hardening.MAX_RESULT_CHARS while its client reads it.
COSTLY_PLACES = 8
#: How long, in SQL time limits, an admitted request may wait for its first turn.
COSTLY_WAIT_LIMITS = 2
#: The share of the time costly requests may work, together, while they queue: the rest is the
#: pages'. metadata's plugins.riskcatalog.costly_share may change it (a server with more cores may
#: give them more; docs/limits.md has what each costs).
COSTLY_SHARE = 0.5
#: Longest a client may take to read one part of a response before it is cut off.
SEND_SECONDS = 60
#: Least time before a costly request is refused (busy, or past a bound): a reader who asks again at
#: once, whatever the answer, then asks about once a second, and leaves the event loop to the pages.
#: metadata's plugins.riskcatalog.refused_seconds may change it.
REFUSED_SECONDS = 1.0

#: Set while a request holds its turn: a request the site makes to itself on its behalf
#: (a download reading a table's pages through datasette.client) is already admitted.
_ADMITTED: contextvars.ContextVar[bool] = contextvars.ContextVar("riskcatalog_admitted", default=False)
#: Prepares readers' SQL in bounded workers, with the limits every connection of the site has.
PLANNER = planning.Planner(limits={"SQLITE_LIMIT_SQL_LENGTH": hardening.MAX_SQL_BYTES,
                                   "SQLITE_LIMIT_LENGTH": hardening.MAX_VALUE_BYTES})


def door(datasette):
    """A wrapper that puts the door's limits in front of an ASGI app (the site)."""
    threads = datasette.setting("num_sql_threads") or 1
    time_limit = datasette.setting("sql_time_limit_ms") / 1000
    share = float((datasette.plugin_config("riskcatalog") or {}).get("costly_share", COSTLY_SHARE))
    admission = Admission(places=COSTLY_PLACES, turns=max(1, threads - THREADS_KEPT_FOR_PAGES),
                          wait=COSTLY_WAIT_LIMITS * time_limit, share=min(1.0, max(0.05, share)))
    closed = {datasette.urls.path(f"/-/{page}{suffix}") for page in CLOSED_PAGES for suffix in ("", ".json")}
    return lambda app: Door(app, datasette, admission, closed, retry_after=max(1, round(admission.wait)))


@dataclass(frozen=True)
class Refusal:
    """A response the door gives instead of the site: a status, the reason in Chinese and English."""

    status: int
    title: str
    zh: str
    en: str
    headers: tuple[tuple[str, str], ...] = ()

    async def send(self, scope: Scope, send: Send) -> None:
        """As JSON for a .json path, as a small HTML page otherwise; never cached."""
        if scope["path"].endswith(".json"):
            body = json.dumps({"ok": False, "error": f"{self.zh} {self.en}", "status": self.status,
                               "title": self.title}, ensure_ascii=False)
            content_type = "application/json; charset=utf-8"
        else:
            body = _PAGE.format(title=html.escape(self.title), zh=html.escape(self.zh), en=html.escape(self.en))
            content_type = "text/html; charset=utf-8"
        headers = [(b"content-type", content_type.encode()), (b"cache-control", b"no-store"),
                   *((name.encode(), value.encode()) for name, value in self.headers)]
        await send({"type": "http.response.start", "status": self.status, "headers": headers})
        await send({"type": "http.response.body", "body": body.encode("utf-8")})


_PAGE = """<!DOCTYPE html>
<html lang="zh-CN">
<head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>{title}</title></head>
<body><h1>{title}</h1><p>{zh}</p><p lang="en">{en}</p></body>
</html>
"""


@dataclass(frozen=True)
class Page:
    """Which of Datasette's pages a path asks for: a database's, or a table's, view's or canned
    query's (table), or a row's (row)."""

    database: object
    table: str | None = None
    row: bool = False


class Door:
    """The ASGI app in front of Datasette: refuses, rewrites or admits each HTTP request."""

    def __init__(self, app: App, datasette, admission: Admission, closed: set[str], retry_after: int):
        self.app, self.datasette, self.admission, self.closed = app, datasette, admission, closed
        self.retry_after = retry_after
        #: Each database's tables and views, read once: the site serves its databases immutable.
        self.relations: dict[str, tuple[set[str], set[str]]] = {}

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            return await self.app(scope, receive, send)
        arrived = time.monotonic()
        original = parse_qsl(scope.get("query_string", b"").decode("latin-1"), keep_blank_values=True)
        parameters = distinct_facets(original)
        host = next((value.decode("latin-1") for name, value in scope.get("headers", []) if name == b"host"), None)
        config = self.datasette.plugin_config("riskcatalog") or {}
        hosts = config.get("hosts")
        known = host is None or host.lower() in allowed_hosts(scope, hosts)
        page = self.page_of(scope["path"])
        costly = not _ADMITTED.get() and self.costly(scope["path"], page, parameters)
        # A costly request is refused no sooner than this.
        not_before = arrived + float(config.get("refused_seconds", REFUSED_SECONDS)) if costly else None
        refusal = ((None if known or not hosts else unknown_host(host))
                   or self.page_refusal(scope) or parameter_refusal(parameters)
                   or await self.reading_refusal(scope["path"], page, parameters))
        if refusal:
            return await self.refuse(refusal, scope, send, not_before)
        if not known:  # no names configured: answer, but let no cache keep links to this host
            send = uncached(send)
        if len(parameters) < len(original):
            scope = {**scope, "query_string": urlencode(parameters).encode("latin-1")}
        if not costly:
            return await self.app(scope, receive, send)
        async with self.admission.place() as turn:
            if turn is None:
                return await self.refuse(self.busy(), scope, send, not_before)
            admitted = _ADMITTED.set(True)
            try:
                refusal = await self.preparation_refusal(page, parameters)
                if refusal:
                    return await self.refuse(refusal, scope, send, not_before)
                await self.app(scope, receive, turn.outside(send, streams=scope["path"].endswith(".csv")))
            finally:
                _ADMITTED.reset(admitted)

    @staticmethod
    async def refuse(refusal: Refusal, scope: Scope, send: Send, not_before: float | None) -> None:
        """Send a refusal, waiting first until not_before (a costly request's: REFUSED_SECONDS after it came)."""
        if not_before is not None:
            await asyncio.sleep(not_before - time.monotonic())
        await refusal.send(scope, send)

    def page_of(self, path: str) -> Page | None:
        """The Datasette page a path asks for (Datasette's own routes: names tilde-encoded, a
        format after a dot), or None for any other page."""
        base = self.datasette.urls.path("/")
        segments = path[len(base):].split("/") if path.startswith(base) else []
        databases = {db.route: db for db in self.datasette.databases.values()}
        database = databases.get(tilde_decode(segments[0].split(".")[0])) if segments else None
        if database is None or len(segments) > 3:
            return None
        if len(segments) == 1:
            return Page(database)
        return Page(database, tilde_decode(segments[1] if len(segments) == 3 else segments[1].split(".")[0]),
                    row=len(segments) == 3)

    def costly(self, path: str, page: Page | None, parameters: list[tuple[str, str]]) -> bool:
        """Whether a request must take a turn: a search or list, a download, a reader's SQL or a
        stream, a table's, view's or query's page (filters, facets, counts); not a row or the home page."""
        return (any(name in READER_SQL_PARAMETERS or name == "_stream" for name, _ in parameters)
                or path in {self.datasette.urls.path(own) for own in COSTLY_PAGES}
                or path.endswith(DOWNLOADS)
                or (page is not None and page.table is not None and not page.row))

    async def reading_refusal(self, path: str, page: Page | None,
                              parameters: list[tuple[str, str]]) -> Refusal | None:
        """Parameters the page cannot read (riskcatalog.site.params), refused: the catalogue's own
        pages' by their declarations, Datasette's in the forms Datasette 0.65 fails on."""
        error = None
        own = next((spec for name, spec in OWN_PARAMETERS.items() if path == self.datasette.urls.path(name)), None)
        if own:
            try:
                params.read(MultiParams(parameters), own)
            except params.ParameterError as refused:
                error = refused
        elif page is not None:
            _, views = await self.tables_and_views(page.database)
            error = params.datasette_refusal(parameters, view=page.table in views)
        return Refusal(400, params.BAD_REQUEST, f"{error.zh}。", f"{error.en}.") if error else None

    async def preparation_refusal(self, page: Page | None, parameters: list[tuple[str, str]]) -> Refusal | None:
        """A reader's SQL that SQLite cannot prepare within planning's bounds, refused: the `sql` of a
        database page, and a table's `_where` as Datasette puts it in the table's queries."""
        if page is None or page.row:
            return None
        statements = [value for name, value in parameters if name == "sql" and page.table is None]
        wheres = [value for name, value in parameters if name == "_where"]
        tables, views = await self.tables_and_views(page.database)
        if wheres and page.table in tables | views:  # Datasette's page query, then its count
            where = f"from {escape_sqlite(page.table)} where {' and '.join(wheres)}"
            statements += [f"select * {where} order by 1 limit 1", f"select count(*) {where}"]
        path = None if page.database.is_memory else page.database.path
        for sql in statements:
            outcome = await asyncio.get_running_loop().run_in_executor(None, PLANNER.prepare, path, sql)
            if outcome:
                return unpreparable(PLANNER)
        return None

    async def tables_and_views(self, database) -> tuple[set[str], set[str]]:
        if database.name not in self.relations:
            self.relations[database.name] = set(await database.table_names()), set(await database.view_names())
        return self.relations[database.name]

    def page_refusal(self, scope: Scope) -> Refusal | None:
        """Closed debug pages answer 404, as if they did not exist."""
        if scope["path"] not in self.closed:
            return None
        return Refusal(404, "页面不存在 Not found", "本站不提供此调试页面。", "This debug page is not served here.")

    def busy(self) -> Refusal:
        return Refusal(503, "服务繁忙 Busy",
                       f"正在进行的搜索、查询和下载已达上限，请 {self.retry_after} 秒后重试。",
                       f"Too many searches, queries and downloads are under way; try again in {self.retry_after} s.",
                       (("retry-after", str(self.retry_after)),))


def unpreparable(planner: planning.Planner) -> Refusal:
    """A reader's SQL SQLite could not prepare within the planner's time and memory."""
    seconds, mib = f"{planner.seconds:g}", planner.memory >> 20
    return Refusal(400, params.BAD_REQUEST,
                   f"SQLite 无法在 {seconds} 秒、{mib} MB 内准备这条查询（例如 WITH 子句层层重复引用前一个），请简化。",
                   f"SQLite could not prepare this query within {seconds} s and {mib} MB (for example, WITH "
                   "tables that each use the one before several times); simplify it.")


def allowed_hosts(scope: Scope, configured: list[str] | None) -> set[str]:
    """The Host values the site is served under: those configured, else its own address's."""
    if configured:
        return {str(host).lower() for host in configured}
    server_host, port = scope.get("server") or ("localhost", None)
    default_port = {"http": 80, "https": 443}.get(scope.get("scheme", "http"))
    allowed = set()
    for name in {server_host, "localhost", "127.0.0.1", "::1"}:
        name = f"[{name}]" if ":" in name else name
        if port is not None:
            allowed.add(f"{name}:{port}")
        if port in (None, default_port):
            allowed.add(name)
    return {host.lower() for host in allowed}


def unknown_host(host: str) -> Refusal:
    """A Host not among the configured names: Datasette would put it in links and cached pages."""
    return Refusal(400, "主机名有误 Unknown host", "本站不以此主机名提供服务。",
                   f"This site is not served as {host!r}; its operator lists the names it is served under "
                   "in metadata.yml, plugins: riskcatalog: hosts.")


def uncached(send: Send) -> Send:
    """send, with every response marked Cache-Control: no-store."""

    async def send_uncached(message: dict) -> None:
        if message["type"] == "http.response.start":
            headers = [(name, value) for name, value in message.get("headers", []) if name.lower() != b"cache-control"]
            message = {**message, "headers": [*headers, (b"cache-control", b"no-store")]}
        await send(message)

    return send_uncached


def distinct_facets(parameters: list[tuple[str, str]]) -> list[tuple[str, str]]:
    """The parameters with each facet once: a repeated facet repeats its work and its links."""
    seen: set[tuple[str, str]] = set()
    kept = []
    for name, value in parameters:
        if name in FACET_PARAMETERS:
            if (name, value) in seen:
                continue
            seen.add((name, value))
        kept.append((name, value))
    return kept


def parameter_refusal(parameters: list[tuple[str, str]]) -> Refusal | None:
    """Refuse more than MAX_FACETS facets, or a query string (less any SQL) over MAX_QUERY_CHARS."""
    facets = sum(name in FACET_PARAMETERS for name, _ in parameters)
    if facets > MAX_FACETS:
        return Refusal(400, params.BAD_REQUEST, f"一次最多可以请求 {MAX_FACETS} 个分面，本次请求了 {facets} 个。",
                       f"At most {MAX_FACETS} facets may be asked for at once; this request asks for {facets}.")
    length = sum(len(name) + len(value) + 2 for name, value in parameters if name != "sql")
    if length > MAX_QUERY_CHARS:
        return Refusal(414, "网址过长 URI too long",
                       f"网址的查询参数最多 {MAX_QUERY_CHARS:,} 个字符（SQL 除外），本次有 {length:,} 个。",
                       f"A query string may have at most {MAX_QUERY_CHARS:,} characters besides its SQL; "
                       f"this one has {length:,}.")
    return None


class Admission:
    """At most `places` costly requests at once, of which `turns` may work at a time, and all of them
    together at most `share` of the time; a request waits up to `wait` s for its first turn, in the
    order they came.

    A request holds a turn only while it works: it gives the turn back while its client reads the
    response (so a slow client holds no SQL thread), and a stream takes a turn again before each
    further part. A turn given back after working w seconds to a request that waited for it starts
    work again only after w × (1 − share) / share more: one at a time alone would still let costly
    requests, queued back to back, keep the event loop and a core from the pages all the time. (A
    request that finds the turn free starts at once: a lone reader is not slowed.) A waiting
    request waits on a future of the event loop it runs on; state is only touched from event
    loops, one at a time."""

    def __init__(self, places: int, turns: int, wait: float, share: float = 1.0):
        self.places, self.turns, self.wait = places, turns, wait
        self.rest = (1 - share) / share
        self.admitted = self.working = 0
        self.waiting: deque[asyncio.Future] = deque()

    @contextlib.asynccontextmanager
    async def place(self) -> AsyncIterator[Turn | None]:
        """A request's place, with its first turn taken; None (and no place) if either is not to be had."""
        if self.admitted >= self.places:
            yield None
            return
        self.admitted += 1
        turn = Turn(self)
        try:
            yield turn if await turn.take(self.wait) else None
        finally:
            turn.give_back()
            self.admitted -= 1

    def pass_on(self, rested: float = 0.0) -> None:
        """A turn is free: the first request still waiting takes it, to work from the time `rested`;
        else it is put back."""
        while self.waiting:
            waiter = self.waiting.popleft()
            if not waiter.done() and not waiter.get_loop().is_closed():
                waiter.set_result(rested)
                return
        self.working -= 1


class Turn:
    """One admitted request's turn to work."""

    def __init__(self, admission: Admission):
        self.admission, self.held, self.since = admission, False, None

    async def take(self, seconds: float | None) -> bool:
        """Take a turn, waiting up to seconds (None: as long as it takes) behind earlier requests, then
        for the turn's rest after its last work."""
        admission = self.admission
        if admission.working < admission.turns and not admission.waiting:
            admission.working += 1
            rested = 0.0
        else:
            waiter = asyncio.get_running_loop().create_future()
            admission.waiting.append(waiter)
            try:
                await asyncio.wait([waiter], timeout=seconds)
            except asyncio.CancelledError:  # the client went away while waiting
                self._leave(waiter)
                raise
            if not waiter.done():
                self._leave(waiter)
                return False
            rested = waiter.result()
        self.held = True
        if rested > time.monotonic():  # the turn is held meanwhile: this is the pages' share of the time
            await asyncio.sleep(rested - time.monotonic())
        self.since = time.monotonic()
        return True

    def _leave(self, waiter: asyncio.Future) -> None:
        """Stop waiting; a turn handed over meanwhile goes on to the next."""
        if waiter.done():
            self.admission.pass_on(waiter.result())
        else:
            waiter.cancel()
            self.admission.waiting.remove(waiter)

    def give_back(self) -> None:
        if self.held:
            now = time.monotonic()
            worked = now - self.since if self.since is not None else 0.0
            self.held, self.since = False, None
            self.admission.pass_on(rested=now + worked * self.admission.rest)

    def outside(self, send: Send, streams: bool) -> Send:
        """send, giving the turn back first and bounding how long the client may take to read."""

        async def send_outside(message: dict) -> None:
            self.give_back()
            await asyncio.wait_for(send(message), SEND_SECONDS)
            more = message["type"] == "http.response.start" or message.get("more_body", False)
            if streams and more:
                await self.take(None)  # the response has begun: it must finish

        return send_outside
