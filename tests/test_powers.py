"""Powers, steps and posts (职权目录 and 权力运行流程图, issue 25): declared in the YAML, checked, built, kept in
the workbook both ways, described by diff and the history, and read from a unit's own 登记表.

The mini register (conftest.MINI) gains a posts.yml and two powers whose steps its risks stand on; each
broken reference is refused with one exact, located error, the previous database left as it was.
"""

from __future__ import annotations

import json
import sqlite3
import textwrap
from pathlib import Path

import pytest
import yaml

from riskcatalog.catalog import load_register
from riskcatalog.cli import main

from .conftest import CATALOG, copy_catalog
from .test_bad_catalogs import assert_refused, edit
from .test_import import make_workbook, run_import

POSTS = """\
    posts:
      - id: accountant
        title_zh: 财务会计
        title_en: Accountant
        department_zh: 财政所
        department_en: Finance office
        leader_zh: 分管财务的副主任
        leader_en: Deputy director in charge of finance
      - id: reception-officer
        title_zh: 信访接待员
        title_en: Reception officer
        leader_zh: 分管信访的副书记
        leader_en: Deputy secretary in charge of petitions
    """

POWERS = """\
powers:
  - id: AL-P01
    title_zh: 差旅费报销审核
    title_en: Checking travel claims
    posts: [accountant]
    sources: [law]
    steps:
      - id: claim
        title_zh: 填报报销单
        title_en: Filling in the claim
        actor_zh: 出差人
        actor_en: The traveller
      - id: check
        title_zh: 财务审核
        title_en: Checked by finance
        actor_zh: 财政所
        actor_en: Finance office
        post: accountant
        branches:
          - when_zh: 票据不全
            when_en: Receipts missing
            end_zh: 退回补齐
            end_en: Returned to be completed
      - id: approve
        title_zh: 分管领导审批
        title_en: Approved by the deputy director
        actor_zh: 分管副主任
        actor_en: Deputy director in charge
        branches:
          - when_zh: 超标准
            when_en: Above the standard
            to: check
  - id: AL-P02
    title_zh: 信访件转办
    title_en: Forwarding petitions
    posts: [reception-officer]
    sources: [law]
    steps:
      - id: receive
        title_zh: 登记
        title_en: Registration
        actor_zh: 信访办
        actor_en: Petitions office
        post: reception-officer
      - id: forward
        title_zh: 转办
        title_en: Forwarding
        actor_zh: 信访办
        actor_en: Petitions office
risks:
"""


@pytest.fixture
def placed(mini) -> Path:
    """The mini register with posts, two powers, each risk on its steps and one measure acting on steps."""
    (mini / "posts.yml").write_text(textwrap.dedent(POSTS), encoding="utf-8")
    edit(mini, "alpha.yml", "risks:\n", POWERS)
    edit(mini, "alpha.yml", '    reviewed: "2019-01-15"\n',
         '    reviewed: "2019-01-15"\n    power: AL-P01\n    steps: [claim, check]\n')
    edit(mini, "alpha.yml", '    reviewed: "2019-01-10"\n',
         '    reviewed: "2019-01-10"\n    power: AL-P02\n    steps: [forward]\n')
    edit(mini, "alpha.yml", "    evidence_en: Signed vouchers\n",
         "    evidence_en: Signed vouchers\n    steps: [AL-P01/check, AL-P01/approve]\n")
    return mini


@pytest.fixture
def placed_db(placed, capsys) -> Path:
    Path("out").mkdir()
    assert main([str(placed), "-o", "out/catalog.db"]) == 0
    capsys.readouterr()
    return Path("out/catalog.db")


def rows(db: Path, sql: str) -> list[tuple]:
    with sqlite3.connect(db) as conn:
        return conn.execute(sql).fetchall()


# --- the shipped register --------------------------------------------------------------------------------------

