"""`build.py handbook` and `build.py cards`: a register's 廉政风险防控手册 and its 岗位廉政风险防控卡 as Word files."""

from __future__ import annotations

import os
import re
import sys
import tempfile
from pathlib import Path
from typing import Callable

from .. import build as builder
from ..errors import CatalogInvalid
from . import data, word
from .picture import NoChineseFont


def run_handbook(folders: list[Path], output: Path | None, unit: str | None) -> int:
    """Write the handbook of one register; the exit code."""
    chosen = _unit(folders, unit)
    if isinstance(chosen, int):
        return chosen
    conn, unit_row = chosen
    target = output or Path(_file_name(f"{unit_row['name_zh']}廉政风险防控手册"))
    return _write(target, lambda out: word.handbook(word.read_handbook(conn, unit_row["id"]), out),
                  f"{len(data.catalogue(conn, unit_row['id']))} powers, {unit_row['posts']} cards")


def run_cards(folders: list[Path], output: Path | None, unit: str | None, post: str | None) -> int:
    """Write the risk cards of a register's posts (or of one post), a card a page; the exit code."""
    chosen = _unit(folders, unit)
    if isinstance(chosen, int):
        return chosen
    conn, unit_row = chosen
    posts = data.posts(conn, unit_row["id"])
    if post is not None and post not in {p.id for p in posts}:
        known = ", ".join(p.id for p in posts[:40]) or "none: the register has no posts.yml"
        return _failed(f"unknown post {post!r} — the posts of {unit_row['id']} are: {known}")
    if not posts:
        return _failed(f"{unit_row['id']} declares no posts — add posts.yml to the register (docs/catalog-format.md)")
    cards = data.cards(conn, unit_row["id"], f"{unit_row['id']}-{post}" if post else None)
    title = f"{unit_row['name_zh']}{cards[0].post.title_zh if post else ''}岗位廉政风险防控卡"
    return _write(output or Path(_file_name(title)),
                  lambda out: word.cards_document(cards, data.levels(conn), out), f"{len(cards)} card{'' if len(cards) == 1 else 's'}")


def _unit(folders: list[Path], unit: str | None):
    """(connection, unit row) of the register asked for, compiled in memory; or the exit code of a failure."""
    try:
        conn = builder.in_memory(folders).conn
    except CatalogInvalid as exc:
        for error in exc.errors:
            print(error, file=sys.stderr)
        return _failed(f"{len(exc.errors)} error(s); nothing written")
    units = data.units(conn)
    if unit is None and len(units) > 1:
        return _failed(f"{len(units)} registers — choose one with --unit: {', '.join(u['id'] for u in units[:40])}")
    found = [u for u in units if unit in (None, u["id"])]
    if not found:
        return _failed(f"unknown unit {unit!r} — the registers are: {', '.join(u['id'] for u in units[:40])}")
    return conn, found[0]


def _write(target: Path, write: Callable, summary: str) -> int:
    """Write the document beside target and move it into place: a failure leaves no half-written file."""
    target.parent.mkdir(parents=True, exist_ok=True)
    fd, temporary = tempfile.mkstemp(dir=target.parent, prefix=f".{target.name}.", suffix=".tmp")
    os.close(fd)
    try:
        write(temporary)
        os.replace(temporary, target)
    except NoChineseFont as exc:
        os.unlink(temporary)
        return _failed(f"error: {exc}; nothing written")
    except BaseException:
        os.unlink(temporary)
        raise
    print(f"{target}: {summary}")
    return 0


def _file_name(title: str) -> str:
    return re.sub(r'[\\/:*?"<>|]', "_", title) + ".docx"


def _failed(message: str) -> int:
    print(message, file=sys.stderr)
    return 1
