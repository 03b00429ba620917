"""Build and site benchmarks: `make bench` (python -m benchmarks.bench [--units 1,150] [--quick]).

For each size it generates synthetic registers (benchmarks.synth) into bench-out/, runs the
real build and the floor (benchmarks.floor: parse + insert only) each in a fresh
subprocess, builds the catalogue with and without a synthetic history of 1,000 commits
(benchmarks.synth_history), measures search quality over the judged query set (benchmarks.quality),
then load-tests a real datasette serving the largest database, and writes the
figures with the machine they were measured on to docs/benchmarks.md. Targets are reported,
never asserted: a noisy shared machine must not turn a benchmark into a failure.
"""

from __future__ import annotations

import argparse
import datetime
import hashlib
import importlib.metadata
import json
import os
import platform
import shutil
import sqlite3
import statistics
import subprocess
import sys
import time
from pathlib import Path
from urllib.parse import quote, unquote

from riskcatalog.site import catalogue
from riskcatalog.site.serve import METADATA, serving

from . import ROOT, synth, synth_history, workbooks
from . import quality as benchmark_quality
from .powers import bench_powers, powers_section
from .floor import TABLES as ROW_TABLES
from .loadtest import run_beside, run_load

SIZES = (1, 150, 3332)
OUT = ROOT / "bench-out"
REPORT = ROOT / "docs" / "benchmarks.md"
TRIVIAL = "/-/versions.json"
#: Registers exported together (a district's sub-districts), and the rows of the workbook imported.
EXPORT_UNITS, IMPORT_RISKS = 150, 500
#: Build targets (every size from FLOOR_FROM registers on), the database's size at the largest, and page
#: targets against the trivial page (issue 21).
FLOOR_RATIO, FLOOR_FROM, PEAK_MIB, DB_BYTES, PAGE_RATIO, PAGE_P95_MS = 1.5, 150, 1024, 2 * 10**9, 5.0, 200.0
#: The judged set's target: queries finding an expected entry among the first three.
RECALL_AT_3 = 0.95
#: What the site is searched for: a word, and a phrase typed without spaces.
WORD, PHRASE = "报销", "低保审核"
#: Every reader page at one register.
READER_P95_MS = 50.0
#: The door (riskcatalog.site.limits): readers on each costly path at once, the registers they read,
#: and the target for the home page beside them.
COSTLY_READERS, COSTLY_UNITS, HOME_P50_MS = 10, 1000, 50.0
#: Commits of the synthetic history, the target for the build with it against the build without,
#: and how many times each is built (a build of one register takes a fraction of a second: the
#: median of several is steadier than one on a shared machine).
HISTORY_COMMITS, HISTORY_RATIO, HISTORY_RUNS = 1000, 2.0, 5
#: What a hostile file may cost before the import refuses it.
BOMB_S, BOMB_MIB = 5.0, 300
#: The sizes whose every flowchart and card are drawn (benchmarks.powers): a register, and a district's 150.
POWERS_UP_TO = 150


def machine() -> dict[str, str]:
    """What the figures were measured on."""
    cpuinfo = Path("/proc/cpuinfo").read_text(errors="replace") if Path("/proc/cpuinfo").exists() else ""
    model = next((line.split(":", 1)[1].strip() for line in cpuinfo.splitlines() if line.startswith("model name")),
                 platform.processor() or "unknown")
    meminfo = Path("/proc/meminfo").read_text() if Path("/proc/meminfo").exists() else "MemTotal: 0 kB"
    ram_kib = int(next(line.split()[1] for line in meminfo.splitlines() if line.startswith("MemTotal")))
    return {
        "date": datetime.datetime.now().astimezone().strftime("%Y-%m-%d %H:%M %Z"),
        "nproc": str(os.cpu_count()), "RAM": f"{ram_kib / 1048576:.1f} GiB", "CPU": model,
        "load average at start": " ".join(f"{x:.2f}" for x in os.getloadavg()),
        "Python": platform.python_version(), "SQLite": sqlite3.sqlite_version,
        "Datasette": importlib.metadata.version("datasette"),
        "sqlite-utils": importlib.metadata.version("sqlite-utils"), "PyYAML": importlib.metadata.version("PyYAML"),
    }


def registers(units: int, seed: int, out: Path) -> tuple[list[Path], float | None]:
    """The first `units` synthetic registers, regenerated only when the source, synth or seed changed."""
    folder, stamp_path = out / "registers", out / "registers.json"
    source = ROOT / "catalog"
    digest = hashlib.sha256(Path(synth.__file__).read_bytes())
    for path in sorted(source.glob("*.yml")):
        digest.update(path.read_bytes())
    stamp = json.loads(stamp_path.read_text()) if stamp_path.exists() else {}
    if stamp.get("digest") == digest.hexdigest() and stamp.get("seed") == seed and len(stamp["units"]) >= units:
        return [folder / name for name in stamp["units"][:units]], None
    shutil.rmtree(folder, ignore_errors=True)  # another seed's folders must not linger
    started = time.perf_counter()
    folders = synth.generate(source, folder, units, seed)
    took = time.perf_counter() - started
    stamp_path.write_text(json.dumps({"digest": digest.hexdigest(), "seed": seed, "units": [f.name for f in folders]}))
    return folders, took


