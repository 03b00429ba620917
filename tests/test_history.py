"""The history (修订记录): commits in a temporary git repository, built into tables, pages and the feed."""

from __future__ import annotations

import csv as csv_module
import io
import json
import os
import re
import shutil
import sqlite3
import subprocess
import textwrap
import xml.etree.ElementTree as ElementTree
from pathlib import Path

import pytest
import yaml

from riskcatalog import build as builder
from riskcatalog import diff, fields, history
from riskcatalog.cli import main
from riskcatalog.diff import compare, entries, entry_changes

from .conftest import MINI, PROJECT_ROOT, make_datasette

ATOM = "{http://www.w3.org/2005/Atom}"
REPOSITORY = yaml.safe_load((PROJECT_ROOT / "metadata.yml").read_text(encoding="utf-8"))[
    "plugins"]["riskcatalog"]["repository"]
#: A reworded title with markup in it: every page must show it as text.
NEW_TITLE = "报销审批三级签字<script>alert(1)</script>"


def git(repo: Path, *args: str, date: str | None = None) -> str:
    """Run git in repo as the register's keeper, with author and committer date set when given."""
    env = {**os.environ, "GIT_AUTHOR_DATE": date, "GIT_COMMITTER_DATE": date} if date else None
    done = subprocess.run(["git", "-c", "user.name=纪工委", "-c", "user.email=jgw@example.org", *args],
                          cwd=repo, check=True, capture_output=True, env=env)
    return done.stdout.decode().strip()


def edit(folder: Path, name: str, *replacements: tuple[str, str]) -> None:
    """Edit a register file as a contributor does: each old text, found once, replaced."""
    path = folder / name
    text = path.read_text(encoding="utf-8")
    for old, new in replacements:
        assert text.count(old) == 1, old
        text = text.replace(old, new)
    path.write_text(text, encoding="utf-8")


def commit(repo: Path, subject: str, date: str) -> str:
    git(repo, "add", "-A")
    git(repo, "commit", "-q", "-m", subject, date=date)
    return git(repo, "rev-parse", "HEAD")


NEW_MEASURE = """\
  - id: AL-M04
    title_zh: 报销凭证电子化留档
    title_en: Claims archived electronically
    description_zh: 报销凭证扫描入档，可随时调阅。
    description_en: Vouchers are scanned and filed for inspection at any time.
    type: technology
    nature: detective
    owner_zh: 财务室
    owner_en: Finance office
    frequency_zh: 每笔报销
    frequency_en: Each claim
    evidence_zh: 电子档案
    evidence_en: Electronic archive
"""

#: The register's life in five commits: (subject, committer date, edits of (file, (old, new)...)).
COMMITS = [
    ("建立登记 First register", "2024-01-10T09:00:00+08:00", []),
    ("AL-02 复评：可能性由 2 调为 4", "2024-03-05T10:00:00+08:00",
     [("alpha.yml", ("likelihood: 2", "likelihood: 4"), ("level: low", "level: medium"))]),
    ("新增措施 AL-M04", "2024-06-20T15:30:00+08:00",
     [("alpha.yml", ("measures: [AL-M01, AL-M02]", "measures: [AL-M01, AL-M02, AL-M04]"),
       ("    evidence_en: Forwarding log\n", "    evidence_en: Forwarding log\n" + NEW_MEASURE)),
      ("register.yml", ("measures: 3", "measures: 4"))]),
    ("撤销 AL-02，由 AL-01 替代", "2024-09-02T11:00:00+08:00",
     [("alpha.yml", ("measures: [AL-M01, AL-M02, AL-M04]", "measures: [AL-M01, AL-M02, AL-M04, AL-M03]"),
       ('reviewed: "2019-01-10"', 'reviewed: "2019-01-10"\n    status: withdrawn\n    replaced_by: AL-01')),
      ("register.yml", ("risks: 2", "risks: 1"))]),
    ("AL-M01 名称修订", "2025-01-08T16:00:00+08:00",
     [("alpha.yml", ("title_zh: 报销三级签字", f'title_zh: "{NEW_TITLE}"'))]),
]


def make_history(repo: Path, commits: list = COMMITS) -> list[str]:
    """The mini register in a new repository at repo/mini, committed as commits say; the commit ids."""
    folder = repo / "mini"
    folder.mkdir(parents=True)
    for name, text in MINI.items():
        (folder / name).write_text(textwrap.dedent(text), encoding="utf-8")
    git(repo, "init", "-q")
    shas = []
    for subject, date, edits in commits:
        for name, *replacements in edits:
            edit(folder, name, *replacements)
        shas.append(commit(repo, subject, date))
    return shas


