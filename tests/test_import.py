"""`build.py import`: registers in the layouts units publish, written here with openpyxl, into register folders.

Each workbook is made the way a unit's own would be (title rows, a heading over two rows, merged
cells, numbered lists in a cell, 高/中/低 or 一级/二级/三级), imported by the real command line, and the
folder it writes is checked by the real validator and formatter.
"""

from __future__ import annotations

import datetime
import io
import re
import zipfile
from pathlib import Path

import pytest
import yaml
from openpyxl import Workbook

from riskcatalog.catalog import load_register
from riskcatalog.cli import main


def make_workbook(path: Path, rows: list[list], merges: tuple[str, ...] = (), title: str = "Sheet1",
                  saved: datetime.datetime | None = None) -> Path:
    """A one-sheet workbook of rows (None for an empty cell), with the given cells merged."""
    workbook = Workbook()
    sheet = workbook.active
    sheet.title = title
    for row in rows:
        sheet.append(row)
    for area in merges:
        sheet.merge_cells(area)
    workbook.save(path)
    if saved:  # openpyxl stamps the time of saving; a unit's workbook carries the day it was last saved
        files = _unzipped(path.read_bytes())
        core = files["docProps/core.xml"].decode()
        files["docProps/core.xml"] = re.sub(r"(<dcterms:modified[^>]*>)[^<]*", rf"\g<1>{saved:%Y-%m-%dT%H:%M:%SZ}",
                                            core).encode()
        path.write_bytes(_zip(files))
    return path


def load(folder: Path, name: str) -> dict:
    return yaml.safe_load((folder / name).read_text(encoding="utf-8"))


def run_import(workbook: Path, out: Path, *options: str) -> int:
    return main(["import", str(workbook), "--out", str(out), *options])


# A municipal bureau's register (the Bozhou layout): two title rows, 科室 merged over its risks,
# 高/中/低, measures numbered 1、2、 with ；, one measure shared by two risks, a signature row below.
BUREAU = [
    ["亳州市住房和城乡建设局廉政风险点登记表"] + [None] * 8,
    ["填报单位：亳州市住房和城乡建设局　　　填报日期：2019年3月1日"] + [None] * 8,
    ["序号", "科室", "风险类别", "廉政风险点", "廉政风险主要内容及表现形式", "风险等级", "防控措施", "部门负责人", "责任领导"],
    [1, "办公室", "岗位职责风险", "公务接待超标准", "1、超标准安排接待；2、无公函接待", "中",
     "1、执行公务接待审批单制度；2、每月公示接待费用", "办公室主任", "分管副局长"],
    [2, None, "制度机制", "公车私用", "节假日公车私用", "低", "1、公车定点停放；2、每月公示接待费用", "办公室主任", "分管副局长"],
    [3, "财务科", "思想道德风险", "虚报冒领资金", "（1）虚增报销事项（2）重复报销", "高",
     "①报销三级签字②每月对账", "财务科科长", "局长"],
    [4, None, "业务流程风险", "违规支付工程款", "未按进度支付", "高", "执行集体研究制度", "财务科科长", "局长"],
    [5, None, "外部环境风险", "收受供应商礼金", "节日收受购物卡", "中",
     "签订廉洁承诺书\n开展警示教育", "财务科科长", "局长"],
    ["填表人：张三　　　审核人：李四"] + [None] * 8,
]
BUREAU_MERGES = ("A1:I1", "A2:I2", "B4:B5", "B6:B8", "A9:I9")

