"""`build.py import`: registers in the layouts units keep, written here with openpyxl, python-docx and
xlwt, into register folders; every reading said in the report; bad and hostile files refused.

Each file is made the way a unit's own would be (title rows, a heading over two rows, merged
cells, numbered lists in a cell, 高/中/低 or 一级/二级/三级), imported by the real command line, and the
folder it writes is checked by the real validator and formatter.
"""

from __future__ import annotations

import datetime
import os
import re
import stat
from pathlib import Path

import pytest
import yaml
from openpyxl import Workbook

from benchmarks import workbooks
from benchmarks.workbooks import unzipped as _unzipped
from benchmarks.workbooks import zipped as _zip
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


def summary(capsys) -> str:
    """The last line the import printed: the folder, its counts and where the report went."""
    return capsys.readouterr().out.rstrip("\n").splitlines()[-1]


def note(folder: Path) -> str:
    return (folder / "导入说明.md").read_text(encoding="utf-8")


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
    printed = capsys.readouterr().out
    assert printed.splitlines()[-1] == (f"{out}: 2 areas, 5 risks, 8 measures: imported from 亳州住建局.xlsx; the "
                                        f"readings above are in {out / '导入说明.md'}")
    assert printed.startswith(note(out))  # the report printed is the note kept
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


def test_without_a_date_the_save_date_is_never_taken(tmp_path, capsys):
    """A title with no date: refused, saying --reviewed is needed, though the workbook has a save date."""
    workbook = make_workbook(tmp_path / "gutian.xlsx", STREET, STREET_MERGES, saved=datetime.datetime(2019, 5, 6, 9))
    assert run_import(workbook, tmp_path / "gutian") == 1
    assert capsys.readouterr().err.splitlines() == [
        "gutian.xlsx!Sheet1!A1: no date in the title rows — give the date the register was drawn up or last reviewed "
        "with --reviewed YYYY-MM-DD (the file's own save date is not taken for it)", "1 problem(s); nothing written"]
    assert not (tmp_path / "gutian").exists()
    assert run_import(workbook, tmp_path / "gutian", "--reviewed", "2019-05-06") == 0
    assert "- 2019-05-06：由 --reviewed 指定 · given by --reviewed" in note(tmp_path / "gutian")


def test_the_same_workbook_gives_the_same_files(tmp_path, capsys):
    """Imported twice (the second time over the first with --force), the files are byte for byte the same."""
    workbook = make_workbook(tmp_path / "b.xlsx", BUREAU, BUREAU_MERGES)
    assert run_import(workbook, tmp_path / "first", "--unit", "bozhou") == 0
    assert run_import(workbook, tmp_path / "second", "--unit", "bozhou") == 0
    first = {p.name: p.read_bytes() for p in (tmp_path / "first").iterdir()}
    assert first == {p.name: p.read_bytes() for p in (tmp_path / "second").iterdir()}
    capsys.readouterr()
    assert run_import(workbook, tmp_path / "first") == 1
    assert capsys.readouterr().err.splitlines()[-2:] == [
        f"{tmp_path / 'first'}: the folder exists and is not empty — choose a new folder, or add --force to replace it",
        "1 problem(s); nothing written"]
    assert run_import(workbook, tmp_path / "first", "--unit", "bozhou", "--force") == 0
    assert first == {p.name: p.read_bytes() for p in (tmp_path / "first").iterdir()}
    assert sorted(p.name for p in tmp_path.iterdir()) == ["b.xlsx", "first", "second"]


def test_an_unknown_column_may_be_named_or_left_out(tmp_path, capsys):
    """--column says what a column is, or leaves it out (=不导入, or --skip-column); 备注 is the risk's notes."""
    rows = [row + [a, b] for row, a, b in zip(BUREAU, [None, None, "联系电话", "", "", "", "", "", ""],
                                              [None, None, "备注", "已整改", "", "", "", "", ""])]
    workbook = make_workbook(tmp_path / "b.xlsx", rows, BUREAU_MERGES)
    assert run_import(workbook, tmp_path / "out") == 1
    assert "b.xlsx!Sheet1!J3: column '联系电话' is not understood — say what it is with --column '联系电话=风险点'" in (
        capsys.readouterr().err)
    assert run_import(workbook, tmp_path / "out", "--column", "联系电话=不导入") == 0
    assert "| J3 | 联系电话 | 不导入 · left out | 由 --column 指定 · given by the user |" in note(tmp_path / "out")
    assert "| K3 | 备注 | 备注 `notes_zh` | 已知表头 · a known heading |" in note(tmp_path / "out")
    assert load(tmp_path / "out", "area-1.yml")["risks"][0]["notes_zh"] == "已整改"
    assert run_import(workbook, tmp_path / "skipped", "--skip-column", "联系电话") == 0
    assert run_import(workbook, tmp_path / "named", "--column", "联系电话=监督主体") == 0
    assert "| J3 | 联系电话 | 监督主体 `supervisor_zh` | 由 --column 指定 · given by the user |" in note(tmp_path / "named")


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


#: The names a column may be given, as the messages list them (the registry's, in its order).
FIELD_NAMES = ("序号、科室、领域、风险点、风险描述、岗位、职权事项、风险类别、表现形式、风险等级、直接责任人、责任领导、监督主体、备注、依据、"
               "防控措施、最近评估日期、流程环节")
#: (name, rows, merges, the problems reported). Rows and columns counted as Excel counts them.
HEADING_READ = ("A 序号→序号 | B 科室→科室 | C 风险类别→风险类别 | D 廉政风险点→风险点 | E 廉政风险主要内容及表现形式→表现形式 | "
                "F 风险等级→风险等级 | G 防控措施→防控措施 | H 部门负责人→直接责任人 | I 责任领导→责任领导")