@pytest.fixture(autouse=True)
def no_repository_above(tmp_path_factory, monkeypatch):
    """git looks no higher than the temporary folders: a folder there is outside git, wherever they are."""
    monkeypatch.setenv("GIT_CEILING_DIRECTORIES", str(tmp_path_factory.getbasetemp()))


@pytest.fixture(scope="module")
def repo(tmp_path_factory) -> tuple[Path, list[str]]:
    root = tmp_path_factory.mktemp("history")
    return root, make_history(root)


@pytest.fixture(scope="module")
def built(repo, tmp_path_factory) -> Path:
    """The mini register with its five commits, built."""
    path = tmp_path_factory.mktemp("built-history") / "catalog.db"
    builder.build([repo[0] / "mini"], path)
    return path


def rows(db_path: Path, sql: str, *params) -> list[tuple]:
    with sqlite3.connect(db_path) as conn:
        return conn.execute(sql, params).fetchall()


def test_commits_are_recorded_with_date_id_and_subject(built, repo):
    """One commits row per commit: its id, UTC time, the committer's date, author and subject."""
    shas = repo[1]
    assert rows(built, "select key, sha, date, day, author, subject, changes from commits order by date") == [
        (f"mini-{shas[0]}", shas[0], "2024-01-10T01:00:00+00:00", "2024-01-10", "纪工委", "建立登记 First register", 9),
        (f"mini-{shas[1]}", shas[1], "2024-03-05T02:00:00+00:00", "2024-03-05", "纪工委",
         "AL-02 复评：可能性由 2 调为 4", 2),
        (f"mini-{shas[2]}", shas[2], "2024-06-20T07:30:00+00:00", "2024-06-20", "纪工委", "新增措施 AL-M04", 3),
        (f"mini-{shas[3]}", shas[3], "2024-09-02T03:00:00+00:00", "2024-09-02", "纪工委",
         "撤销 AL-02，由 AL-01 替代", 3),
        (f"mini-{shas[4]}", shas[4], "2025-01-08T08:00:00+00:00", "2025-01-08", "纪工委", "AL-M01 名称修订", 1),
    ]
    assert rows(built, "select unit, status, commits, first_day, last_day, note_zh from unit_history") == [
        ("mini", "recorded", 5, "2024-01-10", "2025-01-08", "修订记录取自 git：5 次提交，2024-01-10 至 2025-01-08。")]


def test_changes_hold_exactly_the_commits_changes(built, repo):
    """Each commit's changes, entry by entry and field by field, old and new value, in Chinese too."""
    shas = repo[1]
    found = rows(built, """
        select substr(commit_key, 6), kind, entry, change, field, old, new, old_text, new_text, replaced_by, summary_zh
        from changes where commit_key != ? order by id""", f"mini-{shas[0]}")
    assert found == [
        (shas[1], "risk", "mini-AL-02", "changed", "likelihood", "2", "4", "2", "4", None, "可能性：2 → 4"),
        (shas[1], "risk", "mini-AL-02", "changed", "level", "low", "medium", "三级", "二级", None, "风险等级：三级 → 二级"),
        (shas[2], "measure", "mini-AL-M04", "added", None, None, None, None, None, None, "新增防控措施"),
        (shas[2], "risk", "mini-AL-01", "changed", "measures", '["AL-M01", "AL-M02"]',
         '["AL-M01", "AL-M02", "AL-M04"]', "AL-M01；AL-M02", "AL-M01；AL-M02；AL-M04", None, "防控措施：增加 AL-M04"),
        (shas[2], "register", "mini", "changed", "totals.measures", "3", "4", "3", "4", None, "防控措施总数：3 → 4"),
        (shas[3], "risk", "mini-AL-02", "withdrawn", None, None, None, None, None, "mini-AL-01",
         "撤销风险点，由 AL-01 替代"),
        (shas[3], "risk", "mini-AL-01", "changed", "measures", '["AL-M01", "AL-M02", "AL-M04"]',
         '["AL-M01", "AL-M02", "AL-M04", "AL-M03"]', "AL-M01；AL-M02；AL-M04", "AL-M01；AL-M02；AL-M04；AL-M03", None,
         "防控措施：增加 AL-M03"),
        (shas[3], "register", "mini", "changed", "totals.risks", "2", "1", "2", "1", None, "风险点总数：2 → 1"),
        (shas[4], "measure", "mini-AL-M01", "changed", "title_zh", "报销三级签字", NEW_TITLE, "报销三级签字", NEW_TITLE,
         None, f"名称：报销三级签字 → {NEW_TITLE}"),
    ]
    assert rows(built, "select kind, entry_id, change from changes where commit_key = ? order by id",
                f"mini-{shas[0]}") == [
        ("area", "alpha", "added"), ("measure", "AL-M01", "added"), ("measure", "AL-M02", "added"),
        ("measure", "AL-M03", "added"), ("risk", "AL-01", "added"), ("risk", "AL-02", "added"),
        ("register", "register", "added"), ("source", "law", "added"), ("source", "report", "added")]


