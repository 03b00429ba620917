"""Each register's history from git (修订记录): what every commit that touched it changed, entry by entry.

read() asks git twice per register folder: once for the commits that touched its YAML files,
with each file's blob before and after (`git log --raw`), and once for those blobs (`git
cat-file --batch`). Each commit is described by the code that describes `build.py diff`
(riskcatalog.diff.compare and entry_changes), so the site, SQL users and the command line
read the same account of a change. Only the entries a commit touched are parsed: a file is
cut at its top-level keys and at the items of its lists, and only the pieces whose text
changed are read; a file whose layout the cut does not understand is read whole.

A folder outside git, or one no commit touched, has no history and says so; a shallow clone
has the history after its boundary only, and says that too.
"""

from __future__ import annotations

import datetime
import json
import re
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath

from . import git, vocab
from .catalog import REGISTER_FILE
from .diff import DiffError, Entries, compare, entries, entries_of, entry_changes, FieldChange
from .git import GitError
from .yamlload import load_text

#: One record per commit: id, parents, committer date, author, subject, body; then its --raw lines.
LOG_FORMAT = "%x1e%H%x1f%P%x1f%cI%x1f%an%x1f%s%x1f%b%x1d"

#: How a field is named in the history (修订记录); an `_en` field is its `_zh` field's name plus （英文）.
FIELD_LABELS = {
    "id": "编号", "title_zh": "名称", "name_zh": "名称", "description_zh": "描述", "post_zh": "岗位",
    "power_zh": "职权事项", "category": "风险类别", "manifestations": "表现形式", "likelihood": "可能性",
    "impact": "影响", "level": "风险等级", "responsible_post_zh": "直接责任人", "responsible_leader_zh": "责任领导",
    "supervisor_zh": "监督主体", "sources": "依据", "measures": "防控措施", "reviewed": "最近评估日期",
    "status": "状态", "replaced_by": "替代条目", "type": "措施类型", "nature": "措施性质", "owner_zh": "责任部门",
    "frequency_zh": "执行频次", "evidence_zh": "留痕资料", "kind": "依据类型", "issuer_zh": "发布机关",
    "year": "年份", "number": "文号", "date": "日期", "file": "所在文件", "unit": "单位", "provenance": "来源",
    "totals": "总数", "totals.risks": "风险点总数", "totals.measures": "防控措施总数", "areas": "领域",
    "levels": "风险矩阵",
}

STATUSES = {"active": ("现行", "active"), "withdrawn": ("已撤销", "withdrawn")}

#: Fields whose values are ids of a vocabulary: shown by their Chinese label (a level as 一级).
LABELLED = {"level": vocab.LEVELS, "category": vocab.CATEGORIES, "type": vocab.MEASURE_TYPES,
            "nature": vocab.NATURES, "kind": vocab.SOURCE_KINDS, "status": STATUSES}

#: Fields that list ids: a change names the ids added and taken out rather than both lists.
ID_LISTS = {"measures", "sources", "areas"}


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


@dataclass
class History:
    """A register's history: each commit (oldest first) with its changed entries, or why there is none."""

    status: str  # recorded, shallow (after a shallow clone's boundary only), absent, or off
    note_zh: str
    note_en: str
    commits: list[tuple[Commit, list[Described]]] = field(default_factory=list)

    def rows(self, unit: str) -> dict[str, list[dict]]:
        """Rows of unit_history, commits and changes (riskcatalog.tables), keyed for the register's unit."""
        days = [commit.date[:10] for commit, _ in self.commits]
        found = {"unit_history": [{"unit": unit, "status": self.status, "note_zh": self.note_zh,
                                   "note_en": self.note_en, "commits": len(days),
                                   "first_day": min(days, default=None), "last_day": max(days, default=None)}],
                 "commits": [], "changes": []}
        for commit, changed in self.commits:
            rows = [row for described in changed for row in _change_rows(unit, commit, *described)]
            found["commits"].append({"key": f"{unit}-{commit.sha}", "unit": unit, "sha": commit.sha,
                                     "date": commit.utc, "day": commit.date[:10], "author": commit.author,
                                     "subject": commit.subject, "body": commit.body, "changes": len(rows)})
            found["changes"] += rows
        return found


