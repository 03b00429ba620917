"""The history (修订记录): a register's baseline and revisions in a temporary git repository, built into
tables, pages and the feed; history that cannot be forged or lost."""

from __future__ import annotations

import asyncio
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
from riskcatalog import git as git_module
from riskcatalog.cli import main
from riskcatalog.diff import compare, entries, entry_changes
from riskcatalog.site import catalogue
from riskcatalog.yamlload import load_text as yamlload_text

from .conftest import MINI, PROJECT_ROOT, make_datasette

ATOM = "{http://www.w3.org/2005/Atom}"
#: Where a deployment says its registers are kept (metadata.yml: plugins: riskcatalog: repository).
REPOSITORY = "https://github.com/integrity-register/riskcatalog"
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
    """The baseline (a register that declares none counts from its first commit, dated by it, in its own
    words), then one row per revision: its id, UTC time, the committer's date, author and subject."""
    shas = repo[1]
    assert rows(built, "select key, sha, kind, date, day, author, subject, changes from commits "
                       "order by kind = 'revision', date") == [
        ("mini-baseline", shas[0], "baseline", "2024-01-10T00:00:00+00:00", "2024-01-10", "小街道",
         "登记确定：2 个风险点、3 条防控措施。", 0),
        *[(key, sha, "revision", *rest) for key, sha, *rest in [
            (f"mini-{shas[1]}", shas[1], "2024-03-05T02:00:00+00:00", "2024-03-05", "纪工委",
             "AL-02 复评：可能性由 2 调为 4", 2),
        (f"mini-{shas[2]}", shas[2], "2024-06-20T07:30:00+00:00", "2024-06-20", "纪工委", "新增措施 AL-M04", 3),
        (f"mini-{shas[3]}", shas[3], "2024-09-02T03:00:00+00:00", "2024-09-02", "纪工委",
         "撤销 AL-02，由 AL-01 替代", 3),
            (f"mini-{shas[4]}", shas[4], "2025-01-08T08:00:00+00:00", "2025-01-08", "纪工委", "AL-M01 名称修订", 1),
        ]]]
    assert rows(built, "select unit, status, commits, first_day, last_day, note_zh from unit_history") == [
        ("mini", "recorded", 4, "2024-03-05", "2025-01-08",
         "修订记录自 2024-01-10 登记确定（基线）起算：4 次修订，2024-03-05 至 2025-01-08。")]


def test_changes_hold_exactly_the_commits_changes(built, repo):
    """Each revision's changes, entry by entry and field by field, old and new value, in Chinese too:
    a level with the ratings that moved, measures by id and title, a long text by its changed words.
    The baseline's own commit records none: the register as settled is where revisions start."""
    shas = repo[1]
    found = rows(built, """
        select substr(commit_key, 6), kind, entry, change, field, old, new, old_text, new_text, replaced_by, summary_zh,
          headline from changes order by id""")
    measures = ["AL-M01", "AL-M02", "AL-M04", "AL-M03"]
    assert found == [
        (shas[1], "risk", "mini-AL-02", "changed", "likelihood", "2", "4", "2", "4", None, "可能性：2 → 4",
         "可能性 2 → 4"),
        (shas[1], "risk", "mini-AL-02", "changed", "level", "low", "medium", "三级", "二级", None,
         "风险等级：三级 → 二级（可能性 2 → 4）", "风险等级 三级 → 二级"),
        (shas[2], "measure", "mini-AL-M04", "added", None, None, None, None, None, None, "新增防控措施", "新增防控措施"),
        (shas[2], "risk", "mini-AL-01", "changed", "measures", '["AL-M01", "AL-M02"]',
         '["AL-M01", "AL-M02", "AL-M04"]', "；".join(measures[:2]), "；".join(measures[:3]), None,
         "防控措施：增加 AL-M04「报销凭证电子化留档」", "防控措施 增加 AL-M04「报销凭证电子化留档」"),
        (shas[2], "register", "mini", "changed", "totals.measures", "3", "4", "3", "4", None, "防控措施总数：3 → 4",
         "防控措施总数 3 → 4"),
        (shas[3], "risk", "mini-AL-02", "withdrawn", None, None, None, None, None, "mini-AL-01",
         "撤销风险点，由 AL-01 替代（虚报冒领差旅费）", "撤销风险点，由 AL-01 替代"),
        (shas[3], "risk", "mini-AL-01", "changed", "measures", '["AL-M01", "AL-M02", "AL-M04"]',
         '["AL-M01", "AL-M02", "AL-M04", "AL-M03"]', "；".join(measures[:3]), "；".join(measures), None,
         "防控措施：增加 AL-M03「举报人信息隐名处理」", "防控措施 增加 AL-M03「举报人信息隐名处理」"),
        (shas[3], "register", "mini", "changed", "totals.risks", "2", "1", "2", "1", None, "风险点总数：2 → 1",
         "风险点总数 2 → 1"),
        (shas[4], "measure", "mini-AL-M01", "changed", "title_zh", "报销三级签字", NEW_TITLE, "报销三级签字", NEW_TITLE,
         None, "名称：增加「审批」；增加「<script>alert(1)</script>」", "名称修改"),
    ]
    assert json.loads(rows(built, "select words from changes where field = 'title_zh'")[0][0]) == [
        ["=", "报销"], ["+", "审批"], ["=", "三级签字"], ["+", "<script>alert(1)</script>"]]
    assert rows(built, "select count(*) from changes where commit_key = ?", f"mini-{shas[0]}") == [(0,)]