def test_every_active_risk_of_the_shipped_register_stands_on_a_step_of_a_declared_power(catalog_db):
    """Every active risk names a power and steps of that power (the join finds each step under the risk's own
    power); every measure acts on steps; every post exercises a power or acts at a step."""
    assert rows(catalog_db, "select count(*) from risks where status = 'active' and (power is null "
                            "or json_array_length(step_ids) = 0)") == [(0,)]
    named = rows(catalog_db, "select sum(json_array_length(step_ids)) from risks where status = 'active'")[0][0]
    joined = rows(catalog_db, "select count(*) from risks r join risk_steps x on x.risk = r.key "
                              "join steps s on s.key = x.step and s.power = r.power where r.status = 'active'")[0][0]
    assert named == joined == 135
    assert rows(catalog_db, "select count(*) from measures where json_array_length(step_ids) = 0") == [(0,)]
    assert rows(catalog_db, "select (select count(*) from posts), (select count(*) from powers), "
                            "(select count(*) from steps), (select count(*) from branches)") == [(32, 23, 155, 40)]
    idle = rows(catalog_db, "select id from posts where key not in (select post from power_posts) "
                            "and key not in (select post from steps where post is not null)")
    assert idle == []
    assert rows(catalog_db, "select count(*) from powers where json_array_length(source_ids) = 0 "
                            "or json_array_length(post_ids) = 0") == [(0,)]


def test_the_welfare_allowance_flows_from_application_to_periodic_review(catalog_db):
    """The issue's example: 低保 from 申请 to 定期复核, 民主评议 before the sub-district's review, an objection
    during the posting going back to the household survey."""
    steps = rows(catalog_db, "select s.id from steps s where s.power = 'yijia-WELF-P01' order by s.position")
    assert [s for (s,) in steps] == ["apply", "accept", "survey", "appraisal", "review", "posting", "approval",
                                     "payment", "periodic-review"]
    assert rows(catalog_db, "select when_zh, to_step from branches where step = 'yijia-WELF-P01/posting'") == [
        ("公示有异议", "yijia-WELF-P01/survey")]


# --- the register's rows ---------------------------------------------------------------------------------------

def test_powers_steps_branches_and_links_are_rows_with_keys(placed_db):
    assert rows(placed_db, "select key, area, post_ids, source_ids, file, line from powers order by key") == [
        ("mini-AL-P01", "mini-alpha", '["accountant"]', '["law"]', "mini/alpha.yml", 8),
        ("mini-AL-P02", "mini-alpha", '["reception-officer"]', '["law"]', "mini/alpha.yml", 39)]
    assert rows(placed_db, "select key, position, post, title_zh from steps where power = 'mini-AL-P01'") == [
        ("mini-AL-P01/claim", 1, None, "填报报销单"), ("mini-AL-P01/check", 2, "mini-accountant", "财务审核"),
        ("mini-AL-P01/approve", 3, None, "分管领导审批")]
    assert rows(placed_db, "select step, position, when_zh, to_step, end_zh from branches order by step") == [
        ("mini-AL-P01/approve", 1, "超标准", "mini-AL-P01/check", None),
        ("mini-AL-P01/check", 1, "票据不全", None, "退回补齐")]
    assert rows(placed_db, "select risk, step, position from risk_steps order by risk, position") == [
        ("mini-AL-01", "mini-AL-P01/claim", 1), ("mini-AL-01", "mini-AL-P01/check", 2),
        ("mini-AL-02", "mini-AL-P02/forward", 1)]
    assert rows(placed_db, "select measure, step from measure_steps order by position") == [
        ("mini-AL-M01", "mini-AL-P01/check"), ("mini-AL-M01", "mini-AL-P01/approve")]
    assert rows(placed_db, "select key, power, step_ids from risks") == [
        ("mini-AL-01", "mini-AL-P01", '["claim", "check"]'), ("mini-AL-02", "mini-AL-P02", '["forward"]')]
    assert rows(placed_db, "select key, leader_zh, department_zh from posts") == [
        ("mini-accountant", "分管财务的副主任", "财政所"), ("mini-reception-officer", "分管信访的副书记", None)]
    assert rows(placed_db, "select 流程环节 from register") == [("填报报销单\n财务审核",), ("转办",)]


def test_a_register_without_powers_builds_with_empty_tables(previous):
    assert rows(previous, "select (select count(*) from powers), (select count(*) from posts), "
                          "(select count(*) from risk_steps), (select count(power) from risks)") == [(0, 0, 0, 0)]
    assert rows(previous, "select 流程环节 from register") == [(None,), (None,)]


