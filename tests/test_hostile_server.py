"""Hostile readers against a real datasette process: fairness under load, memory per request.

The in-process tests (test_hostile.py) cannot show these: concurrency runs through uvicorn and
Datasette's SQL threads, and memory is the server process's own (Linux's VmHWM, its peak
resident size, reset before each request through /proc/<pid>/clear_refs).
"""

from __future__ import annotations

import math
import re
import time
import urllib.error
import urllib.request
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from urllib.parse import quote

import pytest

from riskcatalog.site.serve import SETTINGS, Server, started

from .conftest import PROJECT_ROOT

TIME_LIMIT = SETTINGS["sql_time_limit_ms"] / 1000
#: A query every run stops at the time limit.
SLOW = "/catalog.json?sql=" + quote("select count(*) from risks a, risks b, risks c, risks d, risks e")
PAGES = ["/", "/catalog/risks/yijia-LAND-01"]
MIB = 1024 * 1024

pytestmark = pytest.mark.skipif(not Path("/proc/self/clear_refs").exists(), reason="needs Linux's /proc")


@pytest.fixture(scope="module")
def server(catalog_db, tmp_path_factory) -> Server:
    with started(catalog_db, tmp_path_factory.mktemp("server") / "datasette.log", PROJECT_ROOT) as running:
        yield running


_OPENER = urllib.request.build_opener(urllib.request.ProxyHandler({}))  # loopback, never a proxy


def get(url: str) -> tuple[int, float, dict, bytes]:
    """Status, seconds to the last byte, headers and body of one GET."""
    started_at = time.perf_counter()
    try:
        with _OPENER.open(url, timeout=120) as response:
            status, headers, body = response.status, dict(response.headers), response.read()
    except urllib.error.HTTPError as error:
        status, headers, body = error.code, dict(error.headers), error.read()
    return status, time.perf_counter() - started_at, {k.lower(): v for k, v in headers.items()}, body


def p95(seconds: list[float]) -> float:
    return sorted(seconds)[math.ceil(0.95 * len(seconds)) - 1]


def test_site_pages_stay_fast_under_fifty_slow_queries(server):
    """50 queries that each run into the time limit, all at once: the home page and a row page still
    answer (p95 under 1 s; before, 16 s), and every slow query is answered quickly, run to its
    limit (400) or told to come back (503 with Retry-After)."""
    with ThreadPoolExecutor(50) as pool:
        slow = [pool.submit(get, server.url + SLOW) for _ in range(50)]
        times: dict[str, list[float]] = {path: [] for path in PAGES}
        while not all(future.done() for future in slow) or min(map(len, times.values())) < 20:
            for path in PAGES:
                status, seconds, _, _ = get(server.url + path)
                assert status == 200, path
                times[path].append(seconds)
        answers = [future.result() for future in slow]
    for path, seconds in times.items():
        print(f"{path}: p95 {p95(seconds) * 1000:.0f} ms over {len(seconds)} requests")  # shown by pytest -rP
        assert p95(seconds) < 1.0, f"{path}: p95 {p95(seconds):.2f} s over {len(seconds)} requests"
    print("slow queries:", {status: sum(s == status for s, *_ in answers) for status in (400, 503)},
          f"the last answered after {max(seconds for _, seconds, *_ in answers):.1f} s")
    assert {status for status, *_ in answers} <= {400, 503}
    assert sum(status == 400 for status, *_ in answers) >= 1  # the queries that ran were stopped, not lost
    for status, seconds, headers, body in answers:
        assert seconds < 3 * TIME_LIMIT + 2
        if status == 503:
            assert int(headers["retry-after"]) >= 1
            assert "请" in body.decode() and "try again in" in body.decode()


def vm_hwm(pid: int) -> int:
    """The process's peak resident size in bytes."""
    status = Path(f"/proc/{pid}/status").read_text()
    return int(next(line.split()[1] for line in status.splitlines() if line.startswith("VmHWM:"))) * 1024


def sql(statement: str, suffix: str = ".json") -> str:
    return f"/catalog{suffix}?sql=" + quote(statement)