def test_an_entrys_changes_and_a_periods_changes_are_simple_queries(built):
    """"All changes to AL-02" filters on entry; "what changed between two dates" on day."""
    assert rows(built, "select day, change, field, summary_zh from changes where entry = 'mini-AL-02' "
                       "order by date, id") == [
        ("2024-01-10", "added", None, "新增风险点"),
        ("2024-03-05", "changed", "likelihood", "可能性：2 → 4"),
        ("2024-03-05", "changed", "level", "风险等级：三级 → 二级"),
        ("2024-09-02", "withdrawn", None, "撤销风险点，由 AL-01 替代")]
    assert rows(built, "select distinct day from changes where day between '2024-06-01' and '2024-12-31' "
                       "order by day") == [("2024-06-20",), ("2024-09-02",)]


def test_diff_describes_a_change_as_the_history_does(repo, tmp_path, capsys, monkeypatch):
    """`build.py diff` at a commit against its parent lists the entries and fields its history rows hold."""
    clone = tmp_path / "clone"
    subprocess.run(["git", "clone", "-q", str(repo[0]), str(clone)], check=True)
    git(clone, "checkout", "-q", repo[1][2])
    monkeypatch.chdir(clone)
    assert main(["diff", "HEAD~1", "--json", "mini"]) == 0
    changes = json.loads(capsys.readouterr().out)
    described = [(section, item["id"], [(c.field, c.old, c.new) for c in fields])
                 for section, item, fields in entry_changes(changes)]
    assert described == [("added", "AL-M04", []),
                         ("changed", "AL-01", [("measures", ["AL-M01", "AL-M02"], ["AL-M01", "AL-M02", "AL-M04"])]),
                         ("changed", "register", [("totals.measures", 3, 4)])]
    assert main(["diff", "HEAD~1", "mini"]) == 0
    assert "- register: totals.measures 3 → 4" in capsys.readouterr().out


async def test_risk_page_shows_its_history(built, repo):
    """The risk page's 修订记录: each commit's date, what changed old → new (levels by name), the
    withdrawal and its replacement, each commit linked in the repository."""
    html = (await make_datasette(built).client.get("/catalog/risks/mini-AL-02")).text
    section = html[html.index('<section class="history"'):]
    section = section[:section.index("</section>")]
    assert section.index("2024-09-02") < section.index("2024-03-05") < section.index("2024-01-10")  # newest first
    assert "<del>2</del> → <ins>4</ins>" in section and "<del>三级</del> → <ins>二级</ins>" in section
    assert 'href="/catalog/risks/mini-AL-01">AL-01</a> 替代' in section
    shas = repo[1]
    for sha in (shas[0], shas[1], shas[3]):
        assert f'href="{REPOSITORY}/commit/{sha}"' in section
    assert shas[2] not in section  # that commit did not touch AL-02


async def test_measure_page_shows_its_history_escaped(built):
    """The measure page's history shows a reworded title as text, never as markup."""
    html = (await make_datasette(built).client.get("/catalog/measures/mini-AL-M01")).text
    section = html[html.index('<section class="history"'):]
    assert "<del>报销三级签字</del> → <ins>报销审批三级签字&lt;script&gt;alert(1)&lt;/script&gt;</ins>" in section
    assert "<script>alert(1)" not in html


async def test_changes_page_lists_recent_changes_and_filters_them(built):
    """/changes lists commits newest first with their entries' changes; area, kind of change, kind of
    entry and date filter them; the feed is linked."""
    client = make_datasette(built).client
    html = (await client.get("/changes")).text
    assert html.index("AL-M01 名称修订") < html.index("撤销 AL-02") < html.index("建立登记")
    assert '<link rel="alternate" type="application/atom+xml"' in html
    assert 'href="/catalog/changes_feed.atom"' in html

    async def subjects(query: str) -> list[str]:
        page = (await client.get("/changes?" + query)).text
        return [line.split("</time> ", 1)[1].split("</h2>")[0] for line in page.splitlines()
                if line.strip().startswith("<h2><time")]

    assert await subjects("change=withdrawn") == ["撤销 AL-02，由 AL-01 替代"]
    assert await subjects("change=level") == ["AL-02 复评：可能性由 2 调为 4"]
    assert await subjects("kind=measure&change=added") == ["新增措施 AL-M04", "建立登记 First register"]
    assert await subjects("since=2024-06-01&kind=risk") == ["撤销 AL-02，由 AL-01 替代", "新增措施 AL-M04"]
    assert await subjects("area=nowhere") == []
    assert 'href="/catalog/changes_feed.atom?change=withdrawn"' in (await client.get("/changes?change=withdrawn")).text


