"""Hostile readers against the site: writes, escapes, runaway queries and malformed parameters.

Each request must get a clean client error or a bounded answer within the SQL time limit;
afterwards the site still serves the risks table, the risk count is unchanged and the
database file is byte-identical.
"""

from __future__ import annotations

import contextlib
import hashlib
import html
import os
import sqlite3
import sys
import textwrap
import time
from pathlib import Path
from urllib.parse import quote

import pytest

from riskcatalog import build as builder
from riskcatalog import fields
from riskcatalog.search import fts_query
from riskcatalog.site import hardening, pages, planning
from riskcatalog.site.serve import SETTINGS

from .conftest import PROJECT_ROOT, make_datasette

#: A bound, not a timing: the SQL time limit plus generous room for a slow machine.
MAX_SECONDS = SETTINGS["sql_time_limit_ms"] / 1000 + 4
MAX_ROWS = SETTINGS["max_returned_rows"]
TOO_LONG = "SQL query took too long"


@pytest.fixture(scope="module")
def baseline(catalog_db) -> tuple[int, str]:
    with contextlib.closing(sqlite3.connect(catalog_db)) as conn:
        count = conn.execute("select count(*) from risks").fetchone()[0]
    assert count > 0
    return count, hashlib.sha256(catalog_db.read_bytes()).hexdigest()


async def fetch(ds, path: str):
    start = time.perf_counter()
    response = await ds.client.get(path)
    elapsed = time.perf_counter() - start
    assert elapsed < MAX_SECONDS, f"{path} took {elapsed:.1f}s"
    assert response.status_code < 500, f"{path}: {response.status_code} {response.text[:300]}"
    return response


async def assert_still_serving(ds, catalog_db, baseline) -> None:
    count, digest = baseline
    response = await fetch(ds, "/catalog/risks.json?_shape=objects&_size=5")
    assert response.status_code == 200
    data = response.json()
    assert data["filtered_table_rows_count"] == count
    assert len(data["rows"]) == 5 and all(row["key"] and row["title_zh"] for row in data["rows"])
    response = await fetch(ds, "/catalog.json?_shape=array&sql=" + quote("select count(*) as n from risks"))
    assert response.json() == [{"n": count}]
    assert hashlib.sha256(catalog_db.read_bytes()).hexdigest() == digest


def sql(statement: str) -> str:
    return "/catalog.json?sql=" + quote(statement)


# --- statements that must never run --------------------------------------------------------------

NOT_SELECT = "Statement must be a SELECT"

REFUSED_SQL = [
    ("insert into risks (key) values ('x')", NOT_SELECT),
    ("update risks set title_zh = 'x'", NOT_SELECT),
    ("delete from risks", NOT_SELECT),
    ("replace into levels (id) values ('x')", NOT_SELECT),
    ("drop table risks", NOT_SELECT),
    ("create table pwned (x)", NOT_SELECT),
    ("attach database '/tmp/pwned.db' as pwned", NOT_SELECT),
    ("detach database catalog", NOT_SELECT),
    ("PRAGMA writable_schema = 1", NOT_SELECT),
    ("pragma query_only = 0", NOT_SELECT),
    ("vacuum into '/tmp/pwned.db'", NOT_SELECT),
    ("begin", NOT_SELECT),
    # A CTE passes the SELECT check; the read-only connection still refuses the write.
    ("with x as (select 1) delete from risks", "attempt to write a readonly database"),
    ("with x as (select 1) insert into risks_search_fts (rowid, body) values (99999, 'x')",
     "attempt to write a readonly database"),
    ("select load_extension('/tmp/pwned.so')", "not authorized"),
    ("select load_extension('/tmp/pwned.so', 'sqlite3_extension_init')", "not authorized"),
    ("select * from risks; drop table risks", "You can only execute one statement at a time."),
    ("select writefile('/tmp/pwned', 'x')", "no such function: writefile"),
]


@pytest.mark.parametrize("statement, error", REFUSED_SQL, ids=[s for s, _ in REFUSED_SQL])
async def test_write_and_escape_statements_are_refused(ds, catalog_db, baseline, statement, error):
    response = await fetch(ds, sql(statement))
    assert response.status_code == 400
    assert response.json()["ok"] is False
    assert response.json()["error"] == error
    await assert_still_serving(ds, catalog_db, baseline)


async def test_pragma_functions_outside_the_allowed_list_are_refused(ds, catalog_db, baseline):
    response = await fetch(ds, sql("select * from pragma_writable_schema"))
    assert response.status_code == 400
    assert response.json()["error"].startswith("Statement contained a disallowed PRAGMA.")
    await assert_still_serving(ds, catalog_db, baseline)


# --- runaway queries: stopped by the time limit or truncated ------------------------------------

RUNAWAY_SQL = [
    "with recursive c(x) as (select 1 union all select x + 1 from c) select count(*) from c",
    "select count(*) from risks a, risks b, risks c, risks d, risks e",
    "select count(*) from measures a cross join measures b cross join measures c cross join measures d "
    "cross join measures e",
]

