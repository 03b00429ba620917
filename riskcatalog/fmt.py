"""`build.py fmt [--check] [FOLDER ...]`: rewrite catalogue YAML in one canonical form.

Keys follow the order of the properties in the schema (the same order docs/catalog-format.md
shows), unknown keys last; ruamel.yaml writes the values. Comments are not left to ruamel,
which ties a comment line to the key above it and drops those inside a flow list: each
comment (and blank line) is tied to the node it stands beside — above a key or list item, at
the end of a value's line, after the last line of a block — taken out, and put back beside
the same node once the keys are in order.

A file is written only if build.py reads the same data from it and every comment is still
there, atomically (riskcatalog.files), and never through a symbolic link.
"""

from __future__ import annotations

import bisect
import io
import math
import re
import sys
from dataclasses import dataclass
from pathlib import Path

import yaml
from ruamel.yaml import YAML
from ruamel.yaml.comments import CommentedMap, CommentedSeq
from ruamel.yaml.error import MarkedYAMLError
from ruamel.yaml.nodes import ScalarNode
from ruamel.yaml.resolver import VersionedResolver
from ruamel.yaml.scalarstring import DoubleQuotedScalarString

from .catalog import definition_of, display_name
from .errors import CatalogError, printable
from .files import WriteFailed, failed_write, replacing
from .validate import resolve
from .yamlload import Document, load_text, number_form, read_text

#: Lists of ids (and the register's languages) under these keys are written in flow style, `[a, b]`,
#: unless a comment stands inside (a power's steps and posts.yml's posts are lists of mappings: block style).
FLOW_KEYS = {"sources", "measures", "languages", "posts", "steps"}
_STR_TAG = "tag:yaml.org,2002:str"
#: build.py reads by PyYAML's YAML 1.1 rules, ruamel by YAML 1.2: a string either would type is quoted.
_RESOLVERS = ((yaml.resolver.Resolver(), yaml.ScalarNode), (VersionedResolver(), ScalarNode))
_KEY = "__key__"  # a key's own path: the mapping's path + (key, _KEY), as in yamlload.Document
_BLOCK_INDICATOR = re.compile(r"[|>][-+0-9]*")

Position = tuple[int, int]  # (line, column), from 0


class FormatError(Exception):
    """A file that cannot be formatted: one or more located errors, one a line."""

    def __init__(self, errors: list[CatalogError]):
        super().__init__("\n".join(map(str, sorted(errors))))


@dataclass(frozen=True)
class Comment:
    """A comment as written (`# …`), or a blank line (text ""), with where it starts."""

    text: str
    line: int
    column: int
    own_line: bool


@dataclass(frozen=True)
class Node:
    """A key or a value of the YAML tree: its path (a key's ends in _KEY) and where it starts and ends."""

    path: tuple
    start: Position
    end: Position
    flow: bool = False  # a collection written [..] or {..}


def _yaml() -> YAML:
    y = YAML(typ="rt")
    y.indent(mapping=2, sequence=4, offset=2)
    y.width = sys.maxsize  # never wrap: one text value, one line (folding a long line could change it)
    y.allow_unicode = True
    return y


def _file_rule(name: str) -> dict:
    return resolve({"$ref": f"#/$defs/{definition_of(name)}"})


# --- where the comments are, and what each belongs to ---------------------------------------------

def _nodes(text: str) -> list[Node]:
    """Every key and value of text's YAML tree, in document order."""
    nodes: list[Node] = []

    def walk(node: yaml.Node, path: tuple) -> Position:
        """Adds node and its descendants; returns where node's content ends."""
        start, end = _mark(node.start_mark), _mark(node.end_mark)
        flow = bool(getattr(node, "flow_style", False))
        index = len(nodes)
        nodes.append(Node(path, start, end, flow))
        last = start
        if isinstance(node, yaml.MappingNode):
            for key, value in node.value:
                nodes.append(Node(path + (key.value, _KEY), _mark(key.start_mark), _mark(key.end_mark)))
                last = walk(value, path + (key.value,))
        elif isinstance(node, yaml.SequenceNode):
            for n, item in enumerate(node.value):
                last = walk(item, path + (n,))
        if isinstance(node, yaml.CollectionNode) and not flow:
            # A block collection's end mark is where the next token starts, maybe lines further on.
            nodes[index] = Node(path, start, last, flow)
            return last
        return end

    root = yaml.compose(text, Loader=getattr(yaml, "CSafeLoader", yaml.SafeLoader))
    if root is not None:
        walk(root, ())
    return nodes


def _mark(mark) -> Position:
    return mark.line, mark.column