async def test_changes_page_pages_by_commit(built, monkeypatch):
    """Past PAGE_COMMITS commits the page links to older ones, and back."""
    from riskcatalog.site import history as site_history

    monkeypatch.setattr(site_history, "PAGE_COMMITS", 2)
    client = make_datasette(built).client
    first = (await client.get("/changes")).text
    assert "AL-M01 名称修订" in first and "新增措施 AL-M04" not in first and 'href="/changes?page=2"' in first
    second = (await client.get("/changes?page=2")).text
    assert "新增措施 AL-M04" in second and 'href="/changes?page=1"' in second and 'href="/changes?page=3"' in second


def test_feed_is_atom_that_a_parser_reads(built):
    """The feed is well-formed Atom: an entry per commit and entry, newest first, each naming the risk
    or measure and its change in Chinese, with the commit's time."""
    response = _get(built, "/catalog/changes_feed.atom")
    assert response.headers["content-type"].startswith("application/xml")
    feed = ElementTree.fromstring(response.content)
    assert feed.tag == f"{ATOM}feed" and feed.findtext(f"{ATOM}title") == "最近修订 Recent changes"
    entries_ = feed.findall(f"{ATOM}entry")
    titles = [e.findtext(f"{ATOM}title") for e in entries_]
    assert len(titles) == 9 + 1 + 3 + 3 + 1
    assert titles[:4] == [f"防控措施 AL-M01「{NEW_TITLE}」：名称：报销三级签字 → {NEW_TITLE}",
                          "风险点 AL-02「信访件转交被反映人」：撤销风险点，由 AL-01 替代",
                          "风险点 AL-01「虚报冒领差旅费」：防控措施：增加 AL-M03",
                          "登记 register「」：风险点总数：2 → 1"]
    assert "风险点 AL-02「信访件转交被反映人」：可能性：2 → 4；风险等级：三级 → 二级" in titles
    assert entries_[0].findtext(f"{ATOM}updated") == "2025-01-08T08:00:00+00:00"
    assert entries_[1].find(f"{ATOM}link").get("href") == "/catalog/risks/mini-AL-02"
    assert "提交说明：撤销 AL-02，由 AL-01 替代" in entries_[1].findtext(f"{ATOM}content")
    assert len({e.findtext(f"{ATOM}id") for e in entries_}) == len(entries_)
    withdrawn = ElementTree.fromstring(_get(built, "/catalog/changes_feed.atom?change=withdrawn").content)
    assert [e.findtext(f"{ATOM}title") for e in withdrawn.findall(f"{ATOM}entry")] == [titles[1]]


def _get(db_path: Path, path: str):
    import asyncio

    return asyncio.run(make_datasette(db_path).client.get(path))


QUERY_PARAMS = {"changes_since": {"since": "2024-06-01", "until": "2024-12-31"}, "level_changes": {"since": ""},
                "changes_feed": {"area": "alpha"}}


@pytest.mark.parametrize("name", QUERY_PARAMS)
async def test_history_queries_return_rows(built, name):
    """Each history query has a title and description and returns rows as HTML, JSON and CSV."""
    query = yaml.safe_load((PROJECT_ROOT / "metadata.yml").read_text(encoding="utf-8"))[
        "databases"]["catalog"]["queries"][name]
    assert query["title"] and query["description"]
    client = make_datasette(built).client
    params = QUERY_PARAMS[name]
    html = await client.get(f"/catalog/{name}", params=params)
    assert html.status_code == 200 and query["title"] in html.text
    data = await client.get(f"/catalog/{name}.json", params={**params, "_shape": "array"})
    assert data.status_code == 200 and len(data.json()) > 0
    csv = await client.get(f"/catalog/{name}.csv", params=params)
    assert csv.status_code == 200 and len(list(csv_module.reader(io.StringIO(csv.text)))) == len(data.json()) + 1


async def test_a_date_not_written_yyyy_mm_dd_is_refused_with_a_message(built):
    """changes_since with since=2024/06/01: a message in Chinese and English, and no rows."""
    client = make_datasette(built).client
    html = (await client.get("/catalog/changes_since", params={"since": "2024/06/01", "until": ""})).text
    assert "起始日期“2024/06/01”不是有效日期" in html
    data = await client.get("/catalog/changes_since.json", params={"since": "2024/06/01", "until": "", "_shape": "array"})
    assert data.json() == []