#: A new operand on every row, each call within its bound and the values within the value
#: limit: SQLite checks the time limit only every 1,000 steps, some hundred calls apart, so each
#: call's bound is what keeps the query near the limit.
EVERY_ROW_CALLS = [
    "select count(*) from risks a, risks b "
    "where instr(hex(zeroblob(490000 + a.rowid + b.rowid * 60)), substr(hex(zeroblob(500)), 1, 999) || '1')",
    "select count(*) from risks a, risks b where hex(zeroblob(490000 + a.rowid + b.rowid * 60)) like '%0001'",
    "select count(*) from risks a, risks b "
    "where json_array_length('[' || replace(hex(zeroblob(240000 + a.rowid + b.rowid * 100)), '00', '0,') || '0]')",
]


@pytest.mark.parametrize("statement", RUNAWAY_SQL + EVERY_ROW_CALLS,
                         ids=["recursive-cte", "cross-join", "explicit-cross-join", "instr-on-every-row",
                              "like-on-every-row", "json-on-every-row"])
async def test_runaway_query_is_stopped_by_the_time_limit(ds, catalog_db, baseline, statement):
    response = await fetch(ds, sql(statement))
    assert response.status_code == 400
    assert TOO_LONG in response.json()["error"]
    await assert_still_serving(ds, catalog_db, baseline)


async def test_huge_result_is_truncated_at_max_returned_rows(ds, catalog_db, baseline):
    response = await fetch(ds, sql("select a.key, b.key from risks a, risks b, risks c"))
    assert response.status_code == 200
    data = response.json()
    assert len(data["rows"]) == MAX_ROWS and data["truncated"] is True
    await assert_still_serving(ds, catalog_db, baseline)


async def test_runaway_where_clause_is_stopped_by_the_time_limit(ds, catalog_db, baseline):
    response = await fetch(ds, "/catalog/risks.json?_where="
                           + quote("(select count(*) from risks a, risks b, risks c, risks d, risks e) > 0"))
    assert response.status_code == 400
    assert TOO_LONG in response.json()["error"]
    await assert_still_serving(ds, catalog_db, baseline)


# --- malformed table parameters ------------------------------------------------------------------

BAD_PARAMETERS = [
    ("/catalog/risks.json?_size=100000", f"_size must be <= {MAX_ROWS}"),
    ("/catalog/risks.json?_size=-1", "_size must be a positive integer"),
    ("/catalog/risks.json?_size=abc", "_size must be a positive integer"),
    ("/catalog/risks.json?_facet=nonexistent", "no such column: nonexistent"),
    ("/catalog/risks.json?_facet_date=nonexistent", "no such column: nonexistent"),
    ("/catalog/risks.json?_col=nonexistent", "_col=nonexistent - invalid columns"),
    ("/catalog/risks.json?_nocol=nonexistent", "_nocol=nonexistent - invalid columns"),
    ("/catalog/risks.json?_shape=garbage", "Invalid _shape: garbage"),
    # Raw mode hands the words to FTS5 unchanged: its syntax errors are client errors.
    ("/catalog/risks.json?_searchmode=raw&_search=" + quote('"unbalanced'), "unterminated string"),
    ("/catalog/risks.json?_searchmode=raw&_search=" + quote("NEAR("), 'fts5: syntax error near ""'),
]


@pytest.mark.parametrize("path, error", BAD_PARAMETERS, ids=[p.split("?", 1)[1] for p, _ in BAD_PARAMETERS])
async def test_malformed_parameter_is_a_client_error(ds, catalog_db, baseline, path, error):
    response = await fetch(ds, path)
    assert response.status_code == 400
    assert response.json()["error"] == error
    await assert_still_serving(ds, catalog_db, baseline)


@pytest.mark.parametrize("path", [
    "/catalog/risks.json?_size=max",
    "/catalog/risks.json?_next=garbage",
    "/catalog/risks.json?_sort=title_zh&_next=garbage",
    "/catalog/risks?_next=garbage",
])
async def test_garbage_paging_gives_a_bounded_page(ds, catalog_db, baseline, path):
    response = await fetch(ds, path)
    assert response.status_code == 200
    if ".json" in path:
        assert len(response.json()["rows"]) <= MAX_ROWS
    await assert_still_serving(ds, catalog_db, baseline)


# --- client errors: 400 in Chinese and English, never 500 (issue 14, item 6) -------------------------

PARAMETER = "请求参数有误。Bad request: "
SQL_OR_VALUES = "查询或其参数有误。Bad request: "
THROUGH = ('参数 _through 应为含有 table、column、value 的 JSON 对象，如 {"table": "…", "column": "…", "value": "…"}。 '
           "_through must be a JSON object with table, column, value.")


def not_a_number(name: str, value: str) -> str:
    """The door's words for a parameter Datasette would read with int() (riskcatalog.site.params)."""
    return (f"参数 {name} 应为用数字 0–9 书写、最多 18 位的整数，而不是“{value}”。 "
            f"{name} must be a whole number of at most 18 digits 0–9, not {value!r}.")


