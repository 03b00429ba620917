"""SQL a hostile reader may send, made harmless: limits on one connection of the served database.

Datasette's SQL time limit is checked between steps of a query, so one step that builds a huge
value, or SQLite's printf repeating a character, runs past it; fts3_tokenizer() hands out a
native pointer. Each is refused here, on every connection Datasette opens.
"""

from __future__ import annotations

import re
import sqlite3
import threading

#: Longest string or blob a reader's query may make. The SQL time limit is only checked between
#: steps, so one randomblob(1e9) would otherwise hold a thread for many seconds.
MAX_VALUE_BYTES = 10_000_000


def harden(conn: sqlite3.Connection) -> None:
    """Cap value lengths, refuse fts3_tokenizer and the %c stall of printf on this connection."""
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