# A housing bureau's register (the Longyan layout): the heading over two rows, 责任人 split into
# 直接责任人 and 责任领导, 一级/二级/三级, one risk over two rows with its 风险点 merged.
HOUSING = [
    ["龙岩市住房保障中心廉政风险防控登记表（2018年12月）"] + [None] * 8,
    ["序号", "部门", "重要环节", "风险岗位", "廉政风险点", "风险等级", "防控要点及防控措施", "责任人", None],
    [None, None, None, None, None, None, None, "直接责任人", "责任领导"],
    [1, "保障科", "资格审核", "审核员", "降低标准审核保障资格", "一级", "1.入户调查；2.张榜公示", "保障科科长", "分管主任"],
    [2, None, "房源分配", "分配员", "违规分配房源", "二级", "1.公开摇号分配", "保障科科长", "分管主任"],
    [3, "财务室", "租金收缴", "收费员", "截留挪用租金", "二级级", "1.票据统一管理", "财务室主任", "主任"],
    [None, None, None, None, None, None, "2.每月对账", None, None],
]
HOUSING_MERGES = ("A1:I1", "A2:A3", "B2:B3", "C2:C3", "D2:D3", "E2:E3", "F2:F3", "G2:G3", "H2:I2",
                  "B4:B5", "B6:B7", "A6:A7", "C6:C7", "D6:D7", "E6:E7", "F6:F7", "H6:H7", "I6:I7")

# A sub-district's list: no area column but heading rows between the risks, 依据 cited,
# measures one a line, levels as 高风险, no date in the title.
STREET = [
    ["古田街道廉政风险点及防控措施一览表"] + [None] * 7,
    ["序号", "岗位", "职权事项", "风险点", "表现形式", "风险等级", "防控措施", "依据"],
    ["一、财务管理"] + [None] * 7,
    [1, "会计", "经费报销", "虚报差旅费", "虚增出差天数", "高风险", "报销三级签字\n每月对账",
     "《党政机关厉行节约反对浪费条例》"],
    [2, "出纳", "现金管理", "公款私存", "私设小金库", "中风险", "每月对账", "《行政事业单位内部控制规范（试行）》（财会〔2012〕21号）"],
    ["二、工程建设"] + [None] * 7,
    [3, "城建办", "工程发包", "规避招标", "化整为零拆分项目", "高风险", "三重一大集体决策；报销三级签字",
     "《党政机关厉行节约反对浪费条例》"],
]
STREET_MERGES = ("A1:H1", "A3:H3", "A6:H6")


def test_bureau_layout_title_rows_merged_departments_numbered_cells(tmp_path, capsys):
    """Two title rows, 科室 merged, 高/中/低, 1、；, （1）, ① and line breaks: one area per 科室, a shared measure once."""
    workbook = make_workbook(tmp_path / "亳州住建局.xlsx", BUREAU, BUREAU_MERGES)
    assert run_import(workbook, tmp_path / "bozhou-housing") == 0
    out = tmp_path / "bozhou-housing"
    assert capsys.readouterr().out == f"{out}: 2 areas, 5 risks, 8 measures: imported from 亳州住建局.xlsx\n"
    register = load(out, "register.yml")
    assert register["unit"] == {"id": "bozhou-housing", "name_zh": "亳州市住房和城乡建设局"}
    assert register["languages"] == ["zh"] and register["areas"] == ["area-1", "area-2"]
    office, finance = load(out, "area-1.yml"), load(out, "area-2.yml")
    assert office["area"] == {"id": "area-1", "name_zh": "办公室"} and finance["area"]["name_zh"] == "财务科"
    first, second = office["risks"]
    assert first == {
        "id": "A1-01", "title_zh": "公务接待超标准", "responsible_post_zh": "办公室主任",
        "responsible_leader_zh": "分管副局长", "category": "duties",
        "manifestations": [{"zh": "超标准安排接待"}, {"zh": "无公函接待"}],
        "level": "medium", "measures": ["A1-M01", "A1-M02"], "reviewed": "2019-03-01"}
    assert second["measures"] == ["A1-M03", "A1-M02"] and second["level"] == "low"  # 每月公示接待费用 once
    assert [m["title_zh"] for m in office["measures"]] == ["执行公务接待审批单制度", "每月公示接待费用", "公车定点停放"]
    assert [r["manifestations"] for r in finance["risks"][:1]] == [[{"zh": "虚增报销事项"}, {"zh": "重复报销"}]]
    assert [m["title_zh"] for m in finance["measures"]] == ["报销三级签字", "每月对账", "执行集体研究制度",
                                                            "签订廉洁承诺书", "开展警示教育"]
    assert [r["level"] for r in finance["risks"]] == ["high", "high", "medium"]
    assert [r["category"] for r in finance["risks"]] == ["ethics", "process", "external"]
    assert not (out / "sources.yml").exists()
    assert_checked_and_formatted(out, capsys)


