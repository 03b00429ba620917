"""The command line behind build.py: build (the default), check, fmt, diff, export, import, handbook and cards.

`python build.py [FOLDER…] -o DB` and `python build.py --check` are the build command run by
default (click-default-group, which Datasette already installs), so the README, CI, the
Makefile and users' scripts keep working; `python build.py --help` lists every command.

Every failure is one or more lines naming file:line:column and what to do, then exit 1;
never a traceback for a problem in the catalogue.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

import click
from click_default_group import DefaultGroup

from . import build as builder
from .errors import CatalogInvalid, printable
from .files import Interrupted, WriteFailed

#: Registers summarised one per line; beyond this, a count.
SHOWN = 10
DEFAULT_FOLDER = Path("catalog")

folders_argument = click.argument("folders", nargs=-1, type=click.Path(path_type=Path), metavar="[FOLDER]...")


@click.group(cls=DefaultGroup, default="build", default_if_no_args=True,
             context_settings={"help_option_names": ["-h", "--help"]})
def cli() -> None:
    """Compile integrity-risk registers (廉政风险点与防控措施) from YAML into SQLite.

    With no command, builds: python build.py [FOLDER]... [-o DB] [--check].
    """


@cli.command()
@folders_argument
@click.option("-o", "--output", default="catalog.db", show_default=True, type=click.Path(path_type=Path),
              help="Database to write.")
@click.option("--check", is_flag=True, help="Validate only; print a summary or the errors (same as `check`).")
@click.option("--history/--no-history", default=True, show_default=True,
              help="Record each register's history (修订记录) from git.")
def build(folders: tuple[Path, ...], output: Path, check: bool, history: bool) -> int:
    """Validate register folders (default: catalog) and compile them into one database."""
    folders = list(folders) or [DEFAULT_FOLDER]
    if check:
        return _run(lambda: builder.check(folders), "OK")
    return _run(lambda: builder.build(folders, output, history=history), f"built {output}", output)


@cli.command()
@folders_argument
def check(folders: tuple[Path, ...]) -> int:
    """Validate register folders (default: catalog) without building."""
    return _run(lambda: builder.check(list(folders) or [DEFAULT_FOLDER]), "OK")


@cli.command()
@folders_argument
@click.option("--check", is_flag=True, help="Write nothing; exit 1 if a file is not formatted.")
def fmt(folders: tuple[Path, ...], check: bool) -> int:
    """Rewrite catalogue YAML in its canonical form (keeps comments)."""
    from . import fmt as formatter  # imported on demand: it pulls in ruamel.yaml

    return formatter.run(list(folders) or [DEFAULT_FOLDER], check)


@cli.command()
@click.argument("rev", metavar="REV")
@click.argument("folder", default=str(DEFAULT_FOLDER), metavar="[FOLDER]")
@click.option("--json", "as_json", is_flag=True, help="Print a JSON object instead of Markdown.")
def diff(rev: str, folder: str, as_json: bool) -> int:
    """What changed in a catalogue folder since the git revision REV (e.g. HEAD, origin/main)."""
    from . import diff as differ

    return differ.run(rev, folder, as_json)


@cli.command("export")
@folders_argument
@click.option("-o", "--output", type=click.Path(path_type=Path),
              help="Workbook to write (default: its title, e.g. 易家街道廉政风险点登记表.xlsx).")
@click.option("--unit", "units", multiple=True, metavar="ID", help="Only this unit's register (repeat for a set).")
@click.option("--area", metavar="ID", help="Only this area (e.g. land).")
@click.option("--each", type=click.Path(path_type=Path), metavar="FOLDER",
              help="One workbook per unit, written into FOLDER.")
@click.option("--paper", type=click.Choice(["A4", "A3"]), default="A4", show_default=True,
              help="Paper the 登记表 is laid out on (landscape).")
def export_command(folders: tuple[Path, ...], output: Path | None, units: tuple[str, ...], area: str | None,
                   each: Path | None, paper: str) -> int:
    """Write the 登记表 workbook (.xlsx) of register folders (default: catalog)."""
    from .excel import commands  # imported on demand: openpyxl

    return commands.run_export(list(folders) or [DEFAULT_FOLDER], output, list(units), area, paper, each)


@cli.command("import")
@click.argument("source", type=click.Path(path_type=Path), metavar="FILE")
@click.option("--out", required=True, type=click.Path(path_type=Path), metavar="FOLDER",
              help="Register folder to write (new, or a register folder replaced with --force).")
@click.option("--unit", metavar="ID",
              help="Unit id of the register (default: the folder's name, in pinyin if Chinese).")
@click.option("--unit-name", metavar="NAME", help="Unit name, where the title rows give none.")
@click.option("--reviewed", metavar="YYYY-MM-DD", help="Date of the register, where the title rows give none.")
@click.option("--sheet", metavar="NAME", help="The sheet (or Word table, 表格2) to read, hidden ones too.")
@click.option("--column", "columns", multiple=True, metavar="'HEADING=FIELD'",
              help="Say what a column is: --column '风险点描述=风险点'; =不导入 leaves it out (repeatable).")
@click.option("--columns", "columns_file", type=click.Path(path_type=Path), metavar="FILE",
              help="A mapping file of `heading: field` lines, for many files laid out alike.")
@click.option("--level", "levels", multiple=True, metavar="'WORD=LEVEL'",
              help="Say which level a word is: --level '一般=二级' (repeatable).")
@click.option("--skip-column", "skip", multiple=True, metavar="HEADING", help="Leave out this column (repeatable).")
@click.option("--force", is_flag=True, help="Replace FOLDER if it is a register folder.")
def import_command(source: Path, out: Path, unit: str | None, unit_name: str | None, reviewed: str | None,
                   sheet: str | None, columns: tuple[str, ...], columns_file: Path | None, levels: tuple[str, ...],
                   skip: tuple[str, ...], force: bool) -> int:
    """Turn a unit's register (.xlsx, .xls, .docx or CSV) into a register folder that passes --check."""
    from .excel import commands

    return commands.run_import(source, out, unit, unit_name, reviewed, sheet, columns, columns_file, levels, skip,
                               force)


