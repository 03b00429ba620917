"""Each register's history from git (修订记录): what every commit that touched it changed, entry by entry.

read() asks git twice per register folder: once for the commits that touched its YAML files,
with each file's blob before and after (`git log --raw`), and once for those blobs (`git
cat-file --batch`). Each commit is described by the code that describes `build.py diff`
(riskcatalog.diff.compare and entry_changes), so the site, SQL users and the command line
read the same account of a change. Only the entries a commit touched are parsed, and of those
only the fields it changed (riskcatalog.pieces), so that reading a long history costs less
than the rest of the build (docs/benchmarks.md).

A folder outside git, or one no commit touched, has no history and says so; a shallow clone
has the history after its boundary only, and says that too.
"""

from __future__ import annotations

import datetime
import hashlib
import json
import sqlite3
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath

from . import diff, fields, git, pieces, vocab, yamlload
from .catalog import REGISTER_FILE, stored_folder
from .diff import DiffError, Entries, FieldChange, compare, entries, entry_changes
from .git import GitError
from .tables import as_row

#: One record per commit: id, parents, committer date, author, subject, body; then its --raw lines.
LOG_FORMAT = "%x1e%H%x1f%P%x1f%cI%x1f%an%x1f%s%x1f%b%x1d"

@dataclass
class Commit:
    """One commit that touched the register's YAML: who, when, why, and each file's blob before and after."""

    sha: str
    parents: list[str]
    date: str
    author: str
    subject: str
    body: str
    files: list[tuple[str, str, str]] = field(default_factory=list)  # (path, old blob, new blob)

    @property
    def utc(self) -> str:
        """The committer date in UTC: committers' time zones differ, and dates in one zone sort as text."""
        return datetime.datetime.fromisoformat(self.date).astimezone(datetime.timezone.utc).isoformat()


#: One changed entry of a commit, as riskcatalog.diff.entry_changes gives it: section, entry, changed fields.
Described = tuple[str, dict, list[FieldChange]]

#: The code a change's description comes from: a build reuses the rows an earlier build wrote with
#: the same code (its database is the one being replaced), and describes only the newer commits.
FORMAT = hashlib.sha256(b"".join(Path(module.__file__).read_bytes() for module in (diff, pieces, vocab, yamlload))
                        + Path(__file__).read_bytes()).hexdigest()[:16]


@dataclass
class Recorded:
    """One commit of a register's history and what it changed: described now, or the rows an earlier
    build wrote for it."""

    commit: Commit
    changed: list[Described] = field(default_factory=list)
    invalid: int = 0  # file versions it left that are not valid YAML
    rows: tuple[dict, list[dict]] | None = None  # (its commits row, its changes rows) from an earlier build


@dataclass
class History:
    """A register's history: each commit (oldest first) with its changed entries, or why there is none."""

    status: str  # recorded, shallow (after a shallow clone's boundary only), absent, or off
    note_zh: str
    note_en: str
    commits: list[Recorded] = field(default_factory=list)
    path: str | None = None  # the folder's path in its repository
    reused_unit: str | None = None  # the unit of the rows reused from an earlier build, if any were

    def rows(self, unit: str) -> dict[str, list[dict]]:
        """Rows of unit_history, commits and changes (riskcatalog.tables), keyed for the register's unit."""
        days = [recorded.commit.date[:10] for recorded in self.commits]
        found = {"unit_history": [{"unit": unit, "status": self.status, "note_zh": self.note_zh,
                                   "note_en": self.note_en, "commits": len(days),
                                   "first_day": min(days, default=None), "last_day": max(days, default=None),
                                   "path": self.path, "format": FORMAT}],
                 "commits": [], "changes": []}
        for recorded in self.commits:
            commit = recorded.commit
            if recorded.rows:
                commit_row, change_rows = recorded.rows
                found["commits"].append(commit_row)
                found["changes"] += [{**row, "id": None} for row in change_rows]  # ids follow this build's order
                continue
            rows = [row for described in recorded.changed for row in _change_rows(unit, commit, *described)]
            found["commits"].append({"key": f"{unit}-{commit.sha}", "unit": unit, "sha": commit.sha,
                                     "date": commit.utc, "day": commit.date[:10], "author": commit.author,
                                     "subject": commit.subject, "body": commit.body, "changes": len(rows),
                                     "invalid": recorded.invalid})
            found["changes"] += rows
        return found


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


