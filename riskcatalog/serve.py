"""How the catalogue is served: one place for the Datasette settings and command.

`make serve`, the browser tests and the load tests all start Datasette through this
module, and the in-process tests use SETTINGS, so every one of them sees the same site.
"""

from __future__ import annotations

import os
import sys

from . import PROJECT_ROOT

HOST = "127.0.0.1"
PORT = 8001
METADATA = "metadata.yml"  # relative to PROJECT_ROOT, where the command runs

#: Settings for a public read-only catalogue: short SQL time limit, bounded pages.
#: No facet suggestions: metadata.yml names the useful facets, and suggesting others tries
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


def command(db: str = "catalog.db", host: str = HOST, port: int = PORT, metadata: str = METADATA) -> list[str]:
    """The datasette command line that serves db read-only."""
    args = ["datasette", "serve", "--immutable", db,
            "--metadata", metadata, "--template-dir", "templates",
            "--static", "static:static", "--host", host, "--port", str(port)]
    for name, value in SETTINGS.items():
        args += ["--setting", name, str(value).lower() if isinstance(value, bool) else str(value)]
    return args


def main() -> None:
    db = sys.argv[1] if len(sys.argv) > 1 else "catalog.db"
    args = command(db)
    print(" ".join(args), flush=True)
    os.chdir(PROJECT_ROOT)
    os.execvp(os.path.join(os.path.dirname(sys.executable), "datasette"), args)


if __name__ == "__main__":
    main()