# --- broken references: one exact, located error each -----------------------------------------------------------

BROKEN = [
    ("risk on an unknown power", "alpha.yml", "    power: AL-P02\n", "    power: AL-P03\n",
     "mini/alpha.yml:109:12: risks[1].power: unknown power 'AL-P03' — did you mean 'AL-P02'?"),
    ("risk on a step its power lacks", "alpha.yml", "    steps: [forward]\n", "    steps: [forward, check]\n",
     "mini/alpha.yml:110:22: risks[1].steps[1]: 'check' is not a step of AL-P02 — give a step of AL-P02: receive, "
     "forward"),
    ("steps without a power", "alpha.yml", "    power: AL-P02\n", "",
     "mini/alpha.yml:84:5: risks[1]: missing field 'power' — a risk stands on steps of a power: give power and "
     "steps together, or neither"),
    ("measure on a step that does not exist", "alpha.yml", "[AL-P01/check, AL-P01/approve]",
     "[AL-P01/check, AL-P01/pay]",
     "mini/alpha.yml:125:27: measures[0].steps[1]: 'AL-P01/pay' names no step of AL-P01 — give a step of AL-P01: "
     "claim, check, approve"),
    ("measure on an unknown power", "alpha.yml", "[AL-P01/check, AL-P01/approve]", "[AL-P09/check, AL-P01/approve]",
     "mini/alpha.yml:125:13: measures[0].steps[0]: unknown power 'AL-P09' in 'AL-P09/check' — did you mean "
     "'AL-P02'?"),
    ("power exercised by an undeclared post", "alpha.yml", "    posts: [accountant]\n", "    posts: [cashier]\n",
     "mini/alpha.yml:11:13: powers[0].posts[0]: unknown post 'cashier' — declare it in posts.yml, or fix the id"),
    ("step acted by an undeclared post", "alpha.yml", "        post: reception-officer\n",
     "        post: reception\n",
     "mini/alpha.yml:50:15: powers[1].steps[0].post: unknown post 'reception' — declare it in posts.yml, or fix "
     "the id"),
    ("power based on an unknown source", "alpha.yml", "    posts: [accountant]\n    sources: [law]\n",
     "    posts: [accountant]\n    sources: [law, constitution]\n",
     "mini/alpha.yml:12:20: powers[0].sources[1]: unknown source 'constitution' — add it to sources.yml or fix the id"),
    ("power based on a source issued after its risks' review", "alpha.yml",
     "    posts: [reception-officer]\n    sources: [law]\n", "    posts: [reception-officer]\n    sources: [report]\n",
     "mini/alpha.yml:43:15: powers[1].sources[0]: cites 'report' (2019-01-29), issued after the risks on this power "
     "were reviewed (2019-01-10) — cite the rule in force then, or review the risks again"),
    ("branch to a step its power lacks", "alpha.yml", "            to: check\n", "            to: checking\n",
     "mini/alpha.yml:38:17: powers[0].steps[2].branches[0].to: unknown step 'checking' — give a step of AL-P01: "
     "claim, check, approve"),
    ("branch that goes to a step and ends", "alpha.yml", "            to: check\n",
     "            to: check\n            end_zh: 结束\n            end_en: Ends\n",
     "mini/alpha.yml:38:17: powers[0].steps[2].branches[0].to: a branch either goes to a step or ends the flow — "
     "give to or end_zh, not both"),
    ("branch that leads nowhere", "alpha.yml", "            to: check\n", "",
     "mini/alpha.yml:36:13: powers[0].steps[2].branches[0]: a branch needs where it leads — give to (a step of "
     "this power) or end_zh (where the flow ends)"),
    ("branch back to its own step", "alpha.yml", "            to: check\n", "            to: approve\n",
     "mini/alpha.yml:38:17: powers[0].steps[2].branches[0].to: a branch cannot go back to its own step 'approve' — "
     "give another step, or end_zh (e.g. 补齐材料后重新受理)"),
    ("step id used twice", "alpha.yml", "      - id: approve\n", "      - id: claim\n",
     "mini/alpha.yml:30:13: powers[0].steps[2].id: step id 'claim' is used twice in AL-P01 (first at line 14) — "
     "give each step of a power its own id"),
    ("power id used twice", "alpha.yml", "  - id: AL-P02\n", "  - id: AL-P01\n",
     "mini/alpha.yml:39:9: powers[1].id: duplicate id 'AL-P01' (first defined at mini/alpha.yml:8) — ids are never "
     "reused; give this entry a new id"),
    ("power id of another form", "alpha.yml", "  - id: AL-P02\n", "  - id: AL-02P\n",
     "mini/alpha.yml:39:9: powers[1].id: 'AL-02P' is not of the form PREFIX-PNN (e.g. WELF-P01) — rewrite it in "
     "that form"),
    ("post id used twice", "posts.yml", "  - id: reception-officer\n",
     "  - id: accountant\n    title_zh: 会计\n    title_en: Cashier\n  - id: reception-officer\n",
     "mini/posts.yml:9:9: posts[1].id: duplicate id 'accountant' (first defined at mini/posts.yml:2) — ids are "
     "never reused; give this entry a new id"),
    ("a power of one step", "alpha.yml", "      - id: forward\n        title_zh: 转办\n        title_en: Forwarding\n"
     "        actor_zh: 信访办\n        actor_en: Petitions office\n", "",
     "mini/alpha.yml:45:7: powers[1].steps: needs at least 2 item(s) — add them"),
]


