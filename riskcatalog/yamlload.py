"""Strict YAML loading: safe tags only, no duplicate keys, no aliases, positions kept.

PyYAML's safe loader still accepts duplicate keys (keeping the last), expands aliases
(a "billion laughs" bomb), raises on dates that do not exist and lets escapes such as "\\e"
put control characters into text. We let libyaml compose the node tree, then build plain
Python data ourselves so each of those can be refused with the file, line and column of the
offending node. YAML 1.1 booleans, octals and sexagesimals are read as YAML 1.1 reads them,
with the text as written kept beside (Document.texts), so the validator can say "quote it"
or "write it as a plain decimal" (number_form).

Files are read only if they are regular files, at most MAX_FILE_BYTES of them: a link to
/dev/zero, a FIFO or an unreadable file is a located error, not a hang or a traceback.
"""

from __future__ import annotations

import datetime
import os
import re
import stat
from dataclasses import dataclass, field
from pathlib import Path

import yaml

from .errors import UNSAFE, CatalogError, format_path
from .formulas import STARTS
from .files import kind

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
#: UNSAFE characters YAML lets through raw: it refuses the others itself. NEL and the line and
#: paragraph separators it reads as line breaks, which no editor shows as one.
_RAW_UNSAFE = re.compile("[\x85\u2028\u2029\u202a-\u202e\u2066-\u2069]")
#: A number as the catalogue writes numbers: plain decimal digits, no sign but minus, no leading zero.
_PLAIN_DECIMAL = re.compile(r"-?(0|[1-9][0-9]*)")
#: The other forms YAML 1.1 reads as numbers, first match wins: (pattern, what to call the form).
_NUMBER_FORMS = [(re.compile(pattern), name) for pattern, name in (
    (r"[-+]?0b", "binary"), (r"[-+]?0x", "hexadecimal"), (r".*:", "base 60"), (r"[-+]?0[0-9_]", "octal"),
    (r".*_", "with underscores"), (r"\+", "with a plus sign"), (r"[-+]?\.(inf|Inf|INF)", "infinity"),
    (r"\.(nan|NaN|NAN)", "not a number"), (r".", "not a whole number"))]


def parse_date(text: str) -> datetime.date | None:
    """The date (or date and time) a YAML timestamp names, or None if there is no such date: never raises."""
    if not _CONSTRUCTOR.timestamp_regexp.fullmatch(text):
        return None
    try:
        return _CONSTRUCTOR.construct_yaml_timestamp(yaml.ScalarNode(_TAG + "timestamp", text))
    except (ValueError, OverflowError):  # 2018-13-06, 0000-01-01, a time zone past 24 hours
        return None


def number_form(text: str) -> str | None:
    """What is unusual about a number as written (e.g. 'octal' for 063), or None for a plain decimal."""
    if _PLAIN_DECIMAL.fullmatch(text):
        return None
    return next(name for pattern, name in _NUMBER_FORMS if pattern.match(text))


@dataclass
class Document:
    """A loaded file: its data and the (line, column) of every value and key by path."""

    file: str
    data: object
    positions: dict[tuple, tuple[int, int]] = field(default_factory=dict)
    texts: dict[tuple, str] = field(default_factory=dict)
    #: Paths of the texts whose first character may begin a formula (riskcatalog.formulas.STARTS):
    #: noted as they load, so the validator looks at these only.
    signed: list[tuple] = field(default_factory=list)

    def value(self, path: tuple):
        """The value at path."""
        data = self.data
        for part in path:
            data = data[part]
        return data

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
    raw = _RAW_UNSAFE.search(text)
    if raw:  # written raw, the character is refused where it stands, as YAML refuses the others
        return None, [_character_error(text, raw.start(), file)]
    try:
        loader = _Loader(text)
        try:
            root = loader.get_single_node()
        finally:
            loader.dispose()
    except yaml.reader.ReaderError as exc:  # its position is a byte offset in libyaml: find the character
        return None, [_character_error(text, max(text.find(chr(exc.character)), 0), file)]
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


def _character_error(text: str, offset: int, file: str) -> CatalogError:
    line = text.count("\n", 0, offset) + 1
    column = offset - (text.rfind("\n", 0, offset) + 1) + 1
    return CatalogError(file, line, column, "", f"character U+{ord(text[offset]):04X} is not allowed in YAML — remove it")


def load_file(path: Path, file: str) -> tuple[Document | None, list[CatalogError]]:
    """Read a catalogue file from disk: kind, size, encoding and layout checks, then load_text."""
    text, errors = read_text(path, file)
    return (None, errors) if text is None else load_text(text, file)


def read_text(path: Path, file: str) -> tuple[str | None, list[CatalogError]]:
    """A catalogue file's text, or the located error that stops it being read."""
    raw, errors = read_bytes(path, file)
    return (None, errors) if raw is None else decode(raw, file)


def read_bytes(path: Path, file: str) -> tuple[bytes | None, list[CatalogError]]:
    """At most MAX_FILE_BYTES of a regular file (links followed); an error for anything else."""
    refused = lambda message: (None, [CatalogError(file, 1, 1, "", message)])  # noqa: E731
    try:
        # O_NONBLOCK: opening a FIFO must not wait for a writer; it is refused below.
        fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK | os.O_NOCTTY | os.O_CLOEXEC)
    except FileNotFoundError:
        return refused("is a link to a file that does not exist — fix the link or put the file here")
    except PermissionError:
        return refused("cannot be read: permission denied — make the file readable")
    except OSError as exc:
        return refused(f"cannot be read: {exc.strerror} — replace it with the YAML file")
    with open(fd, "rb") as stream:
        info = os.fstat(fd)
        if not stat.S_ISREG(info.st_mode):
            return refused(f"is {kind(info.st_mode)}, not a file — put the YAML file here instead")
        try:
            raw = stream.read(MAX_FILE_BYTES + 1)  # a file growing while read is still cut off at the limit
        except OSError as exc:
            return refused(f"cannot be read: {exc.strerror} — replace it with the YAML file")
    size = max(info.st_size, len(raw))
    return (None, [too_big(size, file)]) if size > MAX_FILE_BYTES else (raw, [])


def too_big(size: int, file: str) -> CatalogError:
    """The error for a file of size bytes, over MAX_FILE_BYTES."""
    return CatalogError(file, 1, 1, "", f"file is {size / 1048576:.1f} MB, over the {MAX_FILE_BYTES // 1048576} MB "
                                        "limit — split it or remove the bulk")


def decode(raw: bytes, file: str) -> tuple[str | None, list[CatalogError]]:
    """A catalogue file's bytes as text: UTF-8 without a byte-order mark, indented with spaces."""
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
    return text, []


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
            key = _text(key_node)
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
        text = _text(node)
        if text[:1] in STARTS:
            doc.signed.append(path)
        return text
    doc.texts[path] = node.value  # the text as written, for "quote it" hints
    if node.tag == _TAG + "timestamp":
        value = parse_date(node.value)
        if value is None:
            raise _Refused(node, f"{node.value!r} is not a real date — give a date that exists, quoted like \"2019-01-15\"")
        return value
    return _CONSTRUCTOR.yaml_constructors[node.tag](_CONSTRUCTOR, node)


def _text(node: yaml.ScalarNode) -> str:
    """A text scalar; an escape ("\\e", "\\0", "\\u202e") may not bring in what YAML refuses raw."""
    unsafe = UNSAFE.search(node.value) if node.style == '"' else None  # only double quotes have escapes
    if unsafe:
        raise _Refused(node, f"character U+{ord(unsafe[0]):04X} is not allowed in text — remove its escape")
    return node.value
