"""The floor a build is compared with: parse the same YAML, insert the same rows, nothing else.

`python -m benchmarks.floor -o OUT.db FOLDER...` parses every file with libyaml's
CSafeLoader and inserts the rows the real build inserts into its core tables (units,
unit_levels, sources, areas, risks, measures and the three link tables) with executemany
in one transaction. No validation, positions, foreign keys, indexes or search: whatever
the real build costs above this is the price of those.
"""

from __future__ import annotations

import argparse
import json
import sqlite3
import sys
from pathlib import Path

import yaml

#: Table -> its columns; `body` holds the record as JSON so the same data is written.
TABLES = {
    "units": ("id", "body"),
    "unit_levels": ("unit", "level", "body"),
    "sources": ("key", "unit", "body"),
    "areas": ("key", "unit", "body"),
    "risks": ("key", "unit", "body"),
    "measures": ("key", "unit", "body"),
    "risk_measures": ("risk", "measure", "position"),
    "risk_sources": ("risk", "source"),
    "measure_sources": ("measure", "source"),
}


def _parse(path: Path):
    return yaml.load(path.read_text(encoding="utf-8"), Loader=yaml.CSafeLoader)


def register_rows(folder: Path) -> dict[str, list[tuple]]:
    """The rows of one register folder, table by table."""
    reg = _parse(folder / "register.yml")
    unit = reg["unit"]["id"]
    body = lambda record: json.dumps(record, ensure_ascii=False)  # noqa: E731
    rows: dict[str, list[tuple]] = {name: [] for name in TABLES}
    rows["units"].append((unit, body(reg)))
    rows["unit_levels"] += [(unit, lvl["id"], body(lvl)) for lvl in reg["levels"]]
    rows["sources"] += [(f"{unit}-{s['id']}", unit, body(s)) for s in _parse(folder / "sources.yml")["sources"]]
    for area_id in reg["areas"]:
        area = _parse(folder / f"{area_id}.yml")
        rows["areas"].append((f"{unit}-{area_id}", unit, body(area["area"])))
        for risk in area["risks"]:
            key = f"{unit}-{risk['id']}"
            rows["risks"].append((key, unit, body(risk)))
            rows["risk_measures"] += [(key, f"{unit}-{m}", n) for n, m in enumerate(risk["measures"], 1)]
            rows["risk_sources"] += [(key, f"{unit}-{s}") for s in risk["sources"]]
        for measure in area["measures"]:
            key = f"{unit}-{measure['id']}"
            rows["measures"].append((key, unit, body(measure)))
            rows["measure_sources"] += [(key, f"{unit}-{s}") for s in measure.get("sources", [])]
    return rows


def build_floor(folders: list[Path], output: Path) -> int:
    """Write every folder's rows into output in one transaction; returns the number of rows."""
    output.unlink(missing_ok=True)
    conn = sqlite3.connect(output)
    total = 0
    with conn:  # one transaction for the whole run
        for name, columns in TABLES.items():
            conn.execute(f"create table {name} ({', '.join(columns)})")
        for folder in folders:  # one register at a time, as the real build streams them
            for name, rows in register_rows(folder).items():
                conn.executemany(f"insert into {name} values ({', '.join('?' * len(TABLES[name]))})", rows)
                total += len(rows)
    conn.close()
    return total


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.floor", description=__doc__.splitlines()[0])
    parser.add_argument("folders", nargs="+", type=Path)
    parser.add_argument("-o", "--output", type=Path, required=True)
    args = parser.parse_args(argv)
    print(json.dumps({"rows": build_floor(args.folders, args.output)}))
    return 0


if __name__ == "__main__":
    sys.exit(main())
