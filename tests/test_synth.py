"""riskcatalog.synth: deterministic, distinct units, valid registers that build together."""

from __future__ import annotations

import re
import sqlite3
from pathlib import Path

from riskcatalog import db as build_db
from riskcatalog import synth
from riskcatalog.catalog import load_register

from .conftest import CATALOG


def _snapshot(folder: Path) -> dict[str, bytes]:
    return {str(p.relative_to(folder)): p.read_bytes() for p in sorted(folder.rglob("*")) if p.is_file()}


def test_same_seed_writes_the_same_bytes(tmp_path):
    """Two runs with one seed write byte-identical folders; another seed writes different ones."""
    synth.generate(CATALOG, tmp_path / "a", 3, seed=7)
    synth.generate(CATALOG, tmp_path / "b", 3, seed=7)
    synth.generate(CATALOG, tmp_path / "c", 3, seed=8)
    assert _snapshot(tmp_path / "a") == _snapshot(tmp_path / "b")
    assert _snapshot(tmp_path / "a") != _snapshot(tmp_path / "c")


def test_units_are_distinct_slugs_and_names():
    """Unit ids are distinct lowercase slugs and unit names are distinct, even past the name pool."""
    combos = synth.names(0)
    count = len(combos) + 5
    units = [synth.unit_identity(i, 0, combos=combos) for i in range(1, count + 1)]
    ids = [u["id"] for u in units]
    assert len(set(ids)) == count and len({u["name_zh"] for u in units}) == count
    assert all(re.fullmatch(r"[a-z][a-z0-9-]*", i) for i in ids)


def test_generated_registers_validate_and_build_together(tmp_path):
    """Three registers pass validation and build into one database with clashing ids and the right counts."""
    folders = synth.generate(CATALOG, tmp_path / "units", 3, seed=1)
    registers = build_db.check(folders)  # raises CatalogInvalid with every error if any is invalid
    output = tmp_path / "catalog.db"
    build_db.build(folders, output)
    with sqlite3.connect(output) as conn:
        count = lambda sql: conn.execute(sql).fetchone()[0]  # noqa: E731
        assert count("select count(*) from units") == 3
        assert count("select count(*) from risks where id = 'LAND-01'") == 3
        assert count("select count(*) from risks") == sum(r.register["totals"]["risks"] for r in registers)
        assert count("select count(*) from measures") == sum(r.register["totals"]["measures"] for r in registers)
        assert count("select count(*) from risk_measures") == sum(
            len(risk["measures"]) for r in registers for risk in r.risks())


def test_levels_follow_each_register_matrix(tmp_path):
    """Varied ratings keep every risk's level consistent with its own register's (varied) levels."""
    folder = synth.generate(CATALOG, tmp_path, 1, seed=3)[0]
    register = load_register(folder)  # the loader itself rejects a level that disagrees
    base = load_register(CATALOG)
    assert [r["reviewed"] for r in register.risks()] != [r["reviewed"] for r in base.risks()]