def run_in_fresh_child(args: list[str], refused: bool = False) -> dict:
    """Run args in a fresh process: wall seconds, that process's peak RSS in MiB, its stdout (and its last line
    on stderr, where the command is expected to refuse its input: exit code 1)."""
    # RUSAGE_CHILDREN is the maximum over every child a process ever waited for, so each
    # command runs under its own small wrapper whose only child it is.
    probe = ("import json,resource,subprocess,sys,time;t=time.perf_counter();"
             "p=subprocess.run(sys.argv[1:],stdout=subprocess.PIPE,stderr=subprocess.PIPE);"
             "w=time.perf_counter()-t;r=resource.getrusage(resource.RUSAGE_CHILDREN);"
             "sys.stderr.write(p.stderr.decode(errors='replace'));sys.stdout.write(p.stdout.decode(errors='replace'));"
             "print(json.dumps({'wall_s':w,'maxrss_kib':r.ru_maxrss,'rc':p.returncode}));sys.exit(p.returncode)")
    proc = subprocess.run([sys.executable, "-c", probe, *args], cwd=ROOT, capture_output=True, text=True)
    if proc.returncode != (1 if refused else 0):
        raise RuntimeError(f"{' '.join(args[:4])} … failed ({proc.returncode}):\n{proc.stderr[-3000:]}")
    *output, last = proc.stdout.rstrip("\n").split("\n")
    facts = json.loads(last)
    said = [line for line in proc.stderr.splitlines() if line.strip()]
    return {"wall_s": facts["wall_s"], "peak_mib": facts["maxrss_kib"] / 1024, "stdout": "\n".join(output),
            "stderr": said[-2] if refused and len(said) > 1 else ""}


def count_rows(db_path: Path) -> int:
    """Rows of the tables the floor also fills (search tables and lookups excluded)."""
    with sqlite3.connect(db_path) as conn:
        return sum(conn.execute(f"select count(*) from [{name}]").fetchone()[0] for name in ROW_TABLES)


def bench_build(folders: list[Path], where: Path) -> dict:
    """The real build and the floor over the same folders, each in its own fresh process."""
    where.mkdir(parents=True, exist_ok=True)
    db_path, floor_path = where / "catalog.db", where / "floor.db"
    names = [str(f) for f in folders]
    floor = run_in_fresh_child([sys.executable, "-m", "benchmarks.floor", "-o", str(floor_path), *names])
    build = run_in_fresh_child([sys.executable, str(ROOT / "build.py"), "-o", str(db_path), *names])
    rows, floor_rows = count_rows(db_path), json.loads(floor["stdout"].strip().splitlines()[-1])["rows"]
    return {"units": len(folders), "db": db_path, "rows": rows, "floor_rows": floor_rows,
            "build_s": build["wall_s"], "build_mib": build["peak_mib"], "build_rps": rows / build["wall_s"],
            "floor_s": floor["wall_s"], "floor_mib": floor["peak_mib"], "floor_rps": floor_rows / floor["wall_s"],
            "db_mib": db_path.stat().st_size / 1048576}