@cli.command("handbook")
@folders_argument
@click.option("-o", "--output", type=click.Path(path_type=Path),
              help="Word file to write (default: its title, e.g. 易家街道廉政风险防控手册.docx).")
@click.option("--unit", metavar="ID", help="The register's unit, where several registers are given.")
def handbook_command(folders: tuple[Path, ...], output: Path | None, unit: str | None) -> int:
    """Write a register's 廉政风险防控手册 (.docx): 职权目录, flowcharts, 登记表 and risk cards."""
    from .documents import commands  # imported on demand: python-docx and Pillow

    return commands.run_handbook(list(folders) or [DEFAULT_FOLDER], output, unit)


@cli.command("cards")
@folders_argument
@click.option("-o", "--output", type=click.Path(path_type=Path),
              help="Word file to write (default: its title, e.g. 易家街道岗位廉政风险防控卡.docx).")
@click.option("--unit", metavar="ID", help="The register's unit, where several registers are given.")
@click.option("--post", metavar="ID", help="Only this post's card (an id in posts.yml).")
def cards_command(folders: tuple[Path, ...], output: Path | None, unit: str | None, post: str | None) -> int:
    """Write the 岗位廉政风险防控卡 (.docx) of a register's posts, a card a page."""
    from .documents import commands

    return commands.run_cards(list(folders) or [DEFAULT_FOLDER], output, unit, post)


def _run(work, done: str, output: Path | None = None) -> int:
    """Run a build (writing output) or check: its summaries on success, every error and exit 1 on failure."""
    try:
        summaries = work()
    except CatalogInvalid as exc:
        report_errors(exc.errors)
        return _failed(f"{len(exc.errors)} error(s)", output)
    except Interrupted as exc:
        return _failed(f"interrupted by {exc.signal}", output)
    except KeyboardInterrupt:
        return _failed("interrupted", output)
    except (builder.OutputRefused, WriteFailed, OSError) as exc:
        return _failed(f"error: {exc}", output)
    for summary in summaries[:SHOWN]:
        print(f"{summary}: {done}")
    if len(summaries) > SHOWN:  # a city's registers would otherwise print thousands of lines
        print(f"… and {len(summaries) - SHOWN:,} more registers: {done}")
    return 0


def _failed(what: str, output: Path | None) -> int:
    """Say what failed and, for a build, what became of its output: nothing."""
    if output is not None:
        what += f"; {output} is unchanged" if os.path.lexists(output) else f"; {output} was not written"
    print(printable(what), file=sys.stderr)
    return 1


def report_errors(errors) -> None:
    """Print errors for people, and as workflow commands when running in GitHub Actions."""
    for error in errors:
        print(error, file=sys.stderr)
    if os.environ.get("GITHUB_ACTIONS") == "true":
        for error in errors:
            print(error.annotation())


def main(argv: list[str] | None = None) -> int:
    """Run the command line; the exit code (click's usage errors are 2, as click makes them)."""
    try:
        return cli.main(args=argv, prog_name="build.py", standalone_mode=False) or 0
    except click.exceptions.Exit as exc:
        return exc.exit_code
    except click.ClickException as exc:
        exc.show()
        return exc.exit_code
    except click.Abort:
        print("interrupted", file=sys.stderr)
        return 1