async def test_changed_since_and_level_changes_queries(built):
    """The canned queries answer "what changed between two dates" and "which levels changed"."""
    client = make_datasette(built).client
    since = (await client.get("/catalog/changes_since.json", params={
        "since": "2024-06-01", "until": "2024-12-31", "_shape": "array"})).json()
    assert [(r["日期 Date"], r["编号 Id"], r["修订内容 What changed"]) for r in since] == [
        ("2024-09-02", "AL-02", "撤销风险点，由 AL-01 替代"), ("2024-09-02", "AL-01", "防控措施：增加 AL-M03"),
        ("2024-09-02", "register", "风险点总数：2 → 1"), ("2024-06-20", "AL-M04", "新增防控措施"),
        ("2024-06-20", "AL-01", "防控措施：增加 AL-M04"), ("2024-06-20", "register", "防控措施总数：3 → 4")]
    levels = (await client.get("/catalog/level_changes.json", params={"_shape": "array"})).json()
    assert [(r["日期 Date"], r["编号 Id"], r["原等级 Old level"], r["新等级 New level"], r["调整 Up or down"])
            for r in levels] == [("2024-03-05", "AL-02", "low", "medium", "升级 up")]
    html = (await client.get("/catalog/level_changes")).text
    assert '<span class="level level-low">三级' in html and '<span class="level level-medium">二级' in html


def test_folder_outside_git_builds_without_history_and_says_so(mini_catalog, tmp_path):
    """Outside git the build works as before; unit_history says why there is no history."""
    output = tmp_path / "catalog.db"
    builder.build([mini_catalog], output)
    assert rows(output, "select status, commits, note_zh from unit_history") == [
        ("absent", 0, "目录不在 git 仓库中（或无法运行 git），没有修订记录。")]
    assert rows(output, "select count(*) from commits") == rows(output, "select count(*) from changes") == [(0,)]
    html = _get(output, "/catalog/risks/mini-AL-01").text
    assert "目录不在 git 仓库中" in html[html.index('<section class="history"'):]
    assert "目录不在 git 仓库中" in _get(output, "/changes").text
    feed = ElementTree.fromstring(_get(output, "/catalog/changes_feed.atom").content)
    assert [e.findtext(f"{ATOM}title") for e in feed.findall(f"{ATOM}entry")] == ["暂无修订记录 No changes recorded"]


def test_shallow_clone_records_only_what_it_has_and_says_so(repo, tmp_path):
    """A clone of depth 2 has the last commit's changes only (its boundary is a starting point, not a
    commit that added everything), and a note that says so and how to get the rest."""
    clone = tmp_path / "shallow"
    subprocess.run(["git", "clone", "-q", "--depth", "2", f"file://{repo[0]}", str(clone)], check=True)
    output = tmp_path / "catalog.db"
    builder.build([clone / "mini"], output)
    status, note = rows(output, "select status, note_zh from unit_history")[0]
    assert status == "shallow"
    assert note.startswith("浅克隆：只取回了 2024-09-02 以后的提交") and "git fetch --unshallow" in note
    assert rows(output, "select sha from commits") == [(repo[1][4],)]
    assert rows(output, "select entry, field from changes") == [("mini-AL-M01", "title_zh")]
    git(clone, "fetch", "-q", "--unshallow")
    builder.build([clone / "mini"], output)
    assert rows(output, "select status from unit_history") == [("recorded",)]
    assert rows(output, "select count(*) from changes") == [(18,)]


def test_no_history_option(repo, tmp_path, capsys):
    """build --no-history skips git and says so in unit_history."""
    output = tmp_path / "catalog.db"
    assert main(["build", str(repo[0] / "mini"), "-o", str(output), "--no-history"]) == 0
    assert rows(output, "select status, commits, note_en from unit_history") == [
        ("off", 0, "History was not read for this build (--no-history).")]


def test_an_invalid_version_is_skipped_and_the_next_change_read_from_the_last_valid_one(tmp_path):
    """A commit that left a file unparseable records nothing for it; the commit that repairs it is
    compared with the version before the break, and the note counts the invalid version."""
    broken = [COMMITS[0],
              ("半截修改", "2024-02-01T09:00:00+08:00", [("alpha.yml", ("likelihood: 2", "likelihood: [2"))]),
              ("修好", "2024-02-02T09:00:00+08:00",
               [("alpha.yml", ("likelihood: [2", "likelihood: 4"), ("level: low", "level: medium"))])]
    make_history(tmp_path, broken)
    output = tmp_path / "catalog.db"
    builder.build([tmp_path / "mini"], output)
    assert rows(output, "select subject, changes from commits order by date") == [
        ("建立登记 First register", 9), ("半截修改", 0), ("修好", 2)]
    assert rows(output, "select field, old, new from changes where commit_key like '%' || ? order by id",
                git(tmp_path, "rev-parse", "HEAD")) == [("likelihood", "2", "4"), ("level", "low", "medium")]
    assert "其中 1 个文件版本不是有效的 YAML" in rows(output, "select note_zh from unit_history")[0][0]