def _comments(text: str) -> list[Comment]:
    """The comments and blank lines of text: whatever stands outside every YAML token."""
    lines = text.split("\n")
    covered: list[list[tuple[int, int]]] = [[] for _ in lines]  # per line, [start, end) of tokens
    for token in yaml.scan(text, Loader=getattr(yaml, "CSafeLoader", yaml.SafeLoader)):
        (line, column), end = (token.start_mark.line, token.start_mark.column), (token.end_mark.line, token.end_mark.column)
        if isinstance(token, yaml.ScalarToken) and token.style in ("|", ">"):
            # A block scalar's header line holds its indicator and may hold a comment after it.
            header = _BLOCK_INDICATOR.match(lines[line], column)
            covered[line].append((column, header.end()))
            line, column = line + 1, 0
        for n in range(line, end[0] + 1):
            if (n, 0) < end:
                covered[n].append((column if n == line else 0, end[1] if n == end[0] else len(lines[n]) + 1))
    comments = []
    for n, text_line in enumerate(lines):
        if not covered[n] and not text_line.strip():
            if n < len(lines) - 1:  # not the empty string after the final line break
                comments.append(Comment("", n, 0, True))
            continue
        column = text_line.find("#")
        while column >= 0 and any(start <= column < stop for start, stop in covered[n]):  # a # inside a value
            column = text_line.find("#", column + 1)
        if column >= 0:
            alone = not text_line[:column].strip() and not any(stop <= column for _, stop in covered[n])
            comments.append(Comment(text_line[column:].rstrip(), n, column, alone))
    return comments


class _Anchors:
    """Ties each comment to a node: ("start",), ("end",), ("before", path), ("eol", path), ("after", path)."""

    def __init__(self, nodes: list[Node], lines: list[str]):
        self.lines = lines
        self.by_start = sorted(nodes, key=lambda n: (n.start, len(n.path)))
        self.starts = [n.start for n in self.by_start]
        # Ties go to the innermost node: the last item rather than the list that ends with it.
        self.by_end = sorted(nodes, key=lambda n: (n.end, len(n.path)))
        self.ends = [n.end for n in self.by_end]
        self.on_line: dict[int, list[Node]] = {}
        for node in self.by_start:
            self.on_line.setdefault(node.start[0], []).append(node)

    def anchor(self, comment: Comment) -> tuple:
        at = (comment.line, comment.column)
        if not comment.own_line:  # at the end of a line: it belongs to what ends last before it
            return "eol", self._ending_before(at).path
        following = bisect.bisect_right(self.starts, at)
        if following == 0:
            return ("start",)
        if following == len(self.starts):
            return ("end",)
        line = self.by_start[following].start[0]
        indent = len(self.lines[line]) - len(self.lines[line].lstrip())
        if comment.text and comment.column > indent:  # indented under the block above: it ends that block
            return "after", self._ending_before((comment.line, 0)).path
        return "before", self._first_on(line)

    def _ending_before(self, at: Position) -> Node:
        return self.by_end[max(bisect.bisect_right(self.ends, at) - 1, 0)]

    def _first_on(self, line: int) -> tuple:
        """What a line stands for: the list item its `- ` opens, else the key (or item) it starts with."""
        nodes = self.on_line[line]
        if self.lines[line].lstrip().startswith(("- ", "-\t")) or self.lines[line].strip() == "-":
            items = [n.path for n in nodes if n.path and isinstance(n.path[-1], int)]
            if items:
                return min(items, key=len)
        first = min(n.start[1] for n in nodes)
        return max((n.path for n in nodes if n.start[1] == first), key=len)


def _holding_comments(placed: list[tuple[tuple, Comment]]) -> set[tuple]:
    """Paths of the lists with a comment beside one of their items: a list of ids among them is written
    in block style, one item a line, so each comment keeps its item."""
    return {path[:n] for anchor, _ in placed if len(anchor) > 1
            for path in [anchor[1]] for n in range(1, len(path)) if isinstance(path[n], int)}


def _outside_flow(nodes: list[Node]):
    """A test of whether a position lies outside every [..] and {..} of nodes."""
    flows = sorted((node.start, node.end) for node in nodes if node.flow)
    starts = [start for start, _ in flows]
    reach, furthest = [], (-1, -1)  # reach[i]: the furthest end among the first i + 1 flows
    for _, end in flows:
        furthest = max(furthest, end)
        reach.append(furthest)

    def outside(at: Position) -> bool:
        before = bisect.bisect_left(starts, at)
        return before == 0 or reach[before - 1] <= at
    return outside


def _without_comments(text: str, comments: list[Comment]) -> str:
    """text with its comments and blank lines taken out (a line that held only a comment goes)."""
    lines = text.split("\n")
    for comment in reversed(comments):  # from the end, so line numbers stay right
        if comment.own_line:
            del lines[comment.line]
        else:
            lines[comment.line] = lines[comment.line][:comment.column].rstrip()
    return "\n".join(lines)


# --- the canonical form ------------------------------------------------------------------------------

