"""The build's output: what -o may name, a real full disk, permissions kept, signals, stale files.

Issue 14, items 9, 13, 14, 15 and 23. Every failure leaves the previous database byte-identical,
with the same inode, and no temporary file beside it; every message names the -o path, never
the hidden temporary one.
"""

from __future__ import annotations

import fcntl
import os
import signal
import stat
import subprocess
import sys
import time
from pathlib import Path

import pytest

from benchmarks import synth
from riskcatalog.cli import main

from .conftest import CATALOG, PROJECT_ROOT
from .limits import run_build, small_disk

#: What the build says about a failed write to a full disk or past a file size limit.
ADVICE = "free space on its disk (or raise the file size limit, ulimit -f), then try again"


def _snapshot(path: Path) -> tuple:
    """What must not change: kind, inode, mode and (for a regular file) the bytes."""
    info = os.lstat(path)
    return info.st_mode, info.st_ino, path.read_bytes() if stat.S_ISREG(info.st_mode) else None


def _refused(argv: list[str], capsys) -> list[str]:
    assert main(argv) == 1
    return capsys.readouterr().err.splitlines()


# --- item 13: -o names a regular file outside every register folder, holding a database or nothing -------

def _fifo(path: Path) -> None:
    os.mkfifo(path)


def _character_device(path: Path) -> None:
    try:
        os.mknod(path, stat.S_IFCHR | 0o600, os.makedev(1, 3))  # what /dev/null is
    except PermissionError:
        pytest.skip("creating a device node needs root")


def _link_to_previous(path: Path) -> None:
    path.symlink_to("catalog.db")


def _text_file(path: Path) -> None:
    path.write_text("notes that are not a database\n", encoding="utf-8")


@pytest.mark.parametrize("name, make, message", [
    ("fifo", _fifo, "out/fifo is a FIFO (named pipe), not a regular file — give -o the path of a database file"),
    ("null", _character_device,
     "out/null is a character device, not a regular file — give -o the path of a database file"),
    ("link.db", _link_to_previous, "out/link.db is a symbolic link — give -o the path of the file itself"),
    ("notes.txt", _text_file, "out/notes.txt is not an SQLite database — give -o a new file or an earlier catalog.db"),
    ("sub", Path.mkdir, "out/sub is a folder — give -o a file name, e.g. out/sub/catalog.db"),
], ids=["fifo", "character-device", "symbolic-link", "not-a-database", "folder"])
def test_output_that_is_not_a_database_file_is_refused_untouched(name, make, message, mini, previous, capsys):
    """A FIFO, a device, a link, a folder or another file at -o stays what it was; the build says why."""
    target = previous.parent / name
    make(target)
    before, database = _snapshot(target), _snapshot(previous)
    assert _refused([str(mini), "-o", str(target)], capsys) == [f"error: {message}; {target} is unchanged"]
    assert _snapshot(target) == before and _snapshot(previous) == database
    assert not [p for p in previous.parent.iterdir() if p.name.endswith(".tmp")]


@pytest.mark.parametrize("output, message", [
    ("mini/alpha.yml", "error: mini/alpha.yml is inside the register folder mini — write the database outside it; "
                       "mini/alpha.yml is unchanged"),
    ("mini/catalog.db", "error: mini/catalog.db is inside the register folder mini — write the database outside it; "
                        "mini/catalog.db was not written"),
], ids=["over-an-area-file", "new-file"])
def test_output_inside_a_register_folder_is_refused(output, message, mini, capsys):
    """`-o catalog/land.yml` overwrote the YAML with SQLite and exited 0; nothing is written into a register folder."""
    before = {p.name: p.read_bytes() for p in mini.iterdir()}
    assert _refused([str(mini), "-o", output], capsys) == [message]
    assert {p.name: p.read_bytes() for p in mini.iterdir()} == before


def test_output_inside_another_register_folder_is_refused(mini, mini_catalog, capsys):
    """A folder holding a register.yml is a register folder even when it is not the one being built."""
    other = Path("other")
    other.mkdir()
    (other / "register.yml").write_text("unit: {}\n", encoding="utf-8")
    assert _refused([str(mini), "-o", "other/catalog.db"], capsys) == [
        "error: other/catalog.db is inside the register folder other — write the database outside it; "
        "other/catalog.db was not written"]


# --- item 23: what the messages say of -o ----------------------------------------------------------