def test_an_entrys_changes_and_a_periods_changes_are_simple_queries(built):
    """"All changes to AL-02" filters on entry; "what changed between two dates" on day."""
    assert rows(built, "select day, change, field, summary_zh from changes where entry = 'mini-AL-02' "
                       "order by date, id") == [
        ("2024-03-05", "changed", "likelihood", "可能性：2 → 4"),
        ("2024-03-05", "changed", "level", "风险等级：三级 → 二级（可能性 2 → 4）"),
        ("2024-09-02", "withdrawn", None, "撤销风险点，由 AL-01 替代（虚报冒领差旅费）")]
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
    """The risk page's 修订记录: each revision's date and note, what changed old → new (a level by name,
    with the ratings that moved), the withdrawal and its replacement, each revision's commit linked in the
    repository; last, the baseline it was settled in."""
    html = (await make_datasette(built, {"repository": REPOSITORY}).client.get("/catalog/risks/mini-AL-02")).text
    section = _history_section(html)
    assert section.index("2024-09-02") < section.index("2024-03-05") < section.index("2024-01-10")  # newest first
    assert "2024-01-10</time> 登记确定" in section and "本条目在登记确定时已列入" in section
    assert "风险等级</span>：<del>三级</del> → <ins>二级</ins><span class=\"ratings\">（可能性 2 → 4）</span>" in section
    assert "撤销 AL-02，由 AL-01 替代</h3>" in section and "纪工委" in section
    assert 'href="/catalog/risks/mini-AL-01">AL-01</a> 替代' in section
    shas = repo[1]
    for sha in (shas[1], shas[3]):
        assert f'href="{REPOSITORY}/commit/{sha}"' in section
    assert shas[2] not in section and shas[0] not in section  # that revision did not touch AL-02; the baseline


def _history_section(html: str) -> str:
    section = html[html.index('<section class="history"'):]
    return section[:section.index("</section>")]


async def test_measure_page_shows_its_history_escaped(built):
    """The measure page's history shows a reworded title as text, never as markup."""
    html = (await make_datasette(built).client.get("/catalog/measures/mini-AL-M01")).text
    section = _history_section(html)
    assert '<span class="words">报销<ins>审批</ins>三级签字<ins>&lt;script&gt;alert(1)&lt;/script&gt;</ins></span>' \
        in section
    assert f"修改后 <span lang=\"en\">After</span></span> 报销审批三级签字&lt;script&gt;alert(1)&lt;/script&gt;" in section
    assert "<script>alert(1)" not in html


async def test_changes_page_lists_recent_changes_and_filters_them(built):
    """/changes lists revisions newest first with their entries' changes, the baseline last; area, kind of
    change, kind of entry, date and entry filter them; the feed is linked."""
    client = make_datasette(built).client
    html = (await client.get("/changes")).text
    assert '<link rel="alternate" type="application/atom+xml"' in html
    assert 'href="/catalog/changes_feed.atom"' in html
    assert await headings(client, "") == ["AL-M01 名称修订", "撤销 AL-02，由 AL-01 替代", "新增措施 AL-M04",
                                          "AL-02 复评：可能性由 2 调为 4", "登记确定 <span lang=\"en\">Register settled</span>"]
    assert await headings(client, "change=withdrawn") == ["撤销 AL-02，由 AL-01 替代"]
    assert await headings(client, "change=level") == ["AL-02 复评：可能性由 2 调为 4"]
    assert await headings(client, "kind=measure&change=added") == ["新增措施 AL-M04"]
    assert await headings(client, "since=2024-06-01&kind=risk") == ["撤销 AL-02，由 AL-01 替代", "新增措施 AL-M04"]
    assert (await headings(client, "entry=mini-AL-02"))[-1].startswith("登记确定")  # it was in the register then
    assert await headings(client, "entry=mini-AL-M04") == ["新增措施 AL-M04"]  # it was not
    assert await headings(client, "area=nowhere") == []
    assert 'href="/catalog/changes_feed.atom?change=withdrawn"' in (await client.get("/changes?change=withdrawn")).text


async def headings(client, query: str) -> list[str]:
    """The revisions a page of /changes lists: each heading after its date."""
    page = (await client.get("/changes?" + query)).text
    assert page.count('<section class="history-commit') == page.count('class="revision-title"')
    return re.findall(r'<h2 class="revision-title"><time[^>]*>[^<]*</time> (.*?)</h2>', page)


async def test_changes_page_pages_by_revision(built, monkeypatch):
    """Past PAGE_COMMITS revisions the page links to older ones, and back; the baseline comes last."""
    from riskcatalog.site import history as site_history

    monkeypatch.setattr(site_history, "PAGE_COMMITS", 2)
    client = make_datasette(built).client
    assert await headings(client, "") == ["AL-M01 名称修订", "撤销 AL-02，由 AL-01 替代"]
    first = (await client.get("/changes")).text
    assert 'href="/changes?page=2"' in first and "page=0" not in first
    second = (await client.get("/changes?page=2")).text
    assert await headings(client, "page=2") == ["新增措施 AL-M04", "AL-02 复评：可能性由 2 调为 4"]
    assert 'href="/changes?page=1"' in second and 'href="/changes?page=3"' in second
    assert (await headings(client, "page=3"))[0].startswith("登记确定")
    assert 'href="/changes?page=4"' not in (await client.get("/changes?page=3")).text


def test_feed_is_atom_that_a_parser_reads(built):
    """The feed is well-formed Atom: an entry per revision and entry, newest first, titled by the entry's
    id and its main change in a few words (its level first), with every change and the revision note in
    the content, the commit's time; the register's baseline last."""
    response = _get(built, "/catalog/changes_feed.atom")
    assert response.headers["content-type"].startswith("application/xml")
    feed = ElementTree.fromstring(response.content)
    assert feed.tag == f"{ATOM}feed" and feed.findtext(f"{ATOM}title") == "最近修订 Recent changes"
    entries_ = feed.findall(f"{ATOM}entry")
    assert [e.findtext(f"{ATOM}title") for e in entries_] == [
        "AL-M01 名称修改", "AL-02 撤销风险点，由 AL-01 替代", "AL-01 防控措施 增加 AL-M03「举报人信息隐名处理」",
        "小街道 风险点总数 2 → 1", "AL-M04 新增防控措施", "AL-01 防控措施 增加 AL-M04「报销凭证电子化留档」",
        "小街道 防控措施总数 3 → 4", "AL-02 风险等级 三级 → 二级", "小街道 登记确定 2024-01-10"]
    assert entries_[0].findtext(f"{ATOM}updated") == "2025-01-08T08:00:00+00:00"
    assert entries_[1].find(f"{ATOM}link").get("href") == "/catalog/risks/mini-AL-02"
    assert entries_[7].findtext(f"{ATOM}content") == (
        "风险点 AL-02「信访件转交被反映人」\n可能性：2 → 4\n风险等级：三级 → 二级（可能性 2 → 4）\n\n"
        "修订说明：AL-02 复评：可能性由 2 调为 4\n提交 " + _get_sha_prefix(built, "AL-02 复评：可能性由 2 调为 4"))
    assert entries_[3].findtext(f"{ATOM}content").startswith("登记「小街道」\n风险点总数：2 → 1")
    assert entries_[8].findtext(f"{ATOM}content").startswith("登记确定：2 个风险点、3 条防控措施。")
    assert len({e.findtext(f"{ATOM}id") for e in entries_}) == len(entries_)
    withdrawn = ElementTree.fromstring(_get(built, "/catalog/changes_feed.atom?change=withdrawn").content)
    assert [e.findtext(f"{ATOM}title") for e in withdrawn.findall(f"{ATOM}entry")] == [
        "AL-02 撤销风险点，由 AL-01 替代"]


