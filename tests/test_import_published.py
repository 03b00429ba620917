"""Real registers as units published them (tests/data/published/*.yml), built into the kinds of file units
keep and imported: what is in the source comes out, every reading is in the report, and what the source
leaves unsaid (empty levels, counts of levels, a column without a heading) is refused at its cell.

Each record holds a register's heading rows, level words and a few rows copied cell by cell (None: a cell
covered by the merge above it). The expectations below are written out by hand from the records, not
computed by the importer's own functions.
"""

from __future__ import annotations

import csv
import io
from pathlib import Path

import pytest
import yaml
from openpyxl.utils import get_column_letter

from riskcatalog.cli import main
from riskcatalog.excel import levels

from .test_import import FIELD_NAMES, load, make_docx, make_workbook, note

RECORDS = Path(__file__).parent / "data" / "published"


def record(name: str) -> dict:
    return yaml.safe_load((RECORDS / f"{name}.yml").read_text(encoding="utf-8"))


def layout(data: dict, levels: str | None = None) -> tuple[list[str], list[list], list[str]]:
    """(title lines, the table's rows, its merged ranges): a None below a cell merges down into it; a None
    right of a first heading row's cell, over a second row's, makes that cell a group heading."""
    heads = [list(row) for row in data.get("header_rows") or []]
    body = [list(row) for row in data.get("rows") or []]
    width = max(len(row) for row in heads + body)
    rows = [row + [None] * (width - len(row)) for row in heads + body]
    if levels is not None:  # the unit fills in the level column the published text left empty
        column = next(c for c, text in enumerate(heads[0]) if text and "等级" in text)
        for row in rows[len(heads):]:
            row[column] = levels
    merges = []
    if len(heads) == 2:
        for c in range(width):
            if rows[0][c] is not None and rows[1][c] is None:
                merges.append(f"{get_column_letter(c + 1)}1:{get_column_letter(c + 1)}2")
            end = c
            while end + 1 < width and rows[0][end + 1] is None and rows[1][end + 1] is not None and rows[0][c]:
                end += 1
            if end > c:
                merges.append(f"{get_column_letter(c + 1)}1:{get_column_letter(end + 1)}1")
    for c in range(width):
        r = len(heads)
        while r < len(rows):
            end = r
            while rows[r][c] is not None and end + 1 < len(rows) and rows[end + 1][c] is None:
                end += 1
            if end > r:
                merges.append(f"{get_column_letter(c + 1)}{r + 1}:{get_column_letter(c + 1)}{end + 1}")
            r = end + 1
    return [data["title"]] if data.get("title") else [], rows, merges


def save(path: Path, data: dict, levels: str | None = None) -> Path:
    """The record as the kind of file path names: .xlsx, .docx, .xls or .csv (GB18030, as WPS saves it)."""
    title, rows, merges = layout(data, levels)
    if path.suffix == ".docx":
        return make_docx(path, title, rows, tuple(merges))
    shifted = [[line] + [None] * (len(rows[0]) - 1) for line in title] + rows
    if path.suffix == ".xlsx":
        return make_workbook(path, shifted, tuple(_below(area, len(title)) for area in merges))
    if path.suffix == ".csv":
        text = io.StringIO()
        csv.writer(text, lineterminator="\r\n").writerows([["" if v is None else v for v in row] for row in shifted])
        path.write_bytes(text.getvalue().encode("gb18030"))
        return path
    import xlwt

    workbook = xlwt.Workbook()
    sheet = workbook.add_sheet("Sheet1")
    covered = set()
    for area in merges:
        first, last = (_cell(end) for end in _below(area, len(title)).split(":"))
        sheet.write_merge(first[0], last[0], first[1], last[1], shifted[first[0]][first[1]])
        covered |= {(r, c) for r in range(first[0], last[0] + 1) for c in range(first[1], last[1] + 1)}
    for r, row in enumerate(shifted):
        for c, value in enumerate(row):
            if value is not None and (r, c) not in covered:
                sheet.write(r, c, value)
    workbook.save(str(path))
    return path


def _below(area: str, rows: int) -> str:
    """A range moved down by the title rows above the table."""
    return ":".join(f"{''.join(filter(str.isalpha, end))}{int(''.join(filter(str.isdigit, end))) + rows}"
                    for end in area.split(":"))


def _cell(reference: str) -> tuple[int, int]:
    from openpyxl.utils import column_index_from_string

    letters = "".join(filter(str.isalpha, reference))
    return int("".join(filter(str.isdigit, reference))) - 1, column_index_from_string(letters) - 1