def test_housing_layout_two_row_heading_and_a_risk_over_two_rows(tmp_path, capsys):
    """The heading split over two rows, 一级/二级, a risk whose merged 风险点 covers two rows of measures."""
    rows = [list(row) for row in HOUSING]
    rows[5][5] = "二级"
    workbook = make_workbook(tmp_path / "longyan.xlsx", rows, HOUSING_MERGES)
    assert run_import(workbook, tmp_path / "out", "--unit", "longyan-housing") == 0
    out = tmp_path / "out"
    register = load(out, "register.yml")
    assert register["unit"] == {"id": "longyan-housing", "name_zh": "龙岩市住房保障中心"}
    security, finance = load(out, "area-1.yml"), load(out, "area-2.yml")
    assert [r["title_zh"] for r in security["risks"]] == ["降低标准审核保障资格", "违规分配房源"]
    assert security["risks"][0] == {
        "id": "A1-01", "title_zh": "降低标准审核保障资格", "post_zh": "审核员", "power_zh": "资格审核",
        "responsible_post_zh": "保障科科长", "responsible_leader_zh": "分管主任", "level": "high",
        "measures": ["A1-M01", "A1-M02"], "reviewed": "2018-12-01"}
    (rent,) = finance["risks"]
    assert rent["level"] == "medium" and rent["measures"] == ["A2-M01", "A2-M02"]
    assert [m["title_zh"] for m in finance["measures"]] == ["票据统一管理", "每月对账"]
    assert_checked_and_formatted(out, capsys)


def test_street_layout_section_headings_sources_and_no_date(tmp_path, capsys):
    """Heading rows between risks make the areas; 依据 become sources.yml; the date comes from --reviewed."""
    workbook = make_workbook(tmp_path / "gutian.xlsx", STREET, STREET_MERGES)
    assert run_import(workbook, tmp_path / "gutian", "--reviewed", "2019-01-20") == 0
    out = tmp_path / "gutian"
    assert load(out, "register.yml")["unit"]["name_zh"] == "古田街道"
    finance, works = load(out, "area-1.yml"), load(out, "area-2.yml")
    assert finance["area"]["name_zh"] == "财务管理" and works["area"]["name_zh"] == "工程建设"
    assert finance["risks"][0]["level"] == "high" and finance["risks"][0]["reviewed"] == "2019-01-20"
    assert finance["risks"][0]["sources"] == ["source-1"] and finance["risks"][1]["sources"] == ["source-2"]
    assert works["risks"][0]["measures"] == ["A2-M01", "A1-M01"]  # 报销三级签字 is defined in 财务管理
    assert load(out, "sources.yml")["sources"] == [
        {"id": "source-1", "title_zh": "党政机关厉行节约反对浪费条例"},
        {"id": "source-2", "title_zh": "行政事业单位内部控制规范（试行）", "number": "财会〔2012〕21号"}]
    assert_checked_and_formatted(out, capsys)


def test_without_a_date_the_workbooks_saved_date_is_the_review_date(tmp_path, capsys):
    """A title with no date: the risks are dated the day the workbook was last saved."""
    workbook = make_workbook(tmp_path / "gutian.xlsx", STREET, STREET_MERGES, saved=datetime.datetime(2019, 5, 6, 9))
    assert run_import(workbook, tmp_path / "gutian") == 0
    assert load(tmp_path / "gutian", "area-1.yml")["risks"][0]["reviewed"] == "2019-05-06"


