"""Writing a file so that its readers see the old one or the new one, never half of either.

The build's database and fmt's YAML are written to a temporary file beside the target and
moved over it with os.replace: a failure, a full disk, Ctrl-C, SIGTERM or SIGHUP leaves the
target as it was and removes the temporary file. The temporary file is locked while it is
written, so a later run can tell one left by a killed run (SIGKILL, a power cut: unlocked,
removed) from one that another run is still writing (locked, left alone).
"""

from __future__ import annotations

import contextlib
import errno
import fcntl
import os
import re
import signal
import stat
import tempfile
import threading
from pathlib import Path
from typing import Iterator

#: Signals that end a run the way Ctrl-C does, so its temporary file is removed.
STOP_SIGNALS = (signal.SIGTERM, signal.SIGHUP)

#: What to do about a failed write, by errno; SQLite's own errors are matched by name.
_ADVICE = {
    "space": "free space on its disk (or raise the file size limit, ulimit -f), then try again",
    "access": "make its folder writable, or write somewhere else",
}
_ERRNO_ADVICE = {errno.ENOSPC: "space", errno.EDQUOT: "space", errno.EFBIG: "space",
                 errno.EACCES: "access", errno.EPERM: "access", errno.EROFS: "access"}
_KINDS = {stat.S_IFDIR: "a folder", stat.S_IFIFO: "a FIFO (named pipe)", stat.S_IFCHR: "a character device",
          stat.S_IFBLK: "a block device", stat.S_IFSOCK: "a socket", stat.S_IFLNK: "a symbolic link"}


def kind(mode: int) -> str:
    """What a file that is not a regular file is, from its st_mode: "a FIFO (named pipe)"."""
    return _KINDS.get(stat.S_IFMT(mode), "not a regular file")


class Interrupted(KeyboardInterrupt):
    """A stop signal arrived; raised like Ctrl-C's KeyboardInterrupt so every cleanup runs."""

    def __init__(self, signum: int):
        super().__init__(signal.Signals(signum).name)
        self.signal = signal.Signals(signum).name


class WriteFailed(Exception):
    """A file could not be written; the message names it, says why and what to do."""


def failed_write(target: Path, exc: BaseException) -> WriteFailed:
    """WriteFailed for an OSError or an sqlite3.Error met while writing target: without the temporary
    file's name, which means nothing to the reader."""
    reason = exc.strerror if isinstance(exc, OSError) and exc.strerror else str(exc)
    advice = _ERRNO_ADVICE.get(getattr(exc, "errno", None))
    if getattr(exc, "sqlite_errorname", "").startswith(("SQLITE_FULL", "SQLITE_IOERR")):
        advice = "space"
    return WriteFailed(f"cannot write {target}: {reason} — {_ADVICE.get(advice, 'fix that, then try again')}")


#: The handler stop_signals_interrupt() has installed, while it has one.
_installed: list = []


@contextlib.contextmanager
def stop_signals_interrupt() -> Iterator[None]:
    """Within the block, SIGTERM and SIGHUP raise Interrupted (once: a second one waits for the cleanup)."""
    if threading.current_thread() is not threading.main_thread():  # only the main thread may set handlers
        yield
        return

    def interrupt(signum, frame):
        for stop in STOP_SIGNALS:
            signal.signal(stop, signal.SIG_IGN)
        raise Interrupted(signum)

    previous = {signum: signal.signal(signum, interrupt) for signum in STOP_SIGNALS}
    _installed.append(interrupt)
    try:
        yield
    finally:
        _installed.remove(interrupt)
        for signum, handler in previous.items():
            signal.signal(signum, handler)


def _stop_signals_kill_in_a_child() -> None:
    """In a process forked meanwhile (compile's worker pool), SIGTERM kills again, as the build's pool.terminate()
    expects: a Python handler runs only between bytecodes, never in a worker blocked in C (a lock a thread
    of the parent held at the fork), and the build would wait for that worker for ever."""
    for signum in STOP_SIGNALS:
        if _installed and signal.getsignal(signum) is _installed[-1]:
            signal.signal(signum, signal.SIG_DFL)


os.register_at_fork(after_in_child=_stop_signals_kill_in_a_child)


def _temporary_name(target: Path) -> re.Pattern:
    """The names tempfile.mkstemp gives replacing()'s temporary files for target."""
    return re.compile(rf"\.{re.escape(target.name)}\.[a-z0-9_]{{8}}\.tmp")


def remove_stale(target: Path) -> list[Path]:
    """Remove the temporary files of target that no running process holds: a killed run's. Returns them."""
    removed = []
    pattern = _temporary_name(target)
    for path in target.parent.iterdir():
        if not pattern.fullmatch(path.name):
            continue
        try:
            fd = os.open(path, os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK | os.O_CLOEXEC)
        except OSError:  # gone already, a link, or not ours to open
            continue
        try:
            if stat.S_ISREG(os.fstat(fd).st_mode):
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)  # held: another run is writing it
                path.unlink()
                removed.append(path)
        except OSError:
            pass
        finally:
            os.close(fd)
    return removed


@contextlib.contextmanager
def replacing(target: Path) -> Iterator[Path]:
    """A temporary file beside target to write; it replaces target when the block ends without error.

    The new file keeps the permissions (and, where allowed, the owner) of the one it replaces,
    so a web server reading the database as another user still can.
    """
    target = Path(target)
    remove_stale(target)
    with stop_signals_interrupt():
        fd, name = tempfile.mkstemp(dir=target.parent, prefix=f".{target.name}.", suffix=".tmp")
        temporary = Path(name)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX)  # released when fd closes: see remove_stale
            _copy_permissions(target, fd)
            yield temporary
            os.fsync(fd)  # the data on disk before the name points at it
            os.replace(temporary, target)
            _sync_folder(target.parent)
        except BaseException:
            with contextlib.suppress(FileNotFoundError):
                temporary.unlink()
            raise
        finally:
            os.close(fd)


def _copy_permissions(target: Path, fd: int) -> None:
    """Give fd target's mode and owner; a new target gets the mode the umask gives new files."""
    try:
        info = os.stat(target)
    except FileNotFoundError:
        umask = os.umask(0)
        os.umask(umask)
        os.fchmod(fd, 0o666 & ~umask)
        return
    os.fchmod(fd, stat.S_IMODE(info.st_mode))
    with contextlib.suppress(PermissionError):  # only root or the owner may; the mode is what matters most
        os.fchown(fd, info.st_uid, info.st_gid)


def _sync_folder(folder: Path) -> None:
    """Make the rename itself durable; some file systems cannot sync a folder, and the rename has happened."""
    with contextlib.suppress(OSError):
        fd = os.open(folder, os.O_RDONLY | os.O_DIRECTORY)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)