BAD = [
    ("unknown-level", _edit(BUREAU, 4, 6, "较重"), BUREAU_MERGES,
     ["book.xlsx!Sheet1!F4: 风险等级 '较重' is not a level — write 高, 中 or 低 (or 一级, 二级, 三级), or say which level "
      "it is with --level '较重=二级'"]),
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
     ["book.xlsx!Sheet1!A3: no 风险等级 column in the heading (row 3) — add a column headed 风险等级, or say which "
      "column it is with --column 'HEADING=风险等级'. The heading was read as: A 序号→序号 | B 科室→科室 | C 风险类别→风险类别 | "
      "D 廉政风险点→风险点 | E 廉政风险主要内容及表现形式→表现形式 | F 防控措施→防控措施 | G 部门负责人→直接责任人 | "
      "H 责任领导→责任领导"]),
    ("same-field-twice", _edit(BUREAU, 3, 5, "风险点"), BUREAU_MERGES,
     ["book.xlsx!Sheet1!E3: column '风险点' is read as 风险点, like column D — say which is which with "
      "--column '风险点=…' (or =不导入 to leave it out)"]),
    ("unknown-columns", [row + [v, w] for row, v, w in zip(BUREAU, [None, None, "联系电话", *[""] * 6],
                                                           [None, None, "完成情况", *[""] * 6])], BUREAU_MERGES,
     [f"book.xlsx!Sheet1!{cell}: column '{text}' is not understood — say what it is with --column '{text}=风险点' "
      f"(any of {FIELD_NAMES}), or leave it out with --column '{text}=不导入'; a mapping file (--columns FILE) says it "
      f"for every file. The heading was read as: {HEADING_READ} | J 联系电话→? | K 完成情况→?"
      for cell, text in (("J3", "联系电话"), ("K3", "完成情况"))]),
    ("no-heading", [["这是一份说明"], ["没有登记表"]], (),
     ["book.xlsx: no sheet has a register's heading row (a row naming 风险点、风险等级、防控措施 …) in its first 15 rows "
      "— put the column headings in one row above the risks, or say what a heading means with "
      "--column 'HEADING=风险点'"]),
    ("bad-review-date", [row[:9] + [value] for row, value in zip(BUREAU, [None, None, "评估日期", "2019-13-45",
                                                                          "2019-01-02", "去年", "2019-01-02",
                                                                          "2019-01-02", None])], BUREAU_MERGES,
     ["book.xlsx!Sheet1!J4: '2019-13-45' is not a date — write it like 2019-01-15",
      "book.xlsx!Sheet1!J6: '去年' is not a date — write it like 2019-01-15"]),
    ("no-unit-name-nor-date", BUREAU[2:8], ("B2:B3", "B4:B6"),
     ["book.xlsx!Sheet1!A1: no date in the title rows — give the date the register was drawn up or last reviewed with "
      "--reviewed YYYY-MM-DD (the file's own save date is not taken for it)",
      "book.xlsx!Sheet1!A1: no unit name in the title rows — write it there (e.g. 易家街道廉政风险点登记表) "
      "or give --unit-name NAME"]),
    ("several-problems-at-once", _edit(_edit(BUREAU, 4, 6, "较重"), 8, 7, None), BUREAU_MERGES,
     ["book.xlsx!Sheet1!F4: 风险等级 '较重' is not a level — write 高, 中 or 低 (or 一级, 二级, 三级), or say which level "
      "it is with --level '较重=二级'",
      "book.xlsx!Sheet1!G8: no 防控措施 for this risk — write at least one measure"]),
    ("ambiguous-level", [_edit(BUREAU, 4, 6, "一般")[n] if n != 4 else _edit(BUREAU, 5, 6, "一般")[4]
                         for n in range(len(BUREAU))][:3] + [[*row[:5], "一般", *row[6:]] for row in BUREAU[3:8]]
     + BUREAU[8:], BUREAU_MERGES,
     ["book.xlsx!Sheet1!F4: 风险等级 '一般' cannot be read safely (and 4 more cells): 二级（中） in 较高/一般/较低; 三级（低） "
      "in 重大/较大/一般 — say which level it is with --level '一般=一级' (or 二级, 三级)"]),
    ("four-levels", _edit(_edit(_edit(BUREAU, 4, 6, "较高"), 5, 6, "低"), 7, 6, "中"), BUREAU_MERGES,
     ["book.xlsx!Sheet1!F4: 风险等级 '较高' cannot be read safely: the level words 较高、高 belong to no one three-level "
      "scale — say which level it is with --level '较高=一级' (or 二级, 三级)",
      "book.xlsx!Sheet1!F6: 风险等级 '高' cannot be read safely: the level words 较高、高 belong to no "
      "one three-level scale — say which level it is with --level '高=一级' (or 二级, 三级)"]),
    ("ticks-unclear", [["古田街道廉政风险点登记表（2019年1月）", None, None, None, None, None],
                       ["风险点", "风险等级", None, None, "防控措施", "岗位"],
                       [None, "高", "中", "低", None, None],
                       ["虚报冒领", "√", "√", None, "每月对账", "会计"],
                       ["公款私存", None, None, None, "每月对账", "出纳"]],
     ("A1:F1", "B2:D2", "A2:A3", "E2:E3", "F2:F3"),
     ["book.xlsx!Sheet1!B4: several levels are ticked — tick one of 高、中、低 (√)",
      "book.xlsx!Sheet1!B5: no level is ticked — tick one of 高、中、低 (√)"]),
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
    if captured.out:  # how the file was read, where it got as far as a heading: said as not imported
        assert captured.out.startswith("# 导入说明（未导入） · Import report (not imported)")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["book.xlsx"]