#: The issue's 1.2 GB answer, and the largest answers the limits still allow, in each format.
MEMORY_PROBES = [
    sql("select zeroblob(9999999) from risks limit 20"),
    sql("select zeroblob(999999) from risks limit 5"),  # NUL bytes: six characters each in JSON
    sql("select zeroblob(999999) from risks limit 5", ".csv"),
    sql("select zeroblob(999999) from risks limit 5", ""),
    sql("select replace(hex(zeroblob(166000)), '0', '报') from risks limit 15"),  # \uXXXX in JSON
    "/catalog/risks.json?_size=max&_facet_size=max&_shape=objects",
    "/catalog/risks?_facet_size=max&" + "&".join(f"_facet={c}" for c in ("title_zh", "title_en", "post_zh",
                                                                         "power_zh", "description_zh"))
    + "".join(f"&_x{n}=" + "x" * 1990 for n in range(4)),  # the most facet links, each with the longest query string
    "/catalog/risks.csv?_stream=on",
]


@pytest.mark.parametrize("path", MEMORY_PROBES, ids=range(len(MEMORY_PROBES)))
def test_no_request_raises_the_server_memory_by_300_mb(server, path):
    Path(f"/proc/{server.pid}/clear_refs").write_text("5")  # peak := current
    before = vm_hwm(server.pid)
    status, _, _, _ = get(server.url + path)
    grew = vm_hwm(server.pid) - before
    print(f"{status}: the server grew {grew / MIB:.0f} MiB")  # shown by pytest -rP
    assert status in (200, 400), path
    assert grew < 300 * MIB, f"{path}: the server grew {grew / MIB:.0f} MiB"


def cte_chain(links: int) -> str:
    chain = ["c0(x) as (select 1)"] + [f"c{n}(x) as (select a.x from c{n - 1} a join c{n - 1} b on a.x = b.x)"
                                       for n in range(1, links + 1)]
    return "with " + ", ".join(chain) + f" select count(*) from c{links}"


def children(pid: int) -> list[int]:
    """The processes pid started (Linux: every thread's children)."""
    return [int(child) for task in Path(f"/proc/{pid}/task").iterdir()
            for child in (task / "children").read_text().split()]


@pytest.mark.parametrize("links", [22, 30])
def test_a_cte_chain_answers_within_the_time_limit_and_the_stated_memory(server, links):
    """The issue's chain ran 65 s and took 3.7 GB at 22 links. Now it is prepared in a worker the kernel
    caps at 128 MiB of address space, killed at 0.5 s: the answer (400) comes within the time limit (plus
    starting a new worker), and the server itself grows by less than 32 MiB."""
    Path(f"/proc/{server.pid}/clear_refs").write_text("5")
    before = vm_hwm(server.pid)
    for path in (sql(cte_chain(links)), "/catalog/risks.json?_where=" + quote(f"key in ({cte_chain(links)})")):
        status, seconds, _, body = get(server.url + path)
        print(f"{links} links: {status} after {seconds:.2f} s")  # shown by pytest -rP
        assert status == 400 and "SQLite could not prepare this query within 0.5 s and 128 MB" in body.decode()
        assert seconds < TIME_LIMIT + 2  # 1 s (the door's least wait for a refusal) plus a new worker's start
    grew = vm_hwm(server.pid) - before
    print(f"the server grew {grew / MIB:.1f} MiB")
    assert grew < 32 * MIB
    # The killed worker is replaced for the next reader's SQL, under the same bound.
    assert get(server.url + sql("select count(*) as n from risks"))[0] == 200
    workers = [pid for pid in children(server.pid) if b"planning.py" in Path(f"/proc/{pid}/cmdline").read_bytes()]
    assert workers, "the worker that prepares readers' SQL runs beside the server"
    for pid in workers:
        limits = Path(f"/proc/{pid}/limits").read_text()
        assert re.search(r"^Max address space\s+134217728\s+134217728\s+bytes", limits, re.M), limits