def _get_sha_prefix(db_path: Path, subject: str) -> str:
    return rows(db_path, "select substr(sha, 1, 8) from commits where subject = ?", subject)[0][0]


def _get(db_path: Path, path: str):
    import asyncio

    return asyncio.run(make_datasette(db_path).client.get(path))


QUERY_PARAMS = {"changes_since": {"since": "2024-06-01", "until": "2024-12-31"}, "level_changes": {"since": ""},
                "changes_feed": {"area": "alpha"}}


@pytest.mark.parametrize("name", QUERY_PARAMS)
async def test_history_queries_return_rows(built, name):
    """Each history query has a title and description and returns rows as HTML, JSON and CSV."""
    query = catalogue.metadata()["queries"][name]
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
        ("2024-09-02", "AL-02", "撤销风险点，由 AL-01 替代（虚报冒领差旅费）"),
        ("2024-09-02", "AL-01", "防控措施：增加 AL-M03「举报人信息隐名处理」"),
        ("2024-09-02", "register", "风险点总数：2 → 1"), ("2024-06-20", "AL-M04", "新增防控措施"),
        ("2024-06-20", "AL-01", "防控措施：增加 AL-M04「报销凭证电子化留档」"),
        ("2024-06-20", "register", "防控措施总数：3 → 4")]
    levels = (await client.get("/catalog/level_changes.json", params={"_shape": "array"})).json()
    assert [(r["日期 Date"], r["编号 Id"], r["原等级 Old level"], r["新等级 New level"], r["调整 Up or down"],
             r["评分变化 Ratings that moved"]) for r in levels] == [
        ("2024-03-05", "AL-02", "low", "medium", "升级 up", "可能性 2 → 4")]
    html = (await client.get("/catalog/level_changes")).text
    assert '<span class="level level-low">三级' in html and '<span class="level level-medium">二级' in html


def test_folder_outside_git_builds_without_history_and_says_so(mini_catalog, tmp_path):
    """Outside git the build works as before; unit_history, the risk page and /changes say in Chinese that the
    register is not under version control (未纳入版本管理), and nothing of what git said reaches a reader."""
    output = tmp_path / "catalog.db"
    builder.build([mini_catalog], output)
    assert rows(output, "select status, commits, note_zh, note_en from unit_history") == [
        ("absent", 0, "未纳入版本管理：本目录不在 git 仓库中，没有修订记录。",
         "Not under version control: the register's folder is not in a git repository, so no revisions are recorded.")]
    assert rows(output, "select count(*) from commits") == rows(output, "select count(*) from changes") == [(0,)]
    risk, changes = _get(output, "/catalog/risks/mini-AL-01").text, _get(output, "/changes").text
    assert "未纳入版本管理" in risk[risk.index('<section class="history"'):] and "未纳入版本管理" in changes
    for page in (risk, changes):
        assert not any(word in page for word in ("fatal", "git log", "not a git repository (or any"))
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
    assert rows(output, "select count(*) from changes") == [(9,)]


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
    assert rows(output, "select kind, subject, changes, invalid from commits order by date") == [
        ("baseline", "登记确定：2 个风险点、3 条防控措施。", 0, 0), ("revision", "半截修改", 0, 1), ("revision", "修好", 2, 0)]
    assert rows(output, "select field, old, new from changes where commit_key like '%' || ? order by id",
                git(tmp_path, "rev-parse", "HEAD")) == [("likelihood", "2", "4"), ("level", "low", "medium")]
    assert "其中 1 个文件版本无法读取（不是有效的 YAML，或超过大小上限）" in rows(output, "select note_zh from unit_history")[0][0]
    assert "半截修改" not in _get(output, "/changes").text  # a revision that changed nothing readable is not listed


def diverge(repo: Path, on_branch: tuple[str, tuple[str, str]], on_main: tuple[str, tuple[str, str]]) -> None:
    """The mini register's first commit, then (subject, edit of alpha.yml) committed on a branch `review`
    on 1 February 2024 and another on the main line the day after; the main line checked out."""
    make_history(repo, COMMITS[:1])
    git(repo, "checkout", "-q", "-b", "review")
    for (subject, replacement), day in ((on_branch, "01"), (on_main, "02")):
        edit(repo / "mini", "alpha.yml", replacement)
        commit(repo, subject, f"2024-02-{day}T09:00:00+08:00")
        if day == "01":
            git(repo, "checkout", "-q", "-")