OFF = History("off", "构建时未读取修订记录（--no-history）。", "History was not read for this build (--no-history).")


def read(folder: Path) -> History:
    """The history of one register folder, or why it has none."""
    try:
        root, boundaries = _repository(folder)
    except GitError as error:
        return History("absent", "目录不在 git 仓库中（或无法运行 git），没有修订记录。",
                       f"No history: the folder is not in a git repository, or git could not run "
                       f"({_first_line(error)}).")
    try:
        commits = _log(root, PurePosixPath(Path(folder).resolve().relative_to(root).as_posix()))
        if not commits:
            return History("absent", "尚无提交涉及此目录，没有修订记录。",
                           "No history: no commit has touched this folder's YAML files yet.")
        # A shallow clone's boundary commit looks like a first commit that adds everything: it is
        # where the fetched history starts, not a change.
        boundary_days = [c.date[:10] for c in commits if c.sha in boundaries]
        commits = [c for c in commits if c.sha not in boundaries]
        history = _describe(commits, _Texts(root, commits))
    except GitError as error:
        return History("absent", "读取 git 历史失败，没有修订记录。", f"No history: reading git failed "
                                                                     f"({_first_line(error)}).")
    if boundary_days:
        since = min(boundary_days)
        history.status = "shallow"
        history.note_zh = (f"浅克隆：只取回了 {since} 以后的提交，更早的修订记录不在本库中；"
                           f"运行 git fetch --unshallow 后重新构建可得到完整记录。" + history.note_zh)
        history.note_en = (f"Shallow clone: only the commits after {since} were fetched, so earlier history is "
                           f"missing; run git fetch --unshallow and build again for all of it. " + history.note_en)
    return history


def _first_line(error: Exception) -> str:
    return (str(error).strip() or type(error).__name__).splitlines()[0]


def _repository(folder: Path) -> tuple[Path, set[str]]:
    """The work tree's root and, in a shallow clone, its boundary commits."""
    root, shallow, shallow_file = git.run(folder, "rev-parse", "--show-toplevel", "--is-shallow-repository",
                                          "--git-path", "shallow").splitlines()
    path = Path(folder) / shallow_file
    boundaries = set(path.read_text().split()) if shallow == "true" and path.is_file() else set()
    return Path(root).resolve(), boundaries


def _log(root: Path, prefix: PurePosixPath) -> list[Commit]:
    """The commits that touched the YAML files directly in prefix, newest first."""
    folder = "" if str(prefix) == "." else re.sub(r"([*?\[\]\\])", r"\\\1", str(prefix)) + "/"
    output = git.run_bytes(root, "log", "-z", "--raw", "--no-abbrev", "--no-renames", "--no-color",
                           f"--format={LOG_FORMAT}", "--", f":(glob){folder}*.yml").decode("utf-8", "replace")
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
        self.stream = git.blobs(root, list(ids))
        self.found: dict[str, bytes] = {}

    def get(self, blob: str) -> bytes:
        """A blob's text; empty for the missing side of an added or deleted file."""
        while not _absent(blob) and blob not in self.found:
            got, text = next(self.stream)
            self.found[got] = text
        return self.found.get(blob, b"")


def _describe(commits: list[Commit], texts: _Texts) -> History:
    """What each commit changed, entry by entry, described as `build.py diff` describes it.

    Commits come newest first; so does the history's list. A file version that is not valid YAML
    has no changes of its own, and the change that follows it is read from the last valid version.
    """
    reader = _Reader(texts)
    versions: dict[str, list[str]] = {}  # path -> its blobs, newest first: where to look past an invalid one
    for commit in commits:
        for path, _, new in commit.files:
            versions.setdefault(path, []).append(new)
    unreadable = 0
    described = []
    for commit in commits:
        old_side: Entries = {}
        new_side: Entries = {}
        for path, old, new in commit.files:
            try:
                before, after = reader.sides(path, old, new)
            except DiffError:
                if not reader.readable(path, new):
                    unreadable += 1
                    continue
                older = versions[path][versions[path].index(new) + 1:]
                old = next((blob for blob in older if reader.readable(path, blob)), "0")
                before, after = reader.sides(path, old, new)
            old_side.update(before)
            new_side.update(after)
        commit.files = []  # read: no need to carry them back from a worker process
        described.append((commit, list(entry_changes(compare(old_side, new_side)))))
    history = History("recorded", "", "", described[::-1])
    if commits:
        first, last = commits[-1].date[:10], commits[0].date[:10]
        history.note_zh = f"修订记录取自 git：{len(commits)} 次提交，{first} 至 {last}。"
        history.note_en = f"History from git: {len(commits)} commits, {first} to {last}."
    if unreadable:
        history.note_zh += f"其中 {unreadable} 个文件版本不是有效的 YAML，其修改未列入。"
        history.note_en += f" {unreadable} file versions were not valid YAML; their changes are not listed."
    return history