def test_the_same_workbook_gives_the_same_files(tmp_path, capsys):
    """Imported twice (the second time over the first with --force), the files are byte for byte the same."""
    workbook = make_workbook(tmp_path / "b.xlsx", BUREAU, BUREAU_MERGES)
    assert run_import(workbook, tmp_path / "first", "--unit", "bozhou") == 0
    assert run_import(workbook, tmp_path / "second", "--unit", "bozhou") == 0
    first = {p.name: p.read_bytes() for p in (tmp_path / "first").iterdir()}
    assert first == {p.name: p.read_bytes() for p in (tmp_path / "second").iterdir()}
    assert run_import(workbook, tmp_path / "first") == 1
    assert capsys.readouterr().err.splitlines()[-2:] == [
        f"{tmp_path / 'first'}: the folder exists and is not empty — choose a new folder, or add --force to replace it",
        "1 problem(s); nothing written"]
    assert run_import(workbook, tmp_path / "first", "--unit", "bozhou", "--force") == 0
    assert first == {p.name: p.read_bytes() for p in (tmp_path / "first").iterdir()}
    assert sorted(p.name for p in tmp_path.iterdir()) == ["b.xlsx", "first", "second"]


def test_an_unknown_column_may_be_skipped_by_name(tmp_path, capsys):
    """--skip-column leaves out a column the importer does not know, as the message about it says."""
    rows = [row + [value] for row, value in zip(BUREAU, [None, None, "备注", "", "", "", "", "", ""])]
    workbook = make_workbook(tmp_path / "b.xlsx", rows, BUREAU_MERGES)
    assert run_import(workbook, tmp_path / "out") == 1
    assert "b.xlsx!Sheet1!J3: unknown column '备注'" in capsys.readouterr().err
    assert run_import(workbook, tmp_path / "out", "--skip-column", "备注") == 0


def assert_checked_and_formatted(folder: Path, capsys) -> None:
    """The folder passes --check and is already in fmt's canonical form."""
    load_register(folder)
    assert main(["--check", str(folder)]) == 0
    assert main(["fmt", "--check", str(folder)]) == 0
    capsys.readouterr()


def _edit(rows: list[list], row: int, column: int, value) -> list[list]:
    changed = [list(r) for r in rows]
    changed[row - 1][column - 1] = value
    return changed


#: (name, rows, merges, the problems reported). Rows and columns counted as Excel counts them.
BAD = [
    ("unknown-level", _edit(BUREAU, 4, 6, "较重"), BUREAU_MERGES,
     ["book.xlsx!Sheet1!F4: 风险等级 '较重' is not a level — write 高, 中 or 低 (or 一级, 二级, 三级)"]),
    ("no-level", _edit(BUREAU, 5, 6, None), BUREAU_MERGES,
     ["book.xlsx!Sheet1!F5: no 风险等级 — write 高, 中 or 低 (or 一级, 二级, 三级)"]),
    ("unknown-category", _edit(BUREAU, 6, 3, "廉洁风险"), BUREAU_MERGES,
     ["book.xlsx!Sheet1!C6: 风险类别 '廉洁风险' is not one of 思想道德风险、岗位职责风险、制度机制风险、业务流程风险、"
      "外部环境风险 — use one of these, or leave the cell empty"]),
    ("row-without-risk", _edit(BUREAU, 7, 4, None), BUREAU_MERGES,
     ["book.xlsx!Sheet1!D7: no 风险点 in this row, which has other cells filled — write the risk, or delete the row"]),
    ("risk-without-measures", _edit(BUREAU, 8, 7, None), BUREAU_MERGES,
     ["book.xlsx!Sheet1!G8: no 防控措施 for this risk — write at least one measure"]),
    ("no-level-column", [row[:5] + row[6:] for row in BUREAU], ("A1:H1", "A2:H2", "B4:B5", "B6:B8", "A9:H9"),
     ["book.xlsx!Sheet1!A3: no 风险等级 column in the heading (row 3) — add a column headed 风险等级"]),
    ("same-field-twice", _edit(BUREAU, 3, 5, "风险点"), BUREAU_MERGES,
     ["book.xlsx!Sheet1!E3: column '风险点' is read as 风险点, like column D — rename one of them"]),
    ("unknown-columns", [row + [v, w] for row, v, w in zip(BUREAU, [None, None, "备注", *[""] * 6],
                                                           [None, None, "联系电话", *[""] * 6])], BUREAU_MERGES,
     ["book.xlsx!Sheet1!J3: unknown column '备注' — rename its heading to one the importer knows (序号、领域、单位、"
      "风险点、风险描述、岗位、职权事项、风险类别、表现形式、风险等级、直接责任人、责任领导、监督主体、依据、防控措施、"
      "最近评估日期、流程环节) or leave it out with --skip-column 备注",
      "book.xlsx!Sheet1!K3: unknown column '联系电话' — rename its heading to one the importer knows (序号、领域、单位、"
      "风险点、风险描述、岗位、职权事项、风险类别、表现形式、风险等级、直接责任人、责任领导、监督主体、依据、防控措施、"
      "最近评估日期、流程环节) or leave it out with --skip-column 联系电话"]),
    ("no-heading", [["这是一份说明"], ["没有登记表"]], (),
     ["book.xlsx: no sheet has a register's heading row (风险点、风险等级、防控措施 …) in its first 15 rows — "
      "put the column headings in one row above the risks"]),
    ("bad-review-date", [row[:9] + [value] for row, value in zip(BUREAU, [None, None, "评估日期", "2019-13-45",
                                                                          "2019-01-02", "去年", "2019-01-02",
                                                                          "2019-01-02", None])], BUREAU_MERGES,
     ["book.xlsx!Sheet1!J4: '2019-13-45' is not a date — write it like 2019-01-15",
      "book.xlsx!Sheet1!J6: '去年' is not a date — write it like 2019-01-15"]),
    ("no-unit-name", BUREAU[2:8], ("B2:B3", "B4:B6"),
     ["book.xlsx!Sheet1!A1: no unit name in the title rows — write it there (e.g. 易家街道廉政风险点登记表) "
      "or give --unit-name NAME"]),
    ("several-problems-at-once", _edit(_edit(BUREAU, 4, 6, "较重"), 8, 7, None), BUREAU_MERGES,
     ["book.xlsx!Sheet1!F4: 风险等级 '较重' is not a level — write 高, 中 or 低 (or 一级, 二级, 三级)",
      "book.xlsx!Sheet1!G8: no 防控措施 for this risk — write at least one measure"]),
]


