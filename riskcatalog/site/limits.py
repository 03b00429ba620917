"""Limits at the door: an ASGI wrapper in front of the whole site (Datasette's asgi_wrapper hook).

Before Datasette sees a request it checks that:
- the Host header is a name the site is served under (metadata's plugins.riskcatalog.hosts):
  Datasette builds `next_url` and `Link` from it, and responses are cached for five minutes.
  Where no names are configured, the site's own address is known, and a response to any other
  Host is marked no-store, so no cache keeps its links;
- the path is not a debug page that shows the server's paths or tasks;
- the facets asked for are distinct and few, and the query string short: a table page repeats
  the query string in the link of every facet value;
- requests that run a reader's own SQL (`sql=`, `_where=`) or stream a whole table (`_stream=`)
  work one at a time (all SQL threads but THREADS_KEPT_FOR_PAGES), so the site's own pages
  always find a free SQL thread; a few more wait their turn, the rest are answered 503 with
  Retry-After at once; and such SQL may not ask for NOT MATERIALIZED CTEs.
Each refusal is worded in Chinese, then English. See docs/limits.md.
"""

from __future__ import annotations

import asyncio
import contextlib
import html
import json
import re
import time
from dataclasses import dataclass
from typing import AsyncIterator, Awaitable, Callable
from urllib.parse import parse_qsl, urlencode

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

#: Parameters that make a request run a reader's SQL or stream a whole table.
READER_SQL_PARAMETERS = ("sql", "_where", "_stream")
#: SQL threads left free for the site's own pages; the rest may run readers' SQL.
THREADS_KEPT_FOR_PAGES = 2
#: Such requests admitted at once (working, waiting for a turn or sending their response): each
#: may hold a response of up to hardening.MAX_RESULT_CHARS while its client reads it.
READER_SQL_PLACES = 8
#: How long, in SQL time limits, an admitted request may wait for its first turn.
READER_SQL_WAIT_LIMITS = 2
#: Longest a client may take to read one part of a response before it is cut off.
SEND_SECONDS = 60


def door(datasette):
    """A wrapper that puts the door's limits in front of an ASGI app (the site)."""
    threads = datasette.setting("num_sql_threads") or 1
    time_limit = datasette.setting("sql_time_limit_ms") / 1000
    gate = Gate(places=READER_SQL_PLACES, turns=max(1, threads - THREADS_KEPT_FOR_PAGES),
                wait=READER_SQL_WAIT_LIMITS * time_limit)
    closed = {datasette.urls.path(f"/-/{page}{suffix}") for page in CLOSED_PAGES for suffix in ("", ".json")}
    return lambda app: Door(app, datasette, gate, closed, retry_after=max(1, round(gate.wait)))


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


class Door:
    """The ASGI app in front of Datasette: refuses, rewrites or admits each HTTP request."""

    def __init__(self, app: App, datasette, gate: Gate, closed: set[str], retry_after: int):
        self.app, self.datasette, self.gate, self.closed, self.retry_after = app, datasette, gate, closed, retry_after

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            return await self.app(scope, receive, send)
        original = parse_qsl(scope.get("query_string", b"").decode("latin-1"), keep_blank_values=True)
        parameters = distinct_facets(original)
        host = next((value.decode("latin-1") for name, value in scope.get("headers", []) if name == b"host"), None)
        hosts = (self.datasette.plugin_config("riskcatalog") or {}).get("hosts")
        known = host is None or host.lower() in allowed_hosts(scope, hosts)
        refusal = ((None if known or not hosts else unknown_host(host))
                   or self.page_refusal(scope) or parameter_refusal(parameters))
        if refusal:
            return await refusal.send(scope, send)
        if not known:  # no names configured: answer, but let no cache keep links to this host
            send = uncached(send)
        if len(parameters) < len(original):
            scope = {**scope, "query_string": urlencode(parameters).encode("latin-1")}
        if not any(name in READER_SQL_PARAMETERS for name, _ in parameters):
            return await self.app(scope, receive, send)
        async with self.gate.admission() as turn:
            if turn is None:
                return await self.busy().send(scope, send)
            streams = any(name == "_stream" for name, _ in parameters)
            await self.app(scope, receive, turn.outside(send, streams))

    def page_refusal(self, scope: Scope) -> Refusal | None:
        """Closed debug pages answer 404, as if they did not exist."""
        if scope["path"] not in self.closed:
            return None
        return Refusal(404, "页面不存在 Not found", "本站不提供此调试页面。", "This debug page is not served here.")

    def busy(self) -> Refusal:
        return Refusal(503, "服务繁忙 Busy", f"正在运行的自定义查询已达上限，请 {self.retry_after} 秒后重试。",
                       f"Too many SQL queries are running; try again in {self.retry_after} s.",
                       (("retry-after", str(self.retry_after)),))


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
        return Refusal(400, "请求有误 Bad request", f"一次最多可以请求 {MAX_FACETS} 个分面，本次请求了 {facets} 个。",
                       f"At most {MAX_FACETS} facets may be asked for at once; this request asks for {facets}.")
    if any(name in ("sql", "_where") and not_materialized(value) for name, value in parameters):
        return Refusal(400, "请求有误 Bad request", "本站不接受 NOT MATERIALIZED 提示。",
                       "The NOT MATERIALIZED hint is not accepted here: SQLite 3.40 copies such a CTE at "
                       "each use while it prepares the statement, before any time limit applies.")
    length = sum(len(name) + len(value) + 2 for name, value in parameters if name != "sql")
    if length > MAX_QUERY_CHARS:
        return Refusal(414, "网址过长 URI too long",
                       f"网址的查询参数最多 {MAX_QUERY_CHARS:,} 个字符（SQL 除外），本次有 {length:,} 个。",
                       f"A query string may have at most {MAX_QUERY_CHARS:,} characters besides its SQL; "
                       f"this one has {length:,}.")
    return None


