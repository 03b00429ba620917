"""A bounded load test over loopback: fixed duration per page, fixed number of clients.

run_load() drives pages one after another, so each page's latencies are measured alone,
against a real datasette that riskcatalog.site.serve.serving() starts.
"""

from __future__ import annotations

import asyncio
import math
import time

import httpx


def percentile(values: list[float], fraction: float) -> float | None:
    """Nearest-rank percentile (fraction 0.95 = p95); None when there are no values."""
    if not values:
        return None
    ordered = sorted(values)
    return ordered[max(0, math.ceil(fraction * len(ordered)) - 1)]


async def _client(client: httpx.AsyncClient, path: str, deadline: float, times: list[float], errors: list) -> None:
    while time.perf_counter() < deadline:
        started = time.perf_counter()
        try:
            response = await client.get(path)
            await response.aread()
            failed = response.status_code >= 400
        except httpx.HTTPError:
            failed = True
        times.append((time.perf_counter() - started) * 1000)
        if failed:
            errors.append(path)


async def _load_path(base_url: str, path: str, seconds: float, concurrency: int) -> dict:
    times: list[float] = []
    errors: list = []
    limits = httpx.Limits(max_connections=concurrency, max_keepalive_connections=concurrency)
    # trust_env=False: no proxy settings may route a loopback test anywhere else.
    async with httpx.AsyncClient(base_url=base_url, timeout=30, limits=limits, trust_env=False) as client:
        deadline = time.perf_counter() + seconds
        await asyncio.gather(*(_client(client, path, deadline, times, errors) for _ in range(concurrency)))
    return {"count": len(times), "errors": len(errors), "p50_ms": percentile(times, 0.50),
            "p95_ms": percentile(times, 0.95), "rps": len(times) / seconds}


def run_load(base_url: str, paths: list[str], seconds: float, concurrency: int) -> dict[str, dict]:
    """GET each path for `seconds` with `concurrency` clients; per path count, errors, p50_ms, p95_ms, rps."""
    return {path: asyncio.run(_load_path(base_url, path, seconds, concurrency)) for path in paths}


async def _answers(client: httpx.AsyncClient, path: str, deadline: float, statuses: list[int]) -> None:
    """One reader asking for path again and again until deadline, as a hostile one would: an answer
    503 (try again later) is asked for again at once."""
    while time.perf_counter() < deadline:
        try:
            response = await client.get(path)
            await response.aread()
            statuses.append(response.status_code)
        except httpx.HTTPError:
            statuses.append(0)


async def _beside(base_url: str, probe: str, path: str | None, seconds: float, readers: int) -> dict:
    """The probe page's times, and the answers `readers` readers of path got meanwhile."""
    times: list[float] = []
    errors: list = []
    statuses: list[int] = []
    limits = httpx.Limits(max_connections=readers + 1, max_keepalive_connections=readers + 1)
    async with httpx.AsyncClient(base_url=base_url, timeout=60, limits=limits, trust_env=False) as client:
        deadline = time.perf_counter() + seconds
        load = [_answers(client, path, deadline, statuses) for _ in range(readers)]
        await asyncio.gather(_client(client, probe, deadline, times, errors), *load)
    return {"count": len(times), "errors": len(errors), "p50_ms": percentile(times, 0.50),
            "p95_ms": percentile(times, 0.95), "answers": {status: statuses.count(status) for status in sorted(set(statuses))}}


def run_beside(base_url: str, probe: str, paths: list[str], seconds: float, readers: int) -> dict[str, dict]:
    """For each path: the probe page read by one client, one request after another, for `seconds`
    alone, then as long beside `readers` clients asking for the path. Per path the probe's count,
    errors, p50_ms and p95_ms beside the readers, its p50 and p95 alone just before ("alone"), and
    the readers' answers by status (0: no answer). Measured in turns, so a shared machine's load
    weighs on both alike."""
    results = {}
    for path in paths:
        alone = asyncio.run(_beside(base_url, probe, None, seconds, 0))
        results[path] = {**asyncio.run(_beside(base_url, probe, path, seconds, readers)),
                         "alone": {"p50_ms": alone["p50_ms"], "p95_ms": alone["p95_ms"], "count": alone["count"]}}
    return results
