"""Text a spreadsheet would take for a formula: refused by the build, made inert in every download.

Excel, WPS and LibreOffice read a cell that begins with =, +, - or @ as a formula, even after
spaces, tabs or line breaks: in a CSV as it opens, in a workbook once the cell is edited.
`=HYPERLINK("http://…","点击")` sends the reader elsewhere; other formulas run commands ("CSV
injection", OWASP). So the build refuses such text in every field (riskcatalog.validate, worded
with its location), and every CSV the site writes puts such a cell behind an apostrophe, as OWASP
advises; every workbook marks it text (riskcatalog.excel.export.text_cell).
"""

from __future__ import annotations

#: The characters that start a formula.
SIGNS = ("=", "+", "-", "@")
#: What a spreadsheet skips before them.
_BLANK = " \t\r\n"
#: The first characters of text that may begin like a formula: a quick look before formula_sign.
STARTS = frozenset(SIGNS + tuple(_BLANK))


def formula_sign(text: str) -> str | None:
    """The sign that makes text read as a formula, the first character after spaces, tabs and line
    breaks; None when it does not begin like one (a sign later in the text is no formula)."""
    first = text.lstrip(_BLANK)[:1]
    return first if first and first in SIGNS else None


def inert(value):
    """value as a CSV cell no spreadsheet runs: text that begins like a formula behind an apostrophe."""
    return "'" + value if isinstance(value, str) and formula_sign(value) else value
