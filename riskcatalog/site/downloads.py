"""Downloads for Excel: the 登记表 workbook, and every table, view and query as .xlsx or as CSV for Excel.

- `/-/register.xlsx[?unit=ID…][&area=ID][&paper=A3]`: the 登记表 workbook (riskcatalog.excel.export)
  of the registers, or of one area, as `build.py export` writes it.
- `<table, view or query>.xlsx` and `.excelcsv`: every row the page's filters select (not only the
  page shown), Chinese headings above the column names, JSON lists one item a line; the CSV
  starts with a byte-order mark so Chinese Excel reads it as UTF-8.

Each is bounded on its own: at most MAX_ROWS rows and the site's max_csv_mb of text (a larger
download is refused with what to do instead, never cut short), the SQL time limit on every query
and a deadline on the whole download. How many are built at once is the door's to say: every
download is a costly request, admitted with the searches and readers' SQL (riskcatalog.site.limits).
"""


from __future__ import annotations

import asyncio
import csv
import io
import json
import re
import time
from urllib.parse import parse_qsl, quote, urlencode

from datasette import Response

from ..formulas import inert
from . import params
from .catalogue import catalogue_database
from .datasette_adapter import renderer_refusal, sqlite_timelimit, table_metadata
#: Rows a download may hold; README documents it. A district's register (150 units) has under 8,000 risks.
MAX_ROWS = 20_000
#: Seconds a download may take, its queries included.
DEADLINE_S = 30.0
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
CSV = "text/csv; charset=utf-8"
BOM = "\ufeff"
#: Arguments of a table page that page, shape or facet it: the download asks for its own.
_PAGING = {"_size", "_next", "_shape", "_nocount", "_nofacet", "_facet", "_facet_array", "_labels", "_trace",
           "_json", "_nl"}

#: The renderer Datasette's own "CSV" link of a query is sent to (complete_csv); listed on no page.
FULL_CSV = "fullcsv"


class TooLarge(Exception):
    """A download over MAX_ROWS rows or past the deadline; the message says what to do."""


def renderers() -> list[dict]:
    """The .xlsx and .excelcsv output renderers for every table, view and query, and the complete
    plain CSV that Datasette's own "CSV" link of a query is sent to (complete_csv)."""
    return [{"extension": "xlsx", "render": render_xlsx, "can_render": _can_render},
            {"extension": "excelcsv", "render": render_excel_csv, "can_render": _can_render},
            {"extension": FULL_CSV, "render": render_full_csv, "can_render": lambda: False}]


def routes() -> list[tuple[str, object]]:
    return [(r"^/-/register\.xlsx$", register_workbook)]


def _can_render(view_name: str) -> bool:
    """Tables, views, rows and queries (Datasette 0.65 renders a canned query in its "table" view, with no
    table, and an arbitrary one in "database")."""
    return view_name in ("table", "row", "database")


async def render_xlsx(datasette, request, database, table, query_name, sql, view_name, data, columns, rows):
    """The rows as an .xlsx workbook: one sheet, Chinese headings, every row selected."""
    return await _download(datasette, request, database, table, query_name, sql, view_name, data, columns, rows,
                           _xlsx_bytes, XLSX, "xlsx")


async def render_excel_csv(datasette, request, database, table, query_name, sql, view_name, data, columns, rows):
    """The rows as CSV for Excel: a byte-order mark, Chinese headings, every row selected."""
    return await _download(datasette, request, database, table, query_name, sql, view_name, data, columns, rows,
                           _excel_csv_bytes, CSV, "csv")


async def render_full_csv(datasette, request, database, table, query_name, sql, view_name, data, columns, rows):
    """Every row of a query as Datasette's CSV has them: column names, no byte-order mark."""
    return await _download(datasette, request, database, table, query_name, sql, view_name, data, columns, rows,
                           _plain_csv_bytes, CSV, "csv")


async def _download(datasette, request, database, table, query_name, sql, view_name, data, columns, rows,
                    write, content_type: str, suffix: str) -> Response:
    limits = _Limits(datasette)

    async def made() -> bytes:
        selected = columns, [list(row) for row in rows]
        if view_name == "table" and table:  # a canned query is rendered by the table view too, without a table
            selected = await _all_table_rows(datasette, request, limits)
        elif view_name != "row" and sql:
            selected = await _all_query_rows(datasette, database, sql, data["query"].get("params") or {}, limits)
        headings = await _headings(datasette, database, table, selected[0])
        return await asyncio.get_running_loop().run_in_executor(None, write, headings, *selected)

    try:
        body = await made()
    except TooLarge as exc:
        return _refusal(str(exc), 400)
    name = table or query_name or "query"
    return Response(body, content_type=content_type, headers=_attachment(f"{name}.{suffix}"))


