"""The one way the build wing asks git anything: build facts, diff and history."""

from __future__ import annotations

import codecs
import contextlib
import datetime
import fcntl
import re
import subprocess
import threading
from dataclasses import dataclass
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


class Batch:
    """One `git cat-file --batch` that answers many reads in turn (not a process each): git keeps the
    objects it unpacked, and a file's versions are mostly deltas of one another, so reading all of a
    history's objects in one process costs a fraction of reading them in several.

    Every answer is delimited by the size git announces, so nothing inside an object can be read as
    the start of the next one; a name holding a line break could not be asked, and is refused.
    """

    def __init__(self, cwd: Path):
        try:
            self.proc = subprocess.Popen(["git", "cat-file", "--batch"], cwd=cwd, stdin=subprocess.PIPE,
                                         stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, bufsize=PIPE_BYTES)
        except FileNotFoundError as exc:
            raise GitError("error: git is not installed") from exc
        with contextlib.suppress(AttributeError, OSError):  # Linux: room for git to run ahead by many blobs
            fcntl.fcntl(self.proc.stdout.fileno(), fcntl.F_SETPIPE_SZ, PIPE_BYTES)
        self.unread = 0  # answers to an earlier read its caller did not take: read past before the next
        self.asking: threading.Thread | None = None

    def objects(self, names: list[str], limit: int | None = None) -> Iterator[tuple[str, str, bytes]]:
        """Each object's id, type and contents, in the order of names (object ids, or `rev:path` as git
        names a file or folder at a commit), streamed: git reads the next objects while the caller works
        on the first. An object git does not have is ("", "missing", b""). Of an object over limit bytes
        only the first limit bytes are kept (the rest is read past, never held)."""
        if any("\n" in name or "\r" in name for name in names):
            raise GitError("error: git cat-file --batch: a name holds a line break")
        while self.unread:
            self._answer(None)
        if self.asking:
            self.asking.join()
        self.unread = len(names)
        # The names go in from a thread: git answers while it reads them, and two full pipes would block both.
        self.asking = threading.Thread(target=_ask, args=(self.proc.stdin, names), daemon=True)
        self.asking.start()
        while self.unread:
            yield self._answer(limit)

    def blobs(self, ids: list[str]) -> Iterator[tuple[str, bytes]]:
        """Each blob's id and contents, in the order of ids (objects(), for blobs that must be there)."""
        for (oid, kind, data), asked in zip(self.objects(ids), ids):
            if kind != "blob":
                raise GitError(f"error: git cat-file --batch: {asked} is {kind}, not a file's contents")
            yield oid, data

    def _answer(self, limit: int | None) -> tuple[str, str, bytes]:
        """The next answer: the object's id, type and (up to limit bytes of) contents."""
        self.unread -= 1
        header = self.proc.stdout.readline().decode("utf-8", "replace").split()
        if len(header) == 3 and OBJECT_ID.fullmatch(header[0]) and header[2].isdigit():
            data = _read(self.proc.stdout, int(header[2]), limit)
            self.proc.stdout.read(1)  # the newline after each object
            return header[0], header[1], data
        if len(header) >= 2 and header[-1] in ("missing", "ambiguous"):
            return "", "missing", b""
        self.unread = 0
        raise GitError(f"error: git cat-file --batch: {' '.join(header)[:200] or 'no answer'}")

    def close(self) -> None:
        self.proc.kill()
        self.proc.stdout.close()
        self.proc.wait()

    def __enter__(self) -> Batch:
        return self

    def __exit__(self, *_) -> None:
        self.close()


def sizes(cwd: Path, ids: list[str]) -> dict[str, int]:
    """The size in bytes of each object of ids (`git cat-file --batch-check`, which reads no contents):
    a file is known to be too big before a byte of it is read. Objects git does not have are left out."""
    if not ids:
        return {}
    answer = run_bytes(cwd, "cat-file", "--batch-check", input="".join(f"{i}\n" for i in ids).encode())
    found = {}
    for line in answer.decode("utf-8", "replace").splitlines():
        parts = line.split()
        if len(parts) == 3 and OBJECT_ID.fullmatch(parts[0]) and parts[2].isdigit():
            found[parts[0]] = int(parts[2])
    return found