# Datasette 0.65 leaves these at 500: a DatasetteError without a status (table.py's sort checks,
# filters.py's _through), a parameter it reads without checking (json.loads, int()), or an
# sqlite3 error from the values it binds. The parameters it reads without checking are read
# first by the door, with the project's parser.
CLIENT_ERRORS = [
    ("/catalog/risks.json?_sort=seq&_sort_desc=seq", PARAMETER + "Cannot use _sort and _sort_desc at the same time"),
    ("/catalog/risks.json?_sort=nonexistent", PARAMETER + "Cannot sort table by nonexistent"),
    ("/catalog/risks.json?_sort_desc=nonexistent", PARAMETER + "Cannot sort table by nonexistent"),
    ("/catalog/risks.json?_through=" + quote("{bad"), THROUGH),
    ("/catalog/risks.json?_through=" + quote("[1]"), THROUGH),
    ("/catalog/risks.json?_through=" + quote('{"table": "risk_measures"}'), THROUGH),
    ("/catalog/risks.json?_through=" + quote('{"table": "units", "column": "id", "value": "x"}'),
     PARAMETER + "Invalid _through - could not find corresponding foreign key"),
    ("/catalog/risks.json?_timelimit=abc", not_a_number("_timelimit", "abc")),
    ("/catalog/risk_measures/only-one-pk.json", SQL_OR_VALUES + "You did not supply a value for binding parameter :p1."),
    ("/catalog/register.json?_next=999999999999999999999999", not_a_number("_next", "999999999999999999999999")),
    ("/catalog/risks.json?id__gt=999999999999999999999999", not_a_number("id__gt", "999999999999999999999999")),
    ("/catalog/risks.json?_facet_size=%C2%B2", not_a_number("_facet_size", "²")),
    ("/catalog/risks.json?_where=" + quote("1=1; drop table risks"),
     SQL_OR_VALUES + "You can only execute one statement at a time."),
]


@pytest.mark.parametrize("path, error", CLIENT_ERRORS, ids=[p.split("/", 2)[2] for p, _ in CLIENT_ERRORS])
async def test_client_error_is_a_400_in_both_languages(ds, catalog_db, baseline, path, error):
    """A request the site cannot answer is told so with 400 and the reason, Chinese first."""
    response = await fetch(ds, path)
    assert response.status_code == 400
    assert response.json() == {"ok": False, "error": error, "status": 400, "title": "请求有误 Bad request"}
    await assert_still_serving(ds, catalog_db, baseline)


@pytest.mark.parametrize("path, error", [
    ("/catalog/risk_measures/only-one-pk", SQL_OR_VALUES + "You did not supply a value for binding parameter :p1."),
    ("/catalog/risks.csv?_stream=on&_where=" + quote(RUNAWAY_SQL[1].replace("select count(*) from", "(select count(*) from")
                                                     + ") > 0"),
     "查询超过时间限制。Bad request: SQL query took too long"),
], ids=["row-page-with-one-of-two-keys", "csv-stream-past-the-time-limit"])
async def test_client_error_page_is_a_400_in_both_languages(ds, catalog_db, baseline, path, error):
    """Pages (HTML, and a CSV stream the time limit stopped before it began) answer 400 with the same words."""
    response = await fetch(ds, path)
    assert response.status_code == 400
    assert "<title>请求有误 Bad request</title>" in response.text
    zh, en = error.split("。", 1)  # the English spoken in an English voice (lang="en")
    assert f'{html.escape(zh, quote=False)}。<span lang="en">{html.escape(en, quote=False)}</span>' in response.text
    await assert_still_serving(ds, catalog_db, baseline)


async def test_unexpected_error_is_a_500_that_shows_nothing_of_the_server(ds, catalog_db, monkeypatch):
    """A fault of the site is a 500 whose page names no file: the traceback goes to the log only."""
    async def broken(datasette):
        raise FileNotFoundError(2, "No such file or directory", str(catalog_db))
    monkeypatch.setattr(pages, "home", broken)
    response = await ds.client.get("/")
    assert response.status_code == 500
    assert '服务器出错，已记录在日志中。<span lang="en">The server failed; the error is in its log.</span>' in response.text
    assert str(catalog_db) not in response.text


@pytest.mark.parametrize("statement", ["select hex(fts3_tokenizer('simple'))",
                                       "select fts3_tokenizer('simple', x'0000000000000000')"])
async def test_fts3_tokenizer_pointer_is_not_exposed(ds, catalog_db, baseline, statement):
    """fts3_tokenizer() would leak or replace a native pointer: the site refuses it."""
    response = await ds.client.get(sql(statement))
    assert response.status_code == 400
    # sqlite3 reports any exception from a Python function with this one fixed text.
    assert response.json()["error"] == "user-defined function raised exception"
    await assert_still_serving(ds, catalog_db, baseline)


@pytest.mark.parametrize("statement", ["select length(randomblob(1000000000))",
                                       "select length(zeroblob(1000000000))"])
async def test_giant_values_are_refused_at_once(ds, catalog_db, baseline, statement):
    """One huge string or blob cannot hold a thread past the time limit: SQLite refuses it."""
    response = await ds.client.get(sql(statement))
    assert response.status_code == 400
    assert response.json()["error"] == "string or blob too big"
    await assert_still_serving(ds, catalog_db, baseline)


