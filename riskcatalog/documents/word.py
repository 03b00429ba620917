"""Word documents of a register: the 岗位廉政风险防控卡 (one post, or every post, a card a page) and the
廉政风险防控手册 (cover, contents, notes, 职权目录, each area's flowcharts and 登记表, the cards).

Laid out as offices print them: A4 portrait, 宋体 text and 黑体 headings, real tables with a grey heading row
repeated on every page, levels shaded as in the 登记表 workbook, flowcharts as inline PNG pictures cut between
steps to fit a page. Nothing floats and no field needs updating, so the files open the same in Word and WPS.
"""

from __future__ import annotations

import io
import sqlite3
from dataclasses import dataclass
from typing import IO

from docx import Document
from docx.document import Document as DocumentType
from docx.enum.table import WD_TABLE_ALIGNMENT
from docx.enum.text import WD_ALIGN_PARAGRAPH, WD_BREAK
from docx.oxml import OxmlElement
from docx.oxml.ns import qn
from docx.shared import Cm, Pt, RGBColor
from docx.table import Table, _Cell

from ..fields import AREA, POST, POWER, RISK
from . import data, flowchart, picture
from .data import Card, Power

#: The text width of an A4 page with margins of 2 cm; the height a flowchart's picture may take on a page of its
#: own, and under the headings that open an area and a power.
TEXT_WIDTH_CM, PICTURE_HEIGHT_CM, FIRST_PICTURE_HEIGHT_CM = 17.0, 24.0, 20.5
#: Light shades of the level colours, as the 登记表 workbook prints them.
LEVEL_SHADES = {"high": "F4C7C3", "medium": "FCE8B2", "low": "D9EAD3"}
HEADING_SHADE = "D9D9D9"
BODY_FONT, HEADING_FONT = "宋体", "黑体"


# --- the documents ------------------------------------------------------------------------------------------------

def cards_document(cards: list[Card], levels: dict[str, data.Level], target: str | IO[bytes]) -> None:
    """The risk cards of one or more posts, a card a page."""
    doc = _new_document(f"{cards[0].unit_zh}岗位廉政风险防控卡" if cards else "岗位廉政风险防控卡")
    for n, card in enumerate(cards):
        if n:
            _page_break(doc)
        _card(doc, card, levels)
    doc.save(target)


@dataclass
class Handbook:
    """What a register's handbook holds, read from the database (read_handbook) before it is written."""

    unit_zh: str
    note_zh: str | None
    reviewed: str | None
    levels: dict[str, data.Level]
    powers: list[Power]  #: every power with its steps, branches and risks (data.power)
    areas: list[dict]  #: key, name_zh
    registers: dict[str, list[dict]]  #: area key -> its rows of the 登记表 view
    cards: list[Card]


def read_handbook(conn: sqlite3.Connection, unit: str) -> Handbook:
    """Everything the handbook of unit shows (a few hundred small queries: a fraction of a second)."""
    facts = data.rows(conn, "select name_zh, provenance_note_zh from units where id = ?", unit)[0]
    areas = data.rows(conn, "select key, name_zh from areas where unit = ? order by position", unit)
    names = [name for name, _ in _REGISTER]
    registers = {area["key"]: data.rows(conn, f"select {', '.join(f'v.{name}' for name in names)}, r.level "
                                              "from register v join risks r on r.key = v._risk where r.area = ? "
                                              "order by r.seq", area["key"]) for area in areas}
    return Handbook(facts["name_zh"], facts["provenance_note_zh"], _latest_review(conn, unit), data.levels(conn),
                    [data.power(conn, power.key) for power in data.catalogue(conn, unit)], areas, registers,
                    data.cards(conn, unit))


