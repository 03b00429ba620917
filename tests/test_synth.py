"""riskcatalog.synth: deterministic, distinct units, valid registers that build together."""

from __future__ import annotations

import re
import sqlite3
from pathlib import Path

from riskcatalog import build as build_db
from benchmarks import synth
from riskcatalog import cli, schedule
from riskcatalog.catalog import level_for, load_register

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
    assert len(build_db.check(folders)) == 3  # raises CatalogInvalid with every error if any is invalid
    registers = [load_register(folder) for folder in folders]
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


def test_many_registers_print_a_count_not_a_line_each(tmp_path, capsys):
    """Past cli.SHOWN registers, build and --check print the first ones and then how many more."""
    folders = [str(f) for f in synth.generate(CATALOG, tmp_path / "units", cli.SHOWN + 2, seed=2)]
    output = tmp_path / "catalog.db"
    assert cli.main([*folders, "-o", str(output)]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert len(lines) == cli.SHOWN + 1 and lines[0].endswith(f": built {output}")
    assert lines[-1] == f"… and 2 more registers: built {output}"
    assert cli.main(["--check", *folders]) == 0
    assert capsys.readouterr().out.splitlines()[-1] == "… and 2 more registers: OK"


def test_parallel_build_equals_serial_build(tmp_path, monkeypatch):
    """Registers compiled in worker processes give the same database as one process does."""
    folders = synth.generate(CATALOG, tmp_path / "units", schedule.PARALLEL_FROM + 1, seed=4)
    pools = []
    real_pool = schedule.multiprocessing.Pool
    monkeypatch.setattr(schedule.multiprocessing, "Pool", lambda n: pools.append(n) or real_pool(n))
    monkeypatch.setattr(schedule, "WORKERS", 2)  # a pool even on a one-core machine
    build_db.build(folders, tmp_path / "parallel.db")
    assert pools == [2]
    monkeypatch.setattr(schedule, "WORKERS", 1)
    build_db.build(folders, tmp_path / "serial.db")
    dumps = [sorted(sqlite3.connect(tmp_path / name).iterdump()) for name in ("parallel.db", "serial.db")]
    assert dumps[0] == dumps[1]
    indexed = sqlite3.connect(tmp_path / "parallel.db").execute("select count(*) from risks_search_fts").fetchone()[0]
    assert indexed == 51 * len(folders)  # every risk in the search index (its shadow tables are in the dumps)


def test_parallel_build_reports_every_error(tmp_path, capsys):
    """A broken register and a repeated unit among many are reported with file and line; nothing is written."""
    folders = synth.generate(CATALOG, tmp_path / "units", schedule.PARALLEL_FROM + 1, seed=5)
    land = folders[1] / "land.yml"
    land.write_text(land.read_text(encoding="utf-8").replace("likelihood: ", "likelihood: x", 1), encoding="utf-8")
    output = tmp_path / "catalog.db"
    assert cli.main([*map(str, folders), str(folders[0]), "-o", str(output)]) == 1
    errors = capsys.readouterr().err.splitlines()  # sorted by file, line
    line = next(n for n, text in enumerate(land.read_text(encoding="utf-8").splitlines(), 1) if "likelihood: x" in text)
    assert re.fullmatch(rf".*/{folders[1].name}/land\.yml:{line}:\d+: risks\[0\]\.likelihood: expected a whole "
                        r"number, .*", errors[1])
    assert re.fullmatch(rf".*/{folders[0].name}/register\.yml:\d+:\d+: unit\.id: the folder .*/{folders[0].name} "
                        r"is given twice — give each register folder once", errors[0])
    assert errors[-1] == f"2 error(s); {output} was not written" and not output.exists()


def test_levels_follow_each_register_matrix(tmp_path):
    """Registers get matrices of their own, and each risk's level is the one its own matrix gives
    (for some risks a different level than the shipped matrix would give the same score)."""
    base = load_register(CATALOG).register["levels"]
    registers = [load_register(folder) for folder in synth.generate(CATALOG, tmp_path, 6, seed=3)]
    own = [r for r in registers if r.register["levels"] != base]
    assert own, "no register got a matrix of its own"
    for register in registers:
        levels = register.register["levels"]
        for risk in register.risks():
            assert risk["level"] == level_for(risk["likelihood"] * risk["impact"], levels), risk["id"]
    assert any(risk["level"] != level_for(risk["likelihood"] * risk["impact"], base)
               for register in own for risk in register.risks())