@pytest.mark.parametrize("statement", ["select length(printf('%.*c', 1000000000, 'x'))",
                                       "select printf('%!.1000000000c', 'x')",
                                       "select format('%5.*c', -2000000000, 'y')"])
async def test_character_repeat_cannot_stall_a_thread(ds, catalog_db, baseline, statement):
    """printf's %c with a huge precision loops for seconds in SQLite 3.40 where the time limit can't stop it: refused."""
    response = await fetch(ds, sql(statement))
    assert response.status_code == 400
    assert response.json()["error"] == "string or blob too big"
    await assert_still_serving(ds, catalog_db, baseline)


PRINTF_CASES = ["printf('%05.1f|%s|%.3c|%d%%', 3.14159, 'ab', 'z', 7)", "format('%-6s|%x', 'ab', 255)",
                "printf('%.*s|%q|%Q', 2, 'abcdef', 'it''s', NULL)", "printf('%s', x'e68aa5e99480')",
                "printf('%.5c%.*c', 'a', 3, 'b')", "printf(NULL)", "printf('%!.20c', '报')"]


async def test_printf_still_answers_as_sqlite_does(ds):
    """Within the limit, the site's printf and format give exactly what SQLite's built-ins give."""
    statement = "select " + ", ".join(f"{case} as c{n}" for n, case in enumerate(PRINTF_CASES))
    with contextlib.closing(sqlite3.connect(":memory:")) as conn:
        expected = list(conn.execute(statement).fetchone())
    response = await fetch(ds, sql(statement) + "&_shape=array")
    assert list(response.json()[0].values()) == expected
    assert expected[0] == "003.1|ab|zzz|7%"


# --- one call's work is bounded (issue 14, item 1) ----------------------------------------------

TOO_BIG = "string or blob too big"

#: One call each whose work, the product of two operands' lengths, is past the function's bound
#: (riskcatalog.site.hardening.QUADRATIC_BUILTINS). SQLite checks the time limit between steps
#: only, and each of these is one step: the issue's instr (4 MB × 100 KB, now over the value
#: limit) answered after 9.4 s.
QUADRATIC_CALLS = [
    "select instr(hex(zeroblob(2000000)), substr(hex(zeroblob(50000)), 1, 99999) || '1')",
    "select instr(hex(zeroblob(499000)), substr(hex(zeroblob(5000)), 1, 9999) || '1')",
    "select replace(hex(zeroblob(499000)), substr(hex(zeroblob(5000)), 1, 9999) || '1', 'x') is null",
    "select hex(zeroblob(499000)) like '%' || substr(hex(zeroblob(50)), 1, 99) || '1'",
    "select hex(zeroblob(499000)) like '%' || substr(hex(zeroblob(50)), 1, 99) || '1' escape '!'",
    "select hex(zeroblob(499000)) glob '*' || substr(hex(zeroblob(50)), 1, 99) || '1'",
    "select length(trim(hex(zeroblob(499000)), replace(hex(zeroblob(50)), '0', 'A') || '0'))",
    "select length(rtrim(hex(zeroblob(499000)), replace(hex(zeroblob(50)), '0', 'A') || '0'))",
    "select length(json_patch(a, b)) from (with recursive n(i) as (select 1 union all select i + 1 from n "
    "where i < 20000) select json_group_object('a' || i, 0) as a, json_group_object('b' || i, 0) as b from n)",
]


@pytest.mark.parametrize("statement", QUADRATIC_CALLS, ids=["instr-4MB", "instr", "replace", "like", "like-escape",
                                                            "glob", "trim", "rtrim", "json_patch"])
async def test_quadratic_call_is_refused_at_once(ds, catalog_db, baseline, statement):
    """A string function asked for more work than its bound is refused before it starts."""
    response = await fetch(ds, sql(statement))
    assert response.status_code == 400
    assert response.json()["error"] == TOO_BIG
    await assert_still_serving(ds, catalog_db, baseline)


@pytest.mark.parametrize("statement", [
    "select length(hex(zeroblob(600000)))",
    # 10 MB per value, as before this limit: instr over a new one on every row ran ~1 s a call.
    "select count(*) from risks a, risks b "
    "where instr(hex(zeroblob(4900000 + a.rowid + b.rowid * 60)), substr(hex(zeroblob(5000)), 1, 9999) || '1')",
])
async def test_values_over_a_megabyte_are_refused(ds, catalog_db, baseline, statement):
    """The value limit is SQLite's advice for untrusted SQL, 1 MB: a linear function takes ~10 ms over it."""
    response = await fetch(ds, sql(statement))
    assert response.status_code == 400
    assert response.json()["error"] == TOO_BIG
    await assert_still_serving(ds, catalog_db, baseline)


BOUNDED_CASES = ["instr('abc', 'c')", "instr(x'010203', x'03')", "instr(12345, 34)", "instr(NULL, 'a')",
                 "replace('aXbX', 'X', '-')", "replace('abc', '', 'x')", "replace(1.5, '.', ',')",
                 "'ABC' like 'a%'", "'abc' like 'A_C'", "'a_c' like 'a!_c' escape '!'", "'报销' like '%销'",
                 "'x' like NULL", "5 like 5", "'abc' glob 'a*'", "'ABC' glob 'a*'", "'a1' glob 'a[0-9]'",
                 "trim('xxaxx', 'x')", "ltrim('xxa', 'x')", "rtrim('axx', 'x')", "trim('报销报', '报')",
                 """json_patch('{"a":1,"b":{"c":2}}', '{"b":{"c":null},"d":3}')"""]