#: What else a break takes with it: the references to what it renamed.
FOLLOWING = {
    "step id used twice": ["mini/alpha.yml:125:27: measures[0].steps[1]: 'AL-P01/approve' names no step of AL-P01 — "
                           "give a step of AL-P01: claim, check"],
    "power id used twice": ["mini/alpha.yml:109:12: risks[1].power: unknown power 'AL-P02' — did you mean 'AL-P01'?"],
}


@pytest.mark.parametrize("name, file, old, new, error", BROKEN, ids=[case[0] for case in BROKEN])
def test_a_broken_reference_is_one_located_error_and_the_database_is_unchanged(name, file, old, new, error, placed,
                                                                                placed_db, capsys):
    edit(placed, file, old, new)
    assert assert_refused(placed, placed_db, capsys, error) == [error, *FOLLOWING.get(name, [])]


def test_posts_yml_is_optional_but_a_named_post_then_needs_it(placed, placed_db, capsys):
    (placed / "posts.yml").unlink()
    lines = assert_refused(placed, placed_db, capsys, "mini/alpha.yml:11:13: powers[0].posts[0]: unknown post "
                                                      "'accountant' — create posts.yml and declare it there, or fix "
                                                      "the id")
    assert len(lines) == 4  # each power's post and each step's


# --- fmt, diff and the history ---------------------------------------------------------------------------------

def test_fmt_writes_the_new_fields_in_their_canonical_place(placed, capsys):
    """A power's keys shuffled and a risk's steps in block style come back in the order and style of the format."""
    edit(placed, "alpha.yml", "    power: AL-P01\n    steps: [claim, check]\n",
         "    steps:\n      - claim\n      - check\n    power: AL-P01\n")
    edit(placed, "alpha.yml", "    title_zh: 信访件转办\n    title_en: Forwarding petitions\n    posts: [reception-officer]\n",
         "    posts:\n      - reception-officer\n    title_en: Forwarding petitions\n    title_zh: 信访件转办\n")
    assert main(["fmt", str(placed)]) == 0
    text = (placed / "alpha.yml").read_text(encoding="utf-8")
    assert '    reviewed: "2019-01-15"\n    power: AL-P01\n    steps: [claim, check]\n' in text
    assert "    title_zh: 信访件转办\n    title_en: Forwarding petitions\n    posts: [reception-officer]\n" in text
    assert main(["fmt", "--check", str(placed)]) == 0