def test_missing_output_folder_is_named_not_a_temporary_file(mini, capsys):
    """`-o nodir/x.db` named a hidden temporary path and called a file that never existed "unchanged"."""
    assert _refused([str(mini), "-o", "nodir/x.db"], capsys) == [
        "error: folder nodir does not exist — create it, or give -o a path in a folder that exists; "
        "nodir/x.db was not written"]
    assert not Path("nodir").exists()


def test_failed_first_build_says_nothing_was_written(mini, capsys):
    """With no previous database, a refused catalogue leaves none, and the last line says so."""
    (mini / "alpha.yml").write_text("area: [\n", encoding="utf-8")
    lines = _refused([str(mini), "-o", "first.db"], capsys)
    assert lines[-1] == "1 error(s); first.db was not written"
    assert sorted(os.listdir(".")) == ["mini"]


# --- item 9: a real full disk -----------------------------------------------------------------------------

def test_full_disk_leaves_the_database_unchanged(mini, previous, capsys, tmp_path):
    """On a tmpfs with room for the previous database but not a second one, SQLite's write fails for real."""
    size = previous.stat().st_size
    with small_disk(tmp_path / "disk", size + 64 * 1024) as disk:
        target = disk / "catalog.db"
        target.write_bytes(previous.read_bytes())
        before = _snapshot(target)
        assert _refused([str(mini), "-o", str(target)], capsys) == [
            f"error: cannot write {target}: database or disk is full — {ADVICE}; {target} is unchanged"]
        assert _snapshot(target) == before
        assert os.listdir(disk) == ["catalog.db"]