async def test_bounded_builtins_still_answer_as_sqlite_does(ds, catalog_db):
    """Within their bounds, the guarded built-ins give exactly what SQLite's own give, filters included."""
    statement = "select " + ", ".join(f"{case} as c{n}" for n, case in enumerate(BOUNDED_CASES))
    with contextlib.closing(sqlite3.connect(":memory:")) as conn:
        expected = list(conn.execute(statement).fetchone())
    response = await fetch(ds, sql(statement) + "&_shape=array")
    assert list(response.json()[0].values()) == expected
    with contextlib.closing(sqlite3.connect(catalog_db)) as conn:
        titles = [row[0] for row in conn.execute("select title_zh from risks where title_zh like '%报销%' order by seq")]
    response = await fetch(ds, "/catalog/risks.json?_shape=array&_col=title_zh&title_zh__contains=" + quote("报销"))
    assert [row["title_zh"] for row in response.json()] == titles and len(titles) > 1


def cte_chain(links: int, hint: str = "") -> str:
    """The issue's chain of common table expressions, each joining the one before to itself: SQLite
    copies each at every use while it prepares the statement, 2 ** links copies in all."""
    chain = ["c0(x) as (select 1)"] + [f"c{n}(x) as {hint}(select a.x from c{n - 1} a join c{n - 1} b on a.x = b.x)"
                                       for n in range(1, links + 1)]
    return "with " + ", ".join(chain) + f" select count(*) from c{links}"


UNPREPARABLE = ("SQLite 无法在 0.5 秒、128 MB 内准备这条查询（例如 WITH 子句层层重复引用前一个），请简化。 SQLite could "
                "not prepare this query within 0.5 s and 128 MB (for example, WITH tables that each use the one "
                "before several times); simplify it.")


@pytest.mark.parametrize("links, hint", [(22, ""), (30, ""), (16, "not materialized ")])
async def test_sql_sqlite_cannot_prepare_within_bounds_is_refused(ds, catalog_db, baseline, links, hint):
    """Preparing runs before the time limit: 22 links ran 65 s and took 3.7 GB. The door prepares a
    reader's SQL in a worker the operating system bounds, and refuses what fails there; as `sql`, as
    a table's `_where`, and as a download's."""
    chain = cte_chain(links, hint)
    for path in (sql(chain), "/catalog/risks.json?_where=" + quote(f"key in ({chain})"),
                 "/catalog.xlsx?sql=" + quote(chain), "/catalog/risks.csv?_stream=on&_where=" + quote(f"1 in ({chain})")):
        response = await fetch(ds, path)
        assert response.status_code == 400, path
        assert response.headers["content-type"] in ("application/json; charset=utf-8", "text/html; charset=utf-8")
        assert (response.json()["error"] if ".json" in path else html.unescape(response.text)).count(UNPREPARABLE[:40])
    await assert_still_serving(ds, catalog_db, baseline)


def test_the_worker_is_bounded_by_the_kernel_and_replaced_when_killed(catalog_db):
    """The worker's memory is the kernel's to bound: under a 48 MiB address space, preparing 16 links runs
    out of it at once. Past its time the worker is killed (no process left behind) and the next
    statement gets a new one."""
    small = planning.Planner(seconds=30, memory=48 * 1024 * 1024)
    assert small.prepare(str(catalog_db), cte_chain(16)) == "memory"
    assert small.prepare(str(catalog_db), "select count(*) from risks") is None
    quick = planning.Planner(seconds=0.2)
    assert quick.prepare(str(catalog_db), cte_chain(6)) is None
    [worker] = quick.idle[str(catalog_db)]
    assert quick.prepare(str(catalog_db), cte_chain(22)) == "time"
    assert worker.process.returncode == -9 and quick.idle[str(catalog_db)] == []
    assert quick.prepare(str(catalog_db), "select 1 from risks where key = 'x'") is None
    assert quick.idle[str(catalog_db)][0].process.pid != worker.process.pid


async def test_sql_that_prepares_within_bounds_is_answered(ds):
    """A short chain, a hint, EXPLAIN and the site's own functions still run as they did."""
    for statement, rows in [(cte_chain(8), [{"count(*)": 1}]), (cte_chain(4, "not materialized "), [{"count(*)": 1}]),
                            ("with c as materialized (select 'not materialized' as x) select x from c",
                             [{"x": "not materialized"}]),
                            ("select escape_fts('报销') as q", [{"q": fts_query("报销")}])]:  # the project's own
        response = await fetch(ds, sql(statement) + "&_shape=array")
        assert response.json() == rows, statement
    response = await fetch(ds, sql("explain query plan " + cte_chain(3)) + "&_shape=array")
    assert response.status_code == 200 and response.json()


