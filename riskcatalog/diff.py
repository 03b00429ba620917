"""`build.py diff REV [--json] [FOLDER]`: what changed in the catalogue since a git revision.

Both sides are parsed with the strict loader only (no validation), so a half-finished
working tree can still be compared. Entries are matched by kind and id across files.
"""

from __future__ import annotations

import json
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Iterator

from . import git
from .catalog import REGISTER_FILE, SOURCES_FILE
from .git import GitError
from .yamlload import load_text

SECTIONS = ("added", "removed", "withdrawn", "changed")
#: Fields that say what an entry is called, for the one-line summaries.
TITLE_FIELDS = ("title_zh", "name_zh")

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
    lists = {"source": data.get("sources")} if name == SOURCES_FILE else \
        {"risk": data.get("risks"), "measure": data.get("measures")}
    found: Entries = {}
    if name != SOURCES_FILE and isinstance(data.get("area"), dict):
        found[("area", str(data["area"].get("id")))] = (file, data["area"])
    for kind, items in lists.items():
        for entry in items if isinstance(items, list) else []:
            if isinstance(entry, dict) and "id" in entry:
                found[(kind, str(entry["id"]))] = (file, entry)
    return found


def _old_side(root: Path, prefix: str, rev: str) -> Entries:
    listing = git.run(root, "ls-tree", "--full-name", "--name-only", "-z", f"{rev}^{{commit}}", "--", prefix or ".")
    found: Entries = {}
    for path in listing.split("\0"):
        if path.endswith(".yml") and path.rpartition("/")[0] == prefix.rstrip("/"):
            found.update(entries(git.run(root, "show", f"{rev}:{path}"), path))
    return found


def _new_side(folder: Path, prefix: str) -> Entries:
    found: Entries = {}
    for path in sorted(folder.glob("*.yml")):
        found.update(entries(path.read_text(encoding="utf-8"), prefix + path.name))
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


def _show(value) -> str:
    """A field value as one line of Markdown."""
    if value is None:
        return "(none)"
    if isinstance(value, list) and all(isinstance(v, (str, int)) for v in value):
        return "[" + ", ".join(map(str, value)) + "]"
    if isinstance(value, (list, dict)):
        return json.dumps(value, ensure_ascii=False, default=str)
    return str(value)


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
    lines = [f"## Catalogue changes since {rev}"]
    for section, item, fields in entry_changes(changes):
        if item is changes[section][0]:
            lines += ["", f"### {section.capitalize()} ({len(changes[section])})"]
        label = " ".join(filter(None, [item["id"], item["title"]]))
        notes = [f"{change.field} {_show(change.old)} → {_show(change.new)}" for change in fields]
        if section == "withdrawn":
            notes.insert(0, f"replaced by {item['replaced_by']}" if item["replaced_by"] else "no replacement")
        if section in ("added", "removed"):
            notes = [f"{item['kind']} in {item['file']}"]
        lines.append(f"- {label}: " + "; ".join(notes))
    return "\n".join(lines)


def run(rev: str, folder_name: str, as_json: bool) -> int:
    """Print the catalogue changes between rev and the working tree; the exit code."""
    folder = Path(folder_name).resolve()
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
        changes = compare(_old_side(root, prefix, rev), _new_side(folder, prefix))
    except (DiffError, GitError, OSError, UnicodeDecodeError) as exc:
        print(exc, file=sys.stderr)
        return 1
    if as_json:
        print(json.dumps(changes, ensure_ascii=False, indent=2, sort_keys=True, default=str))
    else:
        print(render(changes, rev))
    return 0

