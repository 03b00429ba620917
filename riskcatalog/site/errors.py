"""Errors answered as what they are: a request the site cannot answer is a 4xx, in Chinese and English.

Answered through Datasette's handle_exception hook, by the exception's type alone:
- Datasette's client errors (its 4xx), and the parameter errors of the project's own parser
  (riskcatalog.site.params), keep their status and words;
- Datasette 0.65 leaves some of its own parameter errors at status 500 (`_sort` with
  `_sort_desc`), lets a time-limit interruption escape a CSV stream, and passes the SQL and values
  a reader gave to SQLite: these come from the request, so they are answered 400;
- anything else is a fault of the site: 500, with a message that shows nothing of the server
  (no paths) while the traceback goes to the log.
The parameters Datasette 0.65 reads without checking them (`_through` as JSON, `_next` of a view
as an integer, `_timelimit`, digits in a filter) never reach it in a form it would fail on: the
door reads them first with the same parser (riskcatalog.site.params.datasette_refusal).
"""

from __future__ import annotations

import sqlite3
import traceback

from datasette.database import QueryInterrupted
from datasette import Response
from datasette.utils import add_cors_headers
from datasette.utils.asgi import Base400
from datasette.views.base import DatasetteError

from .params import BAD_REQUEST, ParameterError

SERVER_ERROR = "服务器内部错误 Internal server error"

#: Errors SQLite raises for the SQL or the values bound to it (not OperationalError: a missing or
#: unreadable file is one too, and Datasette's views already answer the others with 400).
SQL_ERRORS = (sqlite3.ProgrammingError, sqlite3.IntegrityError, sqlite3.DataError, sqlite3.InterfaceError)


def answer(datasette, request, exception):
    """A client error as 4xx in both languages; an unexpected error as a 500 that shows no detail.
    Either as the site's own error page (with its styles), or as JSON for a .json address."""
    if isinstance(exception, ParameterError):  # the site's one parser (riskcatalog.site.params)
        status, message, title = exception.status, exception.message, BAD_REQUEST
    elif isinstance(exception, Base400):
        status, message, title = exception.status, exception.args[0] if exception.args else "", None
    elif isinstance(exception, DatasetteError) and exception.status != 500:  # a client error Datasette worded
        status, message, title = exception.status, exception.message, exception.title
    else:
        error = client_error(exception)
        if error is None:
            traceback.print_exception(exception)  # for the log; the reader sees nothing of the server
            error = DatasetteError("服务器出错，已记录在日志中。The server failed; the error is in its log.",
                                   title=SERVER_ERROR, status=500)
        status, message, title = error.status, error.message, error.title
    return _error_page(datasette, request, status, message, title)


async def _error_page(datasette, request, status: int, message: str, title: str | None) -> Response:
    """templates/error.html rendered as every page is (styles, levels), or the error as JSON."""
    info = {"ok": False, "error": message, "status": status, "title": title}
    headers: dict = {}
    if datasette.cors:
        add_cors_headers(headers)
    if request.path.split("?")[0].endswith(".json"):
        return Response.json(info, status=status, headers=headers)
    html = await datasette.render_template("error.html", info, request=request, view_name="error")
    return Response.html(html, status=status, headers=headers)


def client_error(exception: BaseException) -> DatasetteError | None:
    """The 400 an exception caused by the request stands for, or None for a fault of the site."""
    if isinstance(exception, QueryInterrupted):
        return bad_request("查询超过时间限制", "SQL query took too long")
    if isinstance(exception, DatasetteError):  # Datasette left it at 500, but only parameters raise it
        return bad_request("请求参数有误", exception.message)
    if isinstance(exception, SQL_ERRORS):
        return bad_request("查询或其参数有误", str(exception))
    return None


def bad_request(zh: str, en: str) -> DatasetteError:
    """A 400 whose message says what is wrong in Chinese, then in English."""
    return DatasetteError(f"{zh}。Bad request: {en}", title=BAD_REQUEST, status=400)