def test_statement_over_100_kb_is_refused(catalog_db):
    """SQLite's advice for untrusted SQL: parsing and planning happen before the time limit starts.
    (httpx sends no URL past 64 KB, so this goes to a hardened connection directly.)"""
    with contextlib.closing(sqlite3.connect(catalog_db)) as conn:
        hardening.harden(conn)
        assert conn.execute("select length(?)", ["x" * 99_000]).fetchone()[0] == 99_000
        with pytest.raises(sqlite3.DataError, match="^query string is too large$"):
            conn.execute("select '" + "x" * 100_000 + "'")


# --- one query's result is bounded (issue 14, item 2) -------------------------------------------

RESULT_TOO_LARGE = ("结果过大：一次查询的结果最多 5,000,000 个字符，请少选几行或几列。Result too large: one query "
                    "may return at most 5,000,000 characters; select fewer rows or columns.")


async def test_one_query_result_is_capped(ds, catalog_db, baseline):
    """The value limit is per value: a query's rows together may hold 5 million characters or bytes."""
    response = await fetch(ds, sql("select zeroblob(900000) from risks limit 6"))
    assert response.status_code == 400
    assert response.json()["error"] == RESULT_TOO_LARGE
    response = await fetch(ds, sql("select length(zeroblob(900000)) as n from risks limit 6") + "&_shape=array")
    assert response.json() == [{"n": 900000}] * 6
    response = await fetch(ds, sql("select zeroblob(900000) as blob from risks limit 5") + "&_shape=array")
    assert len(response.json()) == 5
    await assert_still_serving(ds, catalog_db, baseline)


# --- facets and query strings are bounded (issue 14, item 3) -----------------------------------

def facet_links(page: dict) -> list[str]:
    return [value["toggle_url"] for facet in page["facet_results"].values() for value in facet["results"]]


async def test_repeated_facet_is_computed_once(ds, catalog_db, baseline):
    """2,000 copies of one facet (a 30 KB URL) answer as one: before, the page grew with their square."""
    once = (await fetch(ds, "/catalog/risks.json?_facet=title_zh")).json()
    repeated = await fetch(ds, "/catalog/risks.json?" + "&".join(["_facet=title_zh"] * 2000))
    assert repeated.status_code == 200
    assert list(repeated.json()["facet_results"]) == list(once["facet_results"])
    assert facet_links(repeated.json()) == facet_links(once) and len(facet_links(once)) > 30  # title_zh: 30
    await assert_still_serving(ds, catalog_db, baseline)


async def test_more_than_five_facets_are_refused(ds):
    facets = "&".join(f"_facet={column}" for column in ("area", "level", "category", "post_zh", "power_zh"))
    assert (await fetch(ds, f"/catalog/risks.json?{facets}")).status_code == 200
    response = await fetch(ds, f"/catalog/risks.json?{facets}&_facet_array=measure_ids")
    assert response.status_code == 400
    assert response.json() == {"ok": False, "status": 400, "title": "请求有误 Bad request", "error":
                               "一次最多可以请求 5 个分面，本次请求了 6 个。 "
                               "At most 5 facets may be asked for at once; this request asks for 6."}


async def test_query_string_over_8192_characters_is_refused(ds):
    """Every facet value's link repeats the query string: a long one multiplies the page's size."""
    response = await fetch(ds, "/catalog/risks?_facet_size=max&_x=" + "x" * 8200)
    assert response.status_code == 414
    assert "网址的查询参数最多 8,192 个字符（SQL 除外），本次有 8,220 个。" in response.text
    assert "A query string may have at most 8,192 characters besides its SQL; this one has 8,220." in response.text
    response = await fetch(ds, sql("select '" + "x" * 9000 + "' as x") + "&_shape=array")
    assert response.json() == [{"x": "x" * 9000}]


# --- no path or debug page leaks (issue 14, item 5) ---------------------------------------------

DEBUG_PAGES = ["/-/databases", "/-/databases.json", "/-/threads", "/-/threads.json", "/-/messages", "/-/allow-debug",
               "/-/patterns", "/-/permissions"]


@pytest.mark.parametrize("path", DEBUG_PAGES)
async def test_debug_pages_are_closed(ds, path):
    response = await fetch(ds, path)
    assert response.status_code == 404
    assert "本站不提供此调试页面。" in response.text and "This debug page is not served here." in response.text


async def test_database_list_names_no_file(ds, catalog_db):
    """pragma_database_list answers no rows (its file column is the database's absolute path)."""
    response = await fetch(ds, sql("select * from pragma_database_list") + "&_shape=array")
    assert response.status_code == 200 and response.json() == []
    assert (await fetch(ds, "/catalog")).status_code == 200  # Datasette's own PRAGMA database_list still works


def served_paths(catalog_db) -> list[str]:
    """Where the server's files are: the database's folder, the project, the Python installation."""
    return [str(catalog_db.parent), str(PROJECT_ROOT), sys.prefix, sys.base_prefix, os.path.expanduser("~")]