def read(folder: Path, previous: Path | None = None) -> History:
    """The history of one register folder, or why it has none; the commits a previous build's
    database described with the same code are taken from it."""
    try:
        commits = _log(folder)  # first, and alone for a folder no commit touched (a city's synthetic ones)
    except GitError as error:
        return History("absent", "目录不在 git 仓库中（或无法运行 git），没有修订记录。",
                       f"No history: the folder is not in a git repository, or git could not run "
                       f"({_first_line(error)}).")
    if not commits:
        return UNTOUCHED
    try:
        root, boundaries = _repository(folder)
        path = Path(folder).resolve().relative_to(root).as_posix()
        # A shallow clone's boundary commit looks like a first commit that adds everything: it is
        # where the fetched history starts, not a change.
        boundary_days = [c.date[:10] for c in commits if c.sha in boundaries]
        commits = [c for c in commits if c.sha not in boundaries]
        unit, known = _reusable(previous, folder, path) if previous else (None, {})
        todo = [c for c in commits if c.sha not in known]
        described = _describe(todo, _Texts(root, todo), commits)
    except GitError as error:
        return History("absent", "读取 git 历史失败，没有修订记录。", f"No history: reading git failed "
                                                                     f"({_first_line(error)}).")
    history = History("recorded", "", "", [described.get(c.sha) or Recorded(c, rows=known[c.sha])
                                           for c in reversed(commits)], path, unit if len(todo) < len(commits) else None)
    _note(history)
    if boundary_days:
        since = min(boundary_days)
        history.status = "shallow"
        history.note_zh = (f"浅克隆：只取回了 {since} 以后的提交，更早的修订记录不在本库中；"
                           f"运行 git fetch --unshallow 后重新构建可得到完整记录。" + history.note_zh)
        history.note_en = (f"Shallow clone: only the commits after {since} were fetched, so earlier history is "
                           f"missing; run git fetch --unshallow and build again for all of it. " + history.note_en)
    return history


def _note(history: History) -> None:
    """What the history covers, in unit_history's note: commits, dates, versions that were not valid YAML."""
    if not history.commits:
        return
    first, last = history.commits[0].commit.date[:10], history.commits[-1].commit.date[:10]
    history.note_zh = f"修订记录取自 git：{len(history.commits)} 次提交，{first} 至 {last}。"
    history.note_en = f"History from git: {len(history.commits)} commits, {first} to {last}."
    invalid = sum(r.rows[0]["invalid"] if r.rows else r.invalid for r in history.commits)
    if invalid:
        history.note_zh += f"其中 {invalid} 个文件版本不是有效的 YAML，其修改未列入。"
        history.note_en += f" {invalid} file versions were not valid YAML; their changes are not listed."


def _reusable(previous: Path, folder: Path, path: str) -> tuple[str | None, dict[str, tuple[dict, list[dict]]]]:
    """The commits a previous build of this folder described with this code: its unit, and
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
        known = {row["key"]: (dict(row), []) for row in conn.execute("select * from commits where unit = ?", found)}
        for row in conn.execute("select * from changes where unit = ? order by id", found):
            known[row["commit_key"]][1].append(dict(row))
    except sqlite3.Error:  # a database from before the history, or not a catalogue
        return None, {}
    finally:
        conn.close()
    return found[0], {commit["sha"]: (commit, changes) for commit, changes in known.values()}


def _first_line(error: Exception) -> str:
    return (str(error).strip() or type(error).__name__).splitlines()[0]


def _repository(folder: Path) -> tuple[Path, set[str]]:
    """The work tree's root and, in a shallow clone, its boundary commits."""
    root, shallow, shallow_file = git.run(folder, "rev-parse", "--show-toplevel", "--is-shallow-repository",
                                          "--git-path", "shallow").splitlines()
    path = Path(folder) / shallow_file
    boundaries = set(path.read_text().split()) if shallow == "true" and path.is_file() else set()
    return Path(root).resolve(), boundaries