def test_merged_branch_changes_are_recorded_once(tmp_path):
    """Changes made on a branch and merged are recorded at the branch's commits; the merge adds none."""
    make_history(tmp_path, COMMITS[:1])
    git(tmp_path, "checkout", "-q", "-b", "review")
    edit(tmp_path / "mini", "alpha.yml", ("title_zh: 月度对账", "title_zh: 每月对账"))
    commit(tmp_path, "措施改名", "2024-02-01T09:00:00+08:00")
    git(tmp_path, "checkout", "-q", "-")
    edit(tmp_path / "mini", "alpha.yml", ('reviewed: "2019-01-15"', 'reviewed: "2024-02-02"'))
    commit(tmp_path, "年度评估", "2024-02-02T09:00:00+08:00")
    git(tmp_path, "merge", "-q", "--no-edit", "review", date="2024-02-03T09:00:00+08:00")
    output = tmp_path / "catalog.db"
    builder.build([tmp_path / "mini"], output)
    assert rows(output, "select c.subject, x.field from changes x join commits c on c.key = x.commit_key "
                       "where x.change = 'changed' order by x.date") == [("措施改名", "title_zh"), ("年度评估", "reviewed")]
    assert len(rows(output, "select * from commits")) == 3


def test_several_registers_have_their_own_history(tmp_path):
    """With four registers (built in worker processes) each unit's history is keyed by its unit."""
    make_history(tmp_path, COMMITS[:2])
    for n in range(1, 4):
        shutil.copytree(tmp_path / "mini", tmp_path / f"mini{n}")
        edit(tmp_path / f"mini{n}", "register.yml", ("id: mini", f"id: mini{n}"))
    commit(tmp_path, "三个登记", "2024-04-01T09:00:00+08:00")
    output = tmp_path / "catalog.db"
    builder.build([tmp_path / name for name in ("mini", "mini1", "mini2", "mini3")], output)
    assert rows(output, "select unit, status, commits from unit_history order by unit") == [
        ("mini", "recorded", 2), ("mini1", "recorded", 1), ("mini2", "recorded", 1), ("mini3", "recorded", 1)]
    assert rows(output, "select count(*) from changes where entry = 'mini-AL-02'") == [(3,)]
    assert rows(output, "select count(*) from changes where entry = 'mini2-AL-02'") == [(1,)]


# ---- Reading only what changed gives what reading everything gives ----------------------------------------


def whole_description(old: str, new: str, path: str = "mini/alpha.yml") -> list:
    """A change described from both versions parsed whole, as `build.py diff` does."""
    return list(entry_changes(compare(entries(old, path) if old else {}, entries(new, path) if new else {})))


def cut_description(old: str, new: str, path: str = "mini/alpha.yml") -> tuple[list, bool]:
    """The same change described by the history's reader, which parses only what differs; and whether
    it had to read the file whole."""
    texts = {"a": old.encode(), "b": new.encode()}
    reader = history._Reader(type("Texts", (), {"get": lambda self, blob: texts.get(blob, b"")})())
    return list(entry_changes(compare(*reader.sides(path, "a", "b")))), bool(reader.whole)


ALPHA = textwrap.dedent(MINI["alpha.yml"])


def items_at_column_0(text: str) -> str:
    """The lists' items written at the column of their key (`risks:` then `- id:`), as YAML allows."""
    head, _, lists = text.partition("risks:\n")
    return head + "risks:\n" + "\n".join(line[2:] if line.startswith("  ") else line for line in lists.split("\n"))


def wide_dash(text: str, item: str) -> str:
    """One item written `-   id:`, its fields indented to match."""
    start = text.index(f"  - id: {item}\n")
    end = re.compile(r"\n(  - |\S)").search(text, start).start()
    body = text[start:end].replace("\n", "\n  ").replace("  - id:", "  -   id:", 1)
    return text[:start] + body + text[end:]