def test_file_size_limit_leaves_the_database_unchanged(mini, previous):
    """Under `ulimit -f` the kernel refuses the write (EFBIG) and SQLite reports a disk I/O error: it was
    a traceback; now one line, exit 1, the database as it was. Needs no privilege, unlike a tmpfs."""
    before = _snapshot(previous)
    done = run_build([str(mini), "-o", str(previous)], Path.cwd(), max_file_bytes=previous.stat().st_size // 2)
    assert (done.returncode, done.stdout) == (1, "")
    assert done.stderr.splitlines() == [f"error: cannot write {previous}: disk I/O error — {ADVICE}; "
                                        f"{previous} is unchanged"]
    assert _snapshot(previous) == before
    assert os.listdir(previous.parent) == ["catalog.db"]


# --- item 14: permissions and owner of the database kept --------------------------------------------------

@pytest.mark.parametrize("mode", [0o644, 0o640, 0o604, 0o600])
def test_rebuild_keeps_the_permissions_of_the_database(mode, mini, previous, capsys):
    """A database a web server reads as another user stays readable after a rebuild (it became 0600)."""
    previous.chmod(mode)
    assert main([str(mini), "-o", str(previous)]) == 0
    assert stat.S_IMODE(previous.stat().st_mode) == mode


def test_rebuild_keeps_the_owner_where_allowed(mini, previous, capsys):
    """Run as root (a deploy script), the rebuilt database keeps the owner and group it had."""
    if os.geteuid() != 0:
        pytest.skip("only root may give a file to another user")
    os.chown(previous, 65534, 65534)
    assert main([str(mini), "-o", str(previous)]) == 0
    assert (previous.stat().st_uid, previous.stat().st_gid) == (65534, 65534)


def test_new_database_gets_the_mode_of_any_new_file(mini, capsys):
    """A first build makes the database as any program makes a file: 0666 less the umask."""
    old = os.umask(0o027)
    try:
        assert main([str(mini), "-o", "new.db"]) == 0
    finally:
        os.umask(old)
    assert stat.S_IMODE(Path("new.db").stat().st_mode) == 0o640


# --- item 15: signals part-way, and what a SIGKILL leaves --------------------------------------------------

@pytest.fixture(scope="module")
def many_registers(tmp_path_factory) -> list[Path]:
    """Enough synthetic registers that a build takes a few seconds: time to stop it part-way."""
    return synth.generate(CATALOG, tmp_path_factory.mktemp("many") / "units", 60)


def _temporary_files(folder: Path) -> list[Path]:
    return sorted(p for p in folder.iterdir() if p.name.startswith(".catalog.db.") and p.name.endswith(".tmp"))


def _start_build(folders: list[Path], output: Path) -> subprocess.Popen:
    """A real build in its own process, returned once its temporary database has data in it."""
    process = subprocess.Popen([sys.executable, str(PROJECT_ROOT / "build.py"), *map(str, folders), "-o", str(output)],
                               cwd=PROJECT_ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline and process.poll() is None:
        if any(p.stat().st_size > 0 for p in _temporary_files(output.parent) if p.exists()):
            return process
        time.sleep(0.01)
    process.kill()
    pytest.fail(f"the build ended or wrote nothing within 60 s: {process.communicate()}")


@pytest.mark.parametrize("signum", [signal.SIGTERM, signal.SIGHUP, signal.SIGINT], ids=["TERM", "HUP", "INT"])
def test_signal_part_way_removes_the_temporary_file(signum, many_registers, tmp_path):
    """SIGTERM (a service stopping), SIGHUP (a closed terminal) or Ctrl-C while writing: the temporary
    file goes, the previous database stays, one line says so."""
    output = tmp_path / "catalog.db"
    assert main([str(many_registers[0]), "-o", str(output)]) == 0
    before = _snapshot(output)
    process = _start_build(many_registers, output)
    process.send_signal(signum)
    out, err = process.communicate(timeout=60)
    name = "" if signum == signal.SIGINT else f" by {signal.Signals(signum).name}"
    assert (process.returncode, err.splitlines()) == (1, [f"interrupted{name}; {output} is unchanged"])
    assert _snapshot(output) == before
    assert os.listdir(tmp_path) == ["catalog.db"]


def test_temporary_file_of_a_killed_build_is_removed_by_the_next(many_registers, tmp_path):
    """SIGKILL cannot be caught: its temporary file stays until the next build of the same output removes it."""
    output = tmp_path / "catalog.db"
    process = _start_build(many_registers, output)
    process.kill()
    process.communicate(timeout=60)
    left = _temporary_files(tmp_path)
    assert len(left) == 1
    assert main([str(many_registers[0]), "-o", str(output)]) == 0
    assert os.listdir(tmp_path) == ["catalog.db"]


def test_temporary_file_another_build_is_writing_is_left_alone(many_registers, tmp_path):
    """A temporary file whose writer still runs (it holds the lock) is not another build's to remove."""
    output = tmp_path / "catalog.db"
    busy = tmp_path / ".catalog.db.abcd1234.tmp"
    with open(busy, "wb") as held:
        fcntl.flock(held, fcntl.LOCK_EX)
        assert main([str(many_registers[0]), "-o", str(output)]) == 0
        assert busy.exists()
    assert main([str(many_registers[0]), "-o", str(output)]) == 0
    assert os.listdir(tmp_path) == ["catalog.db"]


#: A build whose first worker process is blocked in C for ever, as a worker forked while a thread of the
#: parent held a lock can be (it happened under pytest): only a signal's default action can end it.
BLOCKED_WORKER = """
import ctypes, multiprocessing, sys
from riskcatalog import cli, schedule
libc = ctypes.CDLL(None)
mutex = ctypes.create_string_buffer(64)  # a zeroed pthread_mutex_t is an unlocked one
libc.pthread_mutex_lock(mutex)
first = multiprocessing.Value("i", 0)

def block_the_first_worker():
    with first.get_lock():
        first.value += 1
        mine = first.value
    if mine == 1:
        libc.pthread_mutex_lock(mutex)  # glibc retries the wait after every signal a Python handler catches

pool = multiprocessing.Pool
schedule.multiprocessing.Pool = lambda n: pool(n, initializer=block_the_first_worker)
schedule.WORKERS = 3
sys.exit(cli.main(sys.argv[1:]))
"""


def test_a_worker_blocked_in_c_does_not_hang_the_build(many_registers, tmp_path):
    """The build stops its worker processes with SIGTERM when done; the handler it sets for SIGTERM must not
    reach them, or one blocked in C never ends and the build waits for it for ever."""
    output = tmp_path / "catalog.db"
    process = subprocess.Popen([sys.executable, "-c", BLOCKED_WORKER, *map(str, many_registers[:8]), "-o", str(output)],
                               cwd=PROJECT_ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                               start_new_session=True)
    try:
        out, err = process.communicate(timeout=60)
    except subprocess.TimeoutExpired:
        os.killpg(process.pid, signal.SIGKILL)  # the build and its blocked worker
        process.communicate()
        pytest.fail("the build waited for ever for a worker blocked in C")
    assert (process.returncode, err) == (0, "")
    assert out.endswith(f"built {output}\n")