def test_merged_branch_changes_are_recorded_once(tmp_path):
    """The register's revisions are its main line's commits: a branch's changes are recorded once, at the
    merge that brought them into the register (compared with its first parent), not at the branch's
    own commits as well."""
    diverge(tmp_path, ("措施改名", ("title_zh: 月度对账", "title_zh: 每月对账")),
            ("年度评估", ('reviewed: "2019-01-15"', 'reviewed: "2024-02-02"')))
    git(tmp_path, "merge", "-q", "--no-edit", "review", date="2024-02-03T09:00:00+08:00")
    output = tmp_path / "catalog.db"
    builder.build([tmp_path / "mini"], output)
    assert rows(output, "select c.subject, x.field from changes x join commits c on c.key = x.commit_key "
                       "where x.change = 'changed' order by x.date") == [
        ("年度评估", "reviewed"), ("Merge branch 'review'", "title_zh")]
    assert rows(output, "select kind from commits order by date") == [("baseline",), ("revision",), ("revision",)]


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
        ("mini", "recorded", 1), ("mini1", "recorded", 0), ("mini2", "recorded", 0), ("mini3", "recorded", 0)]
    assert rows(output, "select key, day from commits where kind = 'baseline' order by key") == [
        ("mini-baseline", "2024-01-10"), *[(f"mini{n}-baseline", "2024-04-01") for n in (1, 2, 3)]]
    assert rows(output, "select count(*) from changes where entry = 'mini-AL-02'") == [(2,)]
    assert rows(output, "select count(*) from changes where entry = 'mini2-AL-02'") == [(0,)]


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


#: Fields on one line: those read without a parse, and those that must be parsed (each read otherwise by YAML).
ONE_LINE_FIELDS = ["likelihood: 4", "title_zh: 新增防控措施12", 'reviewed: "2019-02-03"', 'x: ""', "x: 0", "x: 中文：全角",
                   "x: 012", "x: yes", "x: 中文 #注释", 'x: "a\\nb"', "x: 中文 ", "x: -3", "x: 1:30", "x: 2019-01-15",
                   "x: 中文:", 'x: "中\u2028文"', "x: 中\u202e文", "x: 中\t文", "x: 'a'", "x: ~", "x: 中文: 冒号"]


@pytest.mark.parametrize("line", ONE_LINE_FIELDS)
def test_a_field_read_without_a_parse_is_read_as_yaml_reads_it(line):
    """pieces.plain_field reads a one-line field only where YAML (the strict loader) reads the same value;
    anything else is left to the parser."""
    from riskcatalog.pieces import plain_field

    chunk = f"    {line}\n".encode()
    doc, errors = yamlload_text(chunk.decode(), "x.yml")
    found = plain_field(chunk)
    assert found is None or (not errors and doc.data == {found[0]: found[1]})
    assert (found is not None) == (ONE_LINE_FIELDS.index(line) < 6)


def test_a_synthetic_history_is_read_as_whole_parses_read_it(tmp_path):
    """Over 80 commits of re-ratings, rewordings, new measures and withdrawals of the shipped
    catalogue (benchmarks.synth_history; the first, which holds its baseline, is no revision), the
    history equals one made by parsing every version whole."""
    from benchmarks.synth_history import generate

    folder = generate(PROJECT_ROOT / "catalog", tmp_path / "repo", 80, seed=3)
    read = history.read(folder)
    assert read.status == "recorded" and len(read.commits) == 79
    first = git(tmp_path / "repo", "rev-list", "--max-parents=0", "HEAD")
    assert read.baseline.day == "2019-01-29" and read.baseline.sha == first
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
    """The SQL examples of the README's History section run on the shipped catalogue; the first (the
    baselines and revisions) returns its baseline."""
    readme = (PROJECT_ROOT / "README.md").read_text(encoding="utf-8")
    section = readme[readme.index("## History"):]
    block = re.search(r"```sql\n(.*?)```", section, re.S).group(1)
    statements = [s.strip() for s in block.split(";") if s.strip()]
    assert len(statements) == 3
    with sqlite3.connect(catalog_db) as conn:
        results = [conn.execute(statement).fetchall() for statement in statements]
    assert results[0][-1][:2] == ("baseline", "2019-01-29")


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
    assert described == [3, 1, 4]  # revisions: the first commit is the baseline
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
    assert described == [4, 4, 4, 1, 5]  # the rename is found once the register is read: then all again
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
        ("mini", "recorded", 1), *[(f"mini{n}", "absent", 0) for n in range(1, 5)]]
    outside = tmp_path_factory.mktemp("outside") / "mini"
    assert history.untouched([outside]) == set()  # outside git: each is asked on its own


# ---- What counts as a revision: the baseline ----------------------------------------------------------------

#: A baseline as an office declares it when it adopts the tool (docs/catalog-format.md).
BASELINE = 'baseline:\n  date: "2019-01-29"\n  note_zh: 2019年1月登记确定。\n  note_en: Settled in January 2019.\n'
#: Commits that set the register up before it was settled: the software's or the office's, not revisions.
SETTING_UP = [("Initial import of the unit's workbook", "2024-01-05T09:00:00+08:00", []),
              ("Fix typo in AL-01 while setting up", "2024-01-06T09:00:00+08:00",
               [("alpha.yml", ("经办人虚报差旅天数。", "经办人虚报出差天数。"))])]


def declare_baseline(repo: Path, note: str = "2019年1月登记确定。") -> str:
    """register.yml given the baseline BASELINE, committed; the commit."""
    text = textwrap.dedent(MINI["register.yml"]).replace("totals:", BASELINE + "totals:", 1)
    (repo / "mini" / "register.yml").write_text(text.replace("2019年1月登记确定。", note), encoding="utf-8")
    return commit(repo, "Declare the baseline", "2024-01-07T09:00:00+08:00")


