"""Each register's revisions (修订记录): the changes to its entries since its baseline, read from git.

What counts as a revision. A register declares its baseline in register.yml (`baseline`): the
state it was settled in (登记确定), with the date the register gives it. Its revisions are the
commits after the baseline on its main line (git's first-parent history) that changed its
entries; each commit's message, in Chinese, is the revision note. What came before (setting the
register up, importing it, or, for the shipped register, developing this software) is not a
revision. The baseline is the commit `baseline.commit` names, or else the commit that last
changed `baseline`; a register without one counts from its first commit.

How git is read, so that nothing a commit holds can pose as structure, and nothing is lost:
- `git log --first-parent --raw` lists the commits of the main line that changed the folder and
  each file's new blob, printing nothing but commit ids and raw diff lines, each field ended by a
  NUL. A merge is compared with its first parent, like any commit: what it brought in, and what
  was changed while resolving it. The folder at each commit follows from the one before.
- Only the register's own files are read (register.yml, sources.yml and the area files
  register.yml names at that commit), and no blob over yamlload.MAX_FILE_BYTES (`git cat-file
  --batch-check` gives the sizes first).
- Each revision's commit object gives its author, committer date and message, parsed from git's
  own layout (riskcatalog.git.commit_object); subject and body are stored bounded, the full text
  stays in git. One `git cat-file --batch` reads every object (riskcatalog.git.Batch).

Each revision is described by the code that describes `build.py diff` (riskcatalog.diff.compare
and entry_changes), then worded in Chinese: the entry, the field by its Chinese name, old → new,
levels with the ratings that moved, regulations by their titles, long text by its changed words
(riskcatalog.words). Only the entries a commit touched are parsed, and of those only the fields
it changed (riskcatalog.pieces), so a long history costs less than the rest of the build.

A folder outside git, or one no commit touched, has no history and says so; a shallow clone whose
history stops before the baseline has the revisions after its boundary, and says so too.
"""

from __future__ import annotations

import datetime
import logging
import hashlib
import json
import re
import sqlite3
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath

from . import diff, fields, git, pieces, vocab, words, yamlload
from .catalog import REGISTER_FILE, SOURCES_FILE, stored_folder
from .diff import DiffError, Entries, FieldChange, compare, entries, entries_of, entry_changes
from .errors import UNSAFE
from .git import GitError
from .tables import as_row

LOG = logging.getLogger("riskcatalog.history")

#: The kind of entry each list of ids names: a change names the entries it gained and lost.
NAMED_BY_IDS = {"measures": "measure", "sources": "source", "areas": "area"}
#: The ratings a level follows from: shown beside a change of level.
RATINGS = ("likelihood", "impact")

#: What is kept of a commit: its object (a message past this is not read), its subject, body and
#: author in characters; and of a changed value, the characters stored (the rest stays in git).
COMMIT_BYTES = 256 * 1024
SUBJECT_CHARS, BODY_CHARS, AUTHOR_CHARS, VALUE_CHARS = 200, 2000, 100, 20000
#: A feed entry's title is the entry's id and its main change: this many characters of the change.
HEADLINE_CHARS = 60


@dataclass
class Commit:
    """A revision: who, when, why (bounded), and each of the register's files before and after."""

    sha: str
    date: str  # the committer's date and time, in the committer's zone (ISO 8601)
    author: str
    subject: str
    body: str
    truncated: bool = False  # whether the subject or body was cut to its bound
    files: list[tuple[str, str, str]] = field(default_factory=list)  # (path, old blob, new blob)

    @property
    def utc(self) -> str:
        """The committer date in UTC: committers' time zones differ, and dates in one zone sort as text."""
        return datetime.datetime.fromisoformat(self.date).astimezone(datetime.timezone.utc).isoformat()


@dataclass
class Baseline:
    """The state a register's revisions count from (登记确定)."""

    day: str | None  # the date the register gives it, or else its commit's
    sha: str | None  # its commit, where git has it
    note_zh: str | None = None
    note_en: str | None = None
    risks: int | None = None  # the totals register.yml declared in that state
    measures: int | None = None


#: One changed entry of a commit, as riskcatalog.diff.entry_changes gives it: section, entry, changed fields.
Described = tuple[str, dict, list[FieldChange]]

#: The code a change's description comes from: a build reuses the rows an earlier build wrote with
#: the same code (its database is the one being replaced), and describes only the newer commits.
FORMAT = hashlib.sha256(b"".join(Path(module.__file__).read_bytes() for module in (diff, fields, git, pieces, vocab,
                                                                                    words, yamlload))
                        + Path(__file__).read_bytes()).hexdigest()[:16]


@dataclass
class Recorded:
    """One revision of a register and what it changed: described now, or the rows an earlier
    build wrote for it."""

    commit: Commit
    changed: list[Described] = field(default_factory=list)
    invalid: int = 0  # file versions it left that could not be read (not valid YAML, or over the size limit)
    rows: tuple[dict, list[dict]] | None = None  # (its commits row, its changes rows) from an earlier build

    @property
    def revised(self) -> bool:
        """Whether it changed an entry: a commit that changed a comment, the layout or the baseline's note
        is no revision."""
        return bool(self.rows[0]["changes"] if self.rows else self.changed)

    @property
    def day(self) -> str:
        """Its committer's day (an earlier build's row has it: its commit was not read again)."""
        return self.rows[0]["day"] if self.rows else self.commit.date[:10]

    @property
    def unreadable(self) -> int:
        """The file versions it left that could not be read."""
        return self.rows[0]["invalid"] if self.rows else self.invalid