def handbook(book: Handbook, target: str | IO[bytes]) -> None:
    """The 廉政风险防控手册 of one unit's register."""
    powers, areas, cards = book.powers, book.areas, book.cards
    doc = _new_document(f"{book.unit_zh}廉政风险防控手册")
    _cover(doc, book.unit_zh, book.reviewed)
    sections = ["一、编制说明", "二、职权目录", "三、权力运行流程图和廉政风险点登记表",
                *[f"　　（{_chinese_number(n)}）{area['name_zh']}" for n, area in enumerate(areas, 1)],
                "四、岗位廉政风险防控卡"]
    _heading(doc, "目　录", 1, centred=True)
    for line in sections:
        _paragraph(doc, line, size=12, space_after=6)
    _page_break(doc)
    _heading(doc, "一、编制说明", 1)
    _paragraph(doc, book.note_zh or "", first_line_indent=True)
    _paragraph(doc, f"本手册收录职权 {len(powers)} 项、流程环节 {sum(len(p.steps) for p in powers)} 个、廉政风险点 "
                    f"{sum(len(p.risks) for p in powers)} 个（按所在职权计）和岗位廉政风险防控卡 {len(cards)} 张。流程图中，"
                    "方框为办理环节，菱形为分支判断，虚线框为分支去向或办结，风险点按等级着色（一级红、二级橙、三级绿）"
                    "标在其所在环节旁。", first_line_indent=True)
    _page_break(doc)
    _heading(doc, "二、职权目录", 1)
    catalogue_table(doc, powers)
    _page_break(doc)
    _heading(doc, "三、权力运行流程图和廉政风险点登记表", 1)
    for n, area in enumerate(areas, 1):
        if n > 1:
            _page_break(doc)
        _heading(doc, f"（{_chinese_number(n)}）{area['name_zh']}", 2)
        for m, power in enumerate(p for p in powers if p.area_key == area["key"]):
            if m:  # each power on a page of its own
                _page_break(doc)
            _flowchart(doc, power, book.levels)
        _page_break(doc)
        _heading(doc, f"{area['name_zh']}廉政风险点登记表", 3)
        _register_table(doc, book.registers[area["key"]])
    _page_break(doc)
    _heading(doc, "四、岗位廉政风险防控卡", 1)
    for n, card in enumerate(cards):
        if n:
            _page_break(doc)
        _card(doc, card, book.levels)
    doc.save(target)


def handbook_bytes(book: Handbook) -> bytes:
    out = io.BytesIO()
    handbook(book, out)
    return out.getvalue()


# --- parts ------------------------------------------------------------------------------------------------------

def _card(doc: DocumentType, card: Card, levels: dict[str, data.Level]) -> None:
    """One post's card: who, which powers, its risks with levels, steps and measures, the commitment, signatures."""
    _paragraph(doc, "岗位廉政风险防控卡", size=18, font=HEADING_FONT, centred=True, space_after=4)
    _paragraph(doc, f"单位：{card.unit_zh}", size=10.5, space_after=4)
    post = card.post
    powers = "\n".join(f"{n}. {p.id} {p.title_zh}" for n, p in enumerate(card.powers, 1)) or "（无）"
    info = _table(doc, [[("岗位名称", True), (post.title_zh, False), (POST["department"].zh, True),
                         (post.department_zh or "", False)],
                        [(POST["leader"].zh, True), (post.leader_zh or "", False), ("", True), ("", False)],
                        [(RISK["power"].zh, True), (powers, False), ("", True), ("", False)]],
                  [2.2, 7.0, 2.2, 5.6])
    for row in (1, 2):  # the leader and the powers across the row
        merged = info.cell(row, 1).merge(info.cell(row, 3))
        for paragraph in merged.paragraphs[1:]:
            if not paragraph.text:  # the empty cells' paragraphs, which merging keeps
                paragraph._p.getparent().remove(paragraph._p)
    _paragraph(doc, "", space_after=2)
    rows = [[("序号", True), ("廉政风险点", True), (RISK["level"].zh, True), ("所在流程环节", True),
             (RISK["measures"].zh, True)]]
    for n, risk in enumerate(card.risks, 1):
        steps = "、".join(card.step_titles[(risk.power, position)] for position in risk.steps)
        power_id = risk.power.split("-", 1)[1] if risk.power else ""
        rows.append([(str(n), False), (f"{risk.id} {risk.title_zh}", False), (levels[risk.level].zh, False),
                     (f"{power_id}：{steps}", False),
                     ("\n".join(f"{m}. {measure.id} {measure.title_zh}" for m, measure in enumerate(risk.measures, 1)),
                      False)])
    if not card.risks:
        rows.append([("", False), ("本岗位所涉职权暂未查找出廉政风险点", False), ("", False), ("", False), ("", False)])
    risks = _table(doc, rows, [1.0, 4.2, 1.7, 3.6, 6.5], size=9, header=True)
    for n, risk in enumerate(card.risks, 1):
        level = _cells(risks, n)[2]
        _shade(level, LEVEL_SHADES.get(risk.level, "FFFFFF"))
        level.paragraphs[0].alignment = WD_ALIGN_PARAGRAPH.CENTER
    _paragraph(doc, "廉政承诺", size=12, font=HEADING_FONT, space_before=8, space_after=2)
    _paragraph(doc, data.COMMITMENT_ZH, size=10.5, first_line_indent=True, space_after=14)
    for who in ("岗位责任人", POST["leader"].zh):
        _paragraph(doc, f"{who}（签字）：＿＿＿＿＿＿＿＿＿＿　　　　日期：　　　　年　　月　　日", size=11, space_after=14)