#: Layouts the cut must read as YAML does, each with an edit.
LAYOUTS = {
    "canonical": (ALPHA, [("likelihood: 2", "likelihood: 3")]),
    "items at column 0": (items_at_column_0(ALPHA), [("impact: 3", "impact: 5")]),
    "comments and blank lines": (ALPHA.replace("risks:\n", "# 风险点\n\nrisks:\n  # 第一条\n"),
                                 [("# 第一条", "# 第一条风险"), ("level: low", "level: medium")]),
    "block scalar with dashes": (ALPHA.replace("    description_zh: 经办人虚报差旅天数。\n",
                                               "    description_zh: |\n      经办人虚报差旅天数：\n  - id: FAKE\n"),
                                 [("  - id: FAKE", "  - id: FAKE-2")]),
    "flow list over lines": (ALPHA.replace("measures: [AL-M01, AL-M02]", "measures: [AL-M01,\n      AL-M02]"),
                             [("      AL-M02]", "      AL-M03]")]),
    "wide dash": (wide_dash(ALPHA, "AL-02"), [("impact: 3", "impact: 4")]),
    "quoted key": (ALPHA.replace("    impact: 3", '    "impact": 3'), [('"impact": 3', '"impact": 4')]),
    "document marker": ("---\n" + ALPHA, [("likelihood: 4", "likelihood: 5")]),
    "moved to another section": (ALPHA, [("  - id: AL-M03\n", "  - id: AL-M03\n    status: withdrawn\n")]),
    "duplicate field": (ALPHA, [("    impact: 3\n", "    impact: 3\n    impact: 4\n")]),
    "entry removed and added": (ALPHA, [("  - id: AL-M02\n", "  - id: AL-M09\n")]),
    "area record": (ALPHA, [("name_en: Expense reimbursement", "name_en: Claims")]),
    "item appended at the end": (ALPHA, [("    evidence_en: Forwarding log\n",
                                          "    evidence_en: Forwarding log\n" + NEW_MEASURE)]),
    "two items far apart": (ALPHA, [("likelihood: 4", "likelihood: 3"), ("每件转办", "每件转办材料")]),
}


#: Layouts the cut gives up on, reading the file whole.
READ_WHOLE = {"document marker"}


@pytest.mark.parametrize("layout", LAYOUTS)
def test_reading_what_changed_equals_reading_everything(layout):
    """For each layout and edit, the history's reader describes the change exactly as whole parses do
    (and an invalid one fails as they do); only the layouts it cannot cut are read whole."""
    old, replacements = LAYOUTS[layout]
    new = old
    for before, after in replacements:
        assert new.count(before) == 1, before
        new = new.replace(before, after)
    try:
        expected = whole_description(old, new)
    except diff.DiffError:
        with pytest.raises(diff.DiffError):
            cut_description(old, new)
        return
    assert cut_description(old, new) == (expected, layout in READ_WHOLE)


def test_a_synthetic_history_is_read_as_whole_parses_read_it(tmp_path):
    """Over 80 commits of re-ratings, rewordings, new measures and withdrawals of the shipped
    catalogue (benchmarks.synth_history), the history equals one made by parsing every version whole."""
    from benchmarks.synth_history import generate

    folder = generate(PROJECT_ROOT / "catalog", tmp_path / "repo", 80, seed=3)
    read = history.read(folder)
    assert read.status == "recorded" and len(read.commits) == 80
    for recorded in read.commits:
        commit, described = recorded.commit, recorded.changed
        expected = []
        for path, old, new in _files(tmp_path / "repo", commit.sha):
            expected.append((_show(tmp_path / "repo", old), _show(tmp_path / "repo", new), path))
        old_side, new_side = {}, {}
        for old, new, path in expected:
            old_side.update(entries(old, path) if old else {})
            new_side.update(entries(new, path) if new else {})
        assert described == list(entry_changes(compare(old_side, new_side))), commit.subject


def _files(repo: Path, sha: str) -> list[tuple[str, str, str]]:
    raw = git(repo, "show", "--raw", "--no-abbrev", "--format=", sha).splitlines()
    return [(line.split("\t")[1], *line.split()[2:4]) for line in raw if line.startswith(":")]


def _show(repo: Path, blob: str) -> str:
    return "" if not blob.strip("0") else git(repo, "cat-file", "blob", blob) + "\n"


def test_readme_history_queries_run(catalog_db):
    """The SQL examples of the README's History section run on the shipped catalogue; the first
    (an entry's changes) returns its rows."""
    readme = (PROJECT_ROOT / "README.md").read_text(encoding="utf-8")
    section = readme[readme.index("## History"):]
    block = re.search(r"```sql\n(.*?)```", section, re.S).group(1)
    statements = [s.strip() for s in block.split(";") if s.strip()]
    assert len(statements) == 2
    with sqlite3.connect(catalog_db) as conn:
        results = [conn.execute(statement).fetchall() for statement in statements]
    assert results[0] and results[0][0][1] == "added"