async def _all_table_rows(datasette, request, limits: _Limits) -> tuple[list[str], list[list]]:
    """Every row a table page's filters select, page after page of the table's own JSON."""
    path = request.path.rsplit(".", 1)[0] + ".json"
    args = [(k, v) for k in request.args.keys() if k not in _PAGING for v in request.args.getlist(k)]
    args += [("_shape", "objects"), ("_size", "max"), ("_nocount", "1"), ("_nofacet", "1")]
    columns, rows, following = None, [], None
    while True:
        response = await datasette.client.get(path, params=args + ([("_next", following)] if following else []))
        if response.status_code != 200:
            raise TooLarge(f"the table could not be read ({response.status_code}) — try the .csv?_stream=on download")
        page = response.json()
        columns = columns or page["columns"]
        rows += limits.counted([[row.get(c) for c in columns] for row in page["rows"]])
        following = page.get("next")
        if not following:
            return columns, rows


async def _all_query_rows(datasette, database: str, sql: str, params: dict,
                          limits: _Limits) -> tuple[list[str], list[list]]:
    """Every row of a query, run again without the page's limit, within the SQL time limit and MAX_ROWS."""
    limit_ms = datasette.setting("sql_time_limit_ms")

    def run(conn):
        with sqlite_timelimit(conn, limit_ms):
            cursor = conn.execute(sql, params)
            found = cursor.fetchmany(MAX_ROWS + 1)
        return [c[0] for c in cursor.description], [list(row) for row in found]

    try:
        columns, rows = await datasette.get_database(database).execute_fn(run)
    except Exception as exc:  # interrupted by the time limit, or an error Datasette's page already showed
        raise TooLarge(f"the query could not be run again for the download ({exc}) — narrow it") from None
    return columns, limits.counted(rows)


class _Limits:
    """What one download may take: MAX_ROWS rows, the site's max_csv_mb of text, DEADLINE_S seconds."""

    def __init__(self, datasette) -> None:
        self.rows, self.bytes = 0, 0
        self.max_bytes = datasette.setting("max_csv_mb") * 1024 * 1024
        self.deadline = time.monotonic() + DEADLINE_S

    def counted(self, rows: list[list]) -> list[list]:
        """rows, once counted against the limits; TooLarge past any of them."""
        self.rows += len(rows)
        self.bytes += sum(len(str(value)) for row in rows for value in row if value is not None)
        if self.rows > MAX_ROWS:
            raise TooLarge(f"this download would hold more than {MAX_ROWS:,} rows — narrow it with filters "
                           f"(e.g. ?unit=…), or use the .csv?_stream=on download, which has no row limit\n"
                           f"此下载超过 {MAX_ROWS:,} 行：请先用筛选条件缩小范围，或使用不限行数的 .csv?_stream=on 下载。\n")
        if self.max_bytes and self.bytes > self.max_bytes:
            raise TooLarge(f"this download would be over {self.max_bytes // 1048576} MB — narrow it with filters\n"
                           f"此下载超过 {self.max_bytes // 1048576} MB：请先用筛选条件缩小范围。\n")
        if time.monotonic() > self.deadline:
            raise TooLarge(f"this download took longer than {DEADLINE_S:g} s — narrow it with filters\n"
                           f"此下载耗时超过 {DEADLINE_S:g} 秒：请先用筛选条件缩小范围。\n")
        return rows


async def _headings(datasette, database: str, table: str | None, columns: list[str]) -> list[str]:
    """Each column's Chinese name from its description (catalogue.yml: its Chinese words), else ""."""
    described = (await table_metadata(datasette, database, table)).get("columns") or {}
    return [_chinese_words(str(described.get(column, ""))) for column in columns]


def _chinese_words(description: str) -> str:
    """"风险点 Risk (Chinese)" -> "风险点": the description up to its first Latin letter."""
    words = re.match(r"[^A-Za-z]*", description).group(0).strip()
    return words if re.search(r"[\u4e00-\u9fff]", words) else ""


def _cell(value):
    """A value as a spreadsheet cell: a JSON list one item a line, other values as they are."""
    if isinstance(value, str) and value.startswith("["):
        try:
            items = json.loads(value)
        except ValueError:
            return value
        if isinstance(items, list) and all(isinstance(i, (str, int, float)) or i is None for i in items):
            return "\n".join("" if i is None else str(i) for i in items)
    if isinstance(value, bytes):
        return f"<{len(value)} bytes>"
    return value


def _xlsx_bytes(headings: list[str], columns: list[str], rows: list[list]) -> bytes:
    from openpyxl import Workbook  # on demand: only downloads need it

    from ..excel.export import text_cell

    workbook = Workbook(write_only=True)  # streams rows: a 20,000-row download stays small in memory
    sheet = workbook.create_sheet("数据")
    sheet.freeze_panes = "A3" if any(headings) else "A2"
    for row in ([headings] if any(headings) else []) + [columns] + rows:
        sheet.append([text_cell(sheet, _cell(value)) for value in row])
    out = io.BytesIO()
    workbook.save(out)
    return out.getvalue()