def run(path: Path, out: Path, *options: str) -> int:
    return main(["import", str(path), "--out", str(out), *options])


def risks(folder: Path) -> list[tuple[str, dict, dict]]:
    """(area name, risk, {measure id: text}) of every risk, area by area."""
    areas = [load(folder, f"{area}.yml") for area in load(folder, "register.yml")["areas"]]
    measures = {m["id"]: m["title_zh"] for area in areas for m in area["measures"]}
    return [(area["area"]["name_zh"], risk, {m: measures[m] for m in risk["measures"]})
            for area in areas for risk in area["risks"]]


def assert_said(folder: Path, *lines: str) -> None:
    text = note(folder).splitlines()
    for line in lines:
        assert line in text, line


def test_bozhou_key_projects_centre_xlsx(tmp_path, capsys):
    """亳州: 单位/科室 merged over its risks, 风险 类别 wrapped, 高/中/低, numbered measures run together."""
    path = save(tmp_path / "bozhou.xlsx", record("bozhou-key-projects-centre"))
    assert run(path, tmp_path / "out", "--unit-name", "市重点工程建设管理服务中心", "--reviewed", "2023-01-01") == 0
    got = risks(tmp_path / "out")
    assert [area for area, _, _ in got] == ["市重点工程建设管理服务中心"] * 4
    assert [(r["title_zh"], r["level"], r.get("category")) for _, r, _ in got] == [
        ("公车管理", "low", "duties"), ("重大经济事项决策制度不健全或未按制度执行", "high", "process"),
        ("工程设计", "medium", "duties"), ("工程招标", "medium", "duties")]
    assert list(got[0][2].values()) == ["加强教育提醒", "制定加油、维修及车辆管理制度", "加强过程管理,每月汇总核对相关信息并公示,接受各界监督。"]
    assert list(got[2][2].values()) == ["加强培训教育,提高管理人员业务水平", "严格按照实际需求进行设计;实行设计会审制度。"]
    assert [r["responsible_post_zh"] for _, r, _ in got] == ["徐千"] * 4
    assert [r["responsible_leader_zh"] for _, r, _ in got] == ["李彬"] * 4
    assert got[0][1]["manifestations"] == [{"zh": "公车私用、违规加油及维修。"}]
    assert_said(tmp_path / "out",
                "| B1 | 单位/科室 | 科室 `department` | 已知表头 · a known heading |",
                "| C1 | 风险 类别 | 风险类别 `category` | 已知表头 · a known heading |",
                "| H1 | 部门 负责人 | 直接责任人 `responsible_post_zh` | 已知表头 · a known heading |",
                "- 「高」→ 一级（高）：1 个风险点；按「高/中/低」三级读 · read on the scale 高/中/低",
                "- 「中」→ 二级（中）：2 个风险点；按「高/中/低」三级读 · read on the scale 高/中/低",
                "- 「低」→ 三级（低）：1 个风险点；按「高/中/低」三级读 · read on the scale 高/中/低",
                "- 单位名称「市重点工程建设管理服务中心」：由 --unit-name 指定 · given by --unit-name",
                "- 2023-01-01：由 --reviewed 指定 · given by --reviewed")


def test_gezhouba_engineering_docx(tmp_path, capsys):
    """葛洲坝二公司, as a Word table: 风险类别 holding business areas (read as areas), 建议风险级别, 一级风险,
    a risk's name and its description in two columns."""
    path = save(tmp_path / "gezhouba.docx", record("gezhouba-no2-engineering"))
    assert run(path, tmp_path / "out", "--reviewed", "2020-06-01") == 0
    got = risks(tmp_path / "out")
    assert [(area, r["title_zh"], r["level"]) for area, r, _ in got] == [
        ("三重一大决策", "重大事项决策", "high"), ("三重一大决策", "重要干部任免", "high"),
        ("三重一大决策", "重要项目安排", "high"), ("三重一大决策", "大额资金管理", "high"),
        ("人力资源管理", "提拔任用后备干部", "high"), ("人力资源管理", "破格任用干部", "high")]
    assert got[1][1]["description_zh"] == "未按程序随意更换股东代表、推荐董事会、监事会成员"
    assert list(got[5][2].values()) == ["加强干部层次管理,明确干部选用和晋升条件,破格提拔的应有详实的资料印证。"]
    assert load(tmp_path / "out", "register.yml")["unit"]["name_zh"] == "葛洲坝第二工程有限公司"
    assert_said(tmp_path / "out",
                "| 第1行第2列 | 风险\n类别 | 领域 `area` | 已知表头 · a known heading；其内容不是五类风险类别，读作领域 · it holds "
                "no risk category (思想道德风险 …), so it names the areas |".replace("\n", " "),
                "| 第1行第6列 | 建议风险\n级别 | 风险等级 `level` | 含「级别」 · holds 级别 |".replace("\n", " "),
                "- 「一级风险」→ 一级（高）：6 个风险点；按「一/二/三」三级读 · read on the scale 一/二/三",
                "- 单位名称「葛洲坝第二工程有限公司」：取自 gezhouba.docx!段落1「葛洲坝第二工程有限公司廉洁风险点及防控措施(修订)」，去掉 "
                "「廉洁风险点及防控措施(修订)」 · unit name 葛洲坝第二工程有限公司, from gezhouba.docx!段落1, with "
                "廉洁风险点及防控措施(修订) taken off")