def catalogue_table(doc: DocumentType, powers: list[Power]) -> Table:
    """The 职权目录: every power with its area, posts and basis."""
    rows = [[("序号", True), (AREA.zh, True)] + [(POWER[name].zh, True) for name in ("id", "title", "posts", "sources")]]
    for n, power in enumerate(powers, 1):
        rows.append([(str(n), False), (power.area_zh, False), (power.id, False), (power.title_zh, False),
                     ("\n".join(post.title_zh for post in power.posts), False),
                     ("\n".join(f"《{s.title_zh}》" + (f"（{s.number}）" if s.number else "") for s in power.sources),
                      False)])
    return _table(doc, rows, [1.0, 2.0, 1.8, 4.2, 3.6, 4.4], size=9, header=True)


def _flowchart(doc: DocumentType, power: Power, levels: dict[str, data.Level]) -> None:
    """A power's heading, its posts and basis, and its flowchart as pictures cut to fit the pages."""
    _heading(doc, f"{power.id} {power.title_zh}", 3)
    posts = "、".join(post.title_zh for post in power.posts) or "（未列）"
    basis = "、".join(f"《{s.title_zh}》" for s in power.sources) or "（未列）"
    _paragraph(doc, f"{POWER['posts'].zh}：{posts}；{POWER['sources'].zh}：{basis}", size=9, space_after=4)
    drawing = flowchart.layout(power, levels, "wide")
    pixels = drawing.width / TEXT_WIDTH_CM  # layout pixels per cm at the width of the text
    for part in picture.png_pages(drawing, PICTURE_HEIGHT_CM * pixels, FIRST_PICTURE_HEIGHT_CM * pixels):
        doc.add_picture(io.BytesIO(part), width=Cm(TEXT_WIDTH_CM))
        doc.paragraphs[-1].alignment = WD_ALIGN_PARAGRAPH.CENTER


#: The 登记表's columns in the handbook (the register view's, named by the risk's fields), and their widths in cm.
_REGISTER = [(RISK[name].zh, width) for name, width in (("seq", 0.9), ("id", 1.8), ("title", 2.6), ("steps", 2.2),
                                                         ("manifestations", 2.9), ("level", 1.1), ("measures", 3.5),
                                                         ("responsible_post", 2.0))]


def _register_table(doc: DocumentType, found: list[dict]) -> None:
    """An area's risks in the 登记表's layout (the register view's rows), numbered as the register numbers them."""
    names = [name for name, _ in _REGISTER]
    rows = [[(name, True) for name in names]]
    rows += [[(str(row[name] if row[name] is not None else ""), False) for name in names] for row in found]
    table = _table(doc, rows, [width for _, width in _REGISTER], size=8, header=True)
    level_column = names.index(RISK["level"].zh)
    for n, row in enumerate(found, 1):
        _shade(_cells(table, n)[level_column], LEVEL_SHADES.get(row["level"], "FFFFFF"))


def _cover(doc: DocumentType, unit: str, reviewed: str | None) -> None:
    for _ in range(8):
        _paragraph(doc, "")
    _paragraph(doc, unit, size=22, font=HEADING_FONT, centred=True, space_after=12)
    _paragraph(doc, "廉政风险防控手册", size=30, font=HEADING_FONT, centred=True, space_after=40)
    if reviewed:
        year, month = reviewed[:4], int(reviewed[5:7])
        _paragraph(doc, f"{year}年{month}月", size=16, centred=True)
    _page_break(doc)


def _latest_review(conn: sqlite3.Connection, unit: str) -> str | None:
    return conn.execute("select max(reviewed) from risks where unit = ? and status = 'active'", (unit,)).fetchone()[0]


_NUMERALS = "一二三四五六七八九十"


def _chinese_number(n: int) -> str:
    """1 -> 一, 12 -> 十二, 20 -> 二十: section numbers as Chinese documents write them."""
    if n <= 10:
        return _NUMERALS[n - 1]
    tens, ones = divmod(n, 10)
    return f"{_NUMERALS[tens - 1] if tens > 1 else ''}十{_NUMERALS[ones - 1] if ones else ''}"


# --- python-docx, plainly ----------------------------------------------------------------------------------------

