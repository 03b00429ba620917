"""Readers' SQL prepared first where the operating system bounds it: a worker process, killed and replaced.

SQLite prepares a statement before anything can stop it: Datasette's time limit is a progress
handler, which SQLite calls only between steps of a prepared program, and neither an authorizer
(called a few times, after the expensive part) nor any sqlite3_limit reaches preparation. And
preparing can cost exponential time and memory: a chain of common table expressions, each
joining the last to itself (`with c0(x) as (select 1), c1(x) as (select a.x from c0 a join c0 b
on a.x = b.x), …`), is copied at each use while it is planned; 16 links took 8 s and 185 MB
here, 22 links 65 s and 3.7 GB (docs/limits.md, "Preparing readers' SQL").

So before a reader's SQL reaches Datasette, the door has it prepared here, in a worker process
whose address space the kernel caps (RLIMIT_AS) at PREPARE_MEMORY. A statement SQLite runs out of
memory preparing, or takes longer than PREPARE_SECONDS to prepare (the worker is then killed and
another started for the next), is refused. Any other outcome (prepared, or an error Datasette will
give the reader itself) lets the request through: Datasette then prepares the same statement
against the same file, which takes the same bounded time and memory.

The worker is this file run as a script (`python -I planning.py …`), so it imports only the
standard library: it starts in a fraction of a second and holds ~12 MB.
"""

from __future__ import annotations

import json
import os
import re
import select
import sqlite3
import subprocess
import sys
import threading
import time
import urllib.parse
import weakref

#: How long a reader's statement may take to prepare: a real query takes a few milliseconds; the
#: door's check answers well within the SQL time limit (docs/limits.md).
PREPARE_SECONDS = 0.5
#: The worker's address space (Python and SQLite take ~16 MB of it before a statement arrives).
PREPARE_MEMORY = 128 * 1024 * 1024

#: A leading EXPLAIN [QUERY PLAN] (after comments): the worker puts its own EXPLAIN in front.
_EXPLAINED = re.compile(r"(?:\s+|--[^\n]*(?:\n|\Z)|/\*.*?(?:\*/|\Z))*explain\b(?:\s+query\s+plan\b)?", re.I | re.S)
#: Functions the site's connections have that this one lacks (a plugin's): each is given a stub,
#: since preparing only looks a function up. At most this many per statement.
_STUBS = 30
_MISSING_FUNCTION = re.compile(r"no such function: (\w+)")


class Planner:
    """Workers that prepare readers' SQL, a pool per database file; as many at once as callers.

    prepare() blocks (it waits on a pipe): call it from a thread."""

    def __init__(self, seconds: float = PREPARE_SECONDS, memory: int = PREPARE_MEMORY, limits: dict | None = None):
        self.seconds, self.memory, self.limits = seconds, memory, limits or {}
        self.idle: dict[str, list[_Worker]] = {}
        self.lock = threading.Lock()
        weakref.finalize(self, _close_all, self.idle)

    def prepare(self, database: str | None, sql: str) -> str | None:
        """None when sql prepares within the bounds (or fails as Datasette will say); else why not:
        "memory" or "time". database: the file, None for an in-memory one."""
        key = database or ":memory:"
        with self.lock:
            pool = self.idle.setdefault(key, [])
            worker = pool.pop() if pool else None
        worker = worker or _Worker(key, self.memory, self.limits)
        outcome = worker.prepare(sql, self.seconds)
        if worker.alive():
            with self.lock:
                self.idle[key].append(worker)
        return None if outcome == "prepared" else outcome


def _close_all(idle: dict[str, list]) -> None:
    for pool in idle.values():
        for worker in pool:
            worker.close()


class _Worker:
    """One worker process and the pipes to it."""

    #: How long a new worker may take to start (Python and sqlite3: 0.1–0.4 s on a busy machine).
    START_SECONDS = 10.0

    def __init__(self, database: str, memory: int, limits: dict[str, int]):
        arguments = [database, str(memory), json.dumps(limits)]
        self.process = subprocess.Popen([sys.executable, "-I", os.path.abspath(__file__), *arguments],
                                        stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL)
        self.pending = b""
        if self._line(self.START_SECONDS) != b'"ready"':
            self.close()
            raise RuntimeError(f"the SQL preparation worker did not start (exit status {self.process.returncode})")

    def alive(self) -> bool:
        return self.process.poll() is None

    def prepare(self, sql: str, seconds: float) -> str:
        """"prepared", "memory" (SQLite ran out of it, or the worker died) or "time" (it was killed)."""
        try:
            self.process.stdin.write(json.dumps(sql).encode() + b"\n")
            self.process.stdin.flush()
        except OSError:  # the worker is gone
            self.close()
            return "memory"
        line = self._line(seconds)
        if line is None:
            killed = self.process.poll() is None
            self.close()
            return "time" if killed else "memory"
        return json.loads(line)

    def _line(self, seconds: float) -> bytes | None:
        """The worker's next line; None if it gives none within seconds or ends."""
        deadline, out = time.monotonic() + seconds, self.process.stdout.fileno()
        while b"\n" not in self.pending:
            left = deadline - time.monotonic()
            if left <= 0 or not select.select([out], [], [], left)[0]:
                return None
            chunk = os.read(out, 4096)
            if not chunk:
                return None
            self.pending += chunk
        line, _, self.pending = self.pending.partition(b"\n")
        return line

    def close(self) -> None:
        """Kill the worker (our own child, by its handle) if it still runs, and reap it."""
        if self.process.poll() is None:
            self.process.kill()
        self.process.wait()
        for pipe in (self.process.stdin, self.process.stdout):
            try:
                pipe.close()
            except OSError:
                pass


# --- the worker --------------------------------------------------------------------------------

def _serve(database: str, memory: int, limits: dict[str, int]) -> None:
    """Answer each statement read from stdin (a JSON string a line) with "prepared" or "memory"."""
    import resource  # POSIX: the worker's bound is the kernel's

    resource.setrlimit(resource.RLIMIT_AS, (memory, memory))
    if database == ":memory:":
        conn = sqlite3.connect(":memory:", cached_statements=0)
    else:
        conn = sqlite3.connect(f"file:{urllib.parse.quote(database)}?immutable=1", uri=True, cached_statements=0)
    for name, value in limits.items():
        conn.setlimit(getattr(sqlite3, name), value)
    sys.stdout.write('"ready"\n')
    sys.stdout.flush()
    for line in sys.stdin:
        sys.stdout.write(json.dumps(_prepared(conn, json.loads(line))) + "\n")
        sys.stdout.flush()


def _prepared(conn: sqlite3.Connection, sql: str) -> str:
    """Prepare sql as EXPLAIN (which runs none of it): "prepared" (or failed as the site will fail it),
    or "memory" if SQLite ran out of it."""
    explained = _EXPLAINED.match(sql)
    statement = "explain " + (sql[explained.end():] if explained else sql)
    for _ in range(_STUBS):
        try:
            conn.execute(statement)
        except MemoryError:
            return "memory"
        except sqlite3.Error as error:
            missing = _MISSING_FUNCTION.fullmatch(str(error))
            if missing:
                conn.create_function(missing.group(1), -1, _stub)
                continue
        except (ValueError, OverflowError):  # a value Python could not bind: the statement prepared
            pass
        return "prepared"
    return "prepared"


def _stub(*args) -> None:
    return None


if __name__ == "__main__":
    _serve(sys.argv[1], int(sys.argv[2]), json.loads(sys.argv[3]))
