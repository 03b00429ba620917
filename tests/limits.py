"""Real write failures for tests: a small tmpfs that fills up, and a file size limit.

Neither fakes an exception: the build and fmt meet the error the kernel gives (ENOSPC on
the tmpfs, EFBIG under RLIMIT_FSIZE; Python ignores SIGXFSZ, so the write fails rather
than the process dying).
"""

from __future__ import annotations

import contextlib
import os
import resource
import subprocess
import sys
import time
import tracemalloc
from pathlib import Path
from typing import Iterator

import pytest

from .conftest import PROJECT_ROOT

#: Bounds, not timings: a refusal must not parse 40 MB or expand a bomb.
MAX_SECONDS = 10
MAX_GROWTH = 200 * 1024 * 1024


@contextlib.contextmanager
def small_disk(folder: Path, size: int) -> Iterator[Path]:
    """folder as the mount point of a tmpfs of size bytes; skips where mounting is not permitted (not root)."""
    folder.mkdir()
    mounted = subprocess.run(["mount", "-t", "tmpfs", "-o", f"size={size}", "tmpfs", str(folder)],
                             capture_output=True, check=False)
    if mounted.returncode:
        pytest.skip(f"cannot mount a tmpfs here ({mounted.stderr.decode().strip()}); the file size limit test "
                    "covers a real failing write")
    try:
        yield folder
    finally:
        # Lazily: a failing run may still hold a file open there, and the mount must go all the same.
        subprocess.run(["umount", "--lazy", str(folder)], check=True)


def run_build(argv: list[str], cwd: Path = PROJECT_ROOT, *, max_file_bytes: int | None = None,
              max_memory: int = 1 << 30, seconds: float = 120) -> subprocess.CompletedProcess:
    """`python build.py argv` in its own process, with real limits: no file written beyond max_file_bytes,
    no memory beyond max_memory, killed after seconds. The last two make a regression on an input that
    hangs the tools (a FIFO) or reads without end (/dev/zero) fail the test, not stall or drain the machine."""
    def limit() -> None:
        resource.setrlimit(resource.RLIMIT_AS, (max_memory, max_memory))
        if max_file_bytes is not None:
            resource.setrlimit(resource.RLIMIT_FSIZE, (max_file_bytes, max_file_bytes))

    env = {**os.environ, "PYTHONPATH": str(PROJECT_ROOT)}
    try:
        return subprocess.run([sys.executable, str(PROJECT_ROOT / "build.py"), *argv], cwd=cwd, env=env,
                              preexec_fn=limit, capture_output=True, text=True, timeout=seconds, check=False)
    except subprocess.TimeoutExpired:
        pytest.fail(f"build.py {' '.join(argv)} did not answer within {seconds} s")


@contextlib.contextmanager
def as_nobody() -> Iterator[None]:
    """Within the block this process acts as user nobody (if it is root), so file permissions apply to it."""
    if os.geteuid() != 0:
        yield
        return
    os.setegid(65534)
    os.seteuid(65534)
    try:
        yield
    finally:
        os.seteuid(0)
        os.setegid(0)


def _max_rss() -> int:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024  # kilobytes on Linux


@contextlib.contextmanager
def bounded():
    """Fail if the block takes longer than MAX_SECONDS or grows memory by MAX_GROWTH."""
    started_tracing = not tracemalloc.is_tracing()
    if started_tracing:
        tracemalloc.start()
    tracemalloc.reset_peak()
    base, _ = tracemalloc.get_traced_memory()
    rss = _max_rss()
    start = time.perf_counter()
    try:
        yield
    finally:
        elapsed = time.perf_counter() - start
        _, peak = tracemalloc.get_traced_memory()
        if started_tracing:
            tracemalloc.stop()
    assert elapsed < MAX_SECONDS, f"took {elapsed:.1f}s"
    assert peak - base < MAX_GROWTH, f"Python allocations grew by {(peak - base) >> 20} MB"
    assert _max_rss() - rss < MAX_GROWTH, f"peak RSS grew by {(_max_rss() - rss) >> 20} MB"