def test_level_words_said_with_level_are_taken(tmp_path, capsys):
    """The ambiguous 一般 and a register's four levels import once the unit says which level each word is."""
    rows = _edit(_edit(_edit(BUREAU, 4, 6, "较高"), 5, 6, "一般"), 7, 6, "中")
    workbook = make_workbook(tmp_path / "book.xlsx", rows, BUREAU_MERGES)
    assert run_import(workbook, tmp_path / "out", "--level", "较高=一级", "--level", "一般=三级") == 0
    text = note(tmp_path / "out")
    assert "- 「较高」→ 一级（高）：1 个风险点；由 --level 指定 · given by --level" in text
    assert "- 「一般」→ 三级（低）：1 个风险点；由 --level 指定 · given by --level" in text
    assert "- 「高」→ 一级（高）：1 个风险点；按「高/中/低」三级读 · read on the scale 高/中/低" in text
    assert [r["level"] for r in load(tmp_path / "out", "area-1.yml")["risks"]] == ["high", "low"]


def _xlsx_bytes(tmp_path: Path) -> bytes:
    return make_workbook(tmp_path / "good.xlsx", BUREAU, BUREAU_MERGES).read_bytes()


def _sheet(good: bytes, change) -> bytes:
    """The good workbook with its sheet's XML changed."""
    files = _unzipped(good)
    files["xl/worksheets/sheet1.xml"] = change(files["xl/worksheets/sheet1.xml"].decode()).encode()
    return _zip(files)


DAMAGED = " — open it in Excel or WPS, save a new copy and import that"
LIMITS = " — delete the rows and columns beyond the register (even empty ones that carry a format), or split it"

