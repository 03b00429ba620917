"""`build.py diff REV [--json] [FOLDER]`: what changed in the catalogue since a git revision.

Both sides are parsed with the strict loader only (no validation), so a half-finished
working tree can still be compared. Entries are matched by kind and id across files.
The files of REV are named as git names them, REV:path, so an error there says whose it is.

The Markdown goes into pull-request comments and terminals: every value from the catalogue
is escaped, so a title can neither open a heading, mention someone, hide the rest in an
HTML comment, nor drive the terminal.
"""

from __future__ import annotations

import json
import os
import re
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Iterator

from . import git
from .catalog import POSTS_FILE, REGISTER_FILE, SOURCES_FILE
from .errors import UNSAFE, CatalogError, printable
from .git import GitError
from .yamlload import MAX_FILE_BYTES, decode, load_file, load_text, too_big

SECTIONS = ("added", "removed", "withdrawn", "changed")
#: Fields that say what an entry is called, for the one-line summaries.
TITLE_FIELDS = ("title_zh", "name_zh")
#: Blob modes of files that are files (not links or submodules), as `git ls-tree` prints them.
FILE_MODES = ("100644", "100755")

Entries = dict[tuple[str, str], tuple[str, dict]]  # (kind, id) -> (file, entry)


class DiffError(Exception):
    """Something that stops the comparison; the message says what to do."""


def entries(text: str, file: str) -> Entries:
    """The entries of one file's text, keyed by (kind, id); DiffError if it is not strict YAML."""
    doc, errors = load_text(text, file)
    if errors:
        raise DiffError("\n".join(map(str, errors)))
    return entries_of(doc.data, file)


def entries_of(data: object, file: str) -> Entries:
    """The entries in a file's parsed data (or any of its top-level keys), keyed by (kind, id)."""
    data = data if isinstance(data, dict) else {}
    name = Path(file).name
    if name == REGISTER_FILE:  # the register is one record: unit, totals, areas, levels
        return {("register", "register"): (file, data)}
    lists = {"source": data.get("sources")} if name == SOURCES_FILE else {"post": data.get("posts")} \
        if name == POSTS_FILE else {"power": data.get("powers"), "risk": data.get("risks"), "measure": data.get("measures")}
    found: Entries = {}
    if name not in (SOURCES_FILE, POSTS_FILE) and isinstance(data.get("area"), dict):
        found[("area", str(data["area"].get("id")))] = (file, data["area"])
    for kind, items in lists.items():
        for entry in items if isinstance(items, list) else []:
            if isinstance(entry, dict) and "id" in entry:
                found[(kind, str(entry["id"]))] = (file, entry)
    return found


def _old_side(root: Path, prefix: str, rev: str, errors: list[CatalogError]) -> tuple[Entries, bool]:
    """The entries of the folder at rev, and whether it held a register.yml there."""
    listing = git.run(root, "ls-tree", "-l", "-z", "--full-name", f"{rev}^{{commit}}", "--", prefix or ".")
    found: Entries = {}
    register = False
    for record in filter(None, listing.split("\0")):
        meta, _, path = record.partition("\t")
        mode, kind, blob, size = meta.split()
        if kind != "blob" or mode not in FILE_MODES or not path.endswith(".yml") or \
                path.rpartition("/")[0] != prefix.rstrip("/"):
            continue
        register |= path == prefix + REGISTER_FILE
        shown = f"{rev}:{path}"  # git's own name for the file as it was at rev
        if int(size) > MAX_FILE_BYTES:  # not read at all: a stray 47 MB file must not cost seconds and gigabytes
            errors.append(too_big(int(size), shown))
            continue
        text, problems = decode(git.run_bytes(root, "cat-file", "blob", blob), shown)
        doc, problems = (None, problems) if text is None else load_text(text, shown)
        errors.extend(problems)
        if doc is not None:
            found.update(entries_of(doc.data, path))
    return found, register


def _new_side(folder: Path, prefix: str, errors: list[CatalogError]) -> Entries:
    found: Entries = {}
    for path in sorted(folder.glob("*.yml")):
        doc, problems = load_file(path, prefix + path.name)  # a regular file, within the size limit
        errors.extend(problems)
        if doc is not None:
            found.update(entries_of(doc.data, prefix + path.name))
    return found


def _changed_fields(old: dict, new: dict) -> dict[str, list]:
    """{field: [old, new]} for every field that differs; a missing status means active."""
    keys = list(new) + [k for k in old if k not in new]
    value = lambda entry, k: entry.get(k, "active" if k == "status" else None)  # noqa: E731
    return {k: [value(old, k), value(new, k)] for k in keys if value(old, k) != value(new, k)}


def compare(old: Entries, new: Entries) -> dict[str, list[dict]]:
    """The changes from old to new, section by section, in a stable order."""
    result: dict[str, list[dict]] = {section: [] for section in SECTIONS}
    for key in sorted(old.keys() | new.keys(), key=lambda k: ((new.get(k) or old[k])[0], k)):
        file, entry = new.get(key) or old[key]
        item = {"id": key[1], "kind": key[0], "file": file,
                "title": next((entry[f] for f in TITLE_FIELDS if f in entry), "")}
        if key not in old or key not in new:
            result["added" if key in new else "removed"].append(item)
            continue
        fields = _changed_fields(old[key][1], entry)
        if old[key][0] != file:
            fields["file"] = [old[key][0], file]
        if fields.get("status", [None, None])[1] == "withdrawn":
            del fields["status"]
            fields.pop("replaced_by", None)
            result["withdrawn"].append({**item, "replaced_by": entry.get("replaced_by"), "fields": fields})
        elif fields:
            result["changed"].append({**item, "fields": fields})
    return result