def _tables(db_path: Path) -> dict[str, list[tuple]]:
    return {name: rows(db_path, f"select * from {name} order by 1") for name in ("unit_history", "commits", "changes")}


@pytest.fixture
def described(monkeypatch) -> list[int]:
    """How many commits each history read described (in this process: the build runs serially)."""
    from riskcatalog import schedule as compiler

    counts: list[int] = []
    describe = history._describe
    monkeypatch.setattr(compiler, "WORKERS", 1)
    monkeypatch.setattr(history, "_describe", lambda commits, *rest: counts.append(len(commits)) or
                        describe(commits, *rest))
    return counts


def test_a_rebuild_reads_only_the_new_commits(tmp_path, described):
    """Building over the previous database takes its history and describes only the commits since;
    the tables equal a build from nothing."""
    make_history(tmp_path / "repo", COMMITS[:4])
    output = tmp_path / "catalog.db"
    builder.build([tmp_path / "repo" / "mini"], output)
    edit(tmp_path / "repo" / "mini", *COMMITS[4][2][0])
    commit(tmp_path / "repo", COMMITS[4][0], COMMITS[4][1])
    builder.build([tmp_path / "repo" / "mini"], output)
    builder.build([tmp_path / "repo" / "mini"], tmp_path / "fresh.db")
    assert described == [4, 1, 5]
    assert _tables(output) == _tables(tmp_path / "fresh.db")


def test_a_rebuild_with_other_code_or_another_unit_id_reads_everything(repo, tmp_path, described, monkeypatch):
    """Rows written by other history code are not reused, nor are rows keyed by a unit id since changed."""
    output = tmp_path / "catalog.db"
    builder.build([repo[0] / "mini"], output)
    monkeypatch.setattr(history, "FORMAT", "other code")
    builder.build([repo[0] / "mini"], output)
    clone = tmp_path / "clone"
    subprocess.run(["git", "clone", "-q", str(repo[0]), str(clone)], check=True)
    builder.build([clone / "mini"], tmp_path / "renamed.db")
    edit(clone / "mini", "register.yml", ("id: mini", "id: mini2"))
    commit(clone, "单位改名", "2025-02-01T09:00:00+08:00")
    builder.build([clone / "mini"], tmp_path / "renamed.db")
    assert described == [5, 5, 5, 1, 6]  # the rename is found once the register is read: then all again
    assert rows(tmp_path / "renamed.db", "select distinct unit from changes") == [("mini2",)]


def test_every_field_of_the_format_has_a_chinese_name():
    """Each field a risk, measure, area, source or the register may have is named in Chinese in the
    history, from the field registry, so a new field gets its name there too."""
    definitions = json.loads((PROJECT_ROOT / "riskcatalog" / "schema.json").read_text(encoding="utf-8"))["$defs"]
    kinds = {"risk": definitions["risk"]["properties"], "measure": definitions["measure"]["properties"],
             "area": definitions["area_file"]["properties"]["area"]["properties"],
             "source": definitions["sources_file"]["properties"]["sources"]["items"]["properties"],
             "register": definitions["register_file"]["properties"]}
    unnamed = {(kind, name) for kind, names in kinds.items() for name in names
               if fields.name_zh(kind, name) == name or not re.search("[\u4e00-\u9fff]", fields.name_zh(kind, name))}
    assert unnamed == set()
    assert fields.name_zh("risk", "title_en") == "名称（英文）" and fields.name_zh("register", "totals.risks") == "风险点总数"
    assert fields.name_zh("risk", "supervisor_zh") == "监督主体" and fields.name_zh("measure", "evidence_en") == "留痕资料（英文）"


def test_many_registers_ask_git_once_for_those_no_commit_touched(tmp_path, tmp_path_factory):
    """Among many registers, those never committed are found by one git log per parent folder: their
    history is absent without a git process each; the committed one has its history."""
    make_history(tmp_path, COMMITS[:2])
    for n in range(1, 5):
        shutil.copytree(tmp_path / "mini", tmp_path / f"mini{n}")
        edit(tmp_path / f"mini{n}", "register.yml", ("id: mini", f"id: mini{n}"))
    folders = [tmp_path / name for name in ("mini", "mini1", "mini2", "mini3", "mini4")]
    assert history.untouched(folders) == set(folders[1:])
    output = tmp_path / "catalog.db"
    builder.build(folders, output)
    assert rows(output, "select unit, status, commits from unit_history order by unit") == [
        ("mini", "recorded", 2), *[(f"mini{n}", "absent", 0) for n in range(1, 5)]]
    outside = tmp_path_factory.mktemp("outside") / "mini"
    assert history.untouched([outside]) == set()  # outside git: each is asked on its own
