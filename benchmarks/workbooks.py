"""A unit's register of any size, laid out as units publish theirs, and the files built to hurt a
reader ("bombs"), for timing `build.py import` and for its tests.

`python -m benchmarks.workbooks --risks 500 --out unit.xlsx` (or unit.docx): two title rows, 科室
merged over every ten risks, 高/中/低, 表现形式 and 防控措施 numbered in their cells, some measures
shared. The same arguments always give the same file. BOMBS names the hostile files: each is
small on disk and would take a naive reader gigabytes or minutes.
"""

from __future__ import annotations

import argparse
import datetime
import random
from pathlib import Path

import io
import re
import zipfile

from openpyxl import Workbook

HEADING = ["序号", "科室", "风险类别", "廉政风险点", "廉政风险主要内容及表现形式", "风险等级", "防控措施", "部门负责人", "责任领导"]
DEPARTMENTS = ["办公室", "财务科", "工程科", "审批科", "执法大队", "社区事务办", "党建办", "民政科", "城管科", "综治办"]
CATEGORIES = ["思想道德风险", "岗位职责风险", "制度机制风险", "业务流程风险", "外部环境风险"]
ACTS = ["虚报冒领", "违规审批", "收受礼金", "泄露信息", "优亲厚友", "截留挪用", "拆分项目", "降低标准", "吃拿卡要", "推诿拖延"]
MATTERS = ["专项资金", "工程款", "补贴发放", "资格审核", "执法检查", "采购合同", "公务接待", "印章使用", "档案管理", "信访件"]
SHARED = ["落实集体研究制度", "每月公示办理结果", "签订廉洁承诺书", "纪工委定期抽查"]
#: Risks per 科室: its cells are merged over them.
PER_DEPARTMENT = 10


TITLE, UNIT_LINE = "合成街道廉政风险点登记表", "填报单位：合成街道　　　填报日期：2019年1月15日"


