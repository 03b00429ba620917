"""The build's schedule: each register folder through the compile stage and the history stage.

compile (riskcatalog.compile: YAML → checked register → rows) and history (riskcatalog.history:
git → revisions) are independent stages of one register; neither knows the other. This module
runs them for many folders — a district, a city — and hands the build each register's rows in
the order the folders were given, so the database comes out the same however it was scheduled:

- a few registers with their history: git and the reading of it take as long as the rest of a
  small build, so a thread reads the histories while the registers compile;
- many registers: worker processes (one per core), each compiling a folder and reading its history;
- one core, or no rows wanted (--check): one after the other.
"""

from __future__ import annotations

import concurrent.futures
import functools
import multiprocessing
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Callable, Iterator

from . import history
from .compile import Compiled, compile_register, shared_keys
from .errors import CatalogError

#: From this many registers on, worker processes compile them: below it, starting them costs more than it saves.
PARALLEL_FROM = 4
WORKERS = os.cpu_count() or 1


@dataclass
class Scheduled:
    """One register through both stages: its compiled rows, and its history's rows (when asked), which
    may still be being read in another thread when the register's own rows are written."""

    compiled: Compiled
    history_rows: Callable[[], dict[str, list[tuple]]] | None = None


def registers(folders: list[Path], errors: list[CatalogError], with_rows: bool = True, with_history: bool = False,
              previous: Path | None = None) -> Iterator[Scheduled]:
    """The valid registers among folders, in order; every problem goes into errors. previous is the database
    the build replaces, whose history is reused."""
    units: dict[str, Path] = {}
    keys: dict[tuple[str, str], str] = {}
    for scheduled in _scheduled(folders, with_rows, with_history and with_rows, previous):
        compiled = scheduled.compiled
        if not compiled.errors:
            compiled.errors.extend(shared_keys(compiled, units, keys))
        errors.extend(compiled.errors)
        if not compiled.errors:
            yield scheduled


def _scheduled(folders: list[Path], with_rows: bool, with_history: bool, previous: Path | None) -> Iterator[Scheduled]:
    if len(folders) < PARALLEL_FROM and with_history:
        # git itself runs in its own processes; a thread rather than a forked worker, which could inherit a
        # lock another thread holds (tracemalloc's, logging's) and never start
        with concurrent.futures.ThreadPoolExecutor(1) as reader:
            pending = [reader.submit(history.read, folder, previous) for folder in folders]
            for folder, found in zip(folders, pending):
                compiled = compile_register(folder)
                yield Scheduled(compiled, functools.partial(_history_rows, found.result, folder, compiled))
        return
    work = functools.partial(_both_stages, with_rows=with_rows, with_history=with_history, previous=previous)
    if len(folders) < PARALLEL_FROM or WORKERS < 2:
        yield from (work((folder, False)) for folder in folders)
        return
    # Most of a city's registers may never have been committed: one git process finds which.
    untouched = history.untouched(folders) if with_history else set()
    # imap keeps the folders' order, so the database comes out the same as a serial build's.
    with multiprocessing.Pool(WORKERS) as pool:  # the platform's start method: the stages pickle
        yield from pool.imap(work, [(folder, folder in untouched) for folder in folders], chunksize=4)


def _both_stages(task: tuple[Path, bool], with_rows: bool, with_history: bool, previous: Path | None) -> Scheduled:
    """One register folder through compile and (if asked) history; task is the folder and whether no commit
    touched it."""
    folder, untouched = task
    compiled = compile_register(folder, with_rows=with_rows)
    if compiled.errors or not with_rows:
        return Scheduled(compiled)
    found = history.OFF if not with_history else history.UNTOUCHED if untouched else history.read(folder, previous)
    compiled.rows.update(history.table_rows(found, folder, compiled.unit, compiled.titles))
    return Scheduled(compiled)


def _history_rows(found: Callable[[], history.History], folder: Path, compiled: Compiled) -> dict[str, list[tuple]]:
    return history.table_rows(found(), folder, compiled.unit, compiled.titles)
