"""`build.py export`: the 登记表 workbook read back with openpyxl, and the round trip through `build.py import`."""

from __future__ import annotations

import json
import shutil
import sqlite3
import subprocess
from pathlib import Path

import pytest
import yaml
from openpyxl import load_workbook

from riskcatalog import build as builder
from riskcatalog.cli import main
from riskcatalog.excel import layout

from .conftest import CATALOG, copy_catalog

HEADING = ["序号", "领域", "岗位", "职权事项", "流程环节", "风险点", "表现形式", "风险等级", "防控措施", "直接责任人", "责任领导",
           "监督主体", "依据"]


@pytest.fixture(scope="module")
def exported(tmp_path_factory) -> Path:
    """The shipped register's workbook, written by the real command."""
    path = tmp_path_factory.mktemp("export") / "易家街道廉政风险点登记表.xlsx"
    assert main(["export", str(CATALOG), "-o", str(path)]) == 0
    return path


@pytest.fixture(scope="module")
def database(catalog_db):
    conn = sqlite3.connect(catalog_db)
    conn.row_factory = sqlite3.Row
    yield conn
    conn.close()


def test_register_sheet_is_the_chinese_layout_ready_to_print(exported, database):
    """Title and unit/date rows, the heading frozen and printed on every page, A4 landscape one page wide."""
    workbook = load_workbook(exported)
    assert workbook.sheetnames == ["登记表", *layout.FIELD_SHEETS]
    sheet = workbook["登记表"]
    assert sheet["A1"].value == "易家街道廉政风险点登记表（模拟文本，非官方）"
    assert sheet["A2"].value == "单位：武汉市硚口区易家街道　　　　日期：2019年1月18日"
    assert [c.value for c in sheet[3]] == HEADING
    assert {"A1:M1", "A2:M2"} <= {str(r) for r in sheet.merged_cells.ranges}
    assert sheet.freeze_panes == "A4"
    assert sheet.print_title_rows == "$3:$3"
    setup = sheet.page_setup
    assert (setup.orientation, setup.paperSize, setup.fitToWidth, setup.fitToHeight) == ("landscape", 9, 1, 0)
    assert sheet.sheet_properties.pageSetUpPr.fitToPage is True
    assert sheet.oddFooter.center.text == "第 &P 页，共 &N 页"
    assert all(sheet.cell(4, n).alignment.wrap_text for n in range(1, 14))
    assert sheet.max_row == 3 + 51 and [sheet.cell(r, 1).value for r in range(4, 55)] == list(range(1, 52))
    assert max(sheet.row_dimensions[r].height for r in range(4, 55)) > 60  # tall enough for the numbered lists


def test_area_cells_are_merged_over_their_risks(exported, database):
    """Each area's consecutive rows are one merged 领域 cell with the area's name."""
    sheet = load_workbook(exported)["登记表"]
    runs = database.execute("""select a.name_zh, count(*) from risks r join areas a on a.key = r.area
                               where r.status = 'active' group by a.key order by a.position""").fetchall()
    expected, row = [], 4
    for name, count in runs:
        expected.append((f"B{row}:B{row + count - 1}", name))
        row += count
    merged = sorted(str(r) for r in sheet.merged_cells.ranges if str(r).startswith("B"))
    assert merged == sorted(area for area, _ in expected)
    assert [sheet[area.split(":")[0]].value for area, _ in expected] == [name for _, name in expected]