#: Markdown that could start a link, emphasis, code, strike-through or a table cell: backslash-escaped.
#: An underscore between two letters or digits cannot (title_zh stays as it is).
_MARKDOWN = re.compile(r"([\\`*\[\]|~]|(?<![^\W_])_|_(?![^\W_]))")
#: HTML (a tag or an unclosed <!-- would hide the rest of the comment): written as entities.
_HTML = {"&": "&amp;", "<": "&lt;", ">": "&gt;"}
#: A zero-width space after @ and #, as Dependabot and Renovate write them: no mention, no issue link.
_NO_LINK = re.compile(r"([@#])")


def _md(value) -> str:
    """A value from the catalogue as literal text on one line of Markdown."""
    text = printable(re.sub(r"\s*\n\s*", " ", str(value)))  # a line break would start a heading or a list
    text = "".join(_HTML.get(char, char) for char in text)
    return _NO_LINK.sub(r"\1&#8203;", _MARKDOWN.sub(r"\\\1", text))


def _show(value) -> str:
    """A field value as one line of Markdown."""
    if value is None:
        return "(none)"
    if isinstance(value, list) and all(isinstance(v, (str, int)) for v in value):
        return "[" + ", ".join(map(_md, value)) + "]"
    if isinstance(value, (list, dict)):
        return _md(json.dumps(value, ensure_ascii=False, default=str))
    return _md(value)


@dataclass(frozen=True)
class FieldChange:
    """One changed field of an entry, old and new value; a mapping's keys count as fields (totals.risks)."""

    field: str
    old: object
    new: object


def field_changes(item: dict) -> list[FieldChange]:
    """The changed fields of one entry of compare()'s result, in its order, mappings key by key."""
    found = []
    for name, (old, new) in item.get("fields", {}).items():
        if isinstance(old, dict) and isinstance(new, dict):
            found += [FieldChange(f"{name}.{key}", *values) for key, values in _changed_fields(old, new).items()]
        else:
            found.append(FieldChange(name, old, new))
    return found


def entry_changes(changes: dict[str, list[dict]]) -> Iterator[tuple[str, dict, list[FieldChange]]]:
    """Each entry of compare()'s result, section by section: the section, the entry, its changed fields.

    The one description of a change: `build.py diff` prints it, the build's history stores it.
    """
    for section in SECTIONS:
        for item in changes[section]:
            yield section, item, field_changes(item)


def render(changes: dict[str, list[dict]], rev: str) -> str:
    """Markdown for a pull-request comment: a heading per section, a line per entry."""
    if not any(changes.values()):
        return "No catalogue changes."
    lines = [f"## Catalogue changes since {_md(rev)}"]
    for section, item, fields in entry_changes(changes):
        if item is changes[section][0]:
            lines += ["", f"### {section.capitalize()} ({len(changes[section])})"]
        label = " ".join(_md(part) for part in (item["id"], item["title"]) if part)
        notes = [f"{_md(change.field)} {_show(change.old)} → {_show(change.new)}" for change in fields]
        if section == "withdrawn":
            notes.insert(0, f"replaced by {_md(item['replaced_by'])}" if item["replaced_by"] else "no replacement")
        if section in ("added", "removed"):
            notes = [f"{item['kind']} in {_md(item['file'])}"]
        lines.append(f"- {label}: " + "; ".join(notes))
    return "\n".join(lines)


def _json(changes: dict[str, list[dict]]) -> str:
    """The changes as JSON; the characters a terminal obeys escaped even where JSON would allow them raw."""
    text = json.dumps(changes, ensure_ascii=False, indent=2, sort_keys=True, default=str)
    return UNSAFE.sub(lambda m: f"\\u{ord(m[0]):04x}", text)


def run(rev: str, folder_name: str, as_json: bool) -> int:
    """Print the catalogue changes between rev and the working tree; the exit code."""
    folder = Path(folder_name).resolve()
    errors: list[CatalogError] = []
    try:
        if rev.startswith("-"):  # would be read by git as an option
            raise DiffError(f"error: {rev!r} is not a git revision")
        if not folder.is_dir():
            raise DiffError(f"error: {folder_name}: no such folder")
        root = Path(git.run(folder, "rev-parse", "--show-toplevel").strip()).resolve()
        prefix = folder.relative_to(root).as_posix() + "/"
        prefix = "" if prefix == "./" else prefix
        try:
            git.run(root, "rev-parse", "--verify", "--quiet", f"{rev}^{{commit}}")
        except GitError:
            raise DiffError(f"error: unknown git revision {rev!r} — give a commit, branch or tag "
                            "(e.g. HEAD, origin/main)") from None
        old, had_register = _old_side(root, prefix, rev, errors)
        if not had_register and not os.path.lexists(folder / REGISTER_FILE):
            raise DiffError(f"error: {folder_name} is not a register folder: it has no {REGISTER_FILE}, now or at "
                            f"{rev!r} — give the catalogue's folder (e.g. catalog)")
        new = _new_side(folder, prefix, errors)
    except (DiffError, GitError, OSError) as exc:
        print(printable(str(exc)), file=sys.stderr)
        return 1
    if errors:
        for error in sorted(errors):
            print(error, file=sys.stderr)
        return 1
    print(_json(compare(old, new)) if as_json else render(compare(old, new), rev))
    return 0
