"""A bounded load test over loopback: fixed duration per page, fixed number of clients.

run_load() drives pages one after another, so each page's latencies are measured alone;
datasette_server() runs the real `datasette` command (serve.command) on a free port.
"""

from __future__ import annotations

import asyncio
import contextlib
import math
import os
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path
from typing import Iterator

import httpx

from . import PROJECT_ROOT
from .serve import METADATA, command

HOST = "127.0.0.1"


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


def free_port() -> int:
    """A loopback port nothing listens on right now."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind((HOST, 0))
        return sock.getsockname()[1]


@contextlib.contextmanager
def datasette_server(db_path: Path, log_path: Path, timeout: float = 120,
                     metadata: str = METADATA) -> Iterator[str]:
    """Run the site's datasette command on a free loopback port; yield its base URL, then stop it."""
    port = free_port()
    args = command(str(db_path), HOST, port, str(metadata))
    args[0] = os.path.join(os.path.dirname(sys.executable), args[0])  # the venv's datasette, not PATH's
    base = f"http://{HOST}:{port}"
    with open(log_path, "wb") as log:
        proc = subprocess.Popen(args, cwd=PROJECT_ROOT, stdout=log, stderr=subprocess.STDOUT)
    try:
        _wait_until_up(proc, base, log_path, timeout)
        yield base
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


def _wait_until_up(proc: subprocess.Popen, base: str, log_path: Path, timeout: float) -> None:
    deadline = time.monotonic() + timeout
    opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))  # loopback, never a proxy
    while True:
        if proc.poll() is not None:
            raise RuntimeError(f"datasette exited with {proc.returncode}:\n{log_path.read_text(errors='replace')}")
        try:
            with opener.open(f"{base}/-/versions.json", timeout=2) as response:
                if response.status == 200:
                    return
        except (urllib.error.URLError, ConnectionError, TimeoutError):
            pass
        if time.monotonic() > deadline:
            raise RuntimeError(f"datasette did not answer on {base} within {timeout} s")
        time.sleep(0.1)