def test_each_risk_row_carries_its_manifestations_level_and_measures_numbered(exported, database):
    """表现形式 and 防控措施 numbered in the register's order, measures with their ids, sources by title."""
    sheet = load_workbook(exported)["登记表"]
    risks = database.execute("select * from risks where status = 'active' order by seq").fetchall()
    titles = dict(database.execute("select id, title_zh from measures").fetchall())
    steps = {(power, step): title for power, step, title in database.execute(
        "select p.id, s.id, s.title_zh from steps s join powers p on p.key = s.power")}
    for row, risk in enumerate(risks, 4):
        assert sheet.cell(row, 5).value == "\n".join(steps[(risk["power"].removeprefix("yijia-"), step)]
                                                     for step in json.loads(risk["step_ids"]))
        assert sheet.cell(row, 6).value == risk["title_zh"]
        assert sheet.cell(row, 7).value == "\n".join(f"{n}. {text}" for n, text in
                                                     enumerate(json.loads(risk["manifestations_zh"]), 1))
        assert sheet.cell(row, 8).value == {"high": "一级", "medium": "二级", "low": "三级"}[risk["level"]]
        assert sheet.cell(row, 9).value == "\n".join(f"{n}. {m} {titles[m]}" for n, m in
                                                     enumerate(json.loads(risk["measure_ids"]), 1))
    assert sheet["E4"].value == "前期摸底和补偿费用测算\n公布征收范围，书面通知有关部门暂停办理相关手续\n拟定征收补偿方案，组织论证并公布征求意见"
    assert sheet["M4"].value == "《国有土地上房屋征收与补偿条例》（国务院令第590号）\n《中国共产党纪律处分条例》"


def test_field_sheets_hold_every_entry_with_chinese_and_field_name_headings(exported, database):
    """Chinese headings over the field names; every risk, measure, source, area, level and the unit."""
    workbook = load_workbook(exported)
    counts = {name: workbook[name].max_row - layout.FIELD_HEADER_ROWS for name in layout.FIELD_SHEETS}
    sources = database.execute("select count(*) from sources").fetchone()[0]
    assert counts == {"单位": 1, "风险等级": 3, "领域": 8, "风险点": 51, "防控措施": 78, "依据": sources,
                      "岗位": 32, "职权": 23, "流程环节": 155, "流程分支": 40}
    for name, columns in layout.FIELD_SHEETS.items():
        sheet = workbook[name]
        assert [c.value for c in sheet[1]] == [c.zh for c in columns], name
        assert [c.value for c in sheet[2]] == [c.field for c in columns], name
        assert sheet.freeze_panes is not None and sheet.print_title_rows == "$1:$2"
    risk = {c.field: workbook["风险点"].cell(3, n).value for n, c in enumerate(layout.FIELD_SHEETS["风险点"], 1)}
    assert (risk["id"], risk["category"], risk["level"], risk["status"], risk["measures"]) == (
        "LAND-01", "岗位职责风险", "二级", "现行", "LAND-M01\nLAND-M10")
    assert risk["manifestations_en"].startswith("1. Staff tell relatives")


@pytest.mark.parametrize("options, title, risks", [
    (["--area", "land"], "易家街道国有土地征收廉政风险点登记表（模拟文本，非官方）", 7),
    (["--paper", "A3"], "易家街道廉政风险点登记表（模拟文本，非官方）", 51),
])
def test_one_area_or_another_paper(tmp_path, capsys, options, title, risks):
    """--area gives the area's register (and the measures it links); --paper A3 lays it out on A3."""
    path = tmp_path / "out.xlsx"
    assert main(["export", str(CATALOG), "-o", str(path), *options]) == 0
    assert capsys.readouterr().out == f"{path}: {risks} risks\n"
    workbook = load_workbook(path)
    sheet = workbook["登记表"]
    assert sheet["A1"].value == title and sheet.max_row == 3 + risks
    assert sheet.page_setup.paperSize == (8 if "A3" in options else 9)
    assert workbook["风险点"].max_row == 2 + risks


@pytest.fixture(scope="module")
def two_registers(tmp_path_factory) -> list[Path]:
    """The shipped register and a copy of it as another unit (汉正街道)."""
    folder = tmp_path_factory.mktemp("two")
    second = copy_catalog(folder / "hanzheng")
    text = (second / "register.yml").read_text(encoding="utf-8")
    (second / "register.yml").write_text(text.replace("id: yijia", "id: hanzheng").replace("易家街道", "汉正街道"),
                                         encoding="utf-8")
    return [CATALOG, second]


