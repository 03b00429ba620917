"""A register kept as a Word table (.docx, from Word or WPS), read with python-docx.

Each table of the document is a "sheet" named 表格1, 表格2, … in order. Cells merged across
(gridSpan) or down (vMerge) become merged ranges; paragraphs Word numbers itself (numbering,
not typed digits) are numbered 1. 2. … so their items split as typed ones do. Tables that
repeat the first one's heading (a register continued after a page break or a section title)
are read as one, the paragraph between them as a heading row between the risks. The
paragraphs before the first table are the title the unit's name and date are read from.

python-docx builds the whole document in memory, so the document is first streamed through
expat to count its tables' rows and cells and to measure its texts against the limits.
"""

from __future__ import annotations

import re
import zipfile
from pathlib import Path

from .reading import MAX_COLUMNS, MAX_ROWS, Book, Grid, Part, Sheet, refused
from .xlsx import _parse

#: Elements of document.xml, against the memory python-docx takes to hold them.
MAX_ELEMENTS = 1_000_000
#: Paragraph text between two tables that can be a heading row between their risks.
_HEADING_LENGTH = 40
_MARKER = re.compile(r"^\s*(?:[（(]?\d{1,2}[)）.、．]|[①-⑳])")


class DocxBook(Book):
    kind = "Word 文档 (.docx) · Word document (.docx)"
    part_zh, part_en = "表格", "table"

    def __init__(self, path: Path, shown: str, archive: zipfile.ZipFile):
        super().__init__(path, shown)
        self._measure(archive)
        archive.close()
        import docx  # on demand: lxml and python-docx are needed only for Word files

        try:
            self.document = docx.Document(str(path))
        except Exception as exc:  # python-docx raises many kinds for a damaged file; each means the same here
            raise refused(shown, f"the document is damaged ({type(exc).__name__}: {exc}) — open it in Word or WPS, "
                                 "save a new copy and import that") from None
        self.blocks = list(self.document.iter_inner_content())  # paragraphs and tables, in order
        self.tables = [n for n, block in enumerate(self.blocks) if _is_table(block)]
        paragraphs = [n for n, block in enumerate(self.blocks) if not _is_table(block)]
        self.paragraph_number = {n: k for k, n in enumerate(paragraphs, 1)}
        self.sheets = [Sheet(f"表格{k}") for k in range(1, len(self.tables) + 1)]
        #: Tables read as the continuation of an earlier one.
        self.continued: set[str] = set()

    def _measure(self, archive: zipfile.ZipFile) -> None:
        """Stream document.xml through expat: rows, cells, spans and texts within the limits, before
        python-docx builds anything."""
        where, tally = self.shown, self.tally
        state = {"elements": 0, "rows": 0, "depth": 0, "length": 0, "in_t": False, "columns": 0}

        def start(name, attrs):
            state["elements"] += 1
            if state["elements"] > MAX_ELEMENTS:
                raise refused(where, f"the document has more than {MAX_ELEMENTS:,} elements, over the limit — "
                                     "split it into several documents")
            if name == "tbl":
                state["depth"] += 1
            elif name == "tr":
                state["rows"] += 1
                state["columns"] = 0
                if state["rows"] > MAX_ROWS:
                    raise refused(where, f"the document's tables have more than {MAX_ROWS:,} rows, over the limit "
                                         "— split the register into several documents")
            elif name == "tc":
                tally.cell(where)
                state["length"] = 0
                state["columns"] += 1
            elif name == "gridSpan":
                span = _number(attrs)
                state["columns"] += span - 1
            elif name == "t":
                state["in_t"] = True
            if name in ("tc", "gridSpan") and state["columns"] > MAX_COLUMNS:
                raise refused(where, f"a table row with more than {MAX_COLUMNS} columns, over the limit — "
                                     "split the table")

        def end(name):
            if name == "t":
                state["in_t"] = False
            elif name == "tbl":
                state["depth"] -= 1

        def text(data):
            if state["in_t"]:
                state["length"] += len(data)
                tally.string(where, state["length"])
                tally.stored(where, len(data))

        _parse(archive, "word/document.xml", where, start, end, text)

    def read(self, name: str) -> Grid:
        """The table, with the tables after it that repeat its heading, as one grid; the paragraph before
        each of them (一、财务管理) a heading row between their risks."""
        first = int(name.removeprefix("表格")) - 1
        grid = Grid(self.shown, name)
        first_table = self.blocks[self.tables[first]]
        continued = []  # (table index, the paragraph before it, if short enough to be a heading)
        for later in range(first + 1, len(self.tables)):
            if _first_row(self.blocks[self.tables[later]]) != _first_row(first_table):
                break
            between = self._paragraphs(self.tables[later - 1] + 1, self.tables[later])
            continued.append((later, between[-1] if between and len(between[-1][1]) <= _HEADING_LENGTH else None))
        grid.preamble = [(f"{self.shown}!{label}", text) for label, text in self._paragraphs(0, self.tables[first])]
        opening = None
        if continued and all(banner for _, banner in continued) and grid.preamble and \
                len(grid.preamble[-1][1]) <= _HEADING_LENGTH:
            opening = grid.preamble.pop()  # the first table's own heading, like those before the others
            opening = (opening[0].rsplit("!", 1)[-1], opening[1])
        heading_rows = _repeated_rows(self.blocks[self.tables[continued[0][0]]], first_table) if continued else 0
        if opening:
            self._add_rows(grid, first, 1, heading_rows)
            self._banner(grid, opening)
        self._add_rows(grid, first, heading_rows + 1 if opening else 1)
        for later, banner in continued:
            if banner:
                self._banner(grid, banner)
            self._add_rows(grid, later, _repeated_rows(self.blocks[self.tables[later]], first_table) + 1)
            self.continued.add(f"表格{later + 1}")
        return grid

    def _paragraphs(self, start: int, stop: int) -> list[tuple[str, str]]:
        """(段落N, text) of the non-empty paragraphs among blocks[start:stop], numbered as paragraphs."""
        return [(f"段落{self.paragraph_number[n]}", self.blocks[n].text.strip()) for n in range(start, stop)
                if not _is_table(self.blocks[n]) and self.blocks[n].text.strip()]

    def _banner(self, grid: Grid, paragraph: tuple[str, str]) -> None:
        row = grid.rows + 1
        grid.parts.append(Part("paragraph", paragraph[0], row))
        grid.put(row, 1, paragraph[1])

    def _add_rows(self, grid: Grid, index: int, start: int, stop: int | None = None) -> None:
        """Rows start..stop (1-based, all to the end without stop) of a table, below the grid's rows."""
        table, label = self.blocks[self.tables[index]], f"表格{index + 1}"
        offset = grid.rows - (start - 1)
        grid.parts.append(Part("table", label, offset + start, start))
        down: dict[int, list[int]] = {}  # column -> the merged range running down from it [row, col, row, col]
        for number, tr in enumerate(table._tbl.tr_lst, 1):
            if number < start or (stop is not None and number > stop):
                continue
            row, column = offset + number, tr.grid_before + 1
            for tc in tr.tc_lst:
                span = max(tc.grid_span, 1)
                if tc.vMerge == "continue" and column in down:
                    down[column][2] = row
                else:
                    self._close(grid, down.pop(column, None))
                    grid.put(row, column, _cell_text(tc, table))
                    if tc.vMerge == "restart":
                        down[column] = [row, column, row, column + span - 1]
                    elif span > 1:
                        self._close(grid, [row, column, row, column + span - 1])
                grid.put(row, column + span - 1, "")
                column += span
        for bounds in down.values():
            self._close(grid, bounds)

    def _close(self, grid: Grid, bounds: list[int] | None) -> None:
        if bounds and (bounds[2] > bounds[0] or bounds[3] > bounds[1]):
            self.tally.merge(grid.where(bounds[0], bounds[1]), *bounds)
            grid.merges.append(tuple(bounds))