def test_pingchuan_middle_school_csv(tmp_path, capsys):
    """黄峤中学 as GB18030 CSV: no 序号 (risks numbered in their cells), Ⅰ级/Ⅱ级, two leader columns, 防控方法."""
    path = save(tmp_path / "huangqiao.csv", record("pingchuan-huangqiao-middle-school"))
    assert run(path, tmp_path / "out", "--reviewed", "2019-07-01") == 0
    got = risks(tmp_path / "out")
    assert [(r["title_zh"], r["level"], r["responsible_leader_zh"]) for _, r, _ in got] == [
        ("学校发展决议,没有充足调研,决议不科学、不实际,给工作带来被动。", "high", "李寿国"),
        ("学校干部培养、推荐和任用", "medium", "李寿国")]
    assert [len(m) for _, _, m in got] == [1, 1]
    assert load(tmp_path / "out", "register.yml")["unit"] == {"id": "out", "name_zh": "平川区黄峤中学"}
    assert_said(tmp_path / "out",
                "- GB18030，分隔符：逗号 comma · encoding GB18030, delimiter comma",
                "C2、D2 都读作责任领导，各行的文字合在一起 · all read as responsible_leader_zh: each row's texts are joined",
                "| E2 | 防控方法 | 防控措施 `measures` | 已知表头 · a known heading |",
                "- 「Ⅰ级」→ 一级（高）：1 个风险点；按「Ⅰ/Ⅱ/Ⅲ」三级读 · read on the scale Ⅰ/Ⅱ/Ⅲ",
                "- 「Ⅱ级」→ 二级（中）：1 个风险点；按「Ⅰ/Ⅱ/Ⅲ」三级读 · read on the scale Ⅰ/Ⅱ/Ⅲ",
                "- 2 个风险点的文字以编号开头（如「1、学校发展决议,没有充…」），编号不计入风险点 · risks numbered in their own cell: "
                "the numbers are left out of the titles")


def test_city_water_bureau_xls_with_its_levels_said(tmp_path, capsys):
    """A water bureau's chart as .xls: 风 险, 措施, levels 高 and 一般 — 一般 is unsafe until the unit says."""
    path = save(tmp_path / "water.xls", record("xx-city-water-bureau-flowcharts"))
    assert run(path, tmp_path / "out", "--unit-name", "XX市水务局", "--reviewed", "2019-01-01") == 1
    assert capsys.readouterr().err.splitlines() == [
        "water.xls!Sheet1!B4: 风险等级 '一般' cannot be read safely: 二级（中） in 较高/一般/较低; 三级（低） in 重大/较大/一般 "
        "— say which level it is with --level '一般=一级' (or 二级, 三级)", "1 problem(s); nothing written"]
    assert run(path, tmp_path / "out", "--unit-name", "XX市水务局", "--reviewed", "2019-01-01", "--level", "一般=二级") == 0
    got = risks(tmp_path / "out")
    assert [(r["title_zh"], r["level"], list(m.values())) for _, r, m in got] == [
        ("管理不善,导致国有资产流失", "high", ["各科室固定资产管理者、使用者,严格执行新增、报废、毁损、捐赠等程序管理"]),
        ("超标或违规采购", "medium", ["严格执行制度规定。"])]
    assert_said(tmp_path / "out", "| A2 | 风 险 | 风险点 `title_zh` | 已知表头 · a known heading |",
                "- 「一般」→ 二级（中）：1 个风险点；由 --level 指定 · given by --level")