def test_several_registers_in_one_workbook_or_one_each(two_registers, tmp_path, capsys):
    """A chosen set in one workbook gains a merged 单位 column; --each writes one workbook per unit."""
    both = tmp_path / "both.xlsx"
    assert main(["export", *map(str, two_registers), "-o", str(both)]) == 0
    sheet = load_workbook(both)["登记表"]
    assert sheet["A1"].value == "2个单位廉政风险点登记表（模拟文本，非官方）"
    assert [c.value for c in sheet[3]] == ["单位", *HEADING]
    assert {"A4:A54", "A55:A105"} <= {str(r) for r in sheet.merged_cells.ranges}
    assert (sheet["A4"].value, sheet["A55"].value, sheet.max_row) == ("易家街道", "汉正街道", 105)
    assert main(["export", *map(str, two_registers), "--unit", "hanzheng", "-o", str(tmp_path / "one.xlsx")]) == 0
    assert load_workbook(tmp_path / "one.xlsx")["登记表"]["A1"].value == "汉正街道廉政风险点登记表（模拟文本，非官方）"
    capsys.readouterr()
    assert main(["export", *map(str, two_registers), "--each", str(tmp_path / "each")]) == 0
    assert sorted(p.name for p in (tmp_path / "each").iterdir()) == [
        "易家街道廉政风险点登记表（yijia）.xlsx", "汉正街道廉政风险点登记表（hanzheng）.xlsx"]


@pytest.mark.parametrize("options, message", [
    (["--unit", "nowhere"], "unknown unit 'nowhere' — the registers are: yijia"),
    (["--area", "nowhere"], "no area 'nowhere' in these registers — their areas are: cases, enterprise, land, "
                            "petitions, reimbursement, village, welfare, workstyle"),
])
def test_unknown_unit_or_area_is_refused(tmp_path, capsys, options, message):
    """An id that names nothing: one line saying what there is, exit 1, no file."""
    assert main(["export", str(CATALOG), "-o", str(tmp_path / "x.xlsx"), *options]) == 1
    assert capsys.readouterr().err == message + "\n"
    assert list(tmp_path.iterdir()) == []


def test_an_invalid_register_is_not_exported(mini_catalog, tmp_path, capsys, monkeypatch):
    """The validator's errors, exit 1, and no workbook."""
    monkeypatch.chdir(mini_catalog.parent)
    alpha = mini_catalog / "alpha.yml"
    alpha.write_text(alpha.read_text(encoding="utf-8").replace("likelihood: 4", "likelihood: 9"), encoding="utf-8")
    assert main(["export", "mini", "-o", "x.xlsx"]) == 1
    assert capsys.readouterr().err.splitlines() == [
        "mini/alpha.yml:21:17: risks[0].likelihood: 9 is outside 1–5 — use a value in that range",
        "1 error(s); nothing written"]
    assert not Path("x.xlsx").exists()


def _without_comments(path: Path) -> str:
    return "".join(line for line in path.read_text(encoding="utf-8").splitlines(keepends=True)
                   if not line.lstrip().startswith("#"))


def test_round_trip_gives_back_the_register(exported, tmp_path, capsys):
    """Exported and imported again: the same files but for their comments, which a workbook cannot carry."""
    assert main(["import", str(exported), "--out", str(tmp_path / "yijia")]) == 0
    assert capsys.readouterr().out.splitlines()[-1] == (
        f"{tmp_path / 'yijia'}: 8 areas, 51 risks, 78 measures: imported from {exported.name}; the readings above are "
        f"in {tmp_path / 'yijia' / '导入说明.md'}")
    shipped = sorted(p.name for p in CATALOG.glob("*.yml"))
    assert sorted(p.name for p in (tmp_path / "yijia").iterdir()) == sorted([*shipped, "导入说明.md"])
    assert ("- 本项目导出的工作簿：按字段工作表原样读取，登记表工作表不读 · a workbook this project exported: read exactly from "
            "its field sheets, the 登记表 sheet left aside") in (tmp_path / "yijia" / "导入说明.md").read_text(encoding="utf-8")
    for name in shipped:
        assert (tmp_path / "yijia" / name).read_text(encoding="utf-8") == _without_comments(CATALOG / name), name