def test_revisions_start_at_the_baseline_the_register_declares(tmp_path):
    """Commits before the commit that set `baseline` (importing, fixing while setting up) are no revisions:
    the baseline is one entry dated as the register says, in its words, and revisions follow it. Editing
    the baseline's note does not move it; changing its date does."""
    shas = make_history(tmp_path, SETTING_UP)
    baseline = declare_baseline(tmp_path)
    edit(tmp_path / "mini", "alpha.yml", ("likelihood: 2", "likelihood: 4"), ("level: low", "level: medium"))
    revision = commit(tmp_path, "2019年度复评：AL-02 风险等级上调", "2020-01-10T09:00:00+08:00")
    declare_baseline(tmp_path, note="2019年1月登记确定，2020年补记。")  # only the note: the baseline stays
    output = tmp_path / "catalog.db"
    builder.build([tmp_path / "mini"], output)
    assert rows(output, "select kind, sha, day, author, subject, body from commits "
                        "order by kind = 'revision', date") == [
        ("baseline", baseline, "2019-01-29", "小街道", "2019年1月登记确定，2020年补记。", "Settled in January 2019."),
        ("revision", revision, "2020-01-10", "纪工委", "2019年度复评：AL-02 风险等级上调", "")]
    assert rows(output, "select field, summary_zh from changes") == [
        ("likelihood", "可能性：2 → 4"), ("level", "风险等级：三级 → 二级（可能性 2 → 4）")]
    pages = [_get(output, path).text for path in ("/changes", "/catalog/risks/mini-AL-01", "/catalog/risks/mini-AL-02",
                                                  "/catalog/changes_feed.atom", "/catalog/commits", "/catalog/changes")]
    for text in pages:
        assert not any(subject in text for subject, _, _ in SETTING_UP) and "Declare the baseline" not in text
        assert not any(sha in text for sha in shas)
    assert "2019-01-29</time> 登记确定" in pages[0] and "2019年1月登记确定，2020年补记。" in pages[0]
    assert "本条目在登记确定时已列入" in _history_section(pages[1])
    # A new date is a new baseline: from the commit that set it, and the revision before it is history no more.
    text = (tmp_path / "mini" / "register.yml").read_text(encoding="utf-8").replace("2019-01-29", "2020-03-01")
    (tmp_path / "mini" / "register.yml").write_text(text, encoding="utf-8")
    moved = commit(tmp_path, "2020年重新确定登记", "2020-03-01T09:00:00+08:00")
    builder.build([tmp_path / "mini"], output)
    assert rows(output, "select kind, sha, day from commits") == [("baseline", moved, "2020-03-01")]


def test_a_baseline_commit_names_the_state_revisions_count_from(tmp_path):
    """baseline.commit names the commit whose state is the baseline: the commits after it are the
    revisions (the one that wrote `commit:` changed only the baseline, and is none); a commit that is not
    on the main line is refused with a note that says what to do."""
    shas = make_history(tmp_path, COMMITS[:3])
    register = tmp_path / "mini" / "register.yml"
    text = register.read_text(encoding="utf-8")
    register.write_text(text.replace("totals:", f'baseline:\n  date: "2024-03-01"\n  commit: {shas[0][:10]}\ntotals:'),
                        encoding="utf-8")
    commit(tmp_path, "基线定为建立登记时", "2024-07-01T09:00:00+08:00")
    output = tmp_path / "catalog.db"
    builder.build([tmp_path / "mini"], output)
    assert rows(output, "select kind, sha, day, subject from commits order by kind = 'revision', date") == [
        ("baseline", shas[0], "2024-03-01", "登记确定：2 个风险点、3 条防控措施。"),
        ("revision", shas[1], "2024-03-05", "AL-02 复评：可能性由 2 调为 4"),
        ("revision", shas[2], "2024-06-20", "新增措施 AL-M04")]  # not the commit that changed only the baseline
    register.write_text(register.read_text(encoding="utf-8").replace(shas[0][:10], "abcdef1234"), encoding="utf-8")
    builder.build([tmp_path / "mini"], output)
    assert rows(output, "select status, note_zh from unit_history") == [
        ("absent", "register.yml 的 baseline.commit（abcdef1234）不是当前分支主线上的提交，修订记录无从起算："
                   "改为主线上的提交编号，或删去 commit，从设定基线的那次提交起算。")]


def test_a_baseline_not_yet_committed_has_no_revisions_and_says_so(tmp_path):
    """A baseline written in register.yml but not committed: what is committed came before it."""
    make_history(tmp_path, COMMITS[:3])
    register = tmp_path / "mini" / "register.yml"
    register.write_text(register.read_text(encoding="utf-8").replace("totals:", BASELINE + "totals:"), encoding="utf-8")
    output = tmp_path / "catalog.db"
    builder.build([tmp_path / "mini"], output)
    assert rows(output, "select kind, sha, day from commits") == [("baseline", None, "2019-01-29")]
    assert "基线已修改但尚未提交" in rows(output, "select note_zh from unit_history")[0][0]
    # the same with the last commit named as the baseline: nothing after it, nothing committed of it
    head = git(tmp_path, "rev-parse", "HEAD")
    register.write_text(register.read_text(encoding="utf-8").replace('date: "2019-01-29"',
                                                                      f'date: "2019-01-29"\n  commit: {head}'),
                        encoding="utf-8")
    builder.build([tmp_path / "mini"], output)
    assert rows(output, "select kind, sha, day from commits") == [("baseline", None, "2019-01-29")]


def test_the_shipped_register_shows_its_baseline_and_no_development_commit(catalog_db):
    """The shipped register declares the state it was settled in as of January 2019: the site shows that
    baseline as one entry, and none of the commits that developed this software and its catalogue."""
    developed = subprocess.run(["git", "log", "--format=%H%x00%s", "--", "catalog"], cwd=PROJECT_ROOT, check=True,
                               capture_output=True, text=True).stdout.splitlines()
    assert developed  # the catalogue was built up over many commits
    assert rows(catalog_db, "select kind, day, author, subject from commits") == [
        ("baseline", "2019-01-29", "易家街道",
         "2019年1月登记确定：易家街道全面排查梳理，查找出8个领域的廉政风险点51个，制定防控措施78条（长江日报2019年1月29日报道）。")]
    assert rows(catalog_db, "select count(*) from changes") == [(0,)]
    pages = [_get(catalog_db, path).text for path in ("/changes", "/catalog/risks/yijia-LAND-03",
                                                       "/catalog/changes_feed.atom")]
    for line in developed:
        sha, subject = line.split("\0")
        assert not any(sha[:8] in page or subject in page for page in pages), subject
    assert "2019-01-29</time> 登记确定" in pages[0] and "本条目在登记确定时已列入" in pages[1]
    feed = ElementTree.fromstring(pages[2].encode())
    assert [e.findtext(f"{ATOM}title") for e in feed.findall(f"{ATOM}entry")] == ["易家街道 登记确定 2019-01-29"]


