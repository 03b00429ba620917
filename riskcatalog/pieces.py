"""Which entries a change to a catalogue file touched, without parsing the whole file twice.

The history (riskcatalog.history) compares two versions of a file per commit; over a thousand
commits, parsing both versions whole would cost more than the rest of the build. Instead:

- cut() cuts a file at its top-level keys and at the items of the lists they hold (pieces);
- recut() cuts another version of the file by re-cutting only the bytes that differ from the
  first: the pieces before and after them are the same, byte for byte;
- Parser turns only the differing pieces into entries (riskcatalog.diff.entries_of), and builds
  a list item from its fields, each field's text parsed once in the whole history.

Anything the cut cannot place (a document marker, a repeated key, a top-level list, a field not
written `key: …`) raises Uncut, and the caller parses the file whole: the result is the same,
only slower.
"""

from __future__ import annotations

import bisect
import re
from collections import Counter
from dataclasses import dataclass

from .diff import DiffError, Entries, entries_of
from .yamlload import load_text

#: (top-level key, whether it is an item of the key's list, its text)
Piece = tuple[str, bool, bytes]

#: Where a piece may start: a top-level key, or a list item (its indent tells a section's items from nested ones).
_BOUNDARY = re.compile(rb"\n(?:[^\s#]|( *)- )")
_KEY = re.compile(rb"([A-Za-z_][\w-]*):(?=[ \t\n])[ \t]*")
#: An item's first line, up to its first field; and where an item's fields start, by their column.
_DASH = re.compile(rb"( *)-( +)(?=[A-Za-z_])")
_FIELD_STARTS: dict[int, re.Pattern] = {}
#: Nothing but blank and comment lines.
_BLANK = re.compile(rb"(?:[ \t]*(?:#[^\n]*)?\n)*[ \t]*(?:#[^\n]*)?")


class Uncut(Exception):
    """The file's layout is not one the cut understands: parse it whole."""


@dataclass
class Cut:
    """A version of a file cut into pieces."""

    text: bytes  # the file's text after a newline, so that every line starts after one
    #: Each piece: where it starts, its top-level key, whether it is a list item, and the indent of
    #: that key's items (None until known, -1 when the key holds no list).
    at: list[tuple[int, str, bool, int | None]]

    def pieces(self, first: int = 0, last: int | None = None) -> list[Piece]:
        """The pieces from index first up to (not including) last."""
        last = len(self.at) if last is None else last
        ends = [start for start, *_ in self.at[first + 1:last]] + \
               [self.at[last][0] if last < len(self.at) else len(self.text)]
        return [(section, is_item, self.text[start:end])
                for (start, section, is_item, _), end in zip(self.at[first:last], ends)]


def cut(text: bytes) -> Cut:
    """A file cut at its top-level keys and at the items of the lists they hold; blank and comment
    lines go with the piece before them."""
    text = b"\n" + text
    at: list = []
    _scan(text, 0, len(text), None, None, at)
    if not at or not _BLANK.fullmatch(text, 1, at[0][0]):
        raise Uncut()
    return Cut(text, at)


def recut(base: Cut, text: bytes) -> tuple[Cut, list[Piece], list[Piece]]:
    """Another version of base's file, cut where it differs from base: its cut, base's pieces it does
    not have, and its pieces base does not have."""
    old, new = base.text, b"\n" + text
    prefix = _common_prefix(old, new)
    if prefix == len(old) == len(new):
        return Cut(new, base.at), [], []
    suffix = _common_suffix(old, new, min(len(old), len(new)) - prefix)
    starts = [start for start, *_ in base.at]
    first = bisect.bisect_right(starts, prefix - 1) - 1  # the piece holding the last byte before the change
    last = bisect.bisect_right(starts, len(old) - suffix)  # the first piece wholly after it
    if first < 0:  # the change reaches the comments before the first key
        raise Uncut()
    shift = len(new) - len(old)
    at = base.at[:first]
    section, item_indent = (base.at[first - 1][1], base.at[first - 1][3]) if first else (None, None)
    window_end = (starts[last] if last < len(starts) else len(old)) + shift
    state = _scan(new, starts[first] - 1, window_end, section, item_indent, at)
    # The pieces after the window start where they did if the window ends in the state base had there.
    if len(at) == first or at[first][0] != starts[first] \
            or last < len(starts) and state != (base.at[last - 1][1], base.at[last - 1][3]):
        raise Uncut()
    window = len(at)
    at += [(start + shift, *rest) for start, *rest in base.at[last:]]
    keys = [section for _, section, is_item, _ in at if not is_item]
    if len(set(keys)) != len(keys):
        raise Uncut()
    result = Cut(new, at)
    before, after = Counter(base.pieces(first, last)), Counter(result.pieces(first, window))
    return result, list((before - after).elements()), list((after - before).elements())