def test_district_party_office_levels_left_empty_then_filled(tmp_path, capsys):
    """区委办's list: the level column empty as published is refused at each cell, never filled in; once the
    unit writes its levels it imports, 责任主体 grouping the risks by office."""
    data = record("district-party-office-responsibility-list")
    assert run(save(tmp_path / "as-published.xlsx", data), tmp_path / "out", "--reviewed", "2019-01-01") == 1
    assert capsys.readouterr().err.splitlines() == [
        f"as-published.xlsx!Sheet1!E{row}: no 风险等级 — write 高, 中 or 低 (or 一级, 二级, 三级)" for row in range(3, 8)
    ] + ["5 problem(s); nothing written"]
    assert not (tmp_path / "out").exists()
    assert run(save(tmp_path / "filled.xlsx", data, levels="中"), tmp_path / "out", "--reviewed", "2019-01-01") == 0
    got = risks(tmp_path / "out")
    assert [(area, r["power_zh"], r["level"], len(m)) for area, r, m in got] == [
        ("秘书一科", "会务工作", "medium", 1), ("秘书一科", "区委、区政府领导公务接待活动", "medium", 3),
        ("秘书一科", "负责全区文秘人员业务指导工作", "medium", 1), ("秘书二科", "制度机制", "medium", 1),
        ("秘书二科", "科级干部选拔", "medium", 5)]
    assert got[1][1]["title_zh"] == "1.未按要求、规范流程进行申报;\n2.未执行接待标准,超出预算;\n3.未厉行节约,提高接待档次。"
    assert_said(tmp_path / "out", "| B2 | 责任主体 | 科室 `department` | 已知表头 · a known heading |",
                "- 按「科室」列（filled.xlsx!Sheet1!B2）分领域 · areas from that column")


def test_county_water_bureau_chart_with_its_step_column_named_by_letter(tmp_path, capsys):
    """A chart's step column has no heading: named with --column 'A=职权事项', the chart imports."""
    path = save(tmp_path / "award.xlsx", record("county-water-bureau-award-chart"))
    assert run(path, tmp_path / "out", "--reviewed", "2019-01-01", "--unit-name", "某县水利局",
               "--column", "A=职权事项") == 0
    got = risks(tmp_path / "out")
    assert [(r["power_zh"], r["level"], len(r["title_zh"].splitlines()), len(m)) for _, r, m in got] == [
        ("审核公示", "medium", 4, 8), ("表彰、奖励", "low", 1, 3)]
    assert_said(tmp_path / "out", "| A2 | （A 列无表头 · no heading） | 职权事项 `power_zh` | 由 --column 指定 · given by the user |")


#: Records whose registers cannot be imported as published: (record, file kind, options, the problems).
REFUSED = [
    ("huoshan-hengshan-town-2023", ".xlsx", ["--reviewed", "2023-09-27"],
     ["book.xlsx!Sheet1!E3: 风险等级 '1中2低' counts the levels of several risks — give each risk its own row and its own "
      "level"]),
    ("shucheng-urban-management-2024", ".docx", ["--reviewed", "2024-01-08"],
     [f"book.docx!表格1!第{row}行第5列: no 风险等级 — write 高, 中 or 低 (or 一级, 二级, 三级)" for row in (2, 3, 4)]),
    ("county-water-bureau-award-chart", ".xlsx", ["--reviewed", "2019-01-01", "--unit-name", "某县水利局"],
     ["book.xlsx!Sheet1!A3: this column has no heading — give it one, say what it is with --column 'A=职权事项' (any "
      "field), or leave it out with --column 'A=不导入'"]),
    ("street-labour-security-centre-list", ".xlsx", [],
     ["book.xlsx: no sheet has a register's heading row (a row naming 风险点、风险等级、防控措施 …) in its first 15 rows — "
      "put the column headings in one row above the risks, or say what a heading means with --column 'HEADING=风险点'"]),
    ("street-admin-service-centre-flowcharts", ".xlsx", ["--column", "采购工作流程=职权事项", "--reviewed", "2019-01-01"],
     ["book.xlsx!Sheet1!A2: no 风险等级 column in the heading (row 2) — add a column headed 风险等级, or say which column "
      "it is with --column 'HEADING=风险等级'. The heading was read as: A 采购工作流程→职权事项 | B 廉政风险点→风险点 | "
      "C 防控措施→防控措施"]),
    ("hitech-zone-finance-subbureau", ".xlsx", ["--reviewed", "2019-01-01"],
     ["book.xlsx!Sheet1!A2: no 防控措施 column in the heading (row 2) — add a column headed 防控措施, or say which column "
      "it is with --column 'HEADING=防控措施'. The heading was read as: A 序号→序号 | B 权力事项→职权事项 | C 廉政风险点→风险点 | "
      "D 风险级次→风险等级 | E 责任科室/预算组→科室 | F 责任科室/行财组→科室 | G 责任科室/基建组→科室"]),
    ("district-housing-bureau-list", ".xlsx", ["--reviewed", "2019-01-01"],
     ["book.xlsx!Sheet1!A3: no risks below the heading — fill in the register"]),
    ("shccmg-post-risk-table", ".xlsx", ["--reviewed", "2019-01-01", "--unit-name", "某公司"],
     ["book.xlsx!Sheet1!A1: no 风险等级 column in the heading (row 1) — add a column headed 风险等级, or say which column "
      "it is with --column 'HEADING=风险等级'. The heading was read as: A 序 号→序号 | B 岗位 类别→岗位 | C 风险 名称→风险点 | "
      "D 风险描述→风险描述 | E 防控措施→防控措施 | F 监测 指标→?",
      "book.xlsx!Sheet1!F1: column '监测 指标' is not understood — say what it is with --column '监测 指标=风险点' (any of "
      f"{FIELD_NAMES}), or leave it out with --column '监测 指标=不导入'; a mapping file (--columns FILE) says it for every "
      "file. The heading was read as: A 序 号→序号 | B 岗位 类别→岗位 | C 风险 名称→风险点 | D 风险描述→风险描述 | "
      "E 防控措施→防控措施 | F 监测 指标→?"]),
]