#: SQL's string literals, quoted names and comments, which may contain any words.
_QUOTED_OR_COMMENT = re.compile(r"""'(?:[^']|'')*'?|"(?:[^"]|"")*"?|\[[^\]]*\]?|`(?:[^`]|``)*`?"""
                                r"""|--[^\n]*|/\*.*?(?:\*/|\Z)""", re.S)
_NOT_MATERIALIZED = re.compile(r"\bnot\s+materialized\b", re.I)


def not_materialized(sql: str) -> bool:
    """Whether sql asks for a NOT MATERIALIZED CTE: chained, each copy doubles the work of
    preparing it (16 links took 26 s and 137 MB), which neither the time limit nor an interrupt reaches."""
    bare = _QUOTED_OR_COMMENT.sub(lambda match: " " if match.group(0)[0] in "-/" else "''", sql)
    return bool(_NOT_MATERIALIZED.search(bare))


class Gate:
    """Admits at most `places` requests at once, of which `turns` may work at a time.

    An admitted request waits up to `wait` s for its first turn. It holds a turn only while it
    works: it gives the turn back while the client reads the response (so a slow client holds
    no SQL thread), and a stream takes a turn again before each further page."""

    POLL_SECONDS = 0.02

    def __init__(self, places: int, turns: int, wait: float):
        self.places, self.turns, self.wait = places, turns, wait
        self.admitted = self.working = 0

    @contextlib.asynccontextmanager
    async def admission(self) -> AsyncIterator[Turn | None]:
        """A request's place, with its first turn taken; None (and no place) if either is not to be had."""
        if self.admitted >= self.places:
            yield None
            return
        self.admitted += 1
        turn = Turn(self)
        try:
            yield turn if await turn.take(time.monotonic() + self.wait) else None
        finally:
            turn.give_back()
            self.admitted -= 1


class Turn:
    """One admitted request's turn to work."""

    def __init__(self, gate: Gate):
        self.gate, self.held = gate, False

    async def take(self, deadline: float) -> bool:
        # Polling rather than an asyncio primitive: one gate serves whichever event loop runs the app.
        while self.gate.working >= self.gate.turns:
            if time.monotonic() >= deadline:
                return False
            await asyncio.sleep(Gate.POLL_SECONDS)
        self.gate.working += 1
        self.held = True
        return True

    def give_back(self) -> None:
        if self.held:
            self.gate.working -= 1
            self.held = False

    def outside(self, send: Send, streams: bool) -> Send:
        """send, giving the turn back first and bounding how long the client may take to read."""

        async def send_outside(message: dict) -> None:
            self.give_back()
            await asyncio.wait_for(send(message), SEND_SECONDS)
            more = message["type"] == "http.response.start" or message.get("more_body", False)
            if streams and more:
                await self.take(float("inf"))  # the response has begun: it must finish

        return send_outside