# ---- History that cannot be forged or lost ------------------------------------------------------------------

#: Messages that tried to pass as git's own output: the record, field and group separators the history once
#: split on, a forged commit record with another date, author and subject, raw-diff lines, and a header.
FORGERIES = [
    "AL-02 复评\x1e\x1f\x1d",
    "正常说明\x1e" + "f" * 40 + "\x1f\x1f2001-01-01T00:00:00+00:00\x1fMallory\x1f伪造的修订\x1f\x1d",
    "说明\n\n:100644 100644 " + "a" * 40 + " " + "b" * 40 + " M\x00mini/alpha.yml\x00",
    "说明\n\nauthor Mallory <m@example.org> 978307200 +0000\ncommitter Mallory <m@example.org> 978307200 +0000",
]


def test_no_message_can_forge_a_revision_or_stop_the_build(tmp_path):
    """Commit messages holding git's separators, a forged commit record, raw-diff lines and headers, and a
    message with a NUL byte in a commit written by hand: the build succeeds, and the revisions are exactly
    the commits, with their own dates and authors; each message is shown as text (controls escaped)."""
    make_history(tmp_path, COMMITS[:1])
    shas = []
    for n, message in enumerate(FORGERIES):
        edit(tmp_path / "mini", "alpha.yml", _toggled_impact(n))
        git(tmp_path, "add", "-A")
        path = tmp_path / "message.txt"
        path.write_bytes(message.replace("\x00", "").encode())  # git commit refuses a NUL: one is written below
        git(tmp_path, "commit", "-q", "-F", str(path), date=f"2024-0{n + 2}-01T09:00:00+08:00")
        shas.append(git(tmp_path, "rev-parse", "HEAD"))
    # A commit object with a NUL in its message, and a name full of brackets, made as git stores it.
    edit(tmp_path / "mini", "alpha.yml", _toggled_impact(len(shas)))
    git(tmp_path, "add", "-A")
    tree = git(tmp_path, "write-tree")
    raw = (f"tree {tree}\nparent {shas[-1]}\nauthor Ev<il> 0 +0000 <e@example.org> 1719824400 +0800\n"
           f"committer Ev<il> <e@example.org> 1719824400 +0800\n\n手写的提交\x00\x1e{'0' * 40}\x1f伪造\n").encode()
    made = subprocess.run(["git", "hash-object", "-t", "commit", "-w", "--literally", "--stdin"], cwd=tmp_path,
                          input=raw, capture_output=True, check=True).stdout.decode().strip()
    git(tmp_path, "update-ref", "HEAD", made)
    git(tmp_path, "reset", "-q", "--hard")
    shas.append(made)
    output = tmp_path / "catalog.db"
    builder.build([tmp_path / "mini"], output)
    found = rows(output, "select sha, day, author, subject from commits where kind = 'revision' order by date")
    assert [(sha, day, author) for sha, day, author, _ in found] == [
        *[(sha, f"2024-0{n + 2}-01", "纪工委") for n, sha in enumerate(shas[:-1])], (made, "2024-07-01", "Ev<il> 0 +0000")]
    assert [subject for *_, subject in found] == [
        "AL-02 复评\\x1e\\x1f\\x1d",
        "正常说明\\x1e" + "f" * 40 + "\\x1f\\x1f2001-01-01T00:00:00+00:00\\x1fMallory\\x1f伪造的修订\\x1f\\x1d",
        "说明", "说明", f"手写的提交\\x00\\x1e{'0' * 40}\\x1f伪造"]
    assert rows(output, "select count(*) from changes") == [(5,)]  # one impact per commit, nothing forged
    assert not rows(output, "select * from commits where author like '%Mallory%' or day = '2001-01-01'")
    for path in ("/changes", "/catalog/risks/mini-AL-02", "/catalog/commits"):
        assert _get(output, path).status_code == 200
    ElementTree.fromstring(_get(output, "/catalog/changes_feed.atom").content)


def _toggled_impact(n: int) -> tuple[str, str]:
    """AL-02's impact from 3 to 2, or back (its level stays 三级): one change per commit."""
    old, new = (3, 2) if n % 2 == 0 else (2, 3)
    return f"likelihood: 2\n    impact: {old}", f"likelihood: 2\n    impact: {new}"


def test_git_objects_are_read_from_their_own_layout():
    """A commit object: headers up to the first blank line (a signature's continuation lines skipped), the
    author's name read from the right, the message in its declared encoding, however it looks."""
    from riskcatalog.git import commit_object, tree_files

    raw = ("tree " + "1" * 40 + "\nparent " + "2" * 40 + "\nparent " + "3" * 40 +
           "\nauthor 纪工委 <a@b> 1700000000 +0800\ncommitter X <x@y> 1700000000 -0130\nencoding GBK\n"
           "gpgsig -----BEGIN PGP SIGNATURE-----\n author Mallory <m@x> 1 +0000\n -----END-----\n\n"
           "修订说明\n\nauthor Mallory <m@x> 1 +0000\n").encode("gbk")
    found = commit_object(raw)
    assert found.parents == ["2" * 40, "3" * 40] and found.author == "纪工委"
    assert found.committed.isoformat() == "2023-11-14T20:43:20-01:30"
    assert found.message == "修订说明\n\nauthor Mallory <m@x> 1 +0000\n"
    assert commit_object(b"author broken\n\nx").committed is None  # unreadable: no date rather than a wrong one
    tree = b"100644 a.yml\x00" + bytes(20) + b"120000 link.yml\x00" + bytes([1] * 20) + b"40000 sub\x00" + bytes(20)
    assert tree_files(tree, 20) == {"a.yml": "0" * 40}