def test_round_trip_database_rows_are_the_same(exported, tmp_path, catalog_db, capsys):
    """Built from the imported folder, every table holds the same rows (the source folder aside)."""
    assert main(["import", str(exported), "--out", str(tmp_path / "yijia")]) == 0
    builder.build([tmp_path / "yijia"], tmp_path / "again.db")
    for table in ("units", "unit_levels", "areas", "risks", "measures", "sources", "risk_measures", "risk_sources",
                  "measure_sources"):
        rows = [_rows(db, table) for db in (catalog_db, tmp_path / "again.db")]
        assert rows[0] == rows[1], table


def _rows(db: Path, table: str) -> list[tuple]:
    with sqlite3.connect(db) as conn:
        columns = [c[1] for c in conn.execute(f"pragma table_info([{table}])") if c[1] not in ("folder", "file", "line")]
        return conn.execute(f"select {', '.join(columns)} from [{table}] order by rowid").fetchall()


def test_build_diff_between_the_register_and_its_round_trip_shows_nothing(exported, tmp_path, capsys):
    """`build.py diff` of the shipped register against its round trip: no catalogue changes."""
    repo = tmp_path / "repo"
    shutil.copytree(CATALOG, repo / "catalog")  # as shipped, its baseline commit included: the workbook carries it
    git = ["git", "-c", "user.name=Test", "-c", "user.email=test@example.org"]
    subprocess.run([*git, "init", "-q"], cwd=repo, check=True)
    subprocess.run([*git, "add", "."], cwd=repo, check=True)
    subprocess.run([*git, "commit", "-q", "-m", "shipped"], cwd=repo, check=True)
    assert main(["import", str(exported), "--out", str(repo / "catalog"), "--force"]) == 0
    capsys.readouterr()
    assert main(["diff", "HEAD", str(repo / "catalog")]) == 0
    assert capsys.readouterr().out == "No catalogue changes.\n"


def test_the_register_sheet_alone_imports_as_a_units_own_register(exported, tmp_path, capsys, database):
    """With the field sheets deleted, the 登记表 is read like any unit's: every risk, measure and link kept."""
    workbook = load_workbook(exported)
    for name in layout.FIELD_SHEETS:
        del workbook[name]
    workbook.save(tmp_path / "登记表.xlsx")
    assert main(["import", str(tmp_path / "登记表.xlsx"), "--out", str(tmp_path / "yijia")]) == 0
    said = capsys.readouterr().out
    assert said.splitlines()[-1] == (
        f"{tmp_path / 'yijia'}: 8 areas, 51 risks, 78 measures: imported from 登记表.xlsx; the readings above are in "
        f"{tmp_path / 'yijia' / '导入说明.md'}")
    # 职权事项 and 流程环节 give powers where a 职权事项 names two steps or more (tests/test_powers.py)
    assert "- 职权 43 项、岗位 43 个取自「职权事项」「流程环节」「岗位」列 · 43 powers and 43 posts from those columns" in said
    builder.build([tmp_path / "yijia"], tmp_path / "again.db")
    with sqlite3.connect(tmp_path / "again.db") as conn:
        assert conn.execute("select name_zh from units").fetchone() == ("武汉市硚口区易家街道",)
        assert conn.execute("select count(*), count(distinct measure) from risk_measures").fetchone() == (
            _link_count(), 78)
        cited = database.execute("select count(distinct source) from risk_sources").fetchone()[0]
        assert conn.execute("select count(*) from sources").fetchone()[0] == cited  # the risks' 依据 column


def _link_count() -> int:
    from riskcatalog.catalog import load_register

    return sum(len(r["measures"]) for r in load_register(CATALOG).risks())


