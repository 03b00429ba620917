"""How the catalogue is served: one place for the Datasette settings and command.

`make serve`, the browser tests and the benchmarks all start Datasette through this module
(command, serving), and the in-process tests use SETTINGS, so every one of them sees the same
site. The templates and static files come with the package (the plugin finds them wherever
Datasette starts); metadata.yml, a deployment's site settings (title, repository, hosts…), is
read from the folder the command runs in when it is there.

    python -m riskcatalog.site.serve                          # catalog.db, as make serve
    python -m riskcatalog.site.serve hanzheng.db              # any catalogue database, by any name
    python -m riskcatalog.site.serve registers/gutian         # a register folder: built, then served
    python -m riskcatalog.site.serve reg1 reg2 -o district.db # several registers in one database
"""

from __future__ import annotations

import argparse
import contextlib
import os
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from dataclasses import dataclass
from pathlib import Path
from typing import Iterator

HOST = "127.0.0.1"
PORT = 8001
METADATA = "metadata.yml"

#: Settings for a public read-only catalogue: short SQL time limit, bounded pages.
#: No facet suggestions: catalogue.yml names the useful facets, and suggesting others tries
#: a query per column on every table page (seconds per page at city scale).
SETTINGS = {
    "suggest_facets": False,
    "sql_time_limit_ms": 1000,
    "max_returned_rows": 1000,
    "default_page_size": 50,
    "facet_time_limit_ms": 200,
    "max_csv_mb": 20,
    "num_sql_threads": 3,
    "default_cache_ttl": 300,
}


def command(db: str = "catalog.db", host: str = HOST, port: int = PORT, metadata: str | None = METADATA) -> list[str]:
    """The datasette command line that serves db read-only (with metadata, if given)."""
    args = ["datasette", "serve", "--immutable", db, *(["--metadata", metadata] if metadata else []),
            "--host", host, "--port", str(port)]
    for name, value in SETTINGS.items():
        args += ["--setting", name, str(value).lower() if isinstance(value, bool) else str(value)]
    return args


def _datasette() -> str:
    """The datasette beside this Python (the virtual environment's), not whichever PATH finds."""
    return os.path.join(os.path.dirname(sys.executable), "datasette")


def main(argv: list[str] | None = None) -> None:
    """Serve a catalogue database, or register folders built into one first (exit 1 if the build fails)."""
    parser = argparse.ArgumentParser(prog="python -m riskcatalog.site.serve",
                                     description="Serve a register: a catalogue database (any name), or register "
                                                 "folders, built into one database first.")
    parser.add_argument("paths", nargs="*", default=["catalog.db"], metavar="DATABASE_OR_FOLDER")
    parser.add_argument("-o", "--output", help="the database register folders are built into "
                                               "(default: the first folder's name with .db)")
    parser.add_argument("--port", type=int, default=PORT)
    parser.add_argument("--host", default=HOST, help="127.0.0.1 (default); 0.0.0.0 serves the office network")
    options = parser.parse_args(argv)
    db = database_of(options.paths, options.output)
    args = command(db, options.host, options.port, METADATA if Path(METADATA).is_file() else None)
    print(" ".join(args), flush=True)
    os.execv(_datasette(), args)


def database_of(paths: list[str], output: str | None) -> str:
    """The database to serve: the one given, or the register folders given, built by the real build
    (which says what is wrong, file:line, and leaves the previous database as it was)."""
    folders = [Path(path) for path in paths if Path(path).is_dir()]
    if not folders:
        if len(paths) != 1 or output:
            sys.exit("give one database, or register folders (with -o for the database they are built into)")
        return paths[0]
    if len(folders) != len(paths):
        sys.exit("give register folders, or one database, not both")
    db = output or str(folders[0].with_suffix(".db"))
    print(f"building {db} from {', '.join(map(str, folders))}", flush=True)
    built = subprocess.run([sys.executable, "-m", "riskcatalog", *map(str, folders), "-o", db])
    if built.returncode:
        sys.exit(built.returncode)
    return db


def free_port() -> int:
    """A loopback port nothing listens on right now."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind((HOST, 0))
        return sock.getsockname()[1]


@dataclass(frozen=True)
class Server:
    """A running datasette: where it answers and its process id."""

    url: str
    pid: int


@contextlib.contextmanager
def started(db_path: Path, log_path: Path, root: Path, timeout: float = 120,
            metadata: str | None = METADATA) -> Iterator[Server]:
    """Run the site's datasette command in root on a free loopback port; yield it, then stop it."""
    port = free_port()
    args = command(str(db_path), HOST, port, metadata and str(metadata))
    args[0] = _datasette()
    base = f"http://{HOST}:{port}"
    with open(log_path, "wb") as log:
        proc = subprocess.Popen(args, cwd=root, stdout=log, stderr=subprocess.STDOUT)
    try:
        _wait_until_up(proc, base, log_path, timeout)
        yield Server(base, proc.pid)
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


@contextlib.contextmanager
def serving(db_path: Path, log_path: Path, root: Path, timeout: float = 120,
            metadata: str | None = METADATA) -> Iterator[str]:
    """Run the site's datasette command in root on a free loopback port; yield its base URL, then stop it."""
    with started(db_path, log_path, root, timeout, metadata) as server:
        yield server.url


def _wait_until_up(proc: subprocess.Popen, base: str, log_path: Path, timeout: float) -> None:
    deadline = time.monotonic() + timeout
    opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))  # loopback, never a proxy
    while True:
        if proc.poll() is not None:
            raise RuntimeError(f"datasette exited with {proc.returncode}:\n{log_path.read_text(errors='replace')}")
        try:
            with opener.open(f"{base}/-/versions.json", timeout=2) as response:
                if response.status == 200:
                    return
        except (urllib.error.URLError, ConnectionError, TimeoutError):
            pass
        if time.monotonic() > deadline:
            raise RuntimeError(f"datasette did not answer on {base} within {timeout} s")
        time.sleep(0.1)


if __name__ == "__main__":
    main()