def _scan(text: bytes, start: int, end: int, section: str | None, item_indent: int | None,
          at: list) -> tuple[str | None, int | None]:
    """Add the pieces starting in text[start:end] to at, from the key and item indent in force at start;
    those in force at end."""
    for match in _BOUNDARY.finditer(text, start, end):
        line = match.start() + 1
        if match.group(1) is None and not text.startswith((b"- ", b"-\n"), line):
            key = _KEY.match(text, line)
            if key is None or any(key.group(1).decode() == seen for _, seen, is_item, _ in at if not is_item):
                raise Uncut()
            section = key.group(1).decode()
            # a list's key has nothing after it on its line; its first item then sets the items' indent
            line_end = text.find(b"\n", line)
            item_indent = None if _BLANK.fullmatch(text, key.end(), len(text) if line_end < 0 else line_end) else -1
            at.append((line, section, False, item_indent))
            continue
        indent = len(match.group(1) or b"")
        if section is None:
            raise Uncut()
        if item_indent is None:
            key_line_end = text.index(b"\n", at[-1][0])
            # an item right after the key (comments between) opens the list; anything else means the
            # key holds a mapping, and its nested lists are no business of the cut
            item_indent = indent if _BLANK.fullmatch(text, key_line_end + 1, line) else -1
            at[-1] = (*at[-1][:3], item_indent)
        if indent == item_indent:
            at.append((line, section, True, item_indent))
    return section, item_indent


def _common_prefix(a: bytes, b: bytes) -> int:
    """How many bytes a and b start with alike: a binary search of slice comparisons (memcmp, not a loop)."""
    low, high = 0, min(len(a), len(b))
    while low < high:
        middle = (low + high + 1) // 2
        if a[low:middle] == b[low:middle]:
            low = middle
        else:
            high = middle - 1
    return low


def _common_suffix(a: bytes, b: bytes, limit: int) -> int:
    """How many bytes (at most limit) a and b end with alike."""
    low, high = 0, limit
    while low < high:
        middle = (low + high + 1) // 2
        if a[len(a) - middle:len(a) - low] == b[len(b) - middle:len(b) - low]:
            low = middle
        else:
            high = middle - 1
    return low


class Parser:
    """The entries of pieces of one history's files: each piece parsed once, and a list item put
    together from its fields, each field's text parsed once, so re-rating a risk parses its ratings."""

    def __init__(self) -> None:
        self.parsed: dict[tuple[str, Piece], Entries] = {}  # (path, piece) -> its entries
        self.values: dict[bytes, object] = {}  # the text of an item's field, or of a top-level key -> its value

    def document(self, path: str, text: bytes) -> dict:
        """A whole file's data, put together from its top-level keys, each key's text parsed once in the
        whole history: a register.yml whose totals changed parses its totals. DiffError if it is not valid
        YAML; Uncut if the cut cannot place it (parse it whole)."""
        found = cut(text)
        data = {}
        for section, chunk in _sections(found):
            if chunk not in self.values:
                doc, errors = load_text(chunk.decode("utf-8"), path)
                if errors:
                    raise DiffError("\n".join(map(str, errors)))
                if not isinstance(doc.data, dict) or list(doc.data) != [section]:
                    raise Uncut()
                self.values[chunk] = doc.data[section]
            data[section] = self.values[chunk]
        return data

    def entries(self, path: str, found: list[Piece]) -> Entries:
        """The entries of some pieces of the file at path; DiffError if one is not valid YAML."""
        result: Entries = {}
        for piece in found:
            if (path, piece) not in self.parsed:
                try:
                    self.parsed[(path, piece)] = self._item(path, *piece) if piece[1] else _parse(path, *piece)
                except Uncut:  # an item whose fields the cut does not place: parse it whole
                    self.parsed[(path, piece)] = _parse(path, *piece)
            result.update(self.parsed[(path, piece)])
        return result

    def _item(self, path: str, section: str, is_item: bool, text: bytes) -> Entries:
        chunks = fields(text)
        keys = [key for key, _ in chunks]
        if len(set(keys)) != len(keys):
            raise Uncut()  # a repeated field: the whole item's parse says what is wrong
        unparsed = []
        for key, chunk in chunks:
            if chunk not in self.values:
                simple = plain_field(chunk)
                if simple is not None and simple[0] == key:
                    self.values[chunk] = simple[1]
                else:
                    unparsed.append((key, chunk))
        if unparsed:
            doc, errors = load_text(b"".join(chunk for _, chunk in unparsed).decode("utf-8"), path)
            if errors or not isinstance(doc.data, dict) or list(doc.data) != [key for key, _ in unparsed]:
                raise Uncut()
            for key, chunk in unparsed:
                self.values[chunk] = doc.data[key]
        return entries_of({section: [{key: self.values[chunk] for key, chunk in chunks}]}, path)


