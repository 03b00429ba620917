"""A register saved as CSV: UTF-8 (with or without the byte-order mark Excel writes) or GB18030
(what Chinese Excel and WPS write by default), its delimiter read from the first line.

The encoding and the delimiter are said in the report: a file that is neither UTF-8 nor
GB18030 text is refused, never read as mojibake.
"""

from __future__ import annotations

import csv
import io
from pathlib import Path

from .reading import MAX_CELL_TEXT, Book, Grid, Part, Sheet, refused, text_of

_DELIMITERS = {",": "逗号 comma", "\t": "制表符 tab", ";": "分号 semicolon"}


class CsvBook(Book):
    """One CSV file: one sheet, named after the file."""

    kind = "CSV 文本 · CSV text"

    def __init__(self, path: Path, shown: str, text: str, encoding: str):
        super().__init__(path, shown)
        self.text = text
        sample = "\n".join(text.split("\n", 20)[:20])  # title rows above the heading may hold no delimiter
        self.delimiter = max(_DELIMITERS, key=sample.count)
        self.sheets = [Sheet(path.stem)]
        self.notes.append(("编码", f"{encoding}，分隔符：{_DELIMITERS[self.delimiter]} · encoding {encoding}, "
                                   f"delimiter {_DELIMITERS[self.delimiter].split()[1]}"))

    def read(self, name: str) -> Grid:
        grid = Grid(self.shown, name, parts=[Part("text", name, 1)])
        csv.field_size_limit(MAX_CELL_TEXT + 1)
        reader = csv.reader(io.StringIO(self.text, newline=""), delimiter=self.delimiter)
        row = 0
        try:
            for row, values in enumerate(reader, 1):
                self.tally.position(grid.where(row, 1), row, len(values))
                for column, value in enumerate(values, 1):
                    self.tally.cell(self.shown)
                    self.tally.string(grid.where(row, column), len(value))
                    text = text_of(value)
                    self.tally.stored(self.shown, len(text))
                    grid.put(row, column, text)
        except csv.Error as exc:
            where = grid.where(row + 1, 1)
            if "field larger than field limit" in str(exc):
                self.tally.string(where, MAX_CELL_TEXT + 1)
            raise refused(where, f"the CSV cannot be read here ({exc}) — open it in Excel or WPS and save it as "
                                 "an Excel workbook (.xlsx)") from None
        return grid


def open_csv(path: Path, shown: str, head: bytes) -> CsvBook:
    """The file as CSV text, or refused: binary, or an encoding neither UTF-8 nor GB18030."""
    if b"\0" in head:
        raise refused(shown, "this is not a workbook, a Word document or CSV text — save the register from Excel, "
                             "WPS or Word as .xlsx or .docx")
    data = path.read_bytes()
    if data.lstrip()[:100].lower().startswith((b"<html", b"<!doctype html", b"<table", b"<?xml")):
        raise refused(shown, "this is a web page or XML saved under a workbook's name — open it in Excel or WPS and "
                             "save it as an Excel workbook (.xlsx)")
    for encoding, shown_encoding in (("utf-8-sig", "UTF-8"), ("gb18030", "GB18030")):
        try:
            text = data.decode(encoding)
        except UnicodeDecodeError:
            continue
        if encoding == "utf-8-sig" and data.startswith(b"\xef\xbb\xbf"):
            shown_encoding = "UTF-8（带 BOM · with byte-order mark）"
        if not any(d in "".join(text.split("\n", 20)[:20]) for d in _DELIMITERS):
            raise refused(shown, "this is a text file with no commas or tabs in its first lines, not a register — "
                                 "save the register from Excel or WPS as .xlsx")
        return CsvBook(path, shown, text.replace("\r\n", "\n").replace("\r", "\n"), shown_encoding)
    raise refused(shown, "this text is neither UTF-8 nor GB18030 — open it in Excel or WPS and save it as an Excel "
                         "workbook (.xlsx), or as CSV UTF-8")