LEAK_PROBES = ["/", "/-/versions.json", "/-/plugins.json", "/-/settings.json", "/-/metadata.json", "/-/actor.json",
               "/catalog.json", "/catalog", "/catalog/units.json?_shape=array", "/catalog/units", "/catalog/risks.json",
               "/catalog/risks/yijia-LAND-01.json", "/catalog/nonexistent", "/catalog/risks.json?_sort=nonexistent",
               sql("select * from pragma_database_list"), sql("select * from units"),
               *DEBUG_PAGES]


async def test_no_response_names_a_path_of_the_server(ds, catalog_db):
    for path in LEAK_PROBES:
        response = await ds.client.get(path)
        for where in served_paths(catalog_db):
            assert where not in response.text, f"{path} shows {where}"


@pytest.mark.parametrize("working_directory, given, stored", [
    ("project", "absolute", "mini"),
    ("tmp", "absolute", "mini"),
    ("tmp-parent", "absolute", "{tmp}/mini"),
    ("tmp", "relative", "mini"),
])
def test_units_folder_is_stored_relative_or_by_name(mini_catalog, tmp_path, monkeypatch, working_directory, given,
                                                     stored):
    """The build keeps a register's folder relative to the working directory when it lies under it,
    else only its name: the database is published, the builder's file system is not."""
    monkeypatch.chdir({"project": PROJECT_ROOT, "tmp": tmp_path, "tmp-parent": tmp_path.parent}[working_directory])
    builder.build([mini_catalog if given == "absolute" else Path(mini_catalog.name)], tmp_path / "out.db")
    expected = stored.format(tmp=tmp_path.name)
    with contextlib.closing(sqlite3.connect(tmp_path / "out.db")) as conn:
        assert conn.execute("select folder from units").fetchall() == [(expected,)]
        files = {row[0] for row in conn.execute("select file from risks union select file from sources")}
    assert files == {f"{expected}/alpha.yml", f"{expected}/sources.yml"}


async def test_unknown_host_is_never_cached(ds):
    """Datasette builds next_url and Link from the Host header, under max-age=300: with no names
    configured, a response to a Host other than the site's own address may not be cached."""
    response = await fetch(ds, "/catalog/register.json?_size=2")
    assert response.headers["cache-control"] == "max-age=300"
    assert response.headers["link"] == '<http://localhost/catalog/register.json?_size=2&_next=2>; rel="next"'
    response = await ds.client.get("/catalog/register.json?_size=2", headers={"host": "evil.example"})
    assert response.status_code == 200
    assert response.headers["cache-control"] == "no-store"


async def test_configured_hosts_are_the_only_ones_answered(catalog_db):
    ds = make_datasette(catalog_db, plugin_config={"hosts": ["risks.example.org"]})
    response = await ds.client.get("/catalog/register.json?_size=2", headers={"host": "risks.example.org"})
    assert response.headers["cache-control"] == "max-age=300"
    assert response.json()["next_url"] == "http://risks.example.org/catalog/register.json?_size=2&_next=2"
    for host in ("evil.example", "localhost"):
        response = await ds.client.get("/catalog/register.json?_size=2", headers={"host": host})
        assert response.status_code == 400
        assert response.headers["cache-control"] == "no-store" and "link" not in response.headers
        assert response.json() == {"ok": False, "status": 400, "title": "主机名有误 Unknown host", "error":
                                   f"本站不以此主机名提供服务。 This site is not served as '{host}'; its operator "
                                   "lists the names it is served under in metadata.yml, plugins: riskcatalog: hosts."}


# --- search: FTS syntax in the search box is inert -----------------------------------------------

HOSTILE_SEARCHES = ['"unbalanced', "NEAR(", "*", "^", ")(", "'", "-", "x:y", "{a b}", "a OR", "报销 \"",
                    "報銷 NEAR(x y", "a" * 100]


@pytest.mark.parametrize("words", HOSTILE_SEARCHES, ids=range(len(HOSTILE_SEARCHES)))
async def test_fts_syntax_in_search_is_inert(ds, catalog_db, baseline, words):
    for path in (path.format(quote(words)) for path in SEARCH_PATHS):
        response = await fetch(ds, path)
        assert response.status_code == 200, path
        if ".json" in path:
            body = response.json()
            sections = [body] if "rows" in body else [body[kind] for kind in ("risks", "measures", "sources")]
            assert sum(len(section["rows"]) for section in sections) <= MAX_ROWS
    await assert_still_serving(ds, catalog_db, baseline)


SEARCH_PATHS = ("/catalog/risks.json?_search={}", "/catalog/measures.json?_search={}", "/search.json?q={}",
                "/catalog/risks?_search={}", "/search?q={}")
BOUNDED_SEARCHES = [
    ("x\x00", "含有控制字符（如 NUL），请删去", "holds a control character (such as NUL); remove it"),
    ("a" * 101, "最多 100 个字符，本次有 101 个", "may have at most 100 characters; this one has 101"),
    (" ".join("报销征收信访补偿会"), "搜索词最多 8 个（以空格分隔），本次有 9 个，请减少一些",
     "may have at most 8 words; this one has 9"),
]