def test_problems_in_an_edited_exported_workbook_are_reported_at_their_cells(exported, tmp_path, capsys):
    """A unit edits the field sheets: a wrong label, a measure id that names nothing, English left out of
    a bilingual register — each at its cell, checked by the real validator, nothing written."""
    workbook = load_workbook(exported)
    risks, measures = workbook["风险点"], workbook["防控措施"]
    risks["Q3"] = "四级"  # level
    risks["AA4"] = "LAND-M02\nLAND-M99"  # measures
    measures["E14"] = None  # title_en of VILL-M01, in another area file
    workbook.save(tmp_path / "edited.xlsx")
    assert main(["import", str(tmp_path / "edited.xlsx"), "--out", str(tmp_path / "out")]) == 1
    assert capsys.readouterr().err.splitlines() == [
        "edited.xlsx!风险点!Q3: '四级' is not one of 一级、二级、三级 — use one of these",
        "1 problem(s); nothing written"]
    risks["Q3"] = "二级"
    workbook.save(tmp_path / "edited.xlsx")
    assert main(["import", str(tmp_path / "edited.xlsx"), "--out", str(tmp_path / "out")]) == 1
    assert capsys.readouterr().err.splitlines() == [
        "edited.xlsx!风险点!AA4: unknown measure 'LAND-M99' — define it or fix the id",
        "edited.xlsx!防控措施!E14: missing field 'title_en' — add it",
        "2 problem(s); nothing written"]
    assert sorted(p.name for p in tmp_path.iterdir()) == ["edited.xlsx"]


def test_text_like_a_formula_is_refused_before_a_workbook_is_written(mini_catalog, tmp_path, capsys):
    """A title starting with "=" would run in the reader's Excel: export refuses the register, located."""
    alpha = mini_catalog / "alpha.yml"
    alpha.write_text(alpha.read_text(encoding="utf-8").replace("title_zh: 虚报冒领差旅费", 'title_zh: "=虚报冒领差旅费"'),
                     encoding="utf-8")
    assert main(["export", str(mini_catalog), "-o", str(tmp_path / "mini.xlsx")]) == 1
    assert f"{mini_catalog / 'alpha.yml'}:9:15: risks[0].title_zh: '=虚报冒领差旅费' begins with '=', which a " \
           "spreadsheet reads as a formula — start the text with a word (drop a leading list marker, write a sign " \
           "in words)" in capsys.readouterr().err
    assert not (tmp_path / "mini.xlsx").exists()


def test_a_workbook_of_several_registers_is_imported_one_unit_at_a_time(two_registers, tmp_path, capsys):
    """Importing a chosen set's workbook says how to get one unit's, and writes nothing."""
    assert main(["export", *map(str, two_registers), "-o", str(tmp_path / "both.xlsx")]) == 0
    capsys.readouterr()
    assert main(["import", str(tmp_path / "both.xlsx"), "--out", str(tmp_path / "out")]) == 1
    assert capsys.readouterr().err.splitlines() == [
        "both.xlsx!单位: the workbook holds 2 registers — export one unit's workbook (build.py export --unit ID) "
        "and import that", "1 problem(s); nothing written"]
    assert not (tmp_path / "out").exists()


def test_a_modelled_register_says_so_on_every_printed_page_and_an_official_one_says_nothing(two_registers, tmp_path):
    """register.yml's provenance kind: modelled puts 模拟文本，非官方 in the title row and in every page's footer;
    a register that declares nothing prints its title alone."""
    assert main(["export", str(CATALOG), "-o", str(tmp_path / "modelled.xlsx")]) == 0
    sheet = load_workbook(tmp_path / "modelled.xlsx")["登记表"]
    assert sheet["A1"].value == "易家街道廉政风险点登记表（模拟文本，非官方）"
    assert sheet.oddFooter.left.text == "模拟文本，非官方" and sheet.oddFooter.center.text == "第 &P 页，共 &N 页"
    official = copy_catalog(tmp_path / "official")
    text = (official / "register.yml").read_text(encoding="utf-8")
    (official / "register.yml").write_text(text.replace("  kind: modelled\n", ""), encoding="utf-8")
    assert main(["export", str(official), "-o", str(tmp_path / "official.xlsx")]) == 0
    sheet = load_workbook(tmp_path / "official.xlsx")["登记表"]
    assert sheet["A1"].value == "易家街道廉政风险点登记表" and sheet.oddFooter.left.text is None