def _middle(conn: sqlite3.Connection, table: str) -> str:
    """The key of the row in the middle of a table: neither the first nor the last register's."""
    total = conn.execute(f"select count(*) from {table}").fetchone()[0]
    return conn.execute(f"select key from {table} order by rowid limit 1 offset ?", (total // 2,)).fetchone()[0]


def bench_excel(folders: list[Path], where: Path) -> list[dict]:
    """build.py export of one register and of up to EXPORT_UNITS (one workbook, and one each), each in a
    fresh process (the import has a section of its own: bench_import)."""
    where.mkdir(parents=True, exist_ok=True)
    chosen = [str(f) for f in folders[:EXPORT_UNITS]]
    build_py = [sys.executable, str(ROOT / "build.py")]
    runs = [("export", "1 register (51 risks), one workbook", [*build_py, "export", chosen[0], "-o", str(where / "one.xlsx")]),
            ("export", f"{len(chosen)} registers, one workbook", [*build_py, "export", *chosen, "-o", str(where / "all.xlsx")]),
            ("export", f"{len(chosen)} registers, one workbook each",
             [*build_py, "export", *chosen, "--each", str(where / "each")])]
    results = []
    for command, what, args in runs:
        run = run_in_fresh_child(args)
        results.append({"command": command, "what": what, "s": run["wall_s"], "mib": run["peak_mib"]})
    return results


def bench_import(where: Path) -> list[dict]:
    """build.py import of a unit's register as a workbook and as a Word table, and of each bomb (refused),
    each in a fresh process: what it cost and what was said."""
    where.mkdir(parents=True, exist_ok=True)
    build_py = [sys.executable, str(ROOT / "build.py"), "import"]
    files = [(f"a workbook of {IMPORT_RISKS} risk rows", workbooks.write(where / f"unit-{IMPORT_RISKS}.xlsx",
                                                                          IMPORT_RISKS), False),
             (f"a Word table of {IMPORT_RISKS} risk rows", workbooks.write(where / f"unit-{IMPORT_RISKS}.docx",
                                                                           IMPORT_RISKS), False)]
    for name, (what, make) in workbooks.BOMBS.items():
        path = where / f"bomb-{name}.xlsx"
        path.write_bytes(make())
        files.append((what, path, True))
    results = []
    for what, path, refused in files:
        run = run_in_fresh_child([*build_py, str(path), "--out", str(where / f"out-{path.stem}"), "--force"], refused)
        results.append({"what": what, "kb": path.stat().st_size / 1024, "s": run["wall_s"], "mib": run["peak_mib"],
                        "said": run["stderr"].split(": ", 1)[-1] if refused else "imported", "refused": refused})
    return results


def import_section(results: list[dict]) -> list[str]:
    """Markdown: each file's import time and peak memory, and the targets for the hostile ones."""
    lines = ["", "## Import", "",
             "`build.py import` of a unit's register (`benchmarks/workbooks.py`, the bureau layout: 科室 merged, numbered "
             "cells) as a workbook and as a Word table, and of each hostile file of `workbooks.BOMBS` — each small on "
             "disk, each refused at a limit checked while reading; each in a fresh process (the imports include the "
             "real check and fmt of the folder written).", "",
             "| file | KB | s | peak MiB | what the import said |", "|---|---:|---:|---:|---|"]
    lines += [f"| {r['what']} | {r['kb']:,.0f} | {r['s']:.2f} | {r['mib']:.0f} | {r['said']} |" for r in results]
    lines += ["", f"Targets (each hostile file refused within {BOMB_S:g} s and {BOMB_MIB} MiB):", ""]
    for r in results:
        if r["refused"]:
            missed = [f"{r['s']:.2f} s" for _ in [0] if r["s"] >= BOMB_S] + [f"{r['mib']:.0f} MiB" for _ in [0]
                                                                              if r["mib"] >= BOMB_MIB]
            lines.append(f"- {r['what']}: " + (f"MISSED ({', '.join(missed)})" if missed else
                                               f"met ({r['s']:.2f} s, {r['mib']:.0f} MiB)"))
    return lines


def bench_history(commits: int, seed: int, where: Path) -> dict:
    """The shipped catalogue with a synthetic history of `commits` commits, built without it and with
    it from nothing, in turns, then rebuilt over that database after one more commit; each build in
    its own fresh process. The medians."""
    shutil.rmtree(where, ignore_errors=True)
    started = time.perf_counter()
    folder = synth_history.generate(ROOT / "catalog", where / "repo", commits, seed)
    made_s = time.perf_counter() - started
    build = lambda flag, db: run_in_fresh_child([sys.executable, str(ROOT / "build.py"), flag, "-o",  # noqa: E731
                                                  str(db), str(folder)])
    runs: dict[str, list[dict]] = {"without": [], "with": [], "rebuild": []}
    for _ in range(HISTORY_RUNS):
        runs["without"].append(build("--no-history", where / "without.db"))
        (where / "with.db").unlink(missing_ok=True)  # from nothing: no earlier history to reuse
        runs["with"].append(build("--history", where / "with.db"))
    with open(folder / "sources.yml", "a", encoding="utf-8") as sources:
        sources.write("# 年度复核 annual review\n")
    subprocess.run(["git", "-c", "user.name=bench", "-c", "user.email=bench@example.org", "commit", "-q", "-a",
                    "-m", "年度复核"], cwd=folder, check=True)
    for _ in range(HISTORY_RUNS):
        shutil.copyfile(where / "with.db", where / "rebuild.db")
        runs["rebuild"].append(build("--history", where / "rebuild.db"))
    with sqlite3.connect(where / "with.db") as conn:
        changes = conn.execute("select count(*) from changes").fetchone()[0]
        revisions = conn.execute("select count(*) from commits where kind = 'revision'").fetchone()[0]
    result = {"commits": commits, "revisions": revisions, "changes": changes, "made_s": made_s}
    for name, measured in runs.items():
        result[f"{name}_s"] = statistics.median(r["wall_s"] for r in measured)
        result[f"{name}_mib"] = statistics.median(r["peak_mib"] for r in measured)
        result[f"{name}_db_mib"] = (where / f"{name}.db").stat().st_size / 1048576
    return result


def history_misses(history: dict) -> list[str]:
    """The history target: a build with the history within HISTORY_RATIO× the build without it."""
    verdicts = []
    for name, what in (("with", "from nothing"), ("rebuild", "over the last database, one commit later")):
        ratio = history[f"{name}_s"] / history["without_s"]
        verdicts.append(f"build with {history['commits']:,} commits of history ({what}) within {HISTORY_RATIO:g}× "
                        f"the build without: {ratio:.2f}× — " + ("met" if ratio <= HISTORY_RATIO else
                        f"MISSED by {ratio / HISTORY_RATIO:.2f}× "
                        f"({history[f'{name}_s'] - HISTORY_RATIO * history['without_s']:.2f} s over)"))
    return verdicts


def history_section(history: dict) -> list[str]:
    """The report's history section: the builds side by side, and the target."""
    h = history
    return ["", "## History", "",
            f"The shipped catalogue with a synthetic history of {h['commits']:,} commits "
            f"(`python -m benchmarks.synth_history`, generated in {h['made_s']:.1f} s: re-ratings, review dates, "
            "rewordings, new measures and withdrawals, one a day) in a temporary git repository, built without "
            "its history (`--no-history`) and with it (`--history`, the default) from nothing, in turns, "
            f"{HISTORY_RUNS} times each; then, after one more commit, rebuilt over the database the build with "
            "history wrote (as `make build` does), which reuses the rows of the commits it holds. Each build "
            "ran in a fresh process; the figures are medians. The first commit holds the register's baseline, "
            "the others are its revisions. The build reads the history with one `git log --first-parent --raw` "
            "and one `git cat-file --batch` (the versions of register.yml, the commit objects, the changed "
            "files within the size limit) per register, in a thread (git in its own processes) "
            "while it validates and writes the register, and parses only what each commit changed "
            "(`riskcatalog.pieces`).", "",
            "| build | s | peak MiB | database MiB |", "|---|---:|---:|---:|",
            f"| without history | {h['without_s']:.2f} | {h['without_mib']:.0f} | {h['without_db_mib']:.1f} |",
            f"| with history ({h['commits']:,} commits: the baseline and {h['revisions']:,} revisions, "
            f"{h['changes']:,} changes), from nothing | {h['with_s']:.2f} | "
            f"{h['with_mib']:.0f} | {h['with_db_mib']:.1f} |",
            f"| with history, rebuilt one commit later | {h['rebuild_s']:.2f} | {h['rebuild_mib']:.0f} | "
            f"{h['rebuild_db_mib']:.1f} |",
            "", "Targets:", ""] + [f"- {v}" for v in history_misses(h)]


def pages(db_path: Path) -> list[str]:
    """The pages measured at the largest size, and the trivial one: home, the data table (faceted
    by catalogue.yml's defaults, then without facets: what they cost), the search page for a word and
    for a phrase, a heat-map list, a table search, a risk page."""
    with sqlite3.connect(db_path) as conn:
        key = _middle(conn, "risks")
    return ["/", "/catalog/risks", "/search?q=" + quote(WORD), "/search?likelihood=4&impact=4",
            "/search?q=" + quote(PHRASE), "/catalog/risks?_nofacet=1", "/catalog/risks?_search=" + quote(WORD),
            "/catalog/risks/" + quote(key), TRIVIAL]


def reader_pages(db_path: Path) -> list[str]:
    """Every kind of page a reader reaches, at one register, and the trivial one."""
    with sqlite3.connect(db_path) as conn:
        keys = {table: _middle(conn, table) for table in ("areas", "risks", "measures", "sources")}
        queries = catalogue.metadata()["queries"]
    return ["/", *(f"/catalog/{table}/{quote(key)}" for table, key in keys.items()),
            "/search?q=" + quote("报销"), "/search?area=land&level=high", "/search?likelihood=4&impact=4",
            "/catalog/risks", *(f"/catalog/{name}" for name in queries), TRIVIAL]


def costly_paths(db_path: Path) -> list[str]:
    """Each kind of costly request the door admits: searches (the widest it allows, and a 600-word one it
    refuses), table filters and facets, downloads, readers' SQL (slow, and one SQLite cannot prepare cheaply)."""
    with sqlite3.connect(db_path) as conn:
        unit = conn.execute("select id from units order by id limit 1").fetchone()[0]
    widest = " ".join("报销征收信访补偿")  # eight one-character words: prefix lookups, the dearest allowed
    chain = ", ".join(["c0(x) as (select 1)"] + [f"c{n}(x) as (select a.x from c{n - 1} a join c{n - 1} b on a.x = b.x)"
                                                 for n in range(1, 23)])
    return ["/search?q=" + quote(widest), "/search.json?q=" + quote(" ".join("报销征收信访补偿" * 75)),
            "/search?likelihood=4&impact=4", "/catalog/risks?_search=" + quote(widest),
            "/catalog/risks?description_zh__contains=" + quote("报销"), "/catalog/risks?title_zh__glob=" + quote("*报*销*"),
            "/catalog/risks?_facet=post_zh&_facet=power_zh&_facet=responsible_post_zh",
            "/catalog/risks.xlsx?title_zh__contains=" + quote("报销"), "/catalog/risks.excelcsv?level=high",
            "/-/register.xlsx?unit=" + quote(unit), "/catalog/risks.csv?_size=max",
            "/catalog.json?sql=" + quote("select count(*) from risks a, risks b"),
            "/catalog.json?sql=" + quote(f"with {chain} select count(*) from c22")]


def bench_costly(db_path: Path, seconds: float, readers: int) -> dict:
    """The home page read by one client alone, then beside `readers` readers on each costly path."""
    with serving(db_path, db_path.with_suffix(".costly.log"), ROOT) as base:
        return run_beside(base, "/", costly_paths(db_path), seconds, readers)


def costly_section(costly: dict, units: int, readers: int, seconds: float) -> list[str]:
    """The report's section on the door: the home page alone and beside readers on each costly path."""
    lines = ["", "## The door: the home page beside costly readers", "",
             f"A real `datasette` serving {units:,} registers. For each costly path, one client reads the home page, "
             f"one request after another, for {seconds:g} s alone, then {seconds:g} s beside {readers} readers on "
             "that path, each asking again at once whatever the answer (a 503 \"busy\" included), as a hostile "
             "reader would. The door (`riskcatalog.site.limits`) admits these requests one at a time, eight at most "
             "waiting, answers the rest 503, and refuses what passes its bounds with 400; a refused request is "
             "answered no sooner than 1 s after it came.", "",
             "| readers' path | home p50 ms alone | home p50 ms beside | home p95 ms alone | home p95 ms beside "
             "| home requests beside | readers' answers |",
             "|---|---:|---:|---:|---:|---:|---|"]
    nan = float("nan")
    for path, r in costly.items():
        answers = ", ".join(f"{status or 'none'}: {count:,}" for status, count in r["answers"].items()) or "—"
        shown = unquote(path) if len(unquote(path)) <= 90 else unquote(path)[:87] + "…"
        lines.append(f"| `{shown.replace('|', '¦')}` | {r['alone']['p50_ms'] or nan:.1f} | {r['p50_ms'] or nan:.1f} | "
                     f"{r['alone']['p95_ms'] or nan:.1f} | {r['p95_ms'] or nan:.1f} | {r['count']:,} | {answers} |")
    worst = max((r["p50_ms"] or float("inf") for r in costly.values()), default=nan)
    lines += ["", f"Target: the home page's median under {HOME_P50_MS:g} ms beside {readers} readers on each path: "
              f"the worst is {worst:.1f} ms — " + ("met" if worst <= HOME_P50_MS else
                                                    f"MISSED by {worst - HOME_P50_MS:.1f} ms")]
    return lines


def bench_site(db_path: Path, paths: list[str], seconds: float, concurrency: int,
               metadata: str = METADATA) -> dict:
    """A bounded load test of each path against a real datasette serving db_path."""
    with serving(db_path, db_path.with_suffix(".datasette.log"), ROOT, metadata=metadata) as base:
        return run_load(base, paths, seconds, concurrency)


def build_misses(builds: list[dict]) -> list[str]:
    """The build targets: within FLOOR_RATIO× the floor at every size from FLOOR_FROM registers on (or the
    largest, if smaller), peak memory and the database's size at the largest: met, or missed by how much."""
    largest = builds[-1]
    verdicts = []
    for b in [b for b in builds if b["units"] >= FLOOR_FROM] or [largest]:
        ratio = b["build_s"] / b["floor_s"]
        verdicts.append(f"build of {b['units']:,} registers within {FLOOR_RATIO:g}× the floor: {ratio:.2f}× — "
                        + ("met" if ratio <= FLOOR_RATIO else f"MISSED by {ratio / FLOOR_RATIO:.2f}× "
                           f"({b['build_s'] - FLOOR_RATIO * b['floor_s']:.1f} s over {FLOOR_RATIO:g}× the floor)"))
    peak = largest["build_mib"]
    verdicts.append(f"peak memory under {PEAK_MIB} MiB: {peak:.0f} MiB — "
                    + ("met" if peak < PEAK_MIB else f"MISSED by {peak - PEAK_MIB:.0f} MiB"))
    size = largest["db_mib"] * 1048576
    verdicts.append(f"database of {largest['units']:,} registers within {DB_BYTES / 1e9:g} GB: {size / 1e9:.2f} GB "
                    f"({largest['db_mib']:,.0f} MiB) — " + ("met" if size <= DB_BYTES else
                                                            f"MISSED by {(size - DB_BYTES) / 1e9:.2f} GB"))
    return verdicts


def page_misses(site: dict, limit_ms: float = PAGE_P95_MS, ratio: float | None = PAGE_RATIO) -> list[str]:
    """Each page's p95 against limit_ms and (if given) ratio × the trivial page's p95: met, or missed by how much."""
    trivial = site[TRIVIAL]["p95_ms"] or 0.0
    verdicts = []
    for path, r in site.items():
        if path == TRIVIAL:
            continue
        p95 = r["p95_ms"] or float("inf")
        limit = min(ratio * trivial, limit_ms) if ratio else limit_ms
        what = f"`{path}` p95 {p95:.0f} ms ({p95 / trivial:.1f}× trivial) against {limit:.0f} ms — "
        if p95 <= limit:
            verdicts.append(what + "met")
        else:
            over = p95 / (ratio * trivial) if ratio else 0
            missed = [f"{over:.1f}× over {ratio:g}× trivial"] if over > 1 else []
            missed += [f"{p95 - limit_ms:.0f} ms over {limit_ms:.0f} ms"] if p95 > limit_ms else []
            verdicts.append(what + "MISSED: " + ", ".join(missed))
    return verdicts


def report(facts: dict, builds: list[dict], shipped: dict | None, readers: dict | None,
           options: argparse.Namespace, synth_s: float | None, excel: list[dict] | None = None,
           history: dict | None = None, imports: list[dict] | None = None, quality: dict | None = None,
           size_of: list[tuple[str, float]] | None = None, powers: list[dict] | None = None,
           costly: dict | None = None) -> str:
    """The Markdown page."""
    lines = ["# Benchmarks", "",
             "Written by `make bench` (`python -m benchmarks.bench`); the figures below are from one run on the "
             "machine described. The machine is shared and noisy: compare figures from the same run, not across runs.",
             "", "## Machine", "", "| | |", "|---|---|"]
    lines += [f"| {k} | {v} |" for k, v in facts.items()]
    made = (f"generated in {synth_s:.0f} s this run" if synth_s is not None
            else "reused from an earlier run (same seed and source)")
    lines += ["", "## Build", "",
              f"Synthetic registers from `python -m benchmarks.synth` (seed {options.seed}; 51 risks, 78 measures "
              f"each; {made}). Each command ran in a fresh subprocess; peak memory is the largest maximum RSS "
              "among its processes (`resource.getrusage(RUSAGE_CHILDREN)` in a wrapper process that ran only it): "
              "from four registers on, the build also runs one worker process per core (`riskcatalog.compile`), "
              "each far smaller than the main process, which holds the build's 256 MiB page cache. *Rows* are the rows of "
              "units, unit_levels, sources, areas, risks, measures and the three link tables. The **floor** "
              "(`benchmarks/floor.py`) only parses the same files with `yaml.CSafeLoader` and inserts the same "
              "rows with `executemany` in one transaction — no validation, positions, keys, indexes or search.", "",
              "| units | rows | build s | floor s | build ÷ floor | build peak MiB | floor peak MiB | build rows/s "
              "| floor rows/s | database MiB |",
              "|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|"]
    for b in builds:
        lines.append(f"| {b['units']:,} | {b['rows']:,} | {b['build_s']:.2f} | {b['floor_s']:.2f} | "
                     f"{b['build_s'] / b['floor_s']:.2f}× | {b['build_mib']:.0f} | {b['floor_mib']:.0f} | "
                     f"{b['build_rps']:,.0f} | {b['floor_rps']:,.0f} | {b['db_mib']:.1f} |")
    mismatched = [b["units"] for b in builds if b["rows"] != b["floor_rows"]]
    if mismatched:
        lines += ["", f"Row counts of build and floor differ at {mismatched} units."]
    largest = builds[-1]
    lines += ["", "Targets:", ""] + [f"- {v}" for v in build_misses(builds)]
    if size_of is not None:
        lines += size_section(size_of, largest["units"])
    if quality is not None:
        lines += quality_section(quality)
    if excel:
        lines += ["", "## Excel", "",
                  "`build.py export` (the 登记表 workbook with its field sheets; it compiles the registers first), "
                  "each in a fresh process; `build.py import` is in its own section below.", "",
                  "| command | what | s | peak MiB |", "|---|---|---:|---:|"]
        lines += [f"| {e['command']} | {e['what']} | {e['s']:.2f} | {e['mib']:.0f} |" for e in excel]
    if imports:
        lines += import_section(imports)
    if history is not None:
        lines += history_section(history)
    if powers:
        lines += powers_section(powers)
    if shipped is not None:
        lines += ["", "## Site", "",
                  f"A real `datasette` (the command `riskcatalog.site.serve.command` gives) serving the "
                  f"{largest['units']:,}-unit database on 127.0.0.1; each page in turn for {options.seconds:g} s with "
                  f"{options.concurrency} concurrent keep-alive clients (`benchmarks.loadtest.run_load`, httpx, "
                  "client and server on the same machine). Latency is request start to last byte; an error is "
                  "a status ≥ 400 or a failed request. `/catalog/risks` is faceted by `catalogue.yml`'s defaults (level, category) "
                  "(`?_nofacet=1`: without them); `/search` is the reader's search page (for a word, "
                  f"`{WORD}`, and a phrase typed without spaces, `{PHRASE}`) and its list pages.", ""]
        lines += site_table(shipped)
        lines += ["", f"Targets (each page's p95 within {PAGE_RATIO:g}× the trivial page's and under "
                      f"{PAGE_P95_MS:g} ms):", ""]
        lines += [f"- {v}" for v in page_misses(shipped)]
    if readers is not None:
        lines += ["", "### Every reader page at one register", "",
                  "The same server and load, serving the one-register database: each kind of page a reader "
                  "reaches (home, area, risk, measure, regulation, search, lists, every ready-made query).", ""]
        lines += site_table(readers)
        lines += ["", f"Targets (each page's p95 under {READER_P95_MS:g} ms):", ""]
        lines += [f"- {v}" for v in page_misses(readers, READER_P95_MS, ratio=None)]
    if costly is not None:
        lines += costly_section(costly, options.costly_units, options.costly_readers, options.seconds)
    return "\n".join(lines) + "\n"


def size_section(tables: list[tuple[str, float]], units: int) -> list[str]:
    """What the largest database is made of: its biggest tables and indexes (SQLite's dbstat)."""
    total = sum(mib for _, mib in tables)
    lines = ["", f"What the {units:,}-register database holds (pages of each table and index, `dbstat`):", "",
             "| table or index | MiB | share |", "|---|---:|---:|"]
    lines += [f"| `{name}` | {mib:,.1f} | {mib / total:.0%} |" for name, mib in tables[:8]]
    rest = sum(mib for _, mib in tables[8:])
    return lines + [f"| {len(tables) - 8} others | {rest:,.1f} | {rest / total:.0%} |"]


def database_sizes(db_path: Path) -> list[tuple[str, float]]:
    """Each table's and index's pages in MiB, largest first."""
    with sqlite3.connect(db_path) as conn:
        return [(name, size / 1048576) for name, size in
                conn.execute("select name, sum(pgsize) from dbstat group by name order by 2 desc")]


def quality_section(quality: dict) -> list[str]:
    """The judged set's figures: recall@3 and MRR, overall and by kind of query, and the queries missed."""
    lines = ["", "## Search quality", "",
             f"The judged set (`tests/data/search_judgements.yml`: {quality['queries']} queries written from the "
             "catalogue, independently of the search code, each with the entries a reader expects first) asked of "
             "the shipped catalogue's `/search.json` (`benchmarks/quality.py`). A query is answered when an "
             "expected entry is among the first three of its section (risks, measures, regulations, as the page "
             "lists them; an id opens its entry); its reciprocal rank is 1 / the best such position.", "",
             "| queries | n | recall@3 | MRR |", "|---|---:|---:|---:|",
             f"| all | {quality['queries']} | {quality['recall_at_3']:.1%} | {quality['mrr']:.3f} |"]
    lines += [f"| {kind} | {k['queries']} | {k['recall_at_3']:.1%} | {k['mrr']:.3f} |"
              for kind, k in quality["by_kind"].items()]
    met = quality["recall_at_3"] >= RECALL_AT_3
    lines += ["", f"Target: recall@3 at least {RECALL_AT_3:.0%}: {quality['recall_at_3']:.1%} — "
                  + ("met" if met else "MISSED")]
    if quality["missed"]:
        lines += ["", "Not answered:", ""] + [f"- `{m['q']}`: expected {', '.join(m['expect'])}; first "
                                              f"{json.dumps(m['first'], ensure_ascii=False)}" for m in quality["missed"]]
    return lines


def site_table(site: dict) -> list[str]:
    """Markdown rows: each page's requests, errors, rate, p50, p95 and p95 against the trivial page's."""
    trivial = site[TRIVIAL]["p95_ms"] or 0.0
    lines = ["| page | requests | errors | req/s | p50 ms | p95 ms | p95 ÷ trivial p95 |",
             "|---|---:|---:|---:|---:|---:|---:|"]
    for path, r in site.items():
        p50, p95 = r["p50_ms"] or float("nan"), r["p95_ms"] or float("nan")
        lines.append(f"| `{path}` | {r['count']:,} | {r['errors']} | {r['rps']:.1f} | {p50:.1f} | {p95:.1f} | "
                     f"{p95 / trivial:.1f}× |")
    return lines


def _bench_powers(options: argparse.Namespace, sizes: list[int]) -> list[dict]:
    """The powers section alone: the registers built at each size, then every flowchart and card drawn."""
    folders, _ = registers(max(sizes), options.seed, options.out)
    results = []
    for n in sizes:
        where = options.out / f"units-{n}"
        where.mkdir(parents=True, exist_ok=True)
        subprocess.run([sys.executable, str(ROOT / "build.py"), "--no-history", "-o", str(where / "catalog.db"),
                        *map(str, folders[:n])], check=True, capture_output=True)
        results.append(bench_powers(where / "catalog.db", n))
    return results


def kept_notes(path: Path) -> str:
    """The hand-written "## Notes" section at the end of the previous report: a run keeps it."""
    text = path.read_text(encoding="utf-8") if path.exists() else ""
    start = text.find("\n## Notes")
    return text[start:] if start >= 0 else ""


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.bench", description=__doc__.splitlines()[0])
    parser.add_argument("--units", help="comma-separated sizes (default 1,150,3332; 1,150 with --quick)")
    parser.add_argument("--quick", action="store_true", help="small sizes and a 2 s load test per page")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--seconds", type=float, help="load-test duration per page (default 10; 2 with --quick)")
    parser.add_argument("--concurrency", type=int, default=4, help="concurrent clients (default 4)")
    parser.add_argument("--history-commits", type=int, default=HISTORY_COMMITS,
                        help=f"commits of the synthetic history (default {HISTORY_COMMITS}; 0 for none)")
    parser.add_argument("--out", type=Path, default=OUT, help="working directory (default bench-out/)")
    parser.add_argument("--report", type=Path, help="Markdown to write (default docs/benchmarks.md; "
                                                      "bench-out/benchmarks.md with --quick)")
    parser.add_argument("--costly-units", type=int, default=COSTLY_UNITS,
                        help=f"registers the door is measured at (default {COSTLY_UNITS}, at most the largest size)")
    parser.add_argument("--costly-readers", type=int, default=COSTLY_READERS,
                        help=f"readers on each costly path (default {COSTLY_READERS})")
    parser.add_argument("--only", choices=["import", "quality", "powers", "costly"],
                        help="run one section and print it (writes no report); powers at --units (default 1,150), "
                             "the door at --costly-units")
    options = parser.parse_args(argv)
    if options.only == "import":
        print("\n".join(import_section(bench_import(options.out / "import"))))
        return 0
    if options.only == "quality":
        print("\n".join(quality_section(benchmark_quality.measure())))
        return 0
    if options.only == "powers":
        print("\n".join(powers_section(_bench_powers(options, [int(n) for n in (options.units or "1,150").split(",")]))))
        return 0
    if options.only == "costly":  # the door alone, at --costly-units
        options.seconds = options.seconds or 10.0
        folders, _ = registers(options.costly_units, options.seed, options.out)
        costly = bench_costly(costly_database(folders, [], options), options.seconds, options.costly_readers)
        print("\n".join(costly_section(costly, options.costly_units, options.costly_readers, options.seconds)))
        return 0
    default = "1,150" if options.quick else ",".join(map(str, SIZES))
    sizes = sorted({int(n) for n in (options.units or default).split(",")})
    options.seconds = options.seconds or (2.0 if options.quick else 10.0)
    target = options.report or (options.out / "benchmarks.md" if options.quick else REPORT)
    options.out.mkdir(parents=True, exist_ok=True)
    facts = machine()
    options.costly_units = min(options.costly_units, max(sizes))
    folders, synth_s = registers(max(sizes), options.seed, options.out)
    print(f"registers: {max(sizes)} " + (f"generated in {synth_s:.1f} s" if synth_s else "reused"), flush=True)
    builds = []
    for n in sizes:
        builds.append(bench_build(folders[:n], options.out / f"units-{n}"))
        b = builds[-1]
        print(f"{n} units: build {b['build_s']:.2f} s / {b['build_mib']:.0f} MiB, floor {b['floor_s']:.2f} s "
              f"/ {b['floor_mib']:.0f} MiB, {b['rows']:,} rows", flush=True)
    excel = bench_excel(folders[:max(sizes)], options.out / "excel")
    for e in excel:
        print(f"{e['command']} {e['what']}: {e['s']:.2f} s / {e['mib']:.0f} MiB", flush=True)
    imports = bench_import(options.out / "import")
    for r in imports:
        print(f"import {r['what']}: {r['s']:.2f} s / {r['mib']:.0f} MiB, {r['said']}", flush=True)
    history = None
    if options.history_commits:
        history = bench_history(options.history_commits, options.seed, options.out / "history")
        print(f"history of {history['commits']} commits: build {history['with_s']:.2f} s with, "
              f"{history['rebuild_s']:.2f} s rebuilt, {history['without_s']:.2f} s without", flush=True)
    judged = benchmark_quality.measure()
    print(f"search quality: recall@3 {judged['recall_at_3']:.1%}, MRR {judged['mrr']:.3f} "
          f"over {judged['queries']} judged queries", flush=True)
    powers = [bench_powers(b["db"], b["units"]) for b in builds if b["units"] <= POWERS_UP_TO]
    for r in powers:
        print(f"powers at {r['units']} units: {r['powers']} flowcharts {r['charts_s']:.2f} s (p95 "
              f"{r['chart_p95_ms']:.1f} ms), {r['cards']} cards {r['cards_s']:.2f} s, handbook {r['handbook_s']:.2f} s",
              flush=True)
    db_path = builds[-1]["db"]
    size_of = database_sizes(db_path)
    shipped = bench_site(db_path, pages(db_path), options.seconds, options.concurrency)
    one = builds[0]["db"]
    readers = bench_site(one, reader_pages(one), options.seconds, options.concurrency)
    costly = bench_costly(costly_database(folders, builds, options), options.seconds, options.costly_readers)
    print_costly(costly)
    for name, site in ((f"{builds[-1]['units']} units", shipped), (f"{builds[0]['units']} unit", readers)):
        for path, r in site.items():
            print(f"{name} {path}: {r['count']} requests, {r['errors']} errors, p50 {r['p50_ms']:.1f} ms, "
                  f"p95 {r['p95_ms']:.1f} ms", flush=True)
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_text(report(facts, builds, shipped, readers, options, synth_s, excel, history, imports, judged,
                             size_of, powers, costly) + kept_notes(target), encoding="utf-8")
    print(f"wrote {target}")
    return 0


def costly_database(folders: list[Path], builds: list[dict], options: argparse.Namespace) -> Path:
    """The database of options.costly_units registers: one the builds made, or built for it."""
    made = {b["units"]: b["db"] for b in builds}
    if options.costly_units in made:
        return made[options.costly_units]
    return bench_build(folders[:options.costly_units], options.out / f"units-{options.costly_units}")["db"]


def print_costly(costly: dict) -> None:
    nan = float("nan")
    for path, r in costly.items():
        shown = path if len(path) <= 80 else path[:77] + "…"
        print(f"home alone p50 {r['alone']['p50_ms'] or nan:.1f} ms, beside {shown}: p50 {r['p50_ms'] or nan:.1f} ms, "
              f"p95 {r['p95_ms'] or nan:.1f} ms over {r['count']} requests; readers {r['answers']}", flush=True)


if __name__ == "__main__":
    sys.exit(main())