#: (name, the file's bytes from a good workbook's, the one line said about it).
BAD_FILES = [
    ("empty", lambda good: b"", "book.xlsx: the file is empty — save the register from Excel, WPS or Word again"),
    ("binary", lambda good: bytes(range(256)) * 4,
     "book.xlsx: this is not a workbook, a Word document or CSV text — save the register from Excel, WPS or Word as "
     ".xlsx or .docx"),
    ("text-without-delimiters", lambda good: "古田街道廉政风险点登记表\n没有表格\n".encode(),
     "book.xlsx: this is a text file with no commas or tabs in its first lines, not a register — save the register "
     "from Excel or WPS as .xlsx"),
    ("neither-utf8-nor-gb18030", lambda good: b"\x80\x80,\xff\xff\n",
     "book.xlsx: this text is neither UTF-8 nor GB18030 — open it in Excel or WPS and save it as an Excel workbook "
     "(.xlsx), or as CSV UTF-8"),
    ("web-page-saved-as-xls", lambda good: "<html><body><table><tr><td>风险点</td></tr></table></body></html>".encode(),
     "book.xlsx: this is a web page or XML saved under a workbook's name — open it in Excel or WPS and save it as an "
     "Excel workbook (.xlsx)"),
    ("pdf", lambda good: b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n",
     "book.xlsx: this is a PDF, which keeps the register's look but not its table — import the register's own .xlsx, "
     ".docx or .xls file"),
    ("word-97", lambda good: b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\0" * 2000 + "WordDocument".encode("utf-16-le"),
     "book.xlsx: this is a Word 97–2003 document (.doc) — open it in Word or WPS and save it as a Word document "
     "(.docx)"),
    ("damaged-xls", lambda good: b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\0" * 2000,
     "book.xlsx: this is an Excel 97–2003 file that cannot be read (CompDocError: Expected \"little-endian\" marker, "
     "found b'\\x00\\x00') — open it in Excel or WPS, save it as an Excel workbook (.xlsx) and import that"),
    ("password-protected", lambda good: b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\0" * 2000
     + "EncryptionInfo".encode("utf-16-le") + "EncryptedPackage".encode("utf-16-le"),
     "book.xlsx: the file is password-protected — open it in Excel, WPS or Word, remove the password "
     "(文件 › 信息 › 保护工作簿 › 用密码进行加密, leave it empty) and save it again"),
    ("truncated", lambda good: good[: len(good) // 2], "book.xlsx: the file is damaged (File is not a zip file)" + DAMAGED),
    ("ods", lambda good: _zip({"mimetype": "application/vnd.oasis.opendocument.spreadsheet", "content.xml": "<x/>"}),
     "book.xlsx: this is an OpenDocument file (.ods or .odt) — open it in Excel, WPS or Word and save it as .xlsx or "
     ".docx"),
    ("zip-not-workbook", lambda good: _zip({"readme.txt": "hello"}),
     "book.xlsx: this is a zip archive, not a workbook — open it in Excel or WPS and save it as an Excel workbook "
     "(.xlsx)"),
    ("broken-sheet-xml", lambda good: _zip({**_unzipped(good), "xl/worksheets/sheet1.xml": "<worksheet><sheetData><row"}),
     "book.xlsx!Sheet1: the file is damaged (xl/worksheets/sheet1.xml: unclosed token: line 1, column 22)" + DAMAGED),
    ("zip-bomb", lambda good: _zip({**_unzipped(good), "xl/media/padding.bin": "0" * (101 * 1024 * 1024)}),
     "book.xlsx: the file unpacks to 101 MB, over the 100 MB limit — split the register into several files"),
    ("entity-declaration", lambda good: _sheet(good, lambda xml: xml.replace(
        "<worksheet", '<!DOCTYPE w [<!ENTITY a "aaaaaaaaaa"><!ENTITY b "&a;&a;&a;&a;&a;&a;&a;&a;">]><worksheet', 1)),
     "book.xlsx!Sheet1: the file declares a document type, which a workbook never does — save it again from Excel or "
     "WPS"),
    ("declared-size-over-limits", lambda good: _sheet(good, lambda xml: re.sub(
        r"<dimension ref=\"[^\"]*\"/>", '<dimension ref="A1:Z30000"/>', xml)),
     "book.xlsx!Sheet1: the sheet's used range is A1:Z30000 (30,000 rows, 26 columns), over the limit of 20,000 rows "
     "and 200 columns" + LIMITS),
    ("cell-beyond-the-rows", lambda good: _sheet(good, lambda xml: xml.replace(
        "</sheetData>", '<row r="20001"><c r="A20001" s="0"/></row></sheetData>')),
     "book.xlsx!Sheet1: a cell at row 20,001, column 1, beyond the limit of 20,000 rows and 200 columns — delete the "
     "rows and columns beyond the register (even empty ones that carry a format), or split it into several files"),
    ("cell-beyond-the-columns", lambda good: _sheet(good, lambda xml: xml.replace(
        "</sheetData>", '<row r="30"><c r="ZZ30" t="inlineStr"><is><t>x</t></is></c></row></sheetData>')),
     "book.xlsx!Sheet1: a cell at row 30, column 702, beyond the limit of 20,000 rows and 200 columns — delete the "
     "rows and columns beyond the register (even empty ones that carry a format), or split it into several files"),
    ("cell-text-over-excels-limit", lambda good: _sheet(good, lambda xml: xml.replace(
        "</sheetData>", '<row r="30"><c r="B30" t="inlineStr"><is><t>' + "长" * 40_000 + "</t></is></c></row></sheetData>")),
     "book.xlsx!Sheet1!B30: a text of more than 32,767 characters, over the limit of one cell — shorten it, or check "
     "that the file is a register"),
    ("merged-whole-columns", lambda good: _sheet(good, lambda xml: xml.replace(
        "</mergeCells>", '<mergeCell ref="K:K"/></mergeCells>')),
     "book.xlsx!Sheet1: merged range K:K covers whole rows or columns — unmerge it and merge only the register's "
     "cells"),
]


@pytest.mark.parametrize("name, damage, message", BAD_FILES, ids=[case[0] for case in BAD_FILES])
def test_a_file_that_cannot_be_read_gets_one_line(tmp_path, capsys, monkeypatch, name, damage, message):
    """Not a register file, damaged, password-protected, past a limit: one line each, no traceback, nothing written."""
    good = _xlsx_bytes(tmp_path)
    monkeypatch.chdir(tmp_path)
    Path("book.xlsx").write_bytes(damage(good))
    assert run_import(Path("book.xlsx"), Path("out")) == 1
    assert capsys.readouterr().err.splitlines() == [message, "1 problem(s); nothing written"]
    assert sorted(p.name for p in tmp_path.iterdir()) == ["book.xlsx", "good.xlsx"]


@pytest.mark.parametrize("name", list(workbooks.BOMBS))
def test_bomb_files_are_refused_at_their_limit_and_nothing_written(tmp_path, capsys, name):
    """The red team's files (a merged range over a sheet, millions of empty cells in a small file, a huge
    shared string used by a thousand cells): one line naming the limit. make bench times them."""
    what, make = workbooks.BOMBS[name]
    (tmp_path / "bomb.xlsx").write_bytes(make())
    assert run_import(tmp_path / "bomb.xlsx", tmp_path / "out") == 1
    assert capsys.readouterr().err.splitlines() == [{
        "merged-range": "bomb.xlsx!Sheet: merged range E3:XFD1048576 reaches row 1,048,576, column 16,384, beyond the "
                        "limit of 20,000 rows and 200 columns — unmerge it (合并后居中 › 取消单元格合并) and merge only the "
                        "register's cells",
        "empty-cells": "bomb.xlsx!Sheet: more than 500,000 cells (empty ones counted), over the limit — delete the empty "
                       "rows and columns beyond the register, or split it into several files",
        "shared-string": "bomb.xlsx!sharedStrings (string 1): a text of more than 32,767 characters, over the limit of "
                         "one cell — shorten it, or check that the file is a register",
    }[name], "1 problem(s); nothing written"]
    assert sorted(p.name for p in tmp_path.iterdir()) == ["bomb.xlsx"]


def test_huge_file_is_refused_by_its_size(tmp_path, capsys):
    big = tmp_path / "big.xlsx"
    with big.open("wb") as file:
        file.write(b"PK\x03\x04")
        file.truncate(21 * 1024 * 1024)
    assert run_import(big, tmp_path / "out") == 1
    assert capsys.readouterr().err.splitlines()[0] == (
        "big.xlsx: file is 21.0 MB, over the 20 MB limit — split the register into several files")
    assert not (tmp_path / "out").exists()


def test_help_lists_export_and_import(capsys):
    """`build.py --help` names the two workbook commands beside the others."""
    assert main(["--help"]) == 0
    assert {"export", "import"} <= set(capsys.readouterr().out.split("Commands:")[1].split())


# A sub-district's register as the issue found it: the unit's discipline office and a stamp note in the
# title, 较高/一般/较低, 防控责任 over three columns, 风险点描述 the only column naming the risk.
HANZHENG = [
    ["汉正街道廉政风险点登记表"] + [None] * 8,
    ["填报单位：汉正街道纪工委（盖章）　　　日期：2024年3月8日"] + [None] * 8,
    ["序号", "工作岗位", "廉政风险点描述", "主要表现", "等级", "防范措施", "防控责任", None, None],
    [None, None, None, None, None, None, "直接责任人", "部门责任人", "责任领导"],
    [1, "财务会计", "虚报冒领补贴资金", "1.虚增人数；2.重复申领", "较高", "1.三级审核；2.张榜公示", "会计", "财政所所长",
     "分管副主任"],
    [2, "城管执法", "执法尺度不一", "选择性执法", "一般", "1.执法全过程记录；2.张榜公示", "执法队员", "执法中队长", "分管副主任"],
    [3, "信访接待", "压案不报", "对信访件不登记不转办", "较低", "信访件台账月度核查", "接待员", "信访办主任", "分管副主任"],
]
HANZHENG_MERGES = ("A1:I1", "A2:I2", "G3:I3", "A3:A4", "B3:B4", "C3:C4", "D3:D4", "E3:E4", "F3:F4")


def test_every_reading_is_said_and_kept_in_the_folder(tmp_path, capsys):
    """The unit and what was taken off its name, the pinyin id, the date and its cell, each column's reading
    (the group heading read with those below it), each level word and its level, the areas and rows."""
    workbook = make_workbook(tmp_path / "汉正.xlsx", HANZHENG, HANZHENG_MERGES, title="登记表")
    out = tmp_path / "registers" / "汉正街道"
    assert run_import(workbook, out) == 0
    text = note(out)
    assert capsys.readouterr().out.startswith(text)
    for line in [
        "- 读取工作表「登记表」 · read sheet 登记表",
        "表头在第 3–4 行（两行表头，上行为分组 · a heading of two rows, the upper one grouping） · the heading's row(s) in 登记表",
        "| C4 | 廉政风险点描述 | 风险点 `title_zh` | 含「描述」 · holds 描述；没有别的列写风险点，读作风险点 · no other column names the "
        "risk, so it is the risk |",
        "| D4 | 主要表现 | 表现形式 `manifestations` | 已知表头 · a known heading |",
        "| E4 | 等级 | 风险等级 `level` | 已知表头 · a known heading |",
        "| F4 | 防范措施 | 防控措施 `measures` | 已知表头 · a known heading |",
        "| G4 | 防控责任/直接责任人 | 直接责任人 `responsible_post_zh` | 已知表头 · a known heading（在「防控责任」之下 · under "
        "防控责任） |",
        "| H4 | 防控责任/部门责任人 | 直接责任人 `responsible_post_zh` | 已知表头 · a known heading（在「防控责任」之下 · under "
        "防控责任） |",
        "| I4 | 防控责任/责任领导 | 责任领导 `responsible_leader_zh` | 已知表头 · a known heading（在「防控责任」之下 · under "
        "防控责任） |",
        "G4、H4 都读作直接责任人，各行的文字合在一起 · all read as responsible_post_zh: each row's texts are joined",
        "- 单位名称「汉正街道」：取自 汉正.xlsx!登记表!A2「填报单位：汉正街道纪工委（盖章）　　　日期：2024年3月8日」，去掉 「（盖章）」、"
        "「纪工委」 · unit name 汉正街道, from 汉正.xlsx!登记表!A2, with （盖章）、纪工委 taken off",
        "- 单位标识 hanzheng：取自文件夹名「汉正街道」的拼音（另定请用 --unit ID） · unit id hanzheng, from the folder's name "
        "in pinyin (--unit ID gives another)",
        "- 2024-03-08：取自 汉正.xlsx!登记表!A2「填报单位：汉正街道纪工委（盖章）　　　日期：2024年3月8日」 · from 汉正.xlsx!登记表!A2",
        "- 「较高」→ 一级（高）：1 个风险点；按「较高/一般/较低」三级读 · read on the scale 较高/一般/较低",
        "- 「一般」→ 二级（中）：1 个风险点；按「较高/一般/较低」三级读 · read on the scale 较高/一般/较低",
        "- 「较低」→ 三级（低）：1 个风险点；按「较高/一般/较低」三级读 · read on the scale 较高/一般/较低",
        "- area-1：汉正街道（3 个风险点 · risks）",
        "- 1 处防控措施与前面的风险点文字相同，合为同一条措施并链接 · measures written the same as an earlier risk's were made "
        "one measure, linked to each",
        "- 1 个领域、3 个风险点、4 条防控措施 · 1 areas, 3 risks, 4 measures",
    ]:
        assert line in text.splitlines(), line
    register = load(out, "register.yml")
    assert register["unit"] == {"id": "hanzheng", "name_zh": "汉正街道"}
    (area,) = [load(out, "area-1.yml")]
    assert area["risks"][0] == {
        "id": "A1-01", "title_zh": "虚报冒领补贴资金", "post_zh": "财务会计", "responsible_post_zh": "会计；财政所所长",
        "responsible_leader_zh": "分管副主任", "manifestations": [{"zh": "虚增人数"}, {"zh": "重复申领"}],
        "level": "high", "measures": ["A1-M01", "A1-M02"], "reviewed": "2024-03-08"}
    assert [r["level"] for r in area["risks"]] == ["high", "medium", "low"]
    assert area["risks"][1]["measures"] == ["A1-M03", "A1-M02"]  # 张榜公示 once, linked to both
    assert_checked_and_formatted(out, capsys)


@pytest.mark.parametrize("name, unit", [("汉正街道", "hanzheng"), ("古田街道办事处", "gutian"), ("易家村", "yijiacun"),
                                        ("硚口区A片区", "qiaokouqu-a-pianqu"), ("Gutian_2019", "gutian-2019")])
def test_a_folder_named_as_offices_name_it_gives_a_readable_stable_id(tmp_path, capsys, name, unit):
    workbook = make_workbook(tmp_path / "b.xlsx", BUREAU, BUREAU_MERGES)
    assert run_import(workbook, tmp_path / name) == 0
    assert load(tmp_path / name, "register.yml")["unit"]["id"] == unit
    assert f"单位标识 {unit}：取自文件夹名「{name}」" in note(tmp_path / name)
    assert run_import(workbook, tmp_path / name, "--force") == 0  # the same id again
    assert load(tmp_path / name, "register.yml")["unit"]["id"] == unit


def _sheets(path: Path, sheets: list[tuple[str, list[list], tuple[str, ...], str]]) -> Path:
    """A workbook of several sheets: (title, rows, merges, state: visible, hidden or veryHidden)."""
    workbook = Workbook()
    workbook.remove(workbook.active)
    for title, rows, merges, state in sheets:
        sheet = workbook.create_sheet(title)
        for row in rows:
            sheet.append(row)
        for area in merges:
            sheet.merge_cells(area)
        sheet.sheet_state = state
    workbook.save(path)
    return path


def test_a_hidden_sheet_is_never_imported_unless_asked(tmp_path, capsys):
    """A hidden old register comes first: the visible one is read, the hidden one named as hidden; --sheet reads it."""
    old = _edit(BUREAU, 4, 4, "旧登记表里的风险")
    workbook = _sheets(tmp_path / "b.xlsx", [("2018年", old, BUREAU_MERGES, "hidden"),
                                             ("说明", [["填表说明：每年一月更新"]], (), "visible"),
                                             ("2019年", BUREAU, BUREAU_MERGES, "visible"),
                                             ("草稿", BUREAU, BUREAU_MERGES, "veryHidden")])
    assert run_import(workbook, tmp_path / "out") == 0
    text = note(tmp_path / "out")
    for line in ["- 读取工作表「2019年」 · read sheet 2019年",
                 "- 跳过 · passed over 「2018年」（隐藏，未读；要导入它请用 --sheet 2018年 · hidden, not read; --sheet 2018年 "
                 "imports it）",
                 "- 跳过 · passed over 「说明」（前 15 行没有登记表表头 · no register heading in its first 15 rows）",
                 "- 跳过 · passed over 「草稿」（未读：登记表已在前面找到 · not read: the register came first）"]:
        assert line in text.splitlines(), line
    assert "旧登记表里的风险" not in (tmp_path / "out" / "area-1.yml").read_text(encoding="utf-8")
    assert run_import(workbook, tmp_path / "old", "--sheet", "2018年") == 0
    assert load(tmp_path / "old", "area-1.yml")["risks"][0]["title_zh"] == "旧登记表里的风险"
    assert "- 读取工作表「2018年」（隐藏，按 --sheet 读取 · hidden, read as asked by --sheet） · read sheet 2018年" in (
        note(tmp_path / "old").splitlines())


def test_a_register_only_on_a_hidden_sheet_is_refused_saying_so(tmp_path, capsys):
    workbook = _sheets(tmp_path / "b.xlsx", [("旧表", BUREAU, BUREAU_MERGES, "hidden"), ("说明", [["无"]], (), "visible")])
    assert run_import(workbook, tmp_path / "out") == 1
    assert capsys.readouterr().err.splitlines() == [
        "b.xlsx: no sheet has a register's heading row (a row naming 风险点、风险等级、防控措施 …) in its first 15 rows; "
        "hidden sheets were not read (旧表) — --sheet NAME reads one — put the column headings in one row above the "
        "risks, or say what a heading means with --column 'HEADING=风险点'", "1 problem(s); nothing written"]
    assert run_import(workbook, tmp_path / "out", "--sheet", "附表") == 1
    assert capsys.readouterr().err.splitlines()[0] == "b.xlsx: no sheet '附表' — the file's sheets are: 旧表、说明"
    assert not (tmp_path / "out").exists()


def test_a_mapping_file_says_what_columns_are_for_many_files(tmp_path, capsys):
    """A district's mapping file, given to every unit's import: headings it names are read as it says."""
    rows = _edit(_edit(BUREAU, 3, 4, "风险事项名称"), 3, 7, "整改举措")
    workbook = make_workbook(tmp_path / "b.xlsx", rows, BUREAU_MERGES)
    assert run_import(workbook, tmp_path / "out") == 1
    capsys.readouterr()
    mapping = tmp_path / "列名对照.yml"
    mapping.write_text("# 本区各单位登记表的列名\n风险事项名称: 风险点\n整改举措: 防控措施\n", encoding="utf-8")
    assert run_import(workbook, tmp_path / "out", "--columns", str(mapping)) == 0
    text = note(tmp_path / "out")
    assert "| D3 | 风险事项名称 | 风险点 `title_zh` | 由 列名对照.yml 指定 · given by the user |" in text
    assert "| G3 | 整改举措 | 防控措施 `measures` | 由 列名对照.yml 指定 · given by the user |" in text
    mapping.write_text("- 风险事项名称\n", encoding="utf-8")
    assert run_import(workbook, tmp_path / "again", "--columns", str(mapping)) == 1
    assert capsys.readouterr().err.splitlines() == [
        f"{mapping}: the mapping file is not a list of `heading: field` lines — write one a line, e.g. `风险点描述: 风险点`",
        "1 problem(s); nothing written"]
    assert run_import(workbook, tmp_path / "again", "--column", "风险事项名称=风险名目", "--level", "很高") == 1
    assert capsys.readouterr().err.splitlines() == [
        f"--column '风险事项名称=风险名目': '风险名目' is not a field — name one of {FIELD_NAMES}, or 不导入 to leave the "
        "column out",
        "--level '很高': write it as --level 'WORD=LEVEL' with LEVEL one of 一级, 二级, 三级 (or 高, 中, 低), e.g. "
        "--level '一般=二级'", "2 problem(s); nothing written"]
    assert not (tmp_path / "again").exists()


def make_docx(path: Path, title: list[str], rows: list[list], merges: tuple[str, ...] = (), after: list[str] = (),
              numbered: dict[tuple[int, int], list[str]] | None = None) -> Path:
    """A Word document as units keep one: title paragraphs, the register's table (cells merged as given, in
    A1 notation over the table), cells whose items are paragraphs Word numbers itself, paragraphs after."""
    import docx
    from openpyxl.utils import range_boundaries

    document = docx.Document()
    for line in title:
        document.add_paragraph(line)
    width = max(len(row) for row in rows)
    table = document.add_table(rows=len(rows), cols=width)
    cells = table._cells
    for r, row in enumerate(rows):
        for c, value in enumerate(row):
            if value is not None:
                cells[r * width + c].text = str(value)
    for (r, c), items in (numbered or {}).items():
        cell = cells[(r - 1) * width + c - 1]
        cell.text = ""
        cell.paragraphs[0].text, cell.paragraphs[0].style = items[0], document.styles["List Number"]
        for item in items[1:]:
            cell.add_paragraph(item, style="List Number")
    for area in merges:
        first_column, first_row, last_column, last_row = range_boundaries(area)
        cells[(first_row - 1) * width + first_column - 1].merge(cells[(last_row - 1) * width + last_column - 1])
    for line in after:
        document.add_paragraph(line)
    document.save(path)
    return path


def test_a_word_table_imports_with_merged_cells_and_numbered_paragraphs(tmp_path, capsys):
    """The bureau's register as a Word table: title paragraphs above, 科室 merged down, a measures cell of
    paragraphs Word numbers itself, the signature line below — the same register as the workbook gives."""
    document = make_docx(tmp_path / "亳州住建局.docx", [BUREAU[0][0], BUREAU[1][0]], BUREAU[2:8],
                         ("B2:B3", "B4:B6"), [BUREAU[8][0]],
                         numbered={(4, 7): ["报销三级签字", "每月对账"]})
    assert run_import(document, tmp_path / "word") == 0
    workbook = make_workbook(tmp_path / "亳州住建局.xlsx", BUREAU, BUREAU_MERGES)
    assert run_import(workbook, tmp_path / "excel") == 0
    for name in ("area-1.yml", "area-2.yml"):
        assert load(tmp_path / "word", name) == load(tmp_path / "excel", name)
    assert load(tmp_path / "word", "register.yml")["unit"]["name_zh"] == "亳州市住房和城乡建设局"
    text = note(tmp_path / "word")
    assert "- Word 文档 (.docx) · Word document (.docx)" in text
    assert "- 读取表格「表格1」 · read table 表格1" in text
    assert "| 第1行第4列 | 廉政风险点 | 风险点 `title_zh` | 已知表头 · a known heading |" in text
    assert "取自 亳州住建局.docx!段落2「填报单位：亳州市住房和城乡建设局　　　填报日期：2019年3月1日」" in text
    assert_checked_and_formatted(tmp_path / "word", capsys)


def test_a_word_register_continued_in_tables_with_headings_between(tmp_path, capsys):
    """A register split into one table per 科室, each repeating the heading under a paragraph naming it."""
    import docx

    document = docx.Document()
    document.add_paragraph("古田街道廉政风险点登记表（2019年1月20日）")
    for name, rows in (("一、财务管理", STREET[3:5]), ("二、工程建设", STREET[6:7])):
        document.add_paragraph(name)
        table = document.add_table(rows=1 + len(rows), cols=8)
        for r, row in enumerate([STREET[1], *rows]):
            for c, value in enumerate(row):
                table.rows[r].cells[c].text = str(value)
    document.save(tmp_path / "gutian.docx")
    assert run_import(tmp_path / "gutian.docx", tmp_path / "gutian") == 0
    finance, works = load(tmp_path / "gutian", "area-1.yml"), load(tmp_path / "gutian", "area-2.yml")
    assert (finance["area"]["name_zh"], works["area"]["name_zh"]) == ("财务管理", "工程建设")
    assert [r["title_zh"] for r in finance["risks"]] == ["虚报差旅费", "公款私存"]
    assert works["risks"][0]["measures"] == ["A2-M01", "A1-M01"]
    text = note(tmp_path / "gutian")
    assert "- 表格2 重复第一个表格的表头，作为其续表读入 · repeat the first table's heading: read as its continuation" in text
    assert "- gutian.docx!段落2「一、财务管理」：领域标题行，其下各行属「财务管理」 · a heading row: the risks below it are in " \
           "the area 财务管理" in text
    assert "- gutian.docx!段落3「二、工程建设」：领域标题行，其下各行属「工程建设」 · a heading row: the risks below it are in the " \
           "area 工程建设" in text


def test_an_xls_workbook_imports(tmp_path, capsys):
    """Excel 97–2003: merged cells, a date cell in the title rows, a hidden sheet passed over."""
    import xlwt

    workbook = xlwt.Workbook()
    hidden = workbook.add_sheet("旧表")
    hidden.write(0, 0, "旧的登记表")
    hidden.visibility = 1
    sheet = workbook.add_sheet("登记表")
    rows = [list(row) for row in BUREAU]
    rows[1] = ["填报单位：亳州市住房和城乡建设局", None, "填报日期：", datetime.date(2019, 3, 1)] + [None] * 5
    merged = {(0, 0): (0, 8), (3, 1): (4, 1), (5, 1): (7, 1), (8, 0): (8, 8)}  # (row, col) -> (last row, last col)
    dated = xlwt.easyxf(num_format_str="yyyy年m月d日")
    for r, row in enumerate(rows):
        for c, value in enumerate(row):
            if (r, c) in merged:
                sheet.write_merge(r, merged[(r, c)][0], c, merged[(r, c)][1], value)
            elif value is not None and not any(r0 <= r <= r1 and c0 <= c <= c1 for (r0, c0), (r1, c1) in merged.items()):
                sheet.write(r, c, value, dated if isinstance(value, datetime.date) else xlwt.Style.default_style)
    workbook.save(str(tmp_path / "亳州住建局.xls"))
    assert run_import(tmp_path / "亳州住建局.xls", tmp_path / "xls") == 0
    assert run_import(make_workbook(tmp_path / "b.xlsx", BUREAU, BUREAU_MERGES), tmp_path / "xlsx") == 0
    for name in ("area-1.yml", "area-2.yml"):
        assert load(tmp_path / "xls", name) == load(tmp_path / "xlsx", name)
    text = note(tmp_path / "xls")
    assert "- Excel 97–2003 工作簿 (.xls) · Excel 97–2003 workbook (.xls)" in text
    assert "- 2019-03-01：取自 亳州住建局.xls!登记表!D2「2019-03-01」 · from 亳州住建局.xls!登记表!D2" in text
    assert "- 跳过 · passed over 「旧表」（隐藏，未读；要导入它请用 --sheet 旧表 · hidden, not read; --sheet 旧表 imports it）" in text


@pytest.mark.parametrize("encoding, said", [("gb18030", "GB18030"), ("utf-8-sig", "UTF-8（带 BOM · with byte-order mark）"),
                                            ("utf-8", "UTF-8")])
def test_a_csv_imports_in_gb18030_or_utf8(tmp_path, capsys, encoding, said):
    """CSV as Chinese Excel and WPS save it (GB18030), or UTF-8 with or without its mark; a merged 科室 saved
    as CSV is blank below its first row, read as the one above and said."""
    lines = [",".join("" if v is None else f'"{v}"' if any(x in str(v) for x in ",\n") else str(v) for v in row)
             for row in BUREAU[:8]]
    (tmp_path / "亳州.csv").write_bytes("\r\n".join(lines).encode(encoding))
    assert run_import(tmp_path / "亳州.csv", tmp_path / "csv") == 0
    assert run_import(make_workbook(tmp_path / "b.xlsx", BUREAU, BUREAU_MERGES), tmp_path / "xlsx") == 0
    for name in ("area-1.yml", "area-2.yml"):
        assert load(tmp_path / "csv", name) == load(tmp_path / "xlsx", name)
    text = note(tmp_path / "csv")
    assert f"- {said}，分隔符：逗号 comma · encoding {said}, delimiter comma" in text
    assert "- 3 个空的科室单元格按上一行读（亳州.csv!B5 起） · empty cells read as the one above them (from 亳州.csv!B5)" in text


def test_force_replaces_only_a_register_folder_and_folders_follow_the_umask(tmp_path, capsys):
    """--force never replaces a file, a link or a folder that is not a register; a new folder gets the user's
    umask (not 0700)."""
    workbook = make_workbook(tmp_path / "b.xlsx", BUREAU, BUREAU_MERGES)
    (tmp_path / "a-file").write_text("keep me")
    (tmp_path / "documents").mkdir()
    (tmp_path / "documents" / "letter.txt").write_text("keep me")
    (tmp_path / "link").symlink_to(tmp_path / "documents")
    for name, kind in (("a-file", "is a file, not a register folder — --force replaces only a register folder; "
                                  "choose another --out"),
                       ("link", "is a link, not a register folder — --force replaces only a register folder; "
                                "choose another --out"),
                       ("documents", "the folder holds no register.yml: it is not a register folder, and --force "
                                     "replaces only one — choose another --out")):
        assert run_import(workbook, tmp_path / name, "--unit", "bozhou", "--force") == 1
        assert capsys.readouterr().err.splitlines() == [f"{tmp_path / name}: {kind}", "1 problem(s); nothing written"]
    assert (tmp_path / "a-file").read_text() == "keep me" and (tmp_path / "documents" / "letter.txt").exists()
    old = os.umask(0o022)
    try:
        assert run_import(workbook, tmp_path / "new" / "bozhou") == 0
        assert run_import(workbook, tmp_path / "new" / "bozhou", "--force") == 0
    finally:
        os.umask(old)
    for path in (tmp_path / "new", tmp_path / "new" / "bozhou"):
        assert stat.S_IMODE(path.stat().st_mode) == 0o755, path
    assert stat.S_IMODE((tmp_path / "new" / "bozhou" / "register.yml").stat().st_mode) == 0o644
    assert sorted(p.name for p in (tmp_path / "new").iterdir()) == ["bozhou"]