def _new_document(title: str) -> DocumentType:
    """An A4 portrait document with Chinese fonts in its styles and its title in its properties."""
    doc = Document()
    section = doc.sections[0]
    section.page_width, section.page_height = Cm(21), Cm(29.7)
    section.left_margin = section.right_margin = Cm(2)
    section.top_margin, section.bottom_margin = Cm(2.2), Cm(2)
    _fonts(doc.styles["Normal"], BODY_FONT, 10.5)
    for level in (1, 2, 3):
        style = doc.styles[f"Heading {level}"]
        _fonts(style, HEADING_FONT, {1: 16, 2: 14, 3: 12}[level])
        style.font.color.rgb = RGBColor(0, 0, 0)
        style.font.bold = level > 1
    doc.core_properties.title = title
    doc.core_properties.author = "riskcatalog"
    return doc


def _fonts(style, name: str, size: float) -> None:
    """A style's font, for Latin and Chinese text alike (Word takes Chinese text's font from w:eastAsia)."""
    style.font.name = name
    style.font.size = Pt(size)
    fonts = style.element.get_or_add_rPr().get_or_add_rFonts()
    for attribute in ("w:ascii", "w:hAnsi", "w:eastAsia"):
        fonts.set(qn(attribute), name)


def _heading(doc: DocumentType, text: str, level: int, centred: bool = False) -> None:
    heading = doc.add_heading(text, level)
    if centred:
        heading.alignment = WD_ALIGN_PARAGRAPH.CENTER


def _paragraph(doc: DocumentType, text: str, size: float | None = None, font: str | None = None, centred: bool = False,
               first_line_indent: bool = False, space_before: float = 0, space_after: float = 0):
    paragraph = doc.add_paragraph()
    run = paragraph.add_run(text)
    if size:
        run.font.size = Pt(size)
    if font:
        run.font.name = font
        run.element.get_or_add_rPr().get_or_add_rFonts().set(qn("w:eastAsia"), font)
    if centred:
        paragraph.alignment = WD_ALIGN_PARAGRAPH.CENTER
    layout = paragraph.paragraph_format
    layout.space_before, layout.space_after = Pt(space_before), Pt(space_after)
    if first_line_indent:
        layout.first_line_indent = Pt((size or 10.5) * 2)
    return paragraph


def _page_break(doc: DocumentType) -> None:
    doc.add_paragraph().add_run().add_break(WD_BREAK.PAGE)


def _table(doc: DocumentType, rows: list[list[tuple[str, bool]]], widths: list[float], size: float = 10,
           header: bool = False) -> Table:
    """A bordered table of (text, is a heading) cells, columns of the widths given (cm); with header, its first row
    is grey and repeated at the top of every page the table runs over."""
    table = doc.add_table(rows=len(rows), cols=len(widths))
    table.style = "Table Grid"
    table.alignment = WD_TABLE_ALIGNMENT.CENTER
    table.autofit = False
    for n, width in enumerate(widths):
        table.columns[n].width = Cm(width)
    for r, row in enumerate(rows):
        for c, ((text, heading), cell) in enumerate(zip(row, _cells(table, r))):
            cell.width = Cm(widths[c])
            _cell_text(cell, text, size, bold=heading)
            if heading:
                _shade(cell, HEADING_SHADE)
    if header:
        _repeat_heading(table)
    return table


def _cells(table: Table, row: int) -> list[_Cell]:
    """A row's cells, read from the row itself: python-docx's table.cell() walks the whole table each time, which
    made a register's tables the most of the handbook's time. (A row before any merging.)"""
    return [_Cell(tc, table) for tc in table.rows[row]._tr.tc_lst]


def _cell_text(cell: _Cell, text: str, size: float, bold: bool) -> None:
    """A cell's text, a paragraph a line (Word and WPS wrap each within the cell)."""
    lines = text.split("\n")
    cell.paragraphs[0].text = ""
    for n, line in enumerate(lines):
        paragraph = cell.paragraphs[0] if n == 0 else cell.add_paragraph()
        run = paragraph.add_run(line)
        run.font.size = Pt(size)
        run.bold = bold
        if bold:
            paragraph.alignment = WD_ALIGN_PARAGRAPH.CENTER


def _shade(cell: _Cell, colour: str) -> None:
    shading = OxmlElement("w:shd")
    shading.set(qn("w:val"), "clear")
    shading.set(qn("w:color"), "auto")
    shading.set(qn("w:fill"), colour)
    cell._tc.get_or_add_tcPr().append(shading)


def _repeat_heading(table: Table) -> None:
    """The first row printed at the top of each page the table runs over (and kept whole)."""
    properties = table.rows[0]._tr.get_or_add_trPr()
    for tag in ("w:tblHeader", "w:cantSplit"):
        element = OxmlElement(tag)
        element.set(qn("w:val"), "true")
        properties.append(element)