@dataclass
class History:
    """A register's history: its baseline and its revisions (oldest first), or why there is none."""

    status: str  # recorded, shallow (a shallow clone's revisions after its boundary only), absent, or off
    note_zh: str
    note_en: str
    commits: list[Recorded] = field(default_factory=list)
    path: str | None = None  # the folder's path in its repository
    reused_unit: str | None = None  # the unit of the rows reused from an earlier build, if any were
    baseline: Baseline | None = None

    def rows(self, unit: str, names: dict[tuple[str, str], str] | None = None) -> dict[str, list[dict]]:
        """Rows of unit_history, commits and changes (riskcatalog.tables), keyed for the register's unit;
        names are the titles of the register's entries by (kind, id), for changes that name them."""
        names = {**_described_names(self), **(names or {})}
        days = [recorded.day for recorded in self.commits if recorded.revised]
        found = {"unit_history": [{"unit": unit, "status": self.status, "note_zh": self.note_zh,
                                   "note_en": self.note_en, "commits": len(days),
                                   "first_day": min(days, default=None), "last_day": max(days, default=None),
                                   "path": self.path, "format": FORMAT}],
                 "commits": [_baseline_row(unit, self.baseline, names)] if self.baseline and self.baseline.day else [],
                 "changes": []}
        for recorded in self.commits:
            commit = recorded.commit
            if recorded.rows:
                commit_row, change_rows = recorded.rows
                found["commits"].append(commit_row)
                found["changes"] += [{**row, "id": None} for row in change_rows]  # ids follow this build's order
                continue
            if not recorded.revised and not recorded.invalid:
                continue
            rows = [row for described in recorded.changed for row in _change_rows(unit, commit, *described, names)]
            found["commits"].append(_clean_row({
                "key": f"{unit}-{commit.sha}", "unit": unit, "sha": commit.sha, "kind": "revision",
                "date": commit.utc, "day": commit.date[:10], "author": commit.author, "subject": commit.subject,
                "body": commit.body, "truncated": int(commit.truncated), "changes": len(rows),
                "invalid": recorded.invalid}))
            found["changes"] += rows
        return found


def table_rows(found: History, folder: Path, unit: str, titles: dict[tuple[str, str], str]) -> dict[str, list[tuple]]:
    """A register's history as rows of unit_history, commits and changes, in the tables' column order; titles
    (the register's, riskcatalog.compile) name the entries its changes name."""
    if found.reused_unit not in (None, unit):  # the unit was renamed: the reused rows have the old keys
        found = read(folder)
    return {table: [as_row(table, row) for row in records] for table, records in found.rows(unit, titles).items()}


OFF = History("off", "构建时未读取修订记录（--no-history）。", "History was not read for this build (--no-history).")
UNTOUCHED = History("absent", "尚无提交涉及此目录，没有修订记录。",
                    "No history: no commit has touched this folder's YAML files yet.")


def untouched(folders: list[Path]) -> set[Path]:
    """The folders among many that no commit touched, found with one `git log` per parent folder
    rather than one per register (a city's thousands); a parent outside git tells nothing."""
    found: set[Path] = set()
    by_parent: dict[Path, list[Path]] = {}
    for folder in folders:
        by_parent.setdefault(Path(folder).resolve().parent, []).append(folder)
    for parent, group in by_parent.items():
        try:
            top = Path(git.run(parent, "rev-parse", "--show-toplevel").strip()).resolve()
            names = git.run(parent, "log", "-z", "--format=", "--name-only", "--no-renames", "--", ".")
        except GitError:  # not in a repository (each register may be one): each is asked on its own
            continue
        touched = {(top / name).parent for name in names.split("\0") if name.endswith(".yml")}
        found.update(folder for folder in group if Path(folder).resolve() not in touched)
    return found


#: A register folder outside any git repository (or where git cannot run).
NOT_IN_GIT = History("absent", "未纳入版本管理：本目录不在 git 仓库中，没有修订记录。",
                     "Not under version control: the register's folder is not in a git repository, so no revisions "
                     "are recorded.")


def read(folder: Path, previous: Path | None = None) -> History:
    """The baseline and revisions of one register folder, or why it has none; the revisions a previous
    build's database described with the same code are taken from it."""
    try:
        repository = _Repository(folder)
    except GitError as error:  # what git said is for the builder's log, never for readers
        LOG.info("%s: no history: %s", folder, _first_line(error))
        return NOT_IN_GIT
    if not repository.head:
        return UNTOUCHED
    try:
        unit, known = _reusable(previous, folder, repository.path) if previous else (None, {})
        with git.Batch(repository.root) as batch:  # one process reads every object: see git.Batch
            walk = _walk(repository, batch, _declared(folder), known)
            if walk is None:
                return UNTOUCHED
            if walk.refused:
                return History("absent", *walk.refused, path=repository.path, baseline=walk.baseline)
            todo = [c for c in walk.revisions if c.sha not in known]
            described = _describe(todo, _Texts(batch, todo, walk), walk.versions)
    except GitError as error:
        LOG.warning("%s: reading its history failed: %s", folder, _first_line(error))
        return History("absent", "读取修订记录失败，本次构建没有修订记录。",
                       "No history: the register's revisions could not be read for this build.")
    history = History("recorded", "", "", [described.get(c.sha) or Recorded(c, rows=known[c.sha])
                                           for c in reversed(walk.revisions)], repository.path,
                      unit if len(todo) < len(walk.revisions) else None, walk.baseline)
    _note(history, walk)
    return history