def test_diff_names_changes_to_powers_and_posts(placed, tmp_path, capsys, monkeypatch):
    """A step renamed and a post's leader changed are changes of a power and of a post."""
    import subprocess
    repo = Path.cwd()
    for args in (["init", "-q"], ["add", "."], ["-c", "user.name=t", "-c", "user.email=t@e", "commit", "-qm", "one"]):
        subprocess.run(["git", *args], cwd=repo, check=True)
    edit(placed, "alpha.yml", "        title_zh: 转办\n", "        title_zh: 转交办理单位\n")
    edit(placed, "posts.yml", "    leader_zh: 分管信访的副书记\n", "    leader_zh: 党工委副书记\n")
    capsys.readouterr()
    assert main(["diff", "HEAD", str(placed), "--json"]) == 0
    changed = json.loads(capsys.readouterr().out)["changed"]
    assert [(c["kind"], c["id"], sorted(c["fields"])) for c in changed] == [
        ("power", "AL-P02", ["steps"]), ("post", "reception-officer", ["leader_zh"])]


def test_the_history_records_a_power_s_steps_by_their_titles(tmp_path):
    """A commit that adds a step to a power is a change of its 流程环节, old → new by step titles."""
    import subprocess
    from riskcatalog import build as builder
    repo = tmp_path / "repo"
    folder = copy_catalog(repo / "catalog")
    env = ["-c", "user.name=纪工委", "-c", "user.email=o@e"]
    subprocess.run(["git", "init", "-q"], cwd=repo, check=True)
    subprocess.run(["git", "add", "."], cwd=repo, check=True)
    subprocess.run(["git", *env, "commit", "-qm", "2019年登记"], cwd=repo, check=True)
    edit(folder, "workstyle.yml", "      - id: holiday-reminder\n        title_zh: 节前集体廉政谈话和提醒\n",
         "      - id: festival-reminder\n        title_zh: 节前廉政提醒\n")
    edit(folder, "workstyle.yml", "STYLE-P04/holiday-reminder", "STYLE-P04/festival-reminder")
    subprocess.run(["git", *env, "commit", "-qam", "STYLE-P04：环节更名"], cwd=repo, check=True)
    builder.build([folder], tmp_path / "h.db")
    found = rows(tmp_path / "h.db", "select kind, entry_id, field_zh, area from changes where change = 'changed' "
                                     "order by entry_id")
    assert found == [("measure", "STYLE-M04", "作用环节", "yijia-workstyle"),
                     ("power", "STYLE-P04", "流程环节", "yijia-workstyle")]
    summary = rows(tmp_path / "h.db", "select summary_zh from changes where entry_id = 'STYLE-P04' "
                                      "and change = 'changed'")[0][0]
    # The steps are read as their titles, one a line; a renamed step is worded by its changed words.
    assert summary == "流程环节：删去「集体」；删去「谈话和」"
    assert "{" not in summary
    # The first commit is the copy's baseline, not a revision: the power was not "added" by it.
    assert rows(tmp_path / "h.db", "select count(*) from changes where change = 'added'") == [(0,)]


# --- the workbook, both ways -------------------------------------------------------------------------------------

def test_the_workbook_carries_posts_powers_steps_and_branches_out_and_back(tmp_path, capsys):
    assert main(["export", str(CATALOG), "-o", str(tmp_path / "book.xlsx")]) == 0
    assert main(["import", str(tmp_path / "book.xlsx"), "--out", str(tmp_path / "back")]) == 0
    for name in ("posts.yml", "welfare.yml", "land.yml"):
        back = yaml.safe_load((tmp_path / "back" / name).read_text(encoding="utf-8"))
        assert back == yaml.safe_load((CATALOG / name).read_text(encoding="utf-8")), name


def test_a_workbook_exported_before_powers_imports_without_them(placed, tmp_path, capsys):
    """An older workbook (no 岗位, 职权, 流程环节 or 流程分支 sheet) imports: its register has no powers."""
    from openpyxl import load_workbook
    assert main(["export", str(CATALOG), "-o", str(tmp_path / "book.xlsx")]) == 0
    book = load_workbook(tmp_path / "book.xlsx")
    for name in ("岗位", "职权", "流程环节", "流程分支"):
        del book[name]
    risks = book["风险点"]
    heads = [cell.value for cell in risks[2]]
    risks.delete_cols(heads.index("power") + 1, 2)
    measures = book["防控措施"]
    measures.delete_cols([cell.value for cell in measures[2]].index("steps") + 1)
    book.save(tmp_path / "old.xlsx")
    assert main(["import", str(tmp_path / "old.xlsx"), "--out", str(tmp_path / "back")]) == 0
    assert not (tmp_path / "back" / "posts.yml").exists()
    welfare = yaml.safe_load((tmp_path / "back" / "welfare.yml").read_text(encoding="utf-8"))
    assert "powers" not in welfare and "power" not in welfare["risks"][0]


