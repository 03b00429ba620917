"""The one way the build wing asks git anything: build facts, diff and history."""

from __future__ import annotations

import subprocess
from pathlib import Path


class GitError(Exception):
    """git is missing or refused; the message says which command and why."""


def run(cwd: Path, *args: str, timeout: float | None = None) -> str:
    """git's standard output for args run in cwd, as text; GitError if it fails."""
    return run_bytes(cwd, *args, timeout=timeout).decode("utf-8", errors="surrogateescape")


def run_bytes(cwd: Path, *args: str, timeout: float | None = None) -> bytes:
    """git's standard output for args run in cwd, as bytes (a file's content as committed); GitError if it fails."""
    try:
        done = subprocess.run(["git", *args], cwd=cwd, capture_output=True, check=False, timeout=timeout)
    except FileNotFoundError as exc:
        raise GitError("error: git is not installed") from exc
    except subprocess.TimeoutExpired as exc:
        raise GitError(f"error: git {' '.join(args)} did not answer within {timeout} s") from exc
    if done.returncode:
        raise GitError(f"error: git {' '.join(args)}: {done.stderr.decode(errors='replace').strip()}")
    return done.stdout


def last_commit(folder: Path) -> str | None:
    """The commit the folder was last committed at, or None outside a git work tree."""
    try:
        return run(folder, "log", "-1", "--format=%H", "--", ".", timeout=10).strip() or None
    except (GitError, OSError):
        return None