def _is_table(block) -> bool:
    return type(block).__name__ == "Table"


def _number(attrs: dict) -> int:
    value = next((v for k, v in attrs.items() if k.rsplit(":", 1)[-1] == "val"), "1")
    return int(value) if value.isdigit() else 1


def _first_row(table) -> list[str]:
    rows = table._tbl.tr_lst
    return [re.sub(r"\s", "", tc.xpath("string(.)")) for tc in rows[0].tc_lst] if rows else []


def _repeated_rows(table, first_table) -> int:
    """How many of a later table's first rows repeat the first table's (its heading, again)."""
    count = 0
    for mine, theirs in zip(table._tbl.tr_lst[:3], first_table._tbl.tr_lst[:3]):
        texts = [[re.sub(r"\s", "", tc.xpath("string(.)")) for tc in tr.tc_lst] for tr in (mine, theirs)]
        if texts[0] != texts[1]:
            break
        count += 1
    return count


def _cell_text(tc, table) -> str:
    """A cell's paragraphs a line each; paragraphs Word numbers itself get their numbers written out."""
    from docx.text.paragraph import Paragraph

    lines, number = [], 0
    for p in tc.p_lst:
        text = Paragraph(p, table).text.strip()
        if not text:
            continue
        if _numbered(p) and not _MARKER.match(text):
            number += 1
            text = f"{number}. {text}"
        lines.append(text)
    return "\n".join(lines)


def _numbered(p) -> bool:
    """Whether Word numbers the paragraph (its own numbering, or its list style's)."""
    properties = p.pPr
    if properties is None:
        return False
    if properties.numPr is not None:
        return True
    style = properties.pStyle.val if properties.pStyle is not None else ""
    return bool(re.match(r"(?i)list ?number|列表编号|编号", style or ""))


def open_docx(path: Path, shown: str, archive: zipfile.ZipFile) -> DocxBook:
    return DocxBook(path, shown, archive)