def _log(folder: Path) -> list[Commit]:
    """The commits that touched the YAML files directly in folder, newest first (paths from the repository's top)."""
    output = git.run_bytes(folder, "log", "-z", "--raw", "--no-abbrev", "--no-renames", "--no-color",
                           f"--format={LOG_FORMAT}", "--", ":(glob)*.yml").decode("utf-8", "replace")
    commits = []
    for record in output.split("\x1e")[1:]:
        header, _, raw = record.partition("\x1d")
        sha, parents, date, author, subject, body = header.split("\x1f")
        commit = Commit(sha, parents.split(), date, author, subject, body.strip())
        fields = raw.strip("\0\n").split("\0")
        for meta, path in zip(fields[::2], fields[1::2]):  # ":100644 100644 <old> <new> M", path
            _, _, old, new, _ = meta.split(" ")
            commit.files.append((path, old, new))
        if commit.files:  # a merge shows no files: its changes are listed at the commits it merged
            commits.append(commit)
    return commits


def _absent(blob: str) -> bool:
    """The all-zero id git gives the missing side of an added or deleted file."""
    return not blob.strip("0")


class _Texts:
    """The blobs of the commits' files, streamed from git in the order _describe asks for them: newest
    first, the order git's packs store them in (older versions are deltas of newer ones)."""

    def __init__(self, root: Path, commits: list[Commit]):
        ids = dict.fromkeys(b for c in commits for _, old, new in c.files for b in (new, old) if not _absent(b))
        self.root = root
        self.stream = git.blobs(root, list(ids))
        self.found: dict[str, bytes] = {}

    def get(self, blob: str) -> bytes:
        """A blob's text; empty for the missing side of an added or deleted file."""
        while not _absent(blob) and blob not in self.found:
            got = next(self.stream, None)
            if got is None:  # not among those asked for: a look further back, past an invalid version
                self.found.update(git.blobs(self.root, [blob]))
            else:
                self.found[got[0]] = got[1]
        return self.found.get(blob, b"")


def _describe(commits: list[Commit], texts: _Texts, everything: list[Commit]) -> dict[str, Recorded]:
    """What each commit changed, entry by entry, described as `build.py diff` describes it; by commit id.

    Commits come newest first. A file version that is not valid YAML has no changes of its own, and
    the change that follows it is read from the last valid version (found among everything).
    """
    reader = _Reader(texts)
    versions: dict[str, list[str]] = {}  # path -> its blobs, newest first: where to look past an invalid one
    for commit in everything:
        for path, _, new in commit.files:
            versions.setdefault(path, []).append(new)
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
                older = versions[path][versions[path].index(new) + 1:]
                old = next((blob for blob in older if reader.readable(path, blob)), "0")
                before, after = reader.sides(path, old, new)
            old_side.update(before)
            new_side.update(after)
        recorded.changed = list(entry_changes(compare(old_side, new_side)))
    for commit in everything:
        commit.files = []  # read: no need to carry them back from a worker process
    return described


class _Reader:
    """The entries a change to one file touched, before and after, from the blobs' texts
    (riskcatalog.pieces): a file's versions are cut once each, and only their differing pieces parsed."""

    def __init__(self, texts: _Texts):
        self.texts = texts
        self.cuts: dict[str, dict[str, pieces.Cut | None]] = {}  # path -> {blob: its cut}, the last few
        self.parser = pieces.Parser()
        self.whole: dict[tuple[str, str], Entries] = {}  # (path, blob) -> entries of a file read whole

    def sides(self, path: str, old: str, new: str) -> tuple[Entries, Entries]:
        """The entries a change from blob old to blob new touched, as they were and are; DiffError if unreadable."""
        if PurePosixPath(path).name != REGISTER_FILE:  # the register is one entry: always read whole
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
        """Whether a version of a file is valid YAML."""
        try:
            self._whole(path, blob)
        except DiffError:
            return False
        return True

    def _whole(self, path: str, blob: str) -> Entries:
        if (path, blob) not in self.whole:
            text = self.texts.get(blob)
            self.whole[(path, blob)] = entries(text.decode("utf-8"), path) if text else {}
        return self.whole[(path, blob)]