def test_a_change_made_while_resolving_a_merge_is_recorded_everywhere(tmp_path):
    """Two branches re-rate AL-01 differently; the merge resolves the conflict by lowering its level.
    The merge is a revision, compared with its first parent: the lowered level is on the risk's page,
    on /changes, in level_changes and in the feed."""
    diverge(tmp_path, ("分支：AL-01 可能性调为 5", ("likelihood: 4\n    impact: 4", "likelihood: 5\n    impact: 4")),
            ("主线：AL-01 影响调为 5", ("likelihood: 4\n    impact: 4", "likelihood: 4\n    impact: 5")))
    merged = subprocess.run(["git", "merge", "-q", "review"], cwd=tmp_path, capture_output=True)
    assert merged.returncode != 0  # a conflict, resolved by hand:
    text = (tmp_path / "mini" / "alpha.yml").read_text(encoding="utf-8")
    text = re.sub(r"<<<<<<< .*?>>>>>>> review\n", "    likelihood: 3\n    impact: 4\n", text, flags=re.S)
    (tmp_path / "mini" / "alpha.yml").write_text(text.replace("    level: high\n", "    level: medium\n", 1),
                                                encoding="utf-8")
    merge = commit(tmp_path, "2024年度复评：合并两次评估，AL-01 降为二级", "2024-02-03T09:00:00+08:00")
    output = tmp_path / "catalog.db"
    builder.build([tmp_path / "mini"], output)
    assert rows(output, "select field, old, new from changes where commit_key = ? order by id", f"mini-{merge}") == [
        ("likelihood", "4", "3"), ("impact", "5", "4"), ("level", "high", "medium")]
    page = _history_section(_get(output, "/catalog/risks/mini-AL-01").text)
    assert "AL-01 降为二级</h3>" in page and "<del>一级</del> → <ins>二级</ins>" in page
    assert "（可能性 4 → 3，影响 5 → 4）" in page
    assert "2024年度复评：合并两次评估" in _get(output, "/changes?change=level").text
    levels = _get(output, "/catalog/level_changes.json?_shape=array&since=").json()
    assert [(r["编号 Id"], r["原等级 Old level"], r["新等级 New level"], r["调整 Up or down"]) for r in levels][0] == \
        ("AL-01", "high", "medium", "降级 down")
    feed = ElementTree.fromstring(_get(output, "/catalog/changes_feed.atom?change=level").content)
    assert feed.findall(f"{ATOM}entry")[0].findtext(f"{ATOM}title") == "AL-01 风险等级 一级 → 二级"


def test_a_huge_subject_and_control_characters_leave_every_page_whole(tmp_path):
    """A 1 MB subject, a control character in a subject, an author and a body: every page answers 200,
    the feed is valid XML, and each is stored bounded (the whole stays in git) and escaped."""
    make_history(tmp_path, COMMITS[:1])
    for n, (message, author) in enumerate([("修订" * 500_000, "纪工委"), ("AL-02 复评\x1b[31m\x07\n\n正文\x0c第二行", "纪\x07工委")]):
        edit(tmp_path / "mini", "alpha.yml", _toggled_impact(n))
        git(tmp_path, "add", "-A")
        (tmp_path / "message.txt").write_text(message, encoding="utf-8")
        subprocess.run(["git", "-c", f"user.name={author}", "-c", "user.email=a@example.org", "commit", "-q", "-F",
                        str(tmp_path / "message.txt")], cwd=tmp_path, check=True,
                       env={**os.environ, "GIT_COMMITTER_DATE": f"2024-0{n + 2}-01T09:00:00+08:00"})
    output = tmp_path / "catalog.db"
    builder.build([tmp_path / "mini"], output)
    assert rows(output, "select length(subject), truncated, author, body from commits where kind = 'revision' "
                        "order by date") == [
        (history.SUBJECT_CHARS, 1, "纪工委", ""), (len("AL-02 复评\\x1b[31m\\x07"), 0, "纪\\x07工委", "正文\\x0c第二行")]
    for path in ("/changes", "/catalog/risks/mini-AL-02", "/catalog/measures/mini-AL-M01", "/catalog/commits",
                 "/catalog/changes", "/catalog/changes_since?since=&until=", "/catalog/level_changes?since=", "/",
                 "/catalog/changes_feed.atom"):
        assert _get(output, path).status_code == 200, path
    feed = ElementTree.fromstring(_get(output, "/catalog/changes_feed.atom").content)
    assert all(len(e.findtext(f"{ATOM}title")) <= 80 for e in feed.findall(f"{ATOM}entry"))
    assert "说明过长" in _get(output, "/changes").text


def test_only_the_registers_own_files_are_read_within_the_size_limit(tmp_path, monkeypatch):
    """A stray 50 MB YAML file committed in the register's folder and removed is never read, and neither is
    a version of an area file over the size limit: the revision after it is read against the last version
    that could be; nothing of either is recorded."""
    make_history(tmp_path, COMMITS[:1])
    (tmp_path / "mini" / "stray.yml").write_bytes(b"risks:\n" + b"  - id: X\n" * (5 * 1024 * 1024))
    commit(tmp_path, "误提交的大文件", "2024-02-01T09:00:00+08:00")
    stray = git(tmp_path, "rev-parse", "HEAD:mini/stray.yml")
    (tmp_path / "mini" / "stray.yml").unlink()
    commit(tmp_path, "删除误提交的大文件", "2024-02-02T09:00:00+08:00")
    alpha = tmp_path / "mini" / "alpha.yml"
    good = alpha.read_text(encoding="utf-8")
    alpha.write_text(good + "# " + "x" * (9 * 1024 * 1024) + "\n", encoding="utf-8")
    commit(tmp_path, "误存的超大文件", "2024-02-03T09:00:00+08:00")
    big = git(tmp_path, "rev-parse", "HEAD:mini/alpha.yml")
    alpha.write_text(good.replace("likelihood: 2\n    impact: 3", "likelihood: 2\n    impact: 2"), encoding="utf-8")
    commit(tmp_path, "AL-02 复评", "2024-02-04T09:00:00+08:00")
    asked: list[str] = []  # every object the build asks git for
    objects = git_module.Batch.objects
    monkeypatch.setattr(git_module.Batch, "objects", lambda batch, names, *rest, **options:
                        asked.extend(names) or objects(batch, names, *rest, **options))
    output = tmp_path / "catalog.db"
    builder.build([tmp_path / "mini"], output)
    assert asked and stray not in asked and big not in asked
    assert rows(output, "select subject, changes, invalid from commits where kind = 'revision' order by date") == [
        ("误存的超大文件", 0, 1), ("AL-02 复评", 1, 0)]
    assert rows(output, "select field, old, new from changes") == [("impact", "3", "2")]
    assert "其中 1 个文件版本无法读取" in rows(output, "select note_zh from unit_history")[0][0]