def _read(stream, size: int, limit: int | None) -> bytes:
    """size bytes of stream, of which at most limit are kept."""
    kept = stream.read(size if limit is None else min(size, limit))
    left = size - len(kept)
    while left > 0:  # read past the rest, a pipe's worth at a time
        chunk = stream.read(min(left, PIPE_BYTES))
        if not chunk:
            break
        left -= len(chunk)
    return kept


#: An object id as git prints it: SHA-1 or SHA-256.
OBJECT_ID = re.compile(r"[0-9a-f]{40}|[0-9a-f]{64}")
#: File modes of files that are files (not links or submodules), as trees hold them.
FILE_MODES = (b"100644", b"100755")


def tree_files(data: bytes, id_bytes: int) -> dict[str, str]:
    """{name: blob id} of the regular files in a tree object's contents (mode, name, NUL, the id's
    bytes), from git's own binary layout: a name cannot pose as an id or as another entry."""
    found, at = {}, 0
    while at < len(data):
        space = data.index(b" ", at)
        nul = data.index(b"\0", space)
        mode, name = data[at:space], data[space + 1:nul]
        if mode in FILE_MODES:
            found[name.decode("utf-8", "surrogateescape")] = data[nul + 1:nul + 1 + id_bytes].hex()
        at = nul + 1 + id_bytes
    return found


@dataclass
class CommitObject:
    """What a commit object says, read from git's own layout: headers, a blank line, the message."""

    parents: list[str]
    author: str  # the name the commit gives its author
    committed: datetime.datetime | None  # the committer's time in the committer's zone; None if unreadable
    message: str


def commit_object(data: bytes) -> CommitObject:
    """A commit's parents, author, committer time and message from its raw contents. The message is
    everything after the first blank line, so nothing in it can pose as a header; each header is one
    line (continuation lines, as of a signature, start with a space and are skipped)."""
    head, _, message = data.partition(b"\n\n")
    headers: dict[bytes, list[bytes]] = {}
    for line in head.split(b"\n"):
        if not line.startswith(b" "):
            key, _, value = line.partition(b" ")
            headers.setdefault(key, []).append(value)
    encoding = headers.get(b"encoding", [b"utf-8"])[0].decode("ascii", "replace").strip()
    try:
        codecs.lookup(encoding)
    except LookupError:
        encoding = "utf-8"
    author = _ident(headers.get(b"author", [b""])[0])
    committer = _ident(headers.get(b"committer", [b""])[0])
    return CommitObject([p.decode("ascii", "replace") for p in headers.get(b"parent", [])],
                        author[0].decode(encoding, "replace"), committer[1], message.decode(encoding, "replace"))


def _ident(value: bytes) -> tuple[bytes, datetime.datetime | None]:
    """The name and time of an author or committer line, `Name <email> seconds zone`, read from the
    right: a name may hold anything but a line break."""
    rest, _, zone = value.rpartition(b" ")
    rest, _, seconds = rest.rpartition(b" ")
    name = rest[:rest.rfind(b"<")].strip() if b"<" in rest else rest.strip()
    when = None
    if re.fullmatch(rb"[+-]\d{4}", zone) and seconds.isdigit():
        offset = datetime.timedelta(hours=int(zone[1:3]), minutes=int(zone[3:5])) * (-1 if zone[:1] == b"-" else 1)
        with contextlib.suppress(ValueError, OverflowError, OSError):  # a zone past a day, a year past 9999
            when = datetime.datetime.fromtimestamp(int(seconds), datetime.timezone(offset))
    return name, when


def _ask(stdin, ids: list[str]) -> None:
    try:
        stdin.write("".join(f"{i}\n" for i in ids).encode())
        stdin.flush()
    except (BrokenPipeError, ValueError):  # git was stopped early: nothing more to ask
        pass