# --- a unit's own 登记表 with 职权事项 and 流程环节 ----------------------------------------------------------------

STREET_STEPS = [
    ["古田街道廉政风险点登记表（2019年1月）"] + [None] * 7,
    ["序号", "岗位", "职权事项", "流程环节", "风险点", "风险等级", "防控措施", "责任领导"],
    [1, "民政专干", "低保审核", "入户调查\n民主评议", "调查走过场", "高", "两人入户", "分管副主任"],
    [2, "民政专干", "低保审核", "审核公示", "公示流于形式", "中", "公示拍照留存", "分管副主任"],
    [3, "会计", "经费报销", "财务审核", "虚假票据报销", "高", "票据查验", "分管财务副主任"],
]


def test_a_register_with_powers_and_steps_in_its_columns_imports_its_flowcharts(tmp_path, capsys):
    """职权事项 and 流程环节 give powers (two steps or more), steps in the order first named, the posts from 岗位 with
    their leaders; a power named with one step gets no flowchart, and the import report says so."""
    workbook = make_workbook(tmp_path / "gutian.xlsx", STREET_STEPS, ("A1:H1",))
    assert run_import(workbook, tmp_path / "gutian") == 0
    report = (tmp_path / "gutian" / "导入说明.md").read_text(encoding="utf-8")
    assert ("## 职权和流程环节 · Powers and steps\n\n"
            "- 1 项职权事项只有一个流程环节，不画流程图：「经费报销」 · 1 powers named with one step only: no flowchart "
            "(name their other steps in the 流程环节 cells of their risks)\n"
            "- 职权 1 项、岗位 1 个取自「职权事项」「流程环节」「岗位」列 · 1 powers and 1 posts from those columns\n") in report
    assert "| D2 | 流程环节 | 流程环节 `steps` |" in report
    area = yaml.safe_load((tmp_path / "gutian" / "area-1.yml").read_text(encoding="utf-8"))
    assert area["powers"] == [{"id": "A1-P01", "title_zh": "低保审核", "posts": ["post-1"], "steps": [
        {"id": "step-1", "title_zh": "入户调查"}, {"id": "step-2", "title_zh": "民主评议"},
        {"id": "step-3", "title_zh": "审核公示"}]}]
    assert [(r.get("power"), r.get("steps")) for r in area["risks"]] == [
        ("A1-P01", ["step-1", "step-2"]), ("A1-P01", ["step-3"]), (None, None)]
    posts = yaml.safe_load((tmp_path / "gutian" / "posts.yml").read_text(encoding="utf-8"))
    assert posts == {"posts": [{"id": "post-1", "title_zh": "民政专干", "leader_zh": "分管副主任"}]}
    assert len(list(load_register(tmp_path / "gutian").powers())) == 1


def test_steps_without_a_power_column_are_said_and_left_unplaced(tmp_path, capsys):
    """流程环节 without 职权事项: the risks import, on no flowchart, and the report says which."""
    rows_ = [row[:2] + row[3:] for row in STREET_STEPS]
    workbook = make_workbook(tmp_path / "gutian.xlsx", rows_, ("A1:G1",))
    assert run_import(workbook, tmp_path / "gutian") == 0
    report = (tmp_path / "gutian" / "导入说明.md").read_text(encoding="utf-8")
    assert ("- 3 个风险点有流程环节而无职权事项，未放入流程图：A1-01、A1-02、A1-03 · 3 risks name a step but no power "
            "(职权事项): not placed on a flowchart") in report
    area = yaml.safe_load((tmp_path / "gutian" / "area-1.yml").read_text(encoding="utf-8"))
    assert "powers" not in area and "steps" not in area["risks"][0]
    assert not (tmp_path / "gutian" / "posts.yml").exists()