def _canonical(node, rule: dict, path: tuple, block: set[tuple]) -> None:
    """Reorder keys, set list styles and quote YAML 1.1 look-alikes (keys too), in place."""
    rule = resolve(rule)
    if isinstance(node, CommentedMap):
        node.fa.set_block_style()
        properties = rule.get("properties", {})
        order = [k for k in properties if k in node] + [k for k in node if k not in properties]
        for key, value in [(k, node.pop(k)) for k in order]:
            node[_quoted(key)] = _quoted(value)
            if isinstance(value, (CommentedMap, CommentedSeq)):
                _canonical(value, properties.get(key, {}), path + (key,), block)
    elif isinstance(node, CommentedSeq):
        scalars = all(not isinstance(item, (CommentedMap, CommentedSeq)) for item in node)
        if path and path[-1] in FLOW_KEYS and scalars and path not in block:
            node.fa.set_flow_style()
        else:
            node.fa.set_block_style()
        for index, item in enumerate(node):
            node[index] = _quoted(item)
            if isinstance(item, (CommentedMap, CommentedSeq)):
                _canonical(item, rule.get("items", {}), path + (index,), block)


def _quoted(value):
    """value double-quoted if it is a string PyYAML or ruamel would read as a date, number or yes/no unquoted."""
    # type() is str for plain and quoted strings alike; block scalars (| and >) keep their style
    if type(value) is str and any(str(r.resolve(n, value, (True, False))) != _STR_TAG for r, n in _RESOLVERS):
        return DoubleQuotedScalarString(value)
    return value


def _read_alike(doc: Document, data) -> list[CatalogError]:
    """Values YAML 1.1 (build.py) and YAML 1.2 (ruamel, editors) read differently: no canonical form
    can keep both readings, so the contributor says which is meant."""
    errors = []
    for path, value, other in _readings(doc.data, data):
        if path not in doc.texts or _same(value, other):
            continue
        text, other_reading = doc.texts[path], "text" if isinstance(other, str) else repr(other)
        if isinstance(value, bool):
            errors.append(doc.error(path, f"{text!r} is read as {str(value).lower()} by build.py but as "
                                          f"{other_reading} by YAML 1.2 editors — write true or false, "
                                          "or quote it if it is text"))
        else:
            form = number_form(text) if isinstance(value, (int, float)) else None
            errors.append(doc.error(path, f"{text!r} is read as {value}{f' ({form})' if form else ''} by build.py "
                                          f"but as {other_reading} by YAML 1.2 editors — write it as a plain "
                                          "decimal, or quote it if it is text"))
    return errors


def _same(data, other) -> bool:
    """Whether two readings are the same data: yes/no is not 1/0, and .nan is .nan."""
    if isinstance(data, dict) and isinstance(other, dict):
        return data.keys() == other.keys() and all(_same(data[key], other[key]) for key in data)
    if isinstance(data, list) and isinstance(other, list):
        return len(data) == len(other) and all(map(_same, data, other))
    if isinstance(data, float) and isinstance(other, float) and math.isnan(data) and math.isnan(other):
        return True
    return data == other and isinstance(data, bool) == isinstance(other, bool)


def _readings(data, other, path: tuple = ()):
    """(path, value, other value) of every scalar of two readings of one file, walked side by side:
    by position, since a key may be read differently too (0o17 is text to one, 15 to the other)."""
    if isinstance(data, dict):
        for (key, value), other_value in zip(data.items(), other.values()):
            yield from _readings(value, other_value, path + (key,))
    elif isinstance(data, list):
        for index, (value, other_value) in enumerate(zip(data, other)):
            yield from _readings(value, other_value, path + (index,))
    else:
        yield path, data, other


# --- formatting a file ---------------------------------------------------------------------------------

def format_text(text: str, file: str) -> str:
    """The canonical form of one file's text; FormatError if it does not parse or cannot keep its data."""
    original, errors = load_text(text, file)  # the project's strict rules, with its file:line:col errors
    if original is None:
        raise FormatError(errors)
    text = text.replace("\r\n", "\n").replace("\r", "\n")  # as YAML reads line breaks; comments are found by line
    lines = text.split("\n")
    nodes = _nodes(text)
    comments = _comments(text)
    anchors = _Anchors(nodes, lines)
    outside_flow = _outside_flow(nodes)  # a blank line inside [..] cannot be kept there: it goes
    placed = [(anchors.anchor(c), c) for c in comments if c.text or outside_flow((c.line, c.column))]
    y = _yaml()
    try:
        data = y.load(_without_comments(text, comments))
    except MarkedYAMLError as exc:  # pragma: no cover - the strict loader refuses these first
        mark = exc.problem_mark or exc.context_mark
        raise FormatError([CatalogError(file, mark.line + 1, mark.column + 1, "", f"YAML error: {exc.problem}")]) from exc
    read_apart = _read_alike(original, data)
    if read_apart:
        raise FormatError(read_apart)
    _canonical(data, _file_rule(Path(file).name), (), _holding_comments(placed))
    out = io.StringIO()
    y.dump(data, out)
    result = _with_comments(out.getvalue(), placed)
    _refuse_a_loss(result, original, comments)
    return result


