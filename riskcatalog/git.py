"""The one way the build wing asks git anything: build facts, diff and history."""

from __future__ import annotations

import contextlib
import fcntl
import subprocess
import threading
from pathlib import Path
from typing import Iterator


#: The pipe git cat-file writes blobs into: a megabyte (Linux's default limit) holds dozens of catalogue files.
PIPE_BYTES = 1024 * 1024


class GitError(Exception):
    """git is missing or refused; the message says which command and why."""


def run(cwd: Path, *args: str, timeout: float | None = None) -> str:
    """git's standard output for args run in cwd, as text; GitError if it fails."""
    return run_bytes(cwd, *args, timeout=timeout).decode("utf-8", errors="surrogateescape")


def run_bytes(cwd: Path, *args: str, input: bytes | None = None, timeout: float | None = None) -> bytes:
    """git's standard output for args run in cwd, given input on its standard input (a file's content as
    committed, in bytes); GitError if it fails."""
    try:
        done = subprocess.run(["git", *args], cwd=cwd, input=input, capture_output=True, check=False,
                              timeout=timeout)
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


def blobs(cwd: Path, ids: list[str]) -> Iterator[tuple[str, bytes]]:
    """Each blob's id and contents, in the order of ids, from one `git cat-file --batch` (not a process
    each), streamed: git reads the next blobs while the caller works on the first."""
    try:
        proc = subprocess.Popen(["git", "cat-file", "--batch"], cwd=cwd, stdin=subprocess.PIPE,
                                stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, bufsize=PIPE_BYTES)
    except FileNotFoundError as exc:
        raise GitError("error: git is not installed") from exc
    with contextlib.suppress(AttributeError, OSError):  # Linux: room for git to run ahead by many blobs
        fcntl.fcntl(proc.stdout.fileno(), fcntl.F_SETPIPE_SZ, PIPE_BYTES)
    # The ids go in from a thread: git answers while it reads them, and two full pipes would block both.
    threading.Thread(target=_ask, args=(proc.stdin, ids), daemon=True).start()
    try:
        for _ in ids:
            header = proc.stdout.readline().decode().split()  # "<id> blob <size>", or "<id> missing"
            if len(header) != 3 or header[1] != "blob":
                raise GitError(f"error: git cat-file --batch: {' '.join(header) or 'no answer'}")
            yield header[0], proc.stdout.read(int(header[2]))
            proc.stdout.read(1)  # the newline after each blob
    finally:
        proc.kill()
        proc.stdout.close()
        proc.wait()


def _ask(stdin, ids: list[str]) -> None:
    try:
        stdin.write("".join(f"{i}\n" for i in ids).encode())
        stdin.close()
    except (BrokenPipeError, ValueError):  # git was stopped early: nothing more to ask
        pass
