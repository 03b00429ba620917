"""The command line behind build.py: build, --check, fmt and diff.

Every failure is one or more lines naming file:line:column and what to do, then exit 1;
never a traceback for a problem in the catalogue.
"""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

from . import db
from .errors import CatalogInvalid

#: Registers summarised one per line; beyond this, a count.
SHOWN = 10


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    if argv and argv[0] in ("fmt", "diff"):
        from . import diff, fmt  # noqa: F401 - imported on demand, they pull in ruamel.yaml

        return {"fmt": fmt.main, "diff": diff.main}[argv[0]](argv[1:])
    args = _parser().parse_args(argv)
    folders = [Path(f) for f in args.folders] or [Path("catalog")]
    try:
        if args.check:
            summaries = db.check(folders)
        else:
            summaries = db.build(folders, Path(args.output))
    except CatalogInvalid as exc:
        report_errors(exc.errors)
        return _failed(args, f"{len(exc.errors)} error(s)")
    except KeyboardInterrupt:
        return _failed(args, "interrupted")
    except OSError as exc:
        return _failed(args, f"error: {exc}")
    done = "OK" if args.check else f"built {args.output}"
    for summary in summaries[:SHOWN]:
        print(f"{summary}: {done}")
    if len(summaries) > SHOWN:  # a city's registers would otherwise print thousands of lines
        print(f"… and {len(summaries) - SHOWN:,} more registers: {done}")
    return 0


def _failed(args: argparse.Namespace, what: str) -> int:
    suffix = "" if args.check else f"; {args.output} is unchanged"
    print(f"{what}{suffix}", file=sys.stderr)
    return 1


def report_errors(errors) -> None:
    """Print errors for people, and as workflow commands when running in GitHub Actions."""
    for error in errors:
        print(error, file=sys.stderr)
    if os.environ.get("GITHUB_ACTIONS") == "true":
        for error in errors:
            print(error.annotation())


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="build.py",
        description="Compile catalogue folders into SQLite. Subcommands: fmt [--check], diff REV [--json].")
    parser.add_argument("folders", nargs="*", help="register folders, each with a register.yml (default: catalog)")
    parser.add_argument("-o", "--output", default="catalog.db", help="database to write (default: catalog.db)")
    parser.add_argument("--check", action="store_true", help="validate only; print a summary or the errors")
    return parser