@pytest.mark.parametrize("name, rows, merges, problems", BAD, ids=[case[0] for case in BAD])
def test_bad_workbook_is_refused_with_cell_located_problems_and_nothing_written(tmp_path, capsys, monkeypatch,
                                                                                name, rows, merges, problems):
    """Every problem at its cell, all at once, exit 1, and no folder (nor a half-written one) left behind."""
    monkeypatch.chdir(tmp_path)
    make_workbook(tmp_path / "book.xlsx", rows, merges)
    assert run_import(Path("book.xlsx"), Path("out")) == 1
    captured = capsys.readouterr()
    assert captured.err.splitlines() == problems + [f"{len(problems)} problem(s); nothing written"]
    assert captured.out == ""
    assert sorted(p.name for p in tmp_path.iterdir()) == ["book.xlsx"]


def _xlsx_bytes(tmp_path: Path) -> bytes:
    return make_workbook(tmp_path / "good.xlsx", BUREAU, BUREAU_MERGES).read_bytes()


#: (name, the file's bytes from a good workbook's, the one line said about it).
BAD_FILES = [
    ("empty", lambda good: b"", "the file is empty — save the register from Excel or WPS as .xlsx"),
    ("random-bytes", lambda good: bytes(range(256)) * 4,
     "this is not an Excel workbook — save the register from Excel or WPS as .xlsx"),
    ("csv", lambda good: "序号,风险点,风险等级\n1,虚报冒领,高\n".encode("gb18030"),
     "this is a CSV or text file, not a workbook — open it in Excel or WPS and save it as an Excel workbook (.xlsx)"),
    ("xls", lambda good: b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\0" * 2000 + "Workbook".encode("utf-16-le"),
     "this is an Excel 97–2003 workbook (.xls) — open it in Excel or WPS and save it as an Excel workbook (.xlsx)"),
    ("password-protected", lambda good: b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\0" * 2000
     + "EncryptionInfo".encode("utf-16-le") + "EncryptedPackage".encode("utf-16-le"),
     "the workbook is password-protected — open it in Excel or WPS, remove the password "
     "(文件 › 信息 › 保护工作簿 › 用密码进行加密, leave it empty) and save it again"),
    ("truncated", lambda good: good[: len(good) // 2],
     "the file is damaged (File is not a zip file) — open it in Excel or WPS, save a new copy and import that"),
    ("ods", lambda good: _zip({"mimetype": "application/vnd.oasis.opendocument.spreadsheet", "content.xml": "<x/>"}),
     "this is an OpenDocument spreadsheet (.ods) — open it in Excel or WPS and save it as an Excel workbook (.xlsx)"),
    ("zip-not-workbook", lambda good: _zip({"readme.txt": "hello"}),
     "this is a zip archive, not a workbook — open it in Excel or WPS and save it as an Excel workbook (.xlsx)"),
    ("broken-sheet-xml", lambda good: _zip({**_unzipped(good), "xl/worksheets/sheet1.xml": "<worksheet><sheetData><row"}),
     None),
    ("zip-bomb", lambda good: _zip({**_unzipped(good), "xl/media/padding.bin": "0" * (101 * 1024 * 1024)}),
     "the workbook unpacks to 101 MB, over the 100 MB limit — split the register into several workbooks"),
]


def _zip(files: dict[str, str | bytes]) -> bytes:
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, data in files.items():
            archive.writestr(name, data)
    return out.getvalue()


def _unzipped(data: bytes) -> dict[str, bytes]:
    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        return {name: archive.read(name) for name in archive.namelist()}


@pytest.mark.parametrize("name, damage, message", BAD_FILES, ids=[case[0] for case in BAD_FILES])
def test_a_file_that_is_no_readable_workbook_gets_one_line(tmp_path, capsys, monkeypatch, name, damage, message):
    """Not a workbook, .xls, CSV, damaged, password-protected, a zip bomb: one line each, no traceback."""
    good = _xlsx_bytes(tmp_path)
    monkeypatch.chdir(tmp_path)
    Path("book.xlsx").write_bytes(damage(good))
    assert run_import(Path("book.xlsx"), Path("out")) == 1
    err = capsys.readouterr().err.splitlines()
    assert len(err) == 2 and err[1] == "1 problem(s); nothing written", err
    if message is None:  # openpyxl's own words for the damage, after ours
        assert err[0].startswith("book.xlsx: the file is damaged (") and err[0].endswith(
            ") — open it in Excel or WPS, save a new copy and import that"), err[0]
    else:
        assert err[0] == f"book.xlsx: {message}"
    assert not Path("out").exists() and "Traceback" not in "\n".join(err)


def test_huge_file_and_huge_sheet_are_refused_before_reading(tmp_path, capsys, monkeypatch):
    """A file over 20 MB is refused by its size; a sheet over the row limit by its dimensions."""
    big = tmp_path / "big.xlsx"
    with big.open("wb") as file:
        file.write(b"PK\x03\x04")
        file.truncate(21 * 1024 * 1024)
    assert run_import(big, tmp_path / "out") == 1
    assert capsys.readouterr().err.splitlines()[0] == (
        "big.xlsx: file is 21.0 MB, over the 20 MB limit — split the register into several workbooks")
    rows = BUREAU[:8] + [[None] * 8 + ["x"]] * 2 + [[None] * 8 + ["x"]]
    monkeypatch.setattr("riskcatalog.excel.reading.MAX_ROWS", 10)
    workbook = make_workbook(tmp_path / "long.xlsx", rows, BUREAU_MERGES[:4])
    assert run_import(workbook, tmp_path / "out") == 1
    assert capsys.readouterr().err.splitlines()[0] == (
        "long.xlsx!Sheet1: the sheet has 11 rows and 9 columns, over the limit of 10 rows and 200 columns — "
        "split it, or delete the empty rows below the register")
    assert not (tmp_path / "out").exists()


def test_help_lists_export_and_import(capsys):
    """`build.py --help` names the two workbook commands beside the others."""
    assert main(["--help"]) == 0
    assert {"export", "import"} <= set(capsys.readouterr().out.split("Commands:")[1].split())