def _note(history: History, walk: _Walk) -> None:
    """What the history covers, in unit_history's note: the baseline, the revisions and their dates,
    file versions that could not be read, and what a shallow clone lacks."""
    baseline = history.baseline
    since_zh = f"自 {baseline.day} 登记确定（{fields.REGISTER['baseline'].zh}）起算" if baseline and baseline.day else "自基线起算"
    since_en = f"counted from the baseline, the register as settled on {baseline.day}" if baseline and baseline.day \
        else "counted from the baseline"
    count = [r for r in history.commits if r.revised]
    if count:
        first, last = count[0].day, count[-1].day
        history.note_zh = f"修订记录{since_zh}：{len(count)} 次修订，{first} 至 {last}。"
        history.note_en = f"Revisions {since_en}: {len(count)}, from {first} to {last}."
    else:
        history.note_zh = f"修订记录{since_zh}：尚无修订。"
        history.note_en = f"Revisions {since_en}: none yet."
    if walk.pending:
        history.note_zh += "register.yml 中的基线已修改但尚未提交：提交后，此后的修改才计为修订。"
        history.note_en += " The baseline in register.yml was changed and not yet committed: commit it."
    invalid = sum(r.unreadable for r in history.commits)
    if invalid:
        history.note_zh += f"其中 {invalid} 个文件版本无法读取（不是有效的 YAML，或超过大小上限），其修改未列入。"
        history.note_en += f" {invalid} file versions could not be read (not valid YAML, or over the size limit); " \
                           f"their changes are not listed."
    if walk.shallow_since:
        history.status = "shallow"
        history.note_zh = (f"浅克隆：只取回了 {walk.shallow_since} 以后的提交，基线以后更早的修订不在本库中；"
                           f"运行 git fetch --unshallow 后重新构建可得到完整记录。" + history.note_zh)
        history.note_en = (f"Shallow clone: only the commits after {walk.shallow_since} were fetched, so revisions "
                           f"since the baseline before then are missing; run git fetch --unshallow and build again "
                           f"for all of them. " + history.note_en)


def _reusable(previous: Path, folder: Path, path: str) -> tuple[str | None, dict[str, tuple[dict, list[dict]]]]:
    """The revisions a previous build of this folder described with this code: its unit, and
    {commit id: (commits row, changes rows)}. Nothing from a database without them."""
    try:
        conn = sqlite3.connect(f"file:{previous}?mode=ro", uri=True)
    except sqlite3.Error:
        return None, {}
    conn.row_factory = sqlite3.Row
    try:
        found = conn.execute("select u.id from units u join unit_history h on h.unit = u.id "
                             "where u.folder = ? and h.path = ? and h.format = ?",
                             (stored_folder(folder), path, FORMAT)).fetchone()
        if found is None:
            return None, {}
        known = {row["key"]: (dict(row), []) for row in conn.execute(
            "select * from commits where unit = ? and kind = 'revision'", found)}
        for row in conn.execute("select * from changes where unit = ? order by id", found):
            known[row["commit_key"]][1].append(dict(row))
    except (sqlite3.Error, KeyError):  # a database from before the history, or not a catalogue
        return None, {}
    finally:
        conn.close()
    return found[0], {commit["sha"]: (commit, changes) for commit, changes in known.values()}


def _first_line(error: Exception) -> str:
    return (str(error).strip() or type(error).__name__).splitlines()[0]


# ---- Reading git ---------------------------------------------------------------------------------------------


