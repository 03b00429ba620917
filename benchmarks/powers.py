"""The powers' documents at scale (issue 25): every flowchart and every card of one register and of 150.

For each database (built by the bench), in this process: every power read and laid out and drawn as the
power page draws it (wide, narrow and, for a long power, broad SVG); every unit's cards read and written as
one Word document (the /-/cards.docx download); and one register's handbook (the Word file with a PNG per
flowchart, /-/handbook.docx and `build.py handbook`). Figures, never assertions.
"""

from __future__ import annotations

import io
import sqlite3
import statistics
import time
from pathlib import Path

from riskcatalog.documents import data, flowchart, word

#: A power page's flowcharts are drawn when the page is asked for: their p95 should leave a page under 50 ms.
CHART_P95_MS = 50.0


def bench_powers(db_path: Path, units: int) -> dict:
    """Time every flowchart and every card of the units in the database, and one register's handbook."""
    conn = sqlite3.connect(f"file:{db_path}?mode=ro", uri=True)
    levels = data.levels(conn)
    keys = [row[0] for row in conn.execute("select key from powers order by rowid")]
    charts_ms = []
    started = time.perf_counter()
    for key in keys:
        begun = time.perf_counter()
        power = data.power(conn, key)
        for mode in ("wide", "narrow"):
            flowchart.svg(flowchart.layout(power, levels, mode, _href), f"{power.id}-{mode}")
        flowchart.svg(flowchart.for_print(power, levels, _href), f"{power.id}-print")
        charts_ms.append((time.perf_counter() - begun) * 1000)
    charts_s = time.perf_counter() - started
    unit_ids = [row[0] for row in conn.execute("select id from units order by rowid")]
    started, cards, card_bytes = time.perf_counter(), 0, 0
    for unit in unit_ids:
        found = data.cards(conn, unit)
        out = io.BytesIO()
        word.cards_document(found, levels, out)
        cards, card_bytes = cards + len(found), card_bytes + len(out.getvalue())
    cards_s = time.perf_counter() - started
    started = time.perf_counter()
    handbook = word.handbook_bytes(word.read_handbook(conn, unit_ids[0]))
    handbook_s = time.perf_counter() - started
    conn.close()
    return {"units": units, "powers": len(keys), "charts_s": charts_s,
            "chart_p50_ms": statistics.median(charts_ms), "chart_p95_ms": _p95(charts_ms),
            "cards": cards, "cards_s": cards_s, "cards_mib": card_bytes / 1048576,
            "handbook_s": handbook_s, "handbook_mib": len(handbook) / 1048576}


def _href(table: str, key: str) -> str:
    return f"/catalogue/{table}/{key}"


def _p95(values: list[float]) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(0.95 * (len(ordered) - 1)))]


def powers_section(results: list[dict]) -> list[str]:
    """The report's section: a row per size, and the target for a power page's charts."""
    lines = ["", "## Powers, flowcharts and cards", "",
             "In one process, on each database the build wrote: every power read and its flowchart laid out and drawn "
             "as its page draws it (wide, narrow, and broad for a long power: `riskcatalog.documents.flowchart`); every "
             "unit's risk cards read and written as one Word document each (`/-/cards.docx`); and the first register's "
             "handbook (`build.py handbook`, `/-/handbook.docx`: a PNG per flowchart, painted with Pillow).", "",
             "| units | powers | all flowcharts s | per power p50 ms | p95 ms | cards | all cards s | cards MiB "
             "| one handbook s | handbook MiB |", "|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|"]
    for r in results:
        lines.append(f"| {r['units']:,} | {r['powers']:,} | {r['charts_s']:.2f} | {r['chart_p50_ms']:.1f} | "
                     f"{r['chart_p95_ms']:.1f} | {r['cards']:,} | {r['cards_s']:.2f} | {r['cards_mib']:.1f} | "
                     f"{r['handbook_s']:.2f} | {r['handbook_mib']:.1f} |")
    lines += ["", f"Target (a power page's three charts drawn within {CHART_P95_MS:g} ms at p95):", ""]
    for r in results:
        verdict = "met" if r["chart_p95_ms"] <= CHART_P95_MS else "MISSED"
        lines.append(f"- {r['units']:,} units: p95 {r['chart_p95_ms']:.1f} ms — {verdict}")
    return lines