#: A field on one line: its key, one space, its value.
_ONE_LINE_FIELD = re.compile(rb" *([A-Za-z_][\w-]*): ([^\n]+)\n?")
_PLAIN_DECIMAL = re.compile(rb"0|[1-9][0-9]{0,17}")


def plain_field(chunk: bytes) -> tuple[str, object] | None:
    """(key, value) of a field written on one line in a form every YAML reader reads one simple way, or
    None (then it is parsed): a plain decimal; a double-quoted text without escapes; or plain text that
    starts outside ASCII (no YAML 1.1 resolver matches it: it is text) and holds nothing YAML reads
    otherwise (`: `, ` #`, spaces at its ends, anything not printable). Rewording a description then
    costs no parse."""
    match = _ONE_LINE_FIELD.fullmatch(chunk)
    if match is None:
        return None
    key, raw = match.group(1).decode(), match.group(2)
    if _PLAIN_DECIMAL.fullmatch(raw):
        return key, int(raw)
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError:
        return None
    if not text.isprintable():  # controls, separators, bidi marks, a byte-order mark: the parser words those
        return None
    if len(text) >= 2 and text[0] == text[-1] == '"' and '"' not in text[1:-1] and "\\" not in text:
        return key, text[1:-1]
    if not text[0].isascii() and ": " not in text and " #" not in text and not text.endswith((":", " ")):
        return key, text
    return None


def _sections(found: Cut) -> list[tuple[str, bytes]]:
    """Each top-level key of a cut file and its whole text (the key and the items of its list)."""
    sections: list[tuple[str, bytes]] = []
    for section, is_item, text in found.pieces():
        if is_item and sections and sections[-1][0] == section:
            sections[-1] = (section, sections[-1][1] + text)
        else:
            sections.append((section, text))
    return sections


def _parse(path: str, section: str, is_item: bool, text: bytes) -> Entries:
    """The entries of one piece, parsed whole; Uncut if it is not one key or one item after all."""
    doc, errors = load_text(text.decode("utf-8"), path)
    if errors:
        raise DiffError("\n".join(map(str, errors)))
    if not (isinstance(doc.data, list) and len(doc.data) == 1 if is_item
            else isinstance(doc.data, dict) and list(doc.data) == [section]):
        raise Uncut()
    return entries_of({section: doc.data} if is_item else doc.data, path)


def fields(item: bytes) -> list[tuple[str, bytes]]:
    """A list item's text cut at its fields: (key, text), each text a one-key mapping at the fields'
    indent (the first with its dash made a space). Uncut when a field does not start as `key:`."""
    dash = _DASH.match(item)
    if dash is None:
        raise Uncut()
    column = dash.end()
    if column not in _FIELD_STARTS:
        _FIELD_STARTS[column] = re.compile(rb"\n {%d}(?=[^\s#])" % column)
    starts = [0] + [match.start() + 1 for match in _FIELD_STARTS[column].finditer(item)]
    chunks = []
    for start, end in zip(starts, starts[1:] + [len(item)]):
        chunk = item[start:end] if start else item[:dash.end(1)] + b" " + item[dash.end(1) + 1:end]
        key = _KEY.match(chunk, column)
        if key is None:
            raise Uncut()
        chunks.append((key.group(1).decode(), chunk))
    return chunks