class _Repository:
    """The repository a register folder is in: its root, the folder's path there, HEAD, and in a shallow
    clone its boundary commits (their parents were not fetched)."""

    def __init__(self, folder: Path):
        answer = git.run(folder, "rev-parse", "--show-toplevel", "--is-shallow-repository", "--git-path",
                         "shallow").splitlines()
        if len(answer) != 3:
            raise GitError("error: git rev-parse: a folder name holds a line break")
        root, shallow, shallow_file = answer
        self.root = Path(root).resolve()
        self.path = Path(folder).resolve().relative_to(self.root).as_posix()
        self.path = "" if self.path == "." else self.path
        if "\n" in self.path or "\r" in self.path:
            raise GitError("error: the register folder's name holds a line break, which git's batch reading "
                           "cannot ask for")
        boundaries = Path(folder) / shallow_file
        self.boundaries = set(boundaries.read_text().split()) if shallow == "true" and boundaries.is_file() else set()
        try:
            self.head: str | None = git.run(self.root, "rev-parse", "--verify", "--quiet", "HEAD^{commit}").strip()
        except GitError:  # a repository without commits yet
            self.head = None

    def log(self, revisions: str) -> list[tuple[str, dict[str, str]]]:
        """The commits of the first-parent history of revisions that changed the folder, newest first, each
        with what it did to the folder's YAML files: {name: its new blob, "0" if deleted or no longer a file}.
        A merge's changes are those against its first parent.

        git prints only commit ids and its raw diff lines, each field ended by a NUL, read in order (a path
        is whatever follows a diff line): nothing a commit holds can pass as structure."""
        pathspec = f":(top,literal){self.path}" if self.path else ":(top)."
        args = ["log", "--first-parent", "-z", "--raw", "--no-abbrev", "--no-renames", "--no-color", "--format=%H",
                revisions, "--", pathspec]
        try:
            output = git.run_bytes(self.root, *args[:1], "--diff-merges=first-parent", *args[1:])
        except GitError:  # git before 2.31: -m with --first-parent compares a merge with its first parent
            output = git.run_bytes(self.root, *args[:1], "-m", *args[1:])
        fields = output.split(b"\0")
        found: list[tuple[str, dict[str, str]]] = []
        at = 0
        while at < len(fields):
            field = fields[at].lstrip(b"\n").decode("ascii", "replace")
            at += 1
            if field.startswith(":") and found and at < len(fields):  # ":old-mode new-mode old-id new-id status"
                meta, path = field[1:].split(" "), fields[at].decode("utf-8", "surrogateescape")
                at += 1
                folder, _, name = path.rpartition("/")
                if folder == self.path and name.endswith(".yml") and len(meta) == 5:
                    found[-1][1][name] = meta[3] if meta[1].encode() in git.FILE_MODES else "0"
            elif git.OBJECT_ID.fullmatch(field):
                found.append((field, {}))
        return found

    def tree(self, batch: git.Batch, revision: str) -> dict[str, str]:
        """The folder's YAML files at a revision: {name: blob} ({} where it is not there)."""
        (_, kind, data), = batch.objects([self.tree_name(revision)])
        files = git.tree_files(data, len(self.head) // 2) if kind == "tree" else {}
        return {name: blob for name, blob in files.items() if name.endswith(".yml")}

    def tree_name(self, revision: str) -> str:
        """How git names the folder at a revision."""
        return f"{revision}:{self.path}" if self.path else f"{revision}^{{tree}}"

    def file_path(self, name: str) -> str:
        """A file of the folder, by its path in the repository."""
        return f"{self.path}/{name}" if self.path else name


#: The baseline as register.yml gives it, compared from commit to commit: (date, commit). A state
#: without register.yml, and one git does not have (before a shallow clone's boundary), differ from any.
ABSENT, UNKNOWN = ("absent",), ("unknown",)


@dataclass
class _Version:
    """What history needs of one version of register.yml: its baseline, areas and totals."""

    baseline: tuple
    areas: list[str]
    totals: dict


@dataclass
class _Walk:
    """The register's revisions and baseline, as found in git."""

    revisions: list[Commit]  # newest first, each with its changed files
    baseline: Baseline | None
    versions: dict[str, list[str]]  # path -> its blobs, newest first (where to look past an unreadable one)
    too_big: set[str]  # blobs over the size limit: never read
    texts: dict[str, bytes]  # blobs read already (the versions of register.yml)
    parser: pieces.Parser = field(default_factory=pieces.Parser)  # what was parsed of them, kept for the rest
    shallow_since: str | None = None  # a shallow clone's boundary day, when the baseline lies beyond it
    pending: bool = False  # the working tree's baseline differs from the last commit's: no revisions yet
    refused: tuple[str, str] | None = None  # why there are no revisions: a baseline commit not found


def _declared(folder: Path) -> dict:
    """The working tree's register.yml (validated by the build): its baseline and unit, or nothing."""
    doc, _ = yamlload.load_file(Path(folder) / REGISTER_FILE, REGISTER_FILE)
    return doc.data if doc is not None and isinstance(doc.data, dict) else {}


def _walk(repository: _Repository, batch: git.Batch, declared: dict, known: dict) -> _Walk | None:
    """The revisions after the register's baseline, and the baseline; None if no commit touched the folder.
    The commits an earlier build described (known) are not read again."""
    baseline = declared.get("baseline") if isinstance(declared.get("baseline"), dict) else {}
    wanted = _baseline_key(baseline)
    named = _named_commit(repository, str(baseline["commit"])) if baseline.get("commit") else None
    if baseline.get("commit") and named is None and not repository.boundaries:
        return _Walk([], _declared_baseline(baseline, None, declared), {}, set(), {}, refused=(
            f"register.yml 的 baseline.commit（{baseline['commit']}）不是当前分支主线上的提交，修订记录无从起算："
            f"改为主线上的提交编号，或删去 commit，从设定基线的那次提交起算。",
            f"No history: baseline.commit in register.yml ({baseline['commit']}) is not a commit of the current "
            f"branch's main line; give one that is, or remove it to count from the commit that set the baseline."))
    logged = repository.log(f"{named}..HEAD" if named else "HEAD")
    if not logged and not named:
        return None
    listed = [sha for sha, _ in logged]
    states = _folder_states(repository, batch, logged, named)
    sizes = git.sizes(repository.root, sorted({blob for state in states if state for blob in state.values()}))
    too_big = {blob for blob, size in sizes.items() if size > yamlload.MAX_FILE_BYTES}
    parser = pieces.Parser()
    texts, versions = _register_versions(batch, states, too_big, parser)
    found = len(listed) if named else None if baseline.get("commit") else _baseline_index(versions, wanted)
    beyond = found is None  # the baseline lies beyond a shallow clone's boundary: what came after that
    found = len(listed) - 1 if beyond else found
    pending = versions[0].baseline != wanted  # the working tree's baseline is not HEAD's
    revisions = [] if pending else [Commit(sha, "", "", "", "") for sha in listed[:found]]
    for n, revision in enumerate(revisions):
        revision.files = _changed_files(repository, states[n + 1], versions[n + 1], states[n], versions[n], too_big)
    revisions = [r for r in revisions if r.files]  # commits that changed only other files are no revisions
    baseline_sha = None if pending or beyond else named or listed[found]
    # the commits to describe, and the one that dates the baseline (or the boundary past which it lies)
    read = _commits(batch, [r.sha for r in revisions if r.sha not in known] +
                    ([baseline_sha] if baseline_sha else listed[-1:]))
    for revision in revisions:
        if revision.sha in read:
            _fill(revision, read[revision.sha])
    walk = _Walk(revisions, _declared_baseline(baseline, None if beyond else versions[found], declared), {}, too_big,
                 texts, parser, pending=pending)
    walk.baseline.sha = baseline_sha
    if beyond:
        walk.shallow_since = _day(read[listed[-1]])
    elif not walk.baseline.day and baseline_sha:
        walk.baseline.day = _day(read[baseline_sha])
    for state in states[:found + 1]:  # each file's blobs, newest first, down to the baseline
        for name, blob in (state or {}).items():
            walk.versions.setdefault(repository.file_path(name), []).append(blob)
    return walk


def _folder_states(repository: _Repository, batch: git.Batch, logged: list[tuple[str, dict[str, str]]],
                   named: str | None) -> list[dict[str, str] | None]:
    """The folder's YAML files ({name: blob}) after each listed commit, newest first, then before the
    oldest: the named baseline's state, nothing (the oldest made the folder), or None (unknown) past a
    shallow clone's boundary. Each commit's state follows from the one before and what it changed."""
    listed = [sha for sha, _ in logged]
    states: list[dict[str, str] | None] = [repository.tree(batch, named) if named else
                                           None if listed and listed[-1] in repository.boundaries else {}]
    for _, changed in reversed(logged):
        state = {**(states[0] or {}), **changed}
        states.insert(0, {name: blob for name, blob in state.items() if not _absent(blob)})
    return states


def _day(commit: git.CommitObject) -> str:
    """A commit's day in its committer's time zone."""
    return commit.committed.date().isoformat() if commit.committed else "1970-01-01"


def _baseline_key(baseline: object) -> tuple:
    """What identifies a baseline from one version of register.yml to the next: its date and commit."""
    if not isinstance(baseline, dict):
        return (None, None)
    return (str(baseline.get("date")) if baseline.get("date") else None,
            str(baseline.get("commit")) if baseline.get("commit") else None)


def _named_commit(repository: _Repository, name: str) -> str | None:
    """The commit baseline.commit names, if it is on HEAD's first-parent history."""
    try:
        sha = git.run(repository.root, "rev-parse", "--verify", "--quiet", f"{name}^{{commit}}").strip()
    except GitError:
        return None
    if not git.OBJECT_ID.fullmatch(sha) or sha not in git.run(repository.root, "rev-list", "--first-parent",
                                                               "HEAD").split():
        return None
    return sha


def _register_versions(batch: git.Batch, states: list, too_big: set[str],
                       parser: pieces.Parser) -> tuple[dict, list[_Version]]:
    """register.yml in each state (newest first): its baseline, areas and totals. A version that cannot be
    read keeps the areas and baseline of the one before it, so a broken commit does not look like a change."""
    blobs = list(dict.fromkeys(state[REGISTER_FILE] for state in states
                               if state and REGISTER_FILE in state and state[REGISTER_FILE] not in too_big))
    texts = dict(batch.blobs(blobs))
    parsed = {blob: _register_version(text, parser) for blob, text in texts.items()}
    versions: list[_Version] = []
    older = _Version(ABSENT, [], {})
    for state in reversed(states):
        if state is None:
            version = _Version(UNKNOWN, [], {})
        elif REGISTER_FILE not in state:
            version = _Version(ABSENT, [], {})
        else:
            version = parsed.get(state[REGISTER_FILE]) or older
        versions.insert(0, version)
        older = version
    return texts, versions


def _register_version(text: bytes, parser: pieces.Parser) -> _Version | None:
    """What history needs of one version of register.yml, or None if it is not valid YAML."""
    try:
        data = _register_data(REGISTER_FILE, text, parser)
    except DiffError:
        return None
    areas = data.get("areas")
    areas = [a for a in areas if isinstance(a, str) and _is_slug(a)] if isinstance(areas, list) else []
    totals = data.get("totals") if isinstance(data.get("totals"), dict) else {}
    return _Version(_baseline_key(data.get("baseline")), areas, totals)


def _register_data(path: str, text: bytes, parser: pieces.Parser) -> dict:
    """A version of register.yml, each of its top-level keys parsed once in the whole history (riskcatalog.pieces);
    DiffError if it is not valid YAML or not a mapping."""
    try:
        return parser.document(path, text)
    except pieces.Uncut:  # a layout the cut does not place: read whole
        pass
    except UnicodeDecodeError as error:
        raise DiffError(f"{path}: not valid UTF-8") from error
    try:
        doc, errors = yamlload.load_text(text.decode("utf-8"), path)
    except UnicodeDecodeError as error:
        raise DiffError(f"{path}: not valid UTF-8") from error
    if errors or not isinstance(doc.data, dict):
        raise DiffError("\n".join(map(str, errors)) or f"{path}: not a mapping")
    return doc.data


def _is_slug(text: str) -> bool:
    """An area id as the schema allows it: it names a file of the folder, and nothing else."""
    return text[:1].isascii() and text[:1].islower() and all(c.isascii() and (c.isalnum() or c == "-") for c in text)


def _baseline_index(versions: list[_Version], wanted: tuple) -> int | None:
    """Where the baseline is among the listed commits (newest first): the newest that made register.yml's
    baseline what it is now; None when that lies beyond what git has (a shallow clone)."""
    for n in range(len(versions) - 1):
        if versions[n].baseline == wanted and versions[n + 1].baseline != wanted:
            return None if versions[n + 1].baseline == UNKNOWN else n
    return 0 if versions[0].baseline != wanted else None  # not yet committed: no revisions


def _changed_files(repository: _Repository, before: dict | None, before_version: _Version,
                   after: dict, after_version: _Version, too_big: set[str]) -> list[tuple[str, str, str]]:
    """The register's files a commit changed, (path, old blob, new blob), "0" for a side without it:
    register.yml, sources.yml and the area files register.yml names, on each side as it named them."""
    def own(state: dict | None, version: _Version) -> dict[str, str]:
        names = {REGISTER_FILE, SOURCES_FILE, *(f"{area}.yml" for area in version.areas)}
        return {name: blob for name, blob in (state or {}).items() if name in names}

    old, new = own(before, before_version), own(after, after_version)
    return [(repository.file_path(name), old.get(name, "0"), new.get(name, "0"))
            for name in sorted(old.keys() | new.keys()) if old.get(name) != new.get(name)]


def _commits(batch: git.Batch, shas: list[str]) -> dict[str, git.CommitObject]:
    """The commit objects of shas (each read up to COMMIT_BYTES)."""
    shas = list(dict.fromkeys(shas))
    return {sha: git.commit_object(data) for sha, (_, _, data) in zip(shas, batch.objects(shas, limit=COMMIT_BYTES))}


def _fill(revision: Commit, found: git.CommitObject) -> None:
    """A revision's date, author and message from its commit object; subject and body bounded."""
    committed = found.committed or datetime.datetime.fromtimestamp(0, datetime.timezone.utc)
    revision.date = committed.isoformat()
    paragraphs = _BLANK_LINE.split(found.message.strip("\r\n "), 1)
    subject = _one_line(paragraphs[0])  # git's subject: the first paragraph, on one line
    body = paragraphs[1].strip("\r\n ") if len(paragraphs) > 1 else ""
    revision.subject, cut_subject = _bounded(subject, SUBJECT_CHARS)
    revision.body, cut_body = _bounded(body, BODY_CHARS)
    revision.author = _bounded(_one_line(found.author), AUTHOR_CHARS)[0]
    revision.truncated = cut_subject or cut_body or len(found.message.encode()) >= COMMIT_BYTES


#: Where a message's subject ends: a line with nothing but spaces on it.
_BLANK_LINE = re.compile(r"\r?\n[ \t]*\r?\n")


def _one_line(text: str) -> str:
    """Lines joined by a space, as git joins a subject's; every other character kept (and escaped when
    stored), so that nothing of a message is lost from sight."""
    return re.sub(r"[ \t]*\r?\n[ \t]*", " ", text.strip(" \t\r\n"))


def _declared_baseline(baseline: dict, version: _Version | None, declared: dict) -> Baseline:
    """The baseline as the register declares it, with the totals of the state it names."""
    totals = (version.totals if version and version.totals else None) or declared.get("totals") or {}
    count = lambda key: totals.get(key) if isinstance(totals.get(key), int) else None  # noqa: E731
    return Baseline(str(baseline["date"]) if baseline.get("date") else None, None,
                    baseline.get("note_zh"), baseline.get("note_en"), count("risks"), count("measures"))


def _bounded(text: str, limit: int) -> tuple[str, bool]:
    """text cut to limit characters (with … at the cut), and whether it was cut."""
    return (text, False) if len(text) <= limit else (text[:limit - 1] + "…", True)


class _Texts:
    """The blobs of the revisions' files, streamed from git in the order _describe asks for them: newest
    first, the order git's packs store them in (older versions are deltas of newer ones). A blob over
    the size limit is never read: asking for it is an error, as for a version that is not valid YAML."""

    def __init__(self, batch: git.Batch, commits: list[Commit], walk: _Walk):
        ids = dict.fromkeys(b for c in commits for _, old, new in c.files for b in (new, old)
                            if not _absent(b) and b not in walk.too_big and b not in walk.texts)
        self.batch = batch
        self.too_big = walk.too_big
        self.parser = walk.parser
        self.stream = batch.blobs(list(ids))
        self.found: dict[str, bytes] = dict(walk.texts)

    def get(self, blob: str) -> bytes:
        """A blob's text; empty for the missing side of an added or deleted file."""
        if blob in self.too_big:
            raise DiffError(f"a version of a file is over the {yamlload.MAX_FILE_BYTES // 1048576} MB limit")
        while not _absent(blob) and blob not in self.found:
            got = next(self.stream, None)
            if got is None:  # not among those asked for: a look further back, past an unreadable version
                self.found.update(self.batch.blobs([blob]))
            else:
                self.found[got[0]] = got[1]
        return self.found.get(blob, b"")


def _absent(blob: str) -> bool:
    """The id "0" (or git's all-zero id) of the missing side of an added or deleted file."""
    return not blob.strip("0")


# ---- Describing each revision --------------------------------------------------------------------------------


def _describe(commits: list[Commit], texts: _Texts, versions: dict[str, list[str]]) -> dict[str, Recorded]:
    """What each commit changed, entry by entry, described as `build.py diff` describes it; by commit id.

    Commits come newest first. A file version that cannot be read has no changes of its own, and the
    change that follows it is read from the last readable version (versions: each file's blobs, newest first).
    """
    reader = _Reader(texts, texts.parser)
    described = {}
    for commit in commits:
        recorded = described[commit.sha] = Recorded(commit)
        old_side: Entries = {}
        new_side: Entries = {}
        for path, old, new in commit.files:
            try:
                before, after = reader.sides(path, old, new)
            except DiffError:
                if not reader.readable(path, new):
                    recorded.invalid += 1
                    continue
                older = versions.get(path, [])
                older = older[older.index(new) + 1:] if new in older else []
                old = next((blob for blob in older if reader.readable(path, blob)), "0")
                before, after = reader.sides(path, old, new)
            old_side.update(before)
            new_side.update(after)
        recorded.changed = _without_baseline(entry_changes(compare(old_side, new_side)))
    for commit in commits:
        commit.files = []  # read: no need to carry them back from a worker process
    return described


def _without_baseline(changed) -> list[Described]:
    """The changes but those of register.yml's baseline: it says where revisions start, and is none."""
    found = []
    for section, item, fields in changed:
        kept = [change for change in fields if change.field.partition(".")[0] != "baseline"]
        if kept or section != "changed":
            found.append((section, item, kept))
    return found


class _Reader:
    """The entries a change to one file touched, before and after, from the blobs' texts
    (riskcatalog.pieces): a file's versions are cut once each, and only their differing pieces parsed."""

    def __init__(self, texts: _Texts, parser: pieces.Parser | None = None):
        self.texts = texts
        self.cuts: dict[str, dict[str, pieces.Cut | None]] = {}  # path -> {blob: its cut}, the last few
        self.parser = parser or pieces.Parser()
        self.whole: dict[tuple[str, str], Entries] = {}  # (path, blob) -> entries of a file read whole

    def sides(self, path: str, old: str, new: str) -> tuple[Entries, Entries]:
        """The entries a change from blob old to blob new touched, as they were and are; DiffError if unreadable."""
        if PurePosixPath(path).name != REGISTER_FILE:  # the register is one entry: read by its keys, whole
            try:
                return self._changed(path, old, new)
            except pieces.Uncut:
                pass
        return self._whole(path, old), self._whole(path, new)

    def _changed(self, path: str, old: str, new: str) -> tuple[Entries, Entries]:
        kept = self.cuts.setdefault(path, {})
        base = old if kept.get(old) else new  # a version cut before: the other is cut around their differences
        if not kept.get(base):
            kept[base] = pieces.cut(self.texts.get(base))
        other = new if base == old else old
        kept[other], gone, come = pieces.recut(kept[base], self.texts.get(other))
        while len(kept) > 3:  # a version serves the change after it and the one before it
            del kept[next(iter(kept))]
        before, after = (gone, come) if base == old else (come, gone)
        return self.parser.entries(path, before), self.parser.entries(path, after)

    def readable(self, path: str, blob: str) -> bool:
        """Whether a version of a file can be read: within the size limit, and valid YAML."""
        try:
            self._whole(path, blob)
        except DiffError:
            return False
        return True

    def _whole(self, path: str, blob: str) -> Entries:
        if (path, blob) not in self.whole:
            text = self.texts.get(blob)
            if not text:
                self.whole[(path, blob)] = {}
            elif PurePosixPath(path).name == REGISTER_FILE:
                self.whole[(path, blob)] = entries_of(_register_data(path, text, self.parser), path)
            else:
                try:
                    self.whole[(path, blob)] = entries(text.decode("utf-8"), path)
                except UnicodeDecodeError as error:
                    raise DiffError(f"{path}: not valid UTF-8") from error
        return self.whole[(path, blob)]


# ---- Rows: each change in Chinese ----------------------------------------------------------------------------


def _described_names(history: History) -> dict[tuple[str, str], str]:
    """The titles of the entries the revisions themselves name (a regulation since removed still has one)."""
    return {(item["kind"], item["id"]): item["title"] for recorded in history.commits
            for _, item, _ in recorded.changed if item.get("title")}


def _baseline_row(unit: str, baseline: Baseline, names: dict) -> dict:
    """The commits row of a register's baseline (登记确定): one row, whatever it took to get there."""
    counts = "、".join(f"{n} {what}" for n, what in ((baseline.risks, "个风险点"), (baseline.measures, "条防控措施"))
                      if n is not None)
    subject = baseline.note_zh or (f"登记确定：{counts}。" if counts else "登记确定。")
    return _clean_row({"key": f"{unit}-baseline", "unit": unit, "sha": baseline.sha, "kind": "baseline",
                       "date": f"{baseline.day}T00:00:00+00:00", "day": baseline.day, "author": names.get(("register",
                       "register")) or unit, "subject": _bounded(subject, SUBJECT_CHARS)[0],
                       "body": _bounded(baseline.note_en or "", BODY_CHARS)[0], "truncated": 0, "changes": 0,
                       "invalid": 0})


def _change_rows(unit: str, commit: Commit, section: str, item: dict, changed: list[FieldChange],
                 names: dict[tuple[str, str], str]) -> list[dict]:
    """The rows of one entry's change: a row for its adding, withdrawal or removal, and one per changed field."""
    kind, file = item["kind"], item["file"]
    area = f"{unit}-{PurePosixPath(file).stem}" if kind in ("risk", "measure", "area", "power") else None
    title = names.get(("register", "register"), unit) if kind == "register" else item["title"]
    base = {"unit": unit, "commit_key": f"{unit}-{commit.sha}", "date": commit.utc, "day": commit.date[:10],
            "kind": kind, "entry": unit if kind == "register" else f"{unit}-{item['id']}", "entry_id": item["id"],
            "title": _bounded(str(title or ""), SUBJECT_CHARS)[0], "area": area, "file": file}
    what = vocab.ENTRY_KINDS.get(kind, (kind,))[0]
    rows = []
    if section in ("added", "removed"):
        said = f"{vocab.CHANGE_KINDS[section][0]}{what}"
        rows.append({**base, "change": section, "summary_zh": said, "headline": said})
    if section == "withdrawn":
        replaced_by = item["replaced_by"]
        said = f"撤销{what}，由 {replaced_by} 替代" if replaced_by else f"撤销{what}，无替代"
        rows.append({**base, "change": "withdrawn", "replaced_by": f"{unit}-{replaced_by}" if replaced_by else None,
                     "summary_zh": said + (f"（{names[(kind, replaced_by)]}）" if (kind, replaced_by) in names else ""),
                     "headline": said})
    ratings = [change for change in changed if change.field in RATINGS]
    for change in changed:
        rows.append({**base, "change": "changed", **_field_row(kind, change, names, ratings)})
    return [_clean_row(row) for row in rows]


def _field_row(kind: str, change: FieldChange, names: dict, ratings: list[FieldChange]) -> dict:
    """One changed field of an entry of a kind: its Chinese name (riskcatalog.fields), old and new value as
    stored and as shown, the changed words of a long text, a line of Chinese and a short headline."""
    label = fields.name_zh(kind, change.field)
    old_text, new_text = shown(kind, change.field, change.old, names), shown(kind, change.field, change.new, names)
    changed_words = words.segments(old_text, new_text) if words.is_long(old_text, new_text) else None
    if _names_entries(kind, change.field) and isinstance(change.old, list) and isinstance(change.new, list):
        what = _list_change(change, names)
        summary, headline = f"{label}：{what}", f"{label} {what}"
    elif changed_words is not None:
        what = words.summary(changed_words)
        summary, headline = f"{label}：{what}", f"{label}修改"
    elif old_text == new_text:  # e.g. only the English of a risk's manifestations changed
        summary, headline = f"{label}：内容修改", f"{label}修改"
    else:
        what = f"{old_text or '（无）'} → {new_text or '（无）'}"
        summary, headline = f"{label}：{what}", f"{label} {what}"
    if change.field == "level" and ratings:
        summary += "（" + "，".join(f"{fields.name_zh(kind, r.field)} {r.old} → {r.new}" for r in ratings) + "）"
    return {"field": change.field, "field_zh": label, "old": _stored(change.old), "new": _stored(change.new),
            "old_text": old_text, "new_text": new_text, "summary_zh": summary,
            "words": json.dumps(changed_words, ensure_ascii=False) if changed_words else None,
            "headline": headline if len(headline) <= HEADLINE_CHARS else f"{label}修改"}


def _list_change(change: FieldChange, names: dict) -> str:
    """A list of ids changed: the entries it gained and lost, by their titles; or its new order."""
    kind = NAMED_BY_IDS[change.field]
    gained = [v for v in change.new if v not in change.old]
    lost = [v for v in change.old if v not in change.new]
    space = "" if kind == "source" else " "  # 增加《…》, 增加 LAND-M12「…」
    parts = ([f"增加{space}{'、'.join(_named(kind, v, names) for v in gained)}"] if gained else []) + \
            ([f"删去{space}{'、'.join(_named(kind, v, names) for v in lost)}"] if lost else [])
    return "；".join(parts) or "顺序调整"


def _named(kind: str, entry_id, names: dict) -> str:
    """An entry as a change names it: a regulation by its title in 《》, an area by its name, a measure
    by its id and title."""
    title = names.get((kind, str(entry_id)))
    if kind == "source":
        return f"《{title}》" if title else f"依据 {entry_id}"
    if kind == "area":
        return title or str(entry_id)
    return f"{entry_id}「{title}」" if title else str(entry_id)


def _names_entries(kind: str, key: str) -> str | None:
    """The kind of entry a field of an entry lists by id (a risk's measures: measure), if it lists them."""
    found = fields.field_of(kind, key)
    return NAMED_BY_IDS.get(key) if found is not None and found.kind == fields.IDS else None


def shown(kind: str, key: str, value, names: dict | None = None) -> str | None:
    """A field's value as a reader sees it: labels for vocabulary ids (二级), regulations by their
    titles, an area file by its area's name, lists joined, a risk's manifestations in Chinese."""
    names = names or {}
    if value is None:
        return None
    found = fields.field_of(kind, key)
    labels = found.vocabulary if found is not None else None
    if labels and isinstance(value, str) and value in labels:
        return labels[value][0]
    if key == "file" and isinstance(value, str):
        return names.get(("area", PurePosixPath(value).stem)) or PurePosixPath(value).stem
    named = _names_entries(kind, key)
    if named in ("source", "area") and isinstance(value, list):  # by title: measures go by their ids
        return "；".join(_named(named, v, names) for v in value)
    if key == "levels" and isinstance(value, list):
        return "；".join(_matrix_level(level) for level in value)
    if isinstance(value, list):
        # a risk's manifestations by their Chinese, a power's steps by their titles
        return "；".join(str(v.get("zh") or v.get("title_zh") or _stored(v)) if isinstance(v, dict) else str(v)
                        for v in value)
    return _stored(value)


def _matrix_level(level) -> str:
    """One level of the risk matrix in words: 一级 15 分起，90 天复评."""
    if not isinstance(level, dict):
        return str(level)
    label = vocab.LEVELS.get(level.get("id"), (str(level.get("id")),))[0]
    return f"{label} {level.get('min_score')} 分起，{level.get('review_days')} 天复评"


def _stored(value) -> str | None:
    """A value as the old and new columns hold it: text as itself, anything else as JSON."""
    return value if value is None or isinstance(value, str) else json.dumps(value, ensure_ascii=False)


def _clean_row(row: dict) -> dict:
    """A row with every text safe to show and to serve in a feed, and no value past VALUE_CHARS: control
    characters and other characters no page or XML may hold written as escapes (\\x07)."""
    texts = [value for value in row.values() if isinstance(value, str)]
    if not _UNCLEAN.search("\n".join(texts)) and max(map(len, texts), default=0) <= VALUE_CHARS:
        return row  # as nearly always: one look at the whole row
    return {key: _clean(value) if isinstance(value, str) else value for key, value in row.items()}


def _clean(text: str) -> str:
    return _UNCLEAN.sub(_escape, _bounded(text, VALUE_CHARS)[0])


#: What no stored text may hold: the unsafe characters (riskcatalog.errors.UNSAFE) and lone surrogates
#: (a file name that is not UTF-8), which XML and SQLite's UTF-8 cannot hold either.
_UNCLEAN = re.compile(f"[{UNSAFE.pattern[1:-1]}\ud800-\udfff]")


def _escape(match: re.Match) -> str:
    char = match[0]
    return "\ufffd" if 0xD800 <= ord(char) <= 0xDFFF else char.encode("unicode_escape").decode("ascii")