# ---- Rows ---------------------------------------------------------------------------------------------------


def _change_rows(unit: str, commit: Commit, section: str, item: dict, changed: list[FieldChange]) -> list[dict]:
    """The rows of one entry's change: a row for its adding, withdrawal or removal, and one per changed field."""
    kind, file = item["kind"], item["file"]
    area = f"{unit}-{PurePosixPath(file).stem}" if kind in ("risk", "measure", "area") else None
    base = {"unit": unit, "commit_key": f"{unit}-{commit.sha}", "date": commit.utc, "day": commit.date[:10],
            "kind": kind, "entry": unit if kind == "register" else f"{unit}-{item['id']}", "entry_id": item["id"],
            "title": item["title"], "area": area, "file": file}
    what = vocab.ENTRY_KINDS.get(kind, (kind,))[0]
    rows = []
    if section in ("added", "removed"):
        rows.append({**base, "change": section, "summary_zh": f"{vocab.CHANGE_KINDS[section][0]}{what}"})
    if section == "withdrawn":
        replaced_by = item["replaced_by"]
        rows.append({**base, "change": "withdrawn", "replaced_by": f"{unit}-{replaced_by}" if replaced_by else None,
                     "summary_zh": f"撤销{what}，由 {replaced_by} 替代" if replaced_by else f"撤销{what}，无替代"})
    for change in changed:
        label = fields.name_zh(kind, change.field)
        old_text, new_text = shown(kind, change.field, change.old), shown(kind, change.field, change.new)
        rows.append({**base, "change": "changed", "field": change.field, "field_zh": label,
                     "old": _stored(change.old), "new": _stored(change.new), "old_text": old_text,
                     "new_text": new_text, "summary_zh": f"{label}：{_summary(change, old_text, new_text, _lists_ids(kind, change.field))}"})
    return rows


def shown(kind: str, key: str, value) -> str | None:
    """A field's value as a reader sees it: labels for vocabulary ids (二级), lists joined, 表现形式 in Chinese."""
    if value is None:
        return None
    found = fields.field_of(kind, key)
    labels = found.vocabulary if found is not None else None
    if labels and isinstance(value, str) and value in labels:
        return labels[value][0]
    if isinstance(value, list):
        return "；".join(str(v.get("zh", _stored(v))) if isinstance(v, dict) else str(v) for v in value)
    return _stored(value)


def _lists_ids(kind: str, key: str) -> bool:
    """Whether a field lists ids: a change names the ids added and taken out rather than both lists."""
    found = fields.field_of(kind, key)
    return found is not None and found.kind == fields.IDS


def _stored(value) -> str | None:
    """A value as the old and new columns hold it: text as itself, anything else as JSON."""
    return value if value is None or isinstance(value, str) else json.dumps(value, ensure_ascii=False)


def _summary(change: FieldChange, old_text: str | None, new_text: str | None, is_id_list: bool) -> str:
    """One field's change in Chinese: the ids a list gained and lost, or old → new."""
    old, new = change.old, change.new
    if is_id_list and isinstance(old, list) and isinstance(new, list):
        gained, lost = [v for v in new if v not in old], [v for v in old if v not in new]
        parts = ([f"增加 {'、'.join(map(str, gained))}"] if gained else []) + \
                ([f"删去 {'、'.join(map(str, lost))}"] if lost else [])
        return "；".join(parts) or f"顺序调整为 {new_text}"
    if old_text == new_text:  # e.g. only the English of 表现形式 changed
        return "内容修改"
    return f"{old_text or '（无）'} → {new_text or '（无）'}"


def table_rows(found: History, folder: Path, unit: str) -> dict[str, list[tuple]]:
    """A register's history as rows of unit_history, commits and changes, in the tables' column order."""
    if found.reused_unit not in (None, unit):  # the unit was renamed: the reused rows have the old keys
        found = read(folder)
    return {table: [as_row(table, row) for row in records] for table, records in found.rows(unit).items()}
