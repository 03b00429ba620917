"""SQL a hostile reader may send, made harmless: limits on one connection of the served database.

Datasette's SQL time limit is a progress handler that SQLite calls every 1,000 steps of its
virtual machine, and one step may be one function call of any length: a huge value, printf
repeating a character, or a string function whose work is the product of its arguments' lengths.
A query may also make a hundred such calls between two checks. So each call's work is bounded
here: values are capped, the quadratic built-ins refuse operands whose product is too large,
and printf refuses its %c stall. The rows one query may hold in memory are capped too;
fts3_tokenizer() (a native pointer) is refused and pragma database_list (the database's absolute
path) answers no rows. See docs/limits.md for each figure and how it was measured.
"""

from __future__ import annotations

import re
import sqlite3
import threading
import weakref
from typing import Callable

#: Longest string or blob a query may make: SQLite's own advice for untrusted SQL
#: (sqlite.org/security.html). A linear built-in (hex, upper, json) takes ~10 ms over 1 MB, so
#: a hundred calls between two time checks stay within about one more time limit.
MAX_VALUE_BYTES = 1_000_000

#: Longest SQL statement, also SQLite's advice: parsing and planning run before the time limit starts.
MAX_SQL_BYTES = 100_000

#: Characters (text) and bytes (blobs) one query's rows may hold; Datasette reads up to
#: max_returned_rows rows at once, so without this 1,000 rows of 1 MB values would be a gigabyte.
MAX_RESULT_CHARS = 5_000_000

#: Built-ins whose work grows with the product of their first two arguments' lengths (the text
#: searched and the text searched for), and the largest product each may be given: about 10 ms
#: of work on the machine of docs/benchmarks.md (instr and replace compare with memcmp,
#: ~1e11 bytes/s; LIKE and GLOB step ~1.3e9 times/s; trim tests each character against each
#: character to trim, ~4e8/s; json_patch looks every key of one object up in the other).
#: The check costs every row a LIKE filter reads ~3 µs (docs/limits.md, "What this costs").
QUADRATIC_BUILTINS: dict[tuple[str, int], int] = {
    ("instr", 2): 10**9,
    ("replace", 3): 10**9,
    ("like", 2): 10**7,
    ("like", 3): 10**7,
    ("glob", 2): 10**7,
    ("trim", 2): 4 * 10**6,
    ("ltrim", 2): 4 * 10**6,
    ("rtrim", 2): 4 * 10**6,
    ("json_patch", 2): 10**8,
}


def harden(conn: sqlite3.Connection) -> None:
    """Bound every call's work and every result's size on this connection; refuse what leaks."""
    conn.setlimit(sqlite3.SQLITE_LIMIT_LENGTH, MAX_VALUE_BYTES)
    conn.setlimit(sqlite3.SQLITE_LIMIT_SQL_LENGTH, MAX_SQL_BYTES)
    # fts3_tokenizer() returns (and with two arguments replaces) a native pointer; nothing here uses FTS3.
    for arity in (1, 2):
        conn.create_function("fts3_tokenizer", arity, _refuse_fts3_tokenizer)
    for name in ("printf", "format"):
        conn.create_function(name, -1, _printf, deterministic=True)
    for (name, arity), budget in QUADRATIC_BUILTINS.items():
        conn.create_function(name, arity, _bounded(name, arity, budget), deterministic=True)
    conn.set_authorizer(_authorize)
    conn.row_factory = _counted_row


def _refuse_fts3_tokenizer(*args):
    raise PermissionError("fts3_tokenizer() is disabled")


def _authorize(action: int, arg1: str | None, arg2: str | None, database: str | None, trigger: str | None) -> int:
    """pragma database_list answers no rows: its file column is the database's absolute path.

    Ignored rather than denied, so Datasette's own `PRAGMA database_list` (attached databases,
    none here) still works."""
    if action == sqlite3.SQLITE_PRAGMA and arg1 and arg1.lower() == "database_list":
        return sqlite3.SQLITE_IGNORE
    return sqlite3.SQLITE_OK


def _length(value) -> int:
    """The length SQLite's string functions see, near enough: numbers are short text."""
    if isinstance(value, (str, bytes)):
        return len(value)
    return 0 if value is None else 32


def _bounded(name: str, arity: int, budget: int) -> Callable:
    """The built-in `name`, refusing operands whose lengths multiply past budget."""
    statement = f"select {name}({', '.join('?' * arity)})"

    def call(*args):
        if _length(args[0]) * _length(args[1]) > budget:
            # sqlite3 turns OverflowError into SQLite's own "string or blob too big".
            raise OverflowError(f"{name}(): operands of {_length(args[0]):,} × {_length(args[1]):,} are refused")
        return _builtin(statement, args)

    return call


#: A %c conversion with a precision: the character repeated that many times.
_REPEATED_CHAR = re.compile(r"%[-+ #0,!]*(?:\d+|\*)?\.(\d+|\*)l{0,2}c")


def _printf(*args):
    """SQLite's printf, less one stall: SQLite 3.40 keeps repeating %c past the length limit, so
    printf('%.*c', 1e9, 'x') holds a thread ~5 s where the time limit cannot stop it."""
    for precision in _REPEATED_CHAR.findall(str(args[0]) if args and args[0] is not None else ""):
        counts = args[1:] if precision == "*" else [precision]
        if any(_number(count) > MAX_VALUE_BYTES for count in counts):
            raise OverflowError(f"printf: repeating a character over {MAX_VALUE_BYTES:,} times is refused")
    return _builtin(f"select printf({', '.join('?' * len(args))})", args)


def _number(value) -> float:
    try:
        return abs(float(value))
    except (TypeError, ValueError):
        return 0.0


_PRIVATE = threading.local()


def _builtin(statement: str, args: tuple):
    """A built-in's answer, from a private in-memory connection where it is not overridden."""
    conn = getattr(_PRIVATE, "conn", None)
    if conn is None:  # one per thread: Datasette runs queries on several
        conn = _PRIVATE.conn = sqlite3.connect(":memory:")
        conn.setlimit(sqlite3.SQLITE_LIMIT_LENGTH, MAX_VALUE_BYTES)
    return conn.execute(statement, args).fetchone()[0]


_RESULT = threading.local()


def _GONE() -> None:
    """What a dead weak reference answers: no cursor."""


def _counted_row(cursor: sqlite3.Cursor, row: tuple) -> sqlite3.Row:
    """Datasette's sqlite3.Row, counting each query's characters: past MAX_RESULT_CHARS the query fails."""
    size = 0
    for value in row:
        if value.__class__ is str or value.__class__ is bytes:
            size += len(value)
    counted = _RESULT.__dict__
    if counted.get("cursor", _GONE)() is not cursor:  # a thread reads one query's rows at a time
        counted["cursor"], counted["chars"] = weakref.ref(cursor), 0
    counted["chars"] += size
    if counted["chars"] > MAX_RESULT_CHARS:
        raise sqlite3.DataError(f"结果过大：一次查询的结果最多 {MAX_RESULT_CHARS:,} 个字符，请少选几行或几列。"
                                f"Result too large: one query may return at most {MAX_RESULT_CHARS:,} "
                                "characters; select fewer rows or columns.")
    return sqlite3.Row(cursor, row)