# ---- Which entries a change to one file touched -------------------------------------------------------------

#: Where a piece may start: a top-level key, or a list item (its indent tells a section's items from nested ones).
_BOUNDARY = re.compile(rb"\n(?:[^\s#]|( *)- )")
_KEY = re.compile(rb"([A-Za-z_][\w-]*):(?=[ \t\n])[ \t]*")
#: Nothing but blank and comment lines.
_BLANK = re.compile(rb"(?:[ \t]*(?:#[^\n]*)?\n)*[ \t]*(?:#[^\n]*)?")


class _Uncut(Exception):
    """The file's layout is not one the cut understands: read it whole."""


class _Reader:
    """The entries a change to one file touched, before and after, from the blobs' texts.

    A version of a file is usually the old side of the next change to it, so its pieces and
    their entries are kept: each version is cut and each piece parsed once.
    """

    def __init__(self, texts: _Texts):
        self.texts = texts
        self.cut: dict[str, dict[str, Counter | None]] = {}  # path -> {blob: its pieces}, the last few cut
        self.parsed: dict[tuple[str, tuple[str, bool, bytes]], Entries] = {}  # (path, piece) -> its entries
        self.whole: dict[tuple[str, str], Entries] = {}  # (path, blob) -> entries of a file read whole

    def sides(self, path: str, old: str, new: str) -> tuple[Entries, Entries]:
        """The entries a change from blob old to blob new touched, as they were and are; DiffError if unreadable."""
        if PurePosixPath(path).name != REGISTER_FILE:  # the register is one entry: always read whole
            old_pieces, new_pieces = self._pieces(path, old), self._pieces(path, new)
            if old_pieces is not None and new_pieces is not None:
                try:
                    return (self._entries(path, old_pieces - new_pieces), self._entries(path, new_pieces - old_pieces))
                except _Uncut:
                    pass
        return self._whole(path, old), self._whole(path, new)

    def _pieces(self, path: str, blob: str) -> Counter | None:
        kept = self.cut.setdefault(path, {})
        if blob in kept:
            kept[blob] = kept.pop(blob)  # the most recently used goes last
        else:
            if len(kept) > 2:  # a version serves the change after it and the one before: keep a few
                del kept[next(iter(kept))]
            try:
                kept[blob] = Counter(pieces(self.texts.get(blob)))
            except _Uncut:
                kept[blob] = None
        return kept[blob]

    def _entries(self, path: str, found: Counter) -> Entries:
        result: Entries = {}
        for piece in found:
            if (path, piece) not in self.parsed:
                self.parsed[(path, piece)] = _piece_entries(path, *piece)
            result.update(self.parsed[(path, piece)])
        return result

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


def _piece_entries(path: str, section: str, is_item: bool, text: bytes) -> Entries:
    """The entries of one piece of a file; _Uncut if it is not one key or one item after all."""
    doc, errors = load_text(text.decode("utf-8"), path)
    if errors:
        raise DiffError("\n".join(map(str, errors)))
    if not (isinstance(doc.data, list) and len(doc.data) == 1 if is_item
            else isinstance(doc.data, dict) and list(doc.data) == [section]):
        raise _Uncut(path)
    return entries_of({section: doc.data} if is_item else doc.data, path)


