"""Strict YAML loading: safe tags only, no duplicate keys, no aliases, positions kept.

PyYAML's safe loader still accepts duplicate keys (keeping the last), expands aliases
(a "billion laughs" bomb) and resolves YAML 1.1 booleans, octals and sexagesimals. We let
libyaml compose the node tree, then build plain Python data ourselves so each of those
can be refused with the file, line and column of the offending node.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

import yaml

from .errors import CatalogError, format_path

try:  # libyaml's C composer is several times faster than the pure-Python one.
    from yaml import CSafeLoader as _Loader
except ImportError:  # pragma: no cover - only without libyaml
    from yaml import SafeLoader as _Loader

#: Files bigger than this are refused before parsing: no area file comes near it.
MAX_FILE_BYTES = 8 * 1024 * 1024
#: Deeper nesting is refused before it can exhaust Python's recursion: the format nests 4 deep.
MAX_DEPTH = 32

_TAG = "tag:yaml.org,2002:"
_TAB_INDENT = re.compile(r"^[ ]*\t", re.M)  # a tab among a line's leading blanks
_SCALAR_TAGS = {_TAG + t for t in ("str", "int", "float", "bool", "null", "timestamp")}
_CONSTRUCTOR = yaml.constructor.SafeConstructor()


@dataclass
class Document:
    """A loaded file: its data and the (line, column) of every value and key by path."""

    file: str
    data: object
    positions: dict[tuple, tuple[int, int]] = field(default_factory=dict)
    texts: dict[tuple, str] = field(default_factory=dict)

    def where(self, path: tuple) -> tuple[int, int]:
        """Position of the value at path, or of its nearest ancestor that has one."""
        while path not in self.positions and path:
            path = path[:-1]
        return self.positions.get(path, (1, 1))

    def error(self, path: tuple, message: str) -> CatalogError:
        line, column = self.where(path)
        shown = path[:-1] if path and path[-1] == "__key__" else path  # a key's position, the field's name
        return CatalogError(self.file, line, column, format_path(shown), message)


class _Refused(Exception):
    def __init__(self, node: yaml.Node, message: str):
        self.node, self.message = node, message


def load_text(text: str, file: str) -> tuple[Document | None, list[CatalogError]]:
    """Parse YAML text strictly; returns the document or the errors that stop it."""
    doc = Document(file, None)
    try:
        loader = _Loader(text)
        try:
            root = loader.get_single_node()
        finally:
            loader.dispose()
    except yaml.reader.ReaderError as exc:  # its position is a byte offset in libyaml: find the character
        offset = max(text.find(chr(exc.character)), 0)
        line = text.count("\n", 0, offset) + 1
        column = offset - (text.rfind("\n", 0, offset) + 1) + 1
        return None, [CatalogError(file, line, column, "", f"character U+{exc.character:04X} is not allowed "
                                   "in YAML — remove it")]
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        problem = exc.problem or exc.context or "invalid YAML"
        return None, [CatalogError(file, mark.line + 1, mark.column + 1, "",
                                   f"YAML syntax error: {problem} — fix the syntax at this point")]
    except yaml.YAMLError as exc:
        return None, [CatalogError(file, 1, 1, "", f"YAML error: {exc}")]
    if root is None:
        return None, [CatalogError(file, 1, 1, "", "file is empty — it must hold a mapping (see docs/catalog-format.md)")]
    try:
        doc.data = _build(root, (), doc, set())
    except _Refused as exc:
        mark = exc.node.start_mark
        return None, [CatalogError(file, mark.line + 1, mark.column + 1, "", exc.message)]
    return doc, []


def load_file(path, file: str) -> tuple[Document | None, list[CatalogError]]:
    """Read a catalogue file from disk: size, encoding and layout checks, then load_text."""
    size = path.stat().st_size
    if size > MAX_FILE_BYTES:
        return None, [CatalogError(file, 1, 1, "", f"file is {size / 1048576:.1f} MB, over the "
                                   f"{MAX_FILE_BYTES // 1048576} MB limit — split it or remove the bulk")]
    raw = path.read_bytes()
    if raw.startswith(b"\xef\xbb\xbf"):
        return None, [CatalogError(file, 1, 1, "", "file starts with a byte-order mark — save it as UTF-8 without BOM")]
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        line = raw.count(b"\n", 0, exc.start) + 1
        line_start = raw.rfind(b"\n", 0, exc.start) + 1
        column = len(raw[line_start:exc.start].decode("utf-8")) + 1  # characters, as editors count
        return None, [CatalogError(file, line, column, "",
                                   f"not valid UTF-8 (byte 0x{raw[exc.start]:02x}) — save the file as UTF-8")]
    tab = _TAB_INDENT.search(text)
    if tab:
        line_start = text.rfind("\n", 0, tab.start()) + 1
        return None, [CatalogError(file, text.count("\n", 0, tab.start()) + 1, tab.end() - line_start, "",
                                   "tab in indentation — YAML indents with spaces only")]
    return load_text(text, file)


def _build(node: yaml.Node, path: tuple, doc: Document, seen: set[int]):
    if id(node) in seen:  # libyaml hands back the same node for every alias of an anchor
        raise _Refused(node, "anchors and aliases (&, *) are not allowed — write the value out")
    seen.add(id(node))
    if len(path) > MAX_DEPTH:
        raise _Refused(node, f"nested more than {MAX_DEPTH} levels deep — the catalogue format never nests this deep")
    doc.positions[path] = (node.start_mark.line + 1, node.start_mark.column + 1)
    if isinstance(node, yaml.MappingNode):
        if node.tag != _TAG + "map":
            raise _Refused(node, f"tag {node.tag!r} is not allowed — remove it")
        result: dict = {}
        for key_node, value_node in node.value:
            if not isinstance(key_node, yaml.ScalarNode) or key_node.tag != _TAG + "str":
                if key_node.tag == _TAG + "merge":
                    raise _Refused(key_node, "merge keys (<<) are not allowed — write the fields out")
                if not isinstance(key_node, yaml.ScalarNode):
                    raise _Refused(key_node, "a key must be a field name, not a list or mapping — write the name")
                raise _Refused(key_node, f"key {key_node.value!r} must be plain text — quote it")
            key = key_node.value
            if key in result:
                first = doc.positions[path + (key, "__key__")][0]
                raise _Refused(key_node, f"duplicate key {key!r} (first at line {first}) — keep one")
            doc.positions[path + (key, "__key__")] = (key_node.start_mark.line + 1, key_node.start_mark.column + 1)
            result[key] = _build(value_node, path + (key,), doc, seen)
        return result
    if isinstance(node, yaml.SequenceNode):
        if node.tag != _TAG + "seq":
            raise _Refused(node, f"tag {node.tag!r} is not allowed — remove it")
        return [_build(item, path + (i,), doc, seen) for i, item in enumerate(node.value)]
    if node.tag not in _SCALAR_TAGS:
        raise _Refused(node, f"tag {node.tag!r} is not allowed — only plain YAML values are")
    if node.tag == _TAG + "str":
        return node.value
    doc.texts[path] = node.value  # the text as written, for "quote it" hints
    return _CONSTRUCTOR.yaml_constructors[node.tag](_CONSTRUCTOR, node)