# ---- Pages a phone can carry, and changes in Chinese ---------------------------------------------------------


def test_150_revisions_page_at_50_with_the_filters_kept(tmp_path):
    """150 revisions of the shipped register (benchmarks.synth_history): /changes shows 50 a page, newest
    first, the baseline after the last; a filter stays in the links from page to page."""
    from benchmarks.synth_history import generate

    folder = generate(PROJECT_ROOT / "catalog", tmp_path / "repo", 151, seed=5)
    output = tmp_path / "catalog.db"
    builder.build([folder], output)
    assert rows(output, "select count(*) from commits where kind = 'revision' and changes > 0") == [(150,)]
    newest = rows(output, "select subject from commits where kind = 'revision' order by date desc")
    client = make_datasette(output).client
    pages = [asyncio.run(headings(client, f"page={n}")) for n in (1, 2, 3, 4)]
    assert [len(page) for page in pages] == [50, 50, 50, 1]
    assert pages[0] + pages[1] + pages[2] == [_html(subject) for (subject,) in newest]
    assert pages[3][0].startswith("登记确定")
    third = _get(output, "/changes?page=3").text
    assert 'href="/changes?page=2"' in third and 'href="/changes?page=4"' in third
    assert "page=5" not in _get(output, "/changes?page=4").text
    risks = _get(output, "/changes?kind=risk").text
    assert 'href="/changes?kind=risk&amp;page=2"' in risks
    assert 'href="/changes?kind=risk&amp;page=1"' in _get(output, "/changes?kind=risk&page=2").text
    assert len(_get(output, "/changes").content) < 400_000


def _html(text: str) -> str:
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def test_an_entry_page_shows_its_latest_revisions_and_the_rest_a_click_away(tmp_path):
    """Seven revisions of AL-01: its page shows the latest five and links to the others; /changes filtered
    to the entry shows all seven and its baseline."""
    make_history(tmp_path, COMMITS[:1])
    for n in range(7):
        edit(tmp_path / "mini", "alpha.yml", (f'reviewed: "{2019 + n}-01-15"', f'reviewed: "{2020 + n}-01-15"'))
        commit(tmp_path, f"{2020 + n}年度评估：AL-01 维持原等级", f"{2020 + n}-01-15T09:00:00+08:00")
    output = tmp_path / "catalog.db"
    builder.build([tmp_path / "mini"], output)
    section = _history_section(_get(output, "/catalog/risks/mini-AL-01").text)
    assert re.findall(r"(\d{4})年度评估", section) == ["2026", "2025", "2024", "2023", "2022"]
    assert "登记确定" not in section
    assert 'href="/changes?entry=mini-AL-01">更早的 2 次修订' in section
    listed = asyncio.run(headings(make_datasette(output).client, "entry=mini-AL-01"))
    assert len(listed) == 8 and listed[-1].startswith("登记确定")


def test_each_change_is_described_in_chinese_with_its_fields_chinese_names(tmp_path):
    """A description reworded, a regulation cited, a category and an owner changed: each change names
    the field in Chinese, a regulation by its title (never its id), long text by the changed words with
    the whole of both a click away; the entry's page shows it so."""
    make_history(tmp_path, COMMITS[:1])
    edit(tmp_path / "mini", "alpha.yml",
         ("description_zh: 经办人虚报差旅天数。", "description_zh: 经办人在报销时虚报差旅天数和住宿晚数，并以虚假的会议通知作为报销附件骗取补助。"),
         ("category: process", "category: ethics"), ('reviewed: "2019-01-10"', 'reviewed: "2019-02-01"'),
         ("sources: [law]\n    measures: [AL-M03]", "sources: [law, report]\n    measures: [AL-M03]"),
         ("owner_zh: 信访办", "owner_zh: 信访办公室"))
    commit(tmp_path, "2024年度复评：补充风险描述", "2024-02-01T09:00:00+08:00")
    edit(tmp_path / "mini", "alpha.yml",
         ("在报销时虚报差旅天数和住宿晚数，并以虚假的会议通知", "在报销时虚报差旅天数，并以伪造的会议通知"))
    commit(tmp_path, "2024年度复评：修改描述", "2024-03-01T09:00:00+08:00")
    output = tmp_path / "catalog.db"
    builder.build([tmp_path / "mini"], output)
    found = rows(output, "select entry_id, field_zh, summary_zh from changes order by id")
    assert found == [
        ("AL-M03", "责任部门", "责任部门：信访办 → 信访办公室"),
        ("AL-01", "描述", "描述：增加「在报销时」；增加「和住宿晚数，并以虚假的会议通知作为报销附件骗取补助」"),
        ("AL-01", "风险类别", "风险类别：业务流程风险 → 思想道德风险"),
        ("AL-02", "依据", "依据：增加《测试报道》"),
        ("AL-02", "最近评估日期", "最近评估日期：2019-01-10 → 2019-02-01"),
        ("AL-01", "描述", "描述：删去「和住宿晚数」；「虚假」改为「伪造」")]
    assert rows(output, "select old_text, new_text from changes where field = 'sources'") == [
        ("《中华人民共和国监察法》", "《中华人民共和国监察法》；《测试报道》")]
    page = _history_section(_get(output, "/catalog/risks/mini-AL-01").text)
    assert ('<span class="words">…办人在报销时虚报差旅天数<del>和住宿晚数</del>，并以<del>虚假</del><ins>伪造</ins>'
            '的会议通知作为报销附件骗…</span>') in page
    assert "修改前后全文" in page and "经办人在报销时虚报差旅天数，并以伪造的会议通知作为报销附件骗取补助。" in page
    assert "report" not in _history_section(_get(output, "/catalog/risks/mini-AL-02").text)