@pytest.mark.parametrize("name, kind, options, problems", REFUSED, ids=[case[0] for case in REFUSED])
def test_what_a_published_register_leaves_unsaid_is_refused_at_its_cell(tmp_path, capsys, name, kind, options,
                                                                        problems):
    """Levels left empty or counted, a column with no heading, no heading at all, no measures: refused, at the
    cell, nothing written; how the headings were read is printed to help mend it."""
    path = save(tmp_path / f"book{kind}", record(name))
    assert run(path, tmp_path / "out", *options) == 1
    captured = capsys.readouterr()
    assert captured.err.splitlines() == problems + [f"{len(problems)} problem(s); nothing written"]
    assert not (tmp_path / "out").exists()


def test_a_heading_only_record_is_read_column_by_column(tmp_path, capsys):
    """区住建局's headings, wrapped as printed: each read by meaning, said even though there are no rows."""
    path = save(tmp_path / "book.xlsx", record("district-housing-bureau-list"))
    assert run(path, tmp_path / "out", "--reviewed", "2019-01-01") == 1
    printed = capsys.readouterr().out.splitlines()
    for line in ["| A2 | 序 号 | 序号 `seq` | 已知表头 · a known heading |",
                 "| C2 | 重要 环节 | 职权事项 `power_zh` | 已知表头 · a known heading |",
                 "| D2 | 廉政风险点表现形式 | 风险点 `title_zh` | 已知表头 · a known heading；没有别的列写风险点，读作风险点 · no other "
                 "column names the risk, so it is the risk |",
                 "| E2 | 风险点涉及的 岗位 | 岗位 `post_zh` | 含「岗位」 · holds 岗位 |",
                 "| I2 | 部门 责任 人 | 直接责任人 `responsible_post_zh` | 已知表头 · a known heading |"]:
        assert line in printed, line


def test_a_record_without_a_table_has_its_level_words_read_aloud():
    """The village's register came only as flattened text (no heading or row can be rebuilt): what it does show,
    its letter levels, is read on the A/B/C scale, and the report says so (the page does not say which is highest)."""
    village = record("village-abc-risk-list")
    assert village["header_rows"] is None and village["rows"] == []
    verdicts = levels.read_levels(village["levels"], {})
    assert [(v.level, v.how) for v in verdicts.values()] == [
        (level, "按「A/B/C」三级读 · read on the scale A/B/C") for level in ("high", "medium", "low")]


def test_every_record_is_tested():
    tested = {"village-abc-risk-list", "bozhou-key-projects-centre", "county-water-bureau-award-chart", "gezhouba-no2-engineering", "pingchuan-huangqiao-middle-school",
              "xx-city-water-bureau-flowcharts", "district-party-office-responsibility-list"} | {c[0] for c in REFUSED}
    assert tested == {path.stem for path in RECORDS.glob("*.yml")}
