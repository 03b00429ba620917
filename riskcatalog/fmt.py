"""`build.py fmt [--check] [FOLDER ...]`: rewrite catalogue YAML in one canonical form.

ruamel.yaml's round-trip mode keeps comments; keys follow the order of the properties in
the schema (the same order docs/catalog-format.md shows), unknown keys last.
"""

from __future__ import annotations

import io
import sys
from pathlib import Path

import yaml
from ruamel.yaml import YAML
from ruamel.yaml.comments import CommentedMap, CommentedSeq
from ruamel.yaml.error import MarkedYAMLError
from ruamel.yaml.nodes import ScalarNode
from ruamel.yaml.resolver import VersionedResolver
from ruamel.yaml.scalarstring import DoubleQuotedScalarString

from .catalog import REGISTER_FILE, SOURCES_FILE, display_name
from .validate import resolve
from .yamlload import load_file, load_text

#: Lists of ids (and the register's languages) under these keys are written in flow style, `[a, b]`.
FLOW_KEYS = {"sources", "measures", "languages"}
_STR_TAG = "tag:yaml.org,2002:str"
#: build.py reads by PyYAML's YAML 1.1 rules, ruamel by YAML 1.2: a string either would type is quoted.
_RESOLVERS = ((yaml.resolver.Resolver(), yaml.ScalarNode), (VersionedResolver(), ScalarNode))


class FormatError(Exception):
    """A file that cannot be formatted; the message starts with file:line:col."""


def _yaml() -> YAML:
    y = YAML(typ="rt")
    y.indent(mapping=2, sequence=4, offset=2)
    y.width = 1_000_000  # never wrap: one text value, one line
    y.allow_unicode = True
    return y


def _file_rule(name: str) -> dict:
    definition = {REGISTER_FILE: "register_file", SOURCES_FILE: "sources_file"}.get(name, "area_file")
    return resolve({"$ref": f"#/$defs/{definition}"})


def _canonical(node, rule: dict, key: str | None = None) -> None:
    """Reorder keys, set list styles and quote YAML 1.1 look-alikes, in place."""
    rule = resolve(rule)
    if isinstance(node, CommentedMap):
        node.fa.set_block_style()
        properties = rule.get("properties", {})
        order = [k for k in properties if k in node] + [k for k in node if k not in properties]
        for k in order:  # comments live in node.ca.items by key, so they move with their key
            node.move_to_end(k)
        for k in order:
            if isinstance(node[k], str):
                _requote(node, k)
            else:
                _canonical(node[k], properties.get(k, {}), k)
    elif isinstance(node, CommentedSeq):
        scalars = all(not isinstance(item, (CommentedMap, CommentedSeq)) for item in node)
        if key in FLOW_KEYS and scalars:
            node.fa.set_flow_style()
        else:
            node.fa.set_block_style()
        for i, item in enumerate(node):
            if isinstance(item, str):
                _requote(node, i)
            else:
                _canonical(item, rule.get("items", {}))


def _requote(parent, key) -> None:
    """Double-quote a string PyYAML would read as a date, number or yes/no if written plain."""
    value = parent[key]
    # type() is str for plain and quoted strings alike; block scalars (| and >) keep their style
    if type(value) is str and any(str(r.resolve(n, value, (True, False))) != _STR_TAG for r, n in _RESOLVERS):
        parent[key] = DoubleQuotedScalarString(value)


def format_text(text: str, file: str) -> str:
    """The canonical form of one file's text; FormatError if it does not parse."""
    original, errors = load_text(text, file)  # the project's strict rules, with its file:line:col errors
    if original is None:
        raise FormatError("\n".join(map(str, errors)))
    y = _yaml()
    try:
        data = y.load(text)
    except MarkedYAMLError as exc:  # pragma: no cover - the strict loader refuses these first
        mark = exc.problem_mark or exc.context_mark
        raise FormatError(f"{file}:{mark.line + 1}:{mark.column + 1}: YAML error: {exc.problem}") from exc
    _canonical(data, _file_rule(Path(file).name))
    out = io.StringIO()
    y.dump(data, out)
    result = out.getvalue()
    # A formatter must never change what build.py reads; refuse rather than write if it would.
    formatted, _ = load_text(result, file)
    if formatted is None or formatted.data != original.data:
        raise FormatError(f"{file}:1:1: formatting would change the data — leave this file as it is and report it")
    return result


def run(folders: list[Path], check: bool) -> int:
    """Format (or with check, only test) every *.yml in the folders; the exit code."""
    failed = unformatted = 0
    for folder in folders:
        if not folder.is_dir():
            print(f"{folder}: no such folder", file=sys.stderr)
            failed += 1
            continue
        for path in sorted(folder.glob("*.yml")):
            shown = display_name(folder, path.name)
            try:
                _, errors = load_file(path, shown)  # size, BOM, encoding and tab checks
                if errors:
                    raise FormatError("\n".join(map(str, errors)))
                text = path.read_bytes().decode("utf-8")
                result = format_text(text, shown)
            except FormatError as exc:
                print(exc, file=sys.stderr)
                failed += 1
                continue
            if result == text:
                continue
            unformatted += 1
            if check:
                print(f"{shown}: not formatted — run: python build.py fmt")
            else:
                path.write_text(result, encoding="utf-8", newline="")
                print(f"{shown}: formatted")
    return 1 if failed or (check and unformatted) else 0