def _refuse_a_loss(result: str, original: Document, comments: list[Comment]) -> None:
    """A formatter must never change what build.py reads, nor lose a comment: FormatError rather than write."""
    formatted, _ = load_text(result, original.file)
    kept = sorted(c.text for c in _comments(result) if c.text) == sorted(c.text for c in comments if c.text)
    if formatted is None or not _same(formatted.data, original.data) or not kept:
        raise FormatError([CatalogError(original.file, 1, 1, "", "formatting would change the data or lose a "
                                                                 "comment — leave this file as it is and report it")])


def _with_comments(bare: str, placed: list[tuple[tuple, Comment]]) -> str:
    """bare (the formatted text, no comments) with each comment put back beside its node."""
    lines = bare.split("\n")
    if lines and lines[-1] == "":
        lines.pop()
    nodes = {node.path: node for node in _nodes(bare)}
    start, end = [], []
    before: dict[int, list[str]] = {}
    after: dict[int, list[str]] = {}
    eol: dict[int, list[Comment]] = {}
    indent = lambda n: " " * (len(lines[n]) - len(lines[n].lstrip()))  # noqa: E731
    for anchor, comment in placed:
        kind, path = anchor[0], anchor[1] if len(anchor) > 1 else ()
        if kind == "start":
            start.append(comment.text)
        elif kind == "end":
            end.append(comment.text)
        elif kind == "before":
            line = nodes[path].start[0]
            before.setdefault(line, []).append(indent(line) + comment.text if comment.text else "")
        else:
            line = _last_line(nodes[path])
            if kind == "eol":
                eol.setdefault(line, []).append(comment)
            else:
                column = nodes.get(path + (_KEY,) if path and path[-1] != _KEY else (), nodes[path]).start[1]
                after.setdefault(line, []).append(" " * column + comment.text)
    out = list(start)
    for n, line in enumerate(lines):
        out += before.get(n, [])
        *more, last = eol.get(n, [None])
        out += [indent(n) + comment.text for comment in more]  # two cannot share the line: the others go above it
        out.append(line if last is None else line + " " * max(last.column - len(line), 2) + last.text)
        out += after.get(n, [])
    return "\n".join(out + end) + "\n"


def _last_line(node: Node) -> int:
    line, column = node.end
    return line - 1 if column == 0 and line > node.start[0] else line


# --- the command -----------------------------------------------------------------------------------------

def run(folders: list[Path], check: bool) -> int:
    """Format (or with check, only test) every *.yml in the folders; the exit code."""
    failed = unformatted = 0
    for folder in folders:
        if not folder.is_dir():
            _say(f"{folder}: no such folder", sys.stderr)
            failed += 1
            continue
        for path in sorted(folder.glob("*.yml")):
            shown = display_name(folder, path.name)
            try:
                text, result = _formatted(path, shown, check)
                if result == text:
                    continue
                unformatted += 1
                if check:
                    _say(f"{shown}: not formatted — run: python build.py fmt")
                else:
                    _write(path, shown, result)
                    _say(f"{shown}: formatted")
            except FormatError as exc:
                print(exc, file=sys.stderr)  # located errors, already escaped
                failed += 1
            except WriteFailed as exc:
                _say(f"error: {exc}; {shown} is unchanged", sys.stderr)
                failed += 1
    return 1 if failed or (check and unformatted) else 0


def _say(line: str, stream=None) -> None:
    """Print one line; a file's name may hold a line break or an escape sequence, shown escaped."""
    print(printable(line), file=stream or sys.stdout)


def _formatted(path: Path, shown: str, check: bool) -> tuple[str, str]:
    """A file's text and its canonical form; FormatError if it cannot be read, formatted or written."""
    if not check and path.is_symlink():  # replacing it would cut the link; writing through it, change another file
        raise FormatError([CatalogError(shown, 1, 1, "", "is a symbolic link — fmt does not write through links; "
                                                         "format the file it points to")])
    text, errors = read_text(path, shown)  # kind, size, BOM, encoding and tab checks
    if text is None:
        raise FormatError(errors)
    return text, format_text(text, shown)


def _write(path: Path, shown: str, result: str) -> None:
    """Replace the file with result atomically: on a full disk it stays whole."""
    try:
        with replacing(path) as temporary:
            temporary.write_bytes(result.encode("utf-8"))
    except OSError as exc:
        raise failed_write(Path(shown), exc) from None