def _excel_csv_bytes(headings: list[str], columns: list[str], rows: list[list]) -> bytes:
    # Chinese Excel reads a CSV in the local code page (GBK) unless it starts with a byte-order mark.
    return BOM.encode("utf-8") + _csv([" ".join(filter(None, pair)) for pair in zip(headings, columns)],
                                     ([_cell(value) for value in row] for row in rows))


def _plain_csv_bytes(headings: list[str], columns: list[str], rows: list[list]) -> bytes:
    return _csv(columns, rows)


def _csv(header: list[str], rows) -> bytes:
    """The header and rows as CSV, every cell that begins like a formula behind an apostrophe (OWASP's
    advice, riskcatalog.formulas), the header's too: a query names its own columns, and its text must
    never run in the reader's Excel."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(map(inert, header))
    writer.writerows(map(inert, row) for row in rows)
    return out.getvalue().encode("utf-8")


async def register_workbook(datasette, request):
    """The 登记表 workbook of the registers asked for (?unit=…, ?area=…), as `build.py export` writes it."""
    from ..excel import export  # on demand: openpyxl

    args = params.read(request.args, params.REGISTER_WORKBOOK)
    units, area, paper = args["unit"] or None, args["area"] or None, args["paper"] or "A4"
    db = catalogue_database(datasette)
    count = (await db.execute(
        "select count(*) from risks where status = 'active'" + (" and unit in (select value from json_each(?))"
                                                                 if units else ""),
        [json.dumps(units)] if units else [])).first()[0]
    if count > MAX_ROWS:
        return Response.text(f"this workbook would hold {count:,} risks, over the {MAX_ROWS:,} a download may hold "
                             "— choose units with ?unit=ID, or write it with `python build.py export`\n"
                             f"此登记表有 {count:,} 个风险点，超过下载上限 {MAX_ROWS:,}：请用 ?unit= 选择单位，"
                             "或用 python build.py export 生成。\n", status=400)

    def workbook(registers: list) -> tuple[str, bytes] | None:
        if not registers:
            return None
        out = io.BytesIO()
        export.write(registers, out, paper)
        return export.title(registers), out.getvalue()

    async def made_from_the_database():
        # Read on one of Datasette's SQL threads (a second or less), write on another thread, so a large
        # workbook does not hold a SQL thread other pages need.
        registers = await db.execute_fn(lambda conn: export.read(conn, units, area))
        return await asyncio.get_running_loop().run_in_executor(None, workbook, registers)

    made = await made_from_the_database()
    if made is None:
        return Response.text("no register or area by that id — 没有该单位或领域\n", status=404)
    title, body = made
    return Response(body, content_type=XLSX, headers=_attachment(f"{title}.xlsx"))


def attachment(name: str) -> dict:
    """The headers that make a response a download named name (the Word documents of riskcatalog.site.powers too)."""
    return _attachment(name)


#: A renderer's refusal, with its own status (datasette_adapter.renderer_refusal).
_refusal = renderer_refusal


def _attachment(name: str) -> dict:
    """Content-Disposition naming the file, in ASCII for old browsers and UTF-8 for the rest (RFC 6266)."""
    ascii_name = re.sub(r"[^A-Za-z0-9._-]", "", name)
    ascii_name = ascii_name if ascii_name.split(".")[0] else "register" + ascii_name
    return {"Content-Disposition": f"attachment; filename=\"{ascii_name}\"; filename*=UTF-8''{quote(name)}"}


def complete_csv(datasette, app):
    """ASGI wrapper: the "CSV" link Datasette offers on every page (`.csv?_size=max`) gives every row.

    Datasette's link gives one page of at most max_returned_rows rows, silently. Here a table's
    link streams every page (`_stream=on`, bounded by max_csv_mb, which Datasette marks when
    reached), and a query's is answered by FULL_CSV (bounded by MAX_ROWS). A `.csv` asked for
    without `_size=max` is Datasette's raw CSV, one page, as the README documents.
    """

    async def wrapped(scope, receive, send):
        if scope["type"] == "http" and scope["path"].endswith(".csv"):
            args = parse_qsl(scope.get("query_string", b"").decode("latin-1"), keep_blank_values=True)
            if ("_size", "max") in args and not any(key in ("_stream", "_next") for key, _ in args):
                scope = await _complete(datasette, scope, args)
        await app(scope, receive, send)

    return wrapped


async def _complete(datasette, scope: dict, args: list[tuple[str, str]]) -> dict:
    """The scope of a complete CSV: the table's stream, or the query's FULL_CSV."""
    path = scope["path"][:-len(".csv")]
    database, _, name = path.lstrip("/").partition("/")
    if database in datasette.databases and name and "/" not in name:
        db = datasette.get_database(database)
        if name in set(await db.table_names()) | set(await db.view_names()):
            return {**scope, "query_string": urlencode(args + [("_stream", "on")]).encode()}
    path = f"{path}.{FULL_CSV}"
    return {**scope, "path": path, "raw_path": path.encode()}