def pieces(text: bytes) -> list[tuple[str, bool, bytes]]:
    """A YAML file cut at its top-level keys and at the items of the lists they hold: (key, is an item, text).

    Blank and comment lines go with the piece before them. _Uncut when the file has content this
    cut cannot place (a document marker, a repeated key, a top-level list).
    """
    text = b"\n" + text  # every line, the first too, starts after a newline
    cuts: list[tuple[int, str, bool]] = []
    section, item_indent = None, None
    for match in _BOUNDARY.finditer(text):
        start = match.start() + 1
        if match.group(1) is None and not text.startswith((b"- ", b"-\n"), start):
            key = _KEY.match(text, start)
            if key is None or any(key.group(1).decode() == seen for _, seen, _ in cuts):
                raise _Uncut()
            section = key.group(1).decode()
            # a list section's key has nothing after it on its line; its first item then sets the indent
            line_end = text.find(b"\n", start)
            item_indent = None if _BLANK.fullmatch(text, key.end(), len(text) if line_end < 0 else line_end) else -1
            cuts.append((start, section, False))
            continue
        indent = len(match.group(1) or b"")
        if section is None:
            raise _Uncut()
        if item_indent is None:
            key_line_end = text.index(b"\n", cuts[-1][0])
            # an item right after the key (comments between) opens the list; anything else means the
            # key holds a mapping, and its nested lists are no business of the cut
            item_indent = indent if _BLANK.fullmatch(text, key_line_end + 1, start) else -1
        if indent == item_indent:
            cuts.append((start, section, True))
    if not cuts or not _BLANK.fullmatch(text, 1, cuts[0][0]):
        raise _Uncut()
    ends = [start for start, _, _ in cuts[1:]] + [len(text)]
    return [(section, is_item, text[start:end]) for (start, section, is_item), end in zip(cuts, ends)]


# ---- Rows ---------------------------------------------------------------------------------------------------


def _change_rows(unit: str, commit: Commit, section: str, item: dict, fields: list[FieldChange]) -> list[dict]:
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
    for change in fields:
        label = field_label(change.field)
        old_text, new_text = shown(change.field, change.old), shown(change.field, change.new)
        rows.append({**base, "change": "changed", "field": change.field, "field_zh": label,
                     "old": _stored(change.old), "new": _stored(change.new), "old_text": old_text,
                     "new_text": new_text, "summary_zh": f"{label}：{_summary(change, old_text, new_text)}"})
    return rows


def field_label(name: str) -> str:
    """A field's Chinese name: 风险等级 for level, 名称（英文） for title_en."""
    if name in FIELD_LABELS:
        return FIELD_LABELS[name]
    if name.endswith("_en") and f"{name[:-3]}_zh" in FIELD_LABELS:
        return FIELD_LABELS[f"{name[:-3]}_zh"] + "（英文）"
    parent, _, child = name.partition(".")
    return f"{FIELD_LABELS[parent]}.{child}" if child and parent in FIELD_LABELS else name


def shown(name: str, value) -> str | None:
    """A field's value as a reader sees it: labels for vocabulary ids (二级), lists joined, 表现形式 in Chinese."""
    if value is None:
        return None
    labels = LABELLED.get(name)
    if labels and isinstance(value, str) and value in labels:
        return labels[value][0]
    if isinstance(value, list):
        return "；".join(str(v.get("zh", _stored(v))) if isinstance(v, dict) else str(v) for v in value)
    return _stored(value)


def _stored(value) -> str | None:
    """A value as the old and new columns hold it: text as itself, anything else as JSON."""
    return value if value is None or isinstance(value, str) else json.dumps(value, ensure_ascii=False)


def _summary(change: FieldChange, old_text: str | None, new_text: str | None) -> str:
    """One field's change in Chinese: the ids a list gained and lost, or old → new."""
    old, new = change.old, change.new
    if change.field in ID_LISTS and isinstance(old, list) and isinstance(new, list):
        gained, lost = [v for v in new if v not in old], [v for v in old if v not in new]
        parts = ([f"增加 {'、'.join(map(str, gained))}"] if gained else []) + \
                ([f"删去 {'、'.join(map(str, lost))}"] if lost else [])
        return "；".join(parts) or f"顺序调整为 {new_text}"
    if old_text == new_text:  # e.g. only the English of 表现形式 changed
        return "内容修改"
    return f"{old_text or '（无）'} → {new_text or '（无）'}"