def rows(risks: int, seed: int = 0) -> list[list]:
    """The register's rows under its heading: a 科室 only on the first of its ten risks (merged over them)."""
    rng = random.Random(seed)
    out = []
    for n in range(1, risks + 1):
        act, matter = rng.choice(ACTS), rng.choice(MATTERS)
        department = DEPARTMENTS[(n - 1) // PER_DEPARTMENT % len(DEPARTMENTS)]
        first = (n - 1) % PER_DEPARTMENT == 0
        measures = [f"{matter}{act}事项第{n}项专项整治", f"{department}{matter}台账第{n}号月度核对", rng.choice(SHARED)]
        out.append([n, department if first else None, rng.choice(CATEGORIES), f"{matter}{act}（第{n}项）",
                    "；".join(f"{k}、{matter}环节{act}情形{k}" for k in range(1, 4)), rng.choice("高中低"),
                    "；".join(f"{k}、{text}" for k, text in enumerate(measures, 1)), f"{department}负责人",
                    "分管副主任"])
    return out


def write(path: Path, risks: int, seed: int = 0) -> Path:
    """A file of `risks` risk rows in the bureau layout (tests/test_import.py's BUREAU, scaled up):
    a workbook, or a Word table where path ends in .docx."""
    if path.suffix == ".docx":
        return write_docx(path, risks, seed)
    workbook = Workbook()
    sheet = workbook.active
    sheet.title = "登记表"
    sheet.append([TITLE] + [None] * 8)
    sheet.append([UNIT_LINE] + [None] * 8)
    sheet.append(HEADING)
    for row in rows(risks, seed):
        sheet.append(row)
    for start in range(4, 4 + risks, PER_DEPARTMENT):
        end = min(start + PER_DEPARTMENT - 1, 3 + risks)
        if end > start:
            sheet.merge_cells(start_row=start, start_column=2, end_row=end, end_column=2)
    workbook.properties.created = datetime.datetime(2019, 1, 15)
    path.parent.mkdir(parents=True, exist_ok=True)
    workbook.save(path)
    return path


def write_docx(path: Path, risks: int, seed: int = 0) -> Path:
    """The same register as a Word table under its title paragraphs, 科室 merged down over its risks."""
    import docx

    document = docx.Document()
    document.add_paragraph(TITLE)
    document.add_paragraph(UNIT_LINE)
    body = rows(risks, seed)
    table = document.add_table(rows=len(body) + 1, cols=len(HEADING))
    cells = table._cells  # once: table.cell() walks the whole table each time
    for r, row in enumerate([HEADING, *body]):
        for column, value in enumerate(row):
            if value is not None:
                cells[r * len(HEADING) + column].text = str(value)
    for start in range(1, len(body) + 1, PER_DEPARTMENT):
        end = min(start + PER_DEPARTMENT - 1, len(body))
        if end > start:
            cells[start * len(HEADING) + 1].merge(cells[end * len(HEADING) + 1])
    path.parent.mkdir(parents=True, exist_ok=True)
    document.core_properties.created = datetime.datetime(2019, 1, 15)
    document.save(path)
    return path


def zipped(files: dict[str, str | bytes]) -> bytes:
    """A zip archive (a workbook is one) of these parts."""
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, data in files.items():
            archive.writestr(name, data)
    return out.getvalue()


def unzipped(data: bytes) -> dict[str, bytes]:
    """The parts of a zip archive."""
    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        return {name: archive.read(name) for name in archive.namelist()}


def _small_workbook() -> dict[str, bytes]:
    """A one-sheet workbook's parts, to be made hostile."""
    workbook = Workbook()
    sheet = workbook.active
    sheet.append([TITLE])
    sheet.append(HEADING)
    buffer = io.BytesIO()
    workbook.save(buffer)
    return unzipped(buffer.getvalue())


def _with_sheet_data(files: dict[str, bytes], rows_xml: str, after: str = "") -> dict[str, bytes]:
    """The workbook with its sheet's rows replaced (and XML placed after sheetData: merged ranges)."""
    sheet = files["xl/worksheets/sheet1.xml"].decode()
    sheet = re.sub(r"<dimension [^>]*/>", "", sheet)
    sheet = re.sub(r"<sheetData>.*</sheetData>|<sheetData/>", lambda _: f"<sheetData>{rows_xml}</sheetData>{after}",
                   sheet, flags=re.S)
    return {**files, "xl/worksheets/sheet1.xml": sheet.encode()}


def merged_bomb() -> bytes:
    """One merged range from E3 to the sheet's last cell: 17 billion cells to a reader that fills them."""
    return zipped(_with_sheet_data(_small_workbook(), '<row r="1"><c r="A1" t="inlineStr"><is><t>登记表</t></is></c></row>',
                                 '<mergeCells count="1"><mergeCell ref="E3:XFD1048576"/></mergeCells>'))


def empty_cells_bomb(rows_: int = 10_000, columns: int = 200) -> bytes:
    """Millions of empty styled cells within the sheet's row and column limits: tens of MB of XML in a
    small file."""
    cells = '<c s="0"/>' * columns  # a cell without r is the next in its row
    body = "".join(f'<row r="{r}">{cells}</row>' for r in range(1, rows_ + 1))
    return zipped(_with_sheet_data(_small_workbook(), body))


def shared_string_bomb(characters: int = 20 * 1024 * 1024, cells: int = 1000) -> bytes:
    """One shared string of 20 million characters, used by a thousand cells."""
    files = _small_workbook()
    files["xl/sharedStrings.xml"] = (b'<sst xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main" '
                                     b'count="1" uniqueCount="1"><si><t>' + b"x" * characters + b"</t></si></sst>")
    body = "".join(f'<row r="{r}"><c r="A{r}" t="s"><v>0</v></c></row>' for r in range(1, cells + 1))
    files = _with_sheet_data(files, body)
    types = files["[Content_Types].xml"].decode()
    if "sharedStrings" not in types:
        types = types.replace("</Types>", '<Override PartName="/xl/sharedStrings.xml" ContentType="application/'
                                          'vnd.openxmlformats-officedocument.spreadsheetml.sharedStrings+xml"/></Types>')
        files["[Content_Types].xml"] = types.encode()
    rels = files["xl/_rels/workbook.xml.rels"].decode()
    if "sharedStrings" not in rels:
        files["xl/_rels/workbook.xml.rels"] = rels.replace("</Relationships>", '<Relationship Id="rIdSST" Type="http://'
                                                           'schemas.openxmlformats.org/officeDocument/2006/relationships/'
                                                           'sharedStrings" Target="sharedStrings.xml"/></Relationships>'
                                                           ).encode()
    return zipped(files)


#: name -> (what it is, how it is made): the hostile files `make bench` times and the tests refuse.
BOMBS = {
    "merged-range": ("a merged range over a sheet (E3:XFD1048576)", merged_bomb),
    "empty-cells": ("2,000,000 empty cells in a small file", empty_cells_bomb),
    "shared-string": ("a 20-million-character shared string used by 1,000 cells", shared_string_bomb),
}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.workbooks", description=__doc__.splitlines()[0])
    parser.add_argument("--risks", type=int, default=500)
    parser.add_argument("--out", type=Path, required=True)
    parser.add_argument("--seed", type=int, default=0)
    options = parser.parse_args(argv)
    print(write(options.out, options.risks, options.seed))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