@pytest.mark.parametrize("words, zh, en", BOUNDED_SEARCHES, ids=["nul", "101-characters", "9-words"])
async def test_search_past_its_bounds_is_refused(ds, words, zh, en):
    """A search is bounded in length and words, and holds no control character: FTS5 read x\\x00 as an
    unterminated string (a 500), and 600 one-character words held the server for seconds."""
    for path in SEARCH_PATHS:
        response = await fetch(ds, path.format(quote(words)))
        assert response.status_code == 400, path
        text = response.json()["error"] if ".json" in path else html.unescape(response.text)
        assert zh in text and en in text, (path, text[:300])


@pytest.mark.parametrize("words, query", [
    ('"unbalanced', '"unbalanced"'),
    ("NEAR(", '"NEAR"'),
    ("*", '""'),
    ("a OR", '"a" AND "OR"'),
    ('报销 "', '(("报销") OR ("报账"))'),  # the thesaurus: 报销 also finds 报账
    ("報銷 NEAR(x y", '(("报销") OR ("报账")) AND "NEAR" AND "x" AND "y"'),
    ("经费报销", '"经费" AND (("报销") OR ("报账"))'),
    ("公示期", '"公示" AND "示期"'),  # a longer word: its pairs (the index keeps no positions)
])
def test_fts_query_quotes_every_word(words, query):
    assert fts_query(words) == f"{{title area body cited}} : ({query})"


async def test_quote_in_search_changes_nothing(ds):
    plain = await fetch(ds, "/catalog/risks.json?_shape=objects&_search=" + quote("报销"))
    quoted = await fetch(ds, "/catalog/risks.json?_shape=objects&_search=" + quote('报销 "'))
    assert plain.json()["rows"] and plain.json()["rows"] == quoted.json()["rows"]
    nothing = await fetch(ds, "/catalog/risks.json?_search=" + quote("*"))
    assert nothing.json()["rows"] == []


# --- a value at the longest the format allows is served everywhere (issue 23) ------------------

def _longest(maximum: int) -> str:
    """Chinese text of exactly `maximum` characters."""
    return ("经办人虚报差旅天数并重复报销住宿费用，" * (maximum // 19 + 1))[:maximum]


#: The most characters a list's items hold together here: 20,000 a language. The registry allows
#: MAX_ITEMS items of ITEM characters (200,000); a row holding two such lists is over the 1 MB record
#: SQLite may sort on the served site (hardening.MAX_VALUE_BYTES), so a page that sorts whole rows
#: (a search on the data table) fails "string or blob too big": docs/limits.md, "Values at the longest".
LIST_CHARS = 20_000


def _at_the_longest(entry: dict, record) -> None:
    """Every text of entry at the longest the field registry allows, in both languages, and each list
    of as many items at their longest as LIST_CHARS holds."""
    for field in record.fields:
        if field.kind == fields.TEXT and field.maximum:
            entry.update({key: _longest(field.maximum) for key in field.keys})
        elif field.kind == fields.ITEMS:
            entry[field.name] = [{"zh": _longest(field.maximum), "en": _longest(field.maximum)}
                                 for _ in range(LIST_CHARS // field.maximum)]


@pytest.fixture(scope="module")
def longest_db(tmp_path_factory) -> Path:
    """The mini register with a risk and a measure whose every text field is at its longest."""
    import yaml

    from .conftest import MINI, write_register
    alpha = yaml.safe_load(textwrap.dedent(MINI["alpha.yml"]))
    _at_the_longest(alpha["risks"][0], fields.RISK)
    _at_the_longest(alpha["measures"][0], fields.MEASURE)
    text = yaml.safe_dump(alpha, allow_unicode=True, sort_keys=False, width=10**9)
    folder = write_register(tmp_path_factory.mktemp("longest") / "mini", {**MINI, "alpha.yml": text})
    db = folder.parent / "catalog.db"
    builder.build([folder], db)
    with contextlib.closing(sqlite3.connect(db)) as conn:
        assert conn.execute("select length(description_zh) from risks where id = 'AL-01'").fetchone() == (
            fields.PROSE,)
    return db


async def test_a_value_at_the_longest_is_served_everywhere(longest_db):
    """Its page, the table, searches, its area's list and every download answer 200: nothing the build
    accepts is "string or blob too big" to the site (a 380,000-character value was, before lengths)."""
    ds = make_datasette(longest_db)
    word = quote("住宿费用")
    for path in ["/catalog/risks/mini-AL-01", "/catalog/measures/mini-AL-M01", "/catalog/risks",
                 "/catalog/risks.json?_size=max", "/catalog/measures", f"/search?q={word}", f"/search.json?q={word}",
                 "/search?area=alpha", "/catalog/areas/mini-alpha", f"/catalog/risks?_search={word}",
                 f"/catalog/risks?description_zh__contains={word}", "/catalog/risks?_facet=post_zh&_facet=power_zh",
                 "/-/register.xlsx", "/catalog/risks.xlsx", "/catalog/risks.excelcsv", "/catalog/risks.csv?_size=max",
                 "/catalog/full_register.xlsx"]:
        response = await ds.client.get(path)
        assert response.status_code == 200, (path, response.text[:300])
    found = (await ds.client.get(f"/search.json?q={word}")).json()
    assert [row["id"] for row in found["risks"]["rows"]] == ["AL-01"]
