"""One declaration per field: a field added to the registry, in a copy of the package, reaches every part.

The copy gets two new risk fields, each one line in riskcatalog/fields.py: `budget_yuan` (a whole
number, the example of CONTRIBUTING.md) and `funding` (a text in both languages, searched). Then, with
only `python -m riskcatalog.fields` run and the data filled in, the copy's own build, site, search,
workbook (both ways), history and format document carry them.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from riskcatalog import fields

from .conftest import CATALOG, PROJECT_ROOT

NEW_FIELDS = '''\
    Field("budget_yuan", "涉及金额（元）", "Amount involved (yuan)", INTEGER, minimum=0, maximum=10**12, width=12),
    _text("funding", "资金来源", "Source of funds", NAME, width=16, search="body"),
'''

#: What the copy does, in a process of its own that imports the copy: build with history, serve, search,
#: export and import; it prints what each part made of the new fields.
FOLLOW = textwrap.dedent('''
    import asyncio, json, sqlite3, subprocess, sys
    from pathlib import Path
    import yaml
    from datasette.app import Datasette
    import riskcatalog
    from riskcatalog import build
    from riskcatalog.cli import main

    work = Path(sys.argv[1])
    found = {"package": riskcatalog.__file__}
    build.build([work / "repo" / "catalog"], work / "new.db")
    db = sqlite3.connect(work / "new.db")
    found["row"] = db.execute("select budget_yuan, funding_zh, funding_en from risks where id = 'LAND-01'").fetchone()
    found["not_null"] = [c[1] for c in db.execute("pragma table_info(risks)") if c[1] in ("budget_yuan", "funding_zh") and c[3]]
    found["history"] = db.execute("select field_zh, summary_zh from changes where entry_id = 'LAND-01' "
                                  "and field in ('budget_yuan', 'funding_zh') order by field").fetchall()

    async def pages():
        ds = Datasette([str(work / "new.db")])
        name = next(iter(ds.databases.keys() - {"_internal"}))
        risk = await ds.client.get(f"/{name}/risks/yijia-LAND-01")
        search = await ds.client.get("/search.json?q=" + "补偿专户")
        table = await ds.client.get(f"/{name}/risks?id=LAND-01")
        return risk.status_code, risk.text, search.json(), table.text

    status, found["risk_page"], found["search"], found["table_page"] = asyncio.run(pages())
    assert status == 200, status
    assert main(["export", str(work / "repo" / "catalog"), "-o", str(work / "book.xlsx")]) == 0
    assert main(["import", str(work / "book.xlsx"), "--out", str(work / "back")]) == 0
    land = yaml.safe_load((work / "back" / "land.yml").read_text(encoding="utf-8"))
    found["round_trip"] = next(r for r in land["risks"] if r["id"] == "LAND-01")
    print(json.dumps(found, ensure_ascii=False))
''')


def _git(repo: Path, *args: str) -> None:
    env = {**os.environ, "GIT_AUTHOR_NAME": "纪工委", "GIT_AUTHOR_EMAIL": "office@example.org",
           "GIT_COMMITTER_NAME": "纪工委", "GIT_COMMITTER_EMAIL": "office@example.org",
           "GIT_AUTHOR_DATE": "2019-06-01T10:00:00+08:00", "GIT_COMMITTER_DATE": "2019-06-01T10:00:00+08:00"}
    subprocess.run(["git", *args], cwd=repo, env=env, check=True, capture_output=True)


@pytest.fixture(scope="module")
def followed(tmp_path_factory) -> dict:
    """The copy of the package with the two fields declared, its schema and document written anew, a register
    whose LAND-01 gains them in a commit, and what the copy's build, site and workbook made of them."""
    work = tmp_path_factory.mktemp("field")
    package = work / "package"
    shutil.copytree(PROJECT_ROOT / "riskcatalog", package / "riskcatalog", ignore=shutil.ignore_patterns("__pycache__"))
    shutil.copytree(PROJECT_ROOT / "docs", package / "docs")
    registry = package / "riskcatalog" / "fields.py"
    text = registry.read_text(encoding="utf-8")
    anchor = '    _text("supervisor", "监督主体"'
    assert text.count(anchor) == 1
    registry.write_text(text.replace(anchor, NEW_FIELDS + anchor), encoding="utf-8")
    subprocess.run([sys.executable, "-m", "riskcatalog.fields"], cwd=package, check=True, capture_output=True,
                   env={**os.environ, "PYTHONPATH": str(package)})

    repo = work / "repo"
    shutil.copytree(CATALOG, repo / "catalog")
    for name in ("schema.json",):  # the YAML files name ../riskcatalog/schema.json for editors
        (repo / "riskcatalog").mkdir(exist_ok=True)
        shutil.copy(package / "riskcatalog" / name, repo / "riskcatalog" / name)
    register = repo / "catalog" / "register.yml"  # a copy starts its own history: its baseline is its first commit
    register.write_text(re.sub(r"\n  commit: [0-9a-f]+", "", register.read_text(encoding="utf-8")), encoding="utf-8")
    _git(repo, "init", "-q")
    _git(repo, "add", ".")
    _git(repo, "commit", "-q", "-m", "2019年登记")
    land = repo / "catalog" / "land.yml"
    text = land.read_text(encoding="utf-8")
    anchor = "    supervisor_zh: "
    first = text.index(anchor)
    land.write_text(text[:first] + "    budget_yuan: 1200000\n    funding_zh: 区级征收补偿专户\n"
                    "    funding_en: The district's dedicated compensation account\n" + text[first:], encoding="utf-8")
    _git(repo, "commit", "-q", "-am", "LAND-01：补记涉及金额和资金来源")

    result = subprocess.run([sys.executable, "-c", FOLLOW, str(work)], cwd=work, capture_output=True, text=True,
                            env={**os.environ, "PYTHONPATH": str(package)}, timeout=600)
    assert result.returncode == 0, result.stderr
    found = json.loads(result.stdout.splitlines()[-1])
    found["schema"] = json.loads((package / "riskcatalog" / "schema.json").read_text(encoding="utf-8"))
    found["document"] = (package / "docs" / "catalog-format.md").read_text(encoding="utf-8")
    assert found["package"].startswith(str(package)), "the copy, not the checkout, was imported"
    return found


def test_the_schema_gives_editors_and_the_validator_the_new_fields(followed):
    properties = followed["schema"]["$defs"]["risk"]["properties"]
    assert properties["budget_yuan"] == {"type": "integer", "minimum": 0, "maximum": 10**12,
                                         "description": "涉及金额（元）: Amount involved (yuan)"}
    assert properties["funding_zh"]["maxLength"] == fields.NAME
    assert followed["schema"]["$defs"]["risk"]["dependentRequired"]["funding_zh"] == ["funding_en"]


def test_the_database_holds_them_as_columns_a_register_may_leave_empty(followed):
    assert followed["row"] == [1200000, "区级征收补偿专户", "The district's dedicated compensation account"]
    assert followed["not_null"] == []


def test_the_entry_page_shows_them_by_their_chinese_names(followed):
    page = followed["risk_page"]
    assert "涉及金额（元）" in page and "1200000" in page
    assert "资金来源" in page and "区级征收补偿专户" in page


def test_the_table_page_describes_their_columns(followed):
    assert "涉及金额（元）" in followed["table_page"] and "资金来源" in followed["table_page"]


def test_search_finds_a_searched_field(followed):
    ids = [row["id"] for row in followed["search"]["risks"]["rows"]]
    assert ids[:1] == ["LAND-01"]


def test_the_workbook_carries_them_out_and_back(followed):
    risk = followed["round_trip"]
    assert (risk["budget_yuan"], risk["funding_zh"]) == (1200000, "区级征收补偿专户")
    assert risk["funding_en"] == "The district's dedicated compensation account"


def test_the_history_names_them_in_chinese(followed):
    assert followed["history"] == [["涉及金额（元）", "涉及金额（元）：（无） → 1200000"],
                                   ["资金来源", "资金来源：（无） → 区级征收补偿专户"]]


def test_the_format_document_lists_them(followed):
    assert "| `budget_yuan` | 涉及金额（元） | Amount involved (yuan) |  | whole number 0–1000000000000 |" in followed["document"]
    assert "| `funding_zh` `funding_en` | 资金来源 | Source of funds |  | text, ≤ 400 characters |" in followed["document"]


# --- each label stands in the registry only ---------------------------------------------------------------------
#
# A field's label (监督主体) is written in riskcatalog/fields.py and in the schema.json generated from it; every
# other part (code, templates, the site's catalogue.yml, metadata.yml) reads it from the registry, so renaming a
# field is one edit. "Stands" means as a word of its own: not inside a longer run of Chinese characters, where it
# is part of another word or of a sentence (廉政风险点与防控措施目录 is the site's title, not the risk's label).
# thesaurus.yml is not among the files: its words are the ones readers type, synonyms of each other.

PACKAGE = PROJECT_ROOT / "riskcatalog"
#: Where a label is declared: the registry, and the schema generated from it.
DECLARED = {"riskcatalog/fields.py", "riskcatalog/schema.json"}
#: The five labels the issue named (issue 18): they stand nowhere else, with no exemption.
NAMED = ("监督主体", "责任领导", "表现形式", "留痕资料", "职权事项")

#: Labels that may stand anywhere, each with why: the names of the kinds of entry, which pages, sheets and
#: messages use as nouns in their sentences, and words so common that many other things are called by them.
EXEMPT = {
    "风险点": "the register's first kind of entry (its record's name): every page, sheet and message speaks of them",
    "防控措施": "the register's second kind of entry (its record's name): every page, sheet and message speaks of them",
    "领域": "the areas' record name: navigation, filters, the workbook's and history's words for an area",
    "岗位": "the posts' record name: the cards (岗位廉政风险防控卡) and powers pages speak of posts",
    "职权": "the powers' record name: the 职权目录 and flowcharts speak of powers",
    "依据": "the sources' record name: pages and messages speak of the regulations an entry rests on",
    "单位": "the unit's record name: pages, sheets and the import's messages speak of the unit",
    "编号": "the id of any entry (risk, measure, power, a change's entry) and a Word list style's name",
    "序号": "a row's number in any table (the card's risks, the 职权目录, the changes), not only a risk's",
    "名称": "the title of any kind of entry, as the history names it",
    "日期": "any date: a signature line's, a change's, the import's",
    "类型": "the kind of anything: a commit, an entry, a source",
    "状态": "the state of anything: a unit's history as well as an entry",
    "分支": "a flow's branch (流程分支) as well as a repository's",
    "键": "any table's key column: a commit's as well as an entry's",
    "廉政风险点": "the practice's full name for a risk: the site's title, the card's column, the handbook",
}
#: A label in one more file, each with why: words of the world outside (what units print, which the import
#: reads), and sentences where the word is vocabulary rather than a heading.
EXEMPT_IN = {
    ("风险等级", "riskcatalog/excel/levels.py"): "a word the import strips from a published level's heading",
    ("单位名称", "riskcatalog/excel/headings.py"): "a heading units print over a column of departments",
    ("单位名称", "riskcatalog/excel/naming.py"): "how a published sheet's title line names the unit (单位名称：…)",
    ("所在科室", "riskcatalog/excel/headings.py"): "a heading units print over a column of departments",
    ("备注", "riskcatalog/excel/published.py"): "how a published sheet's footer lines begin (备注：…)",
    ("分管领导", "riskcatalog/excel/published.py"): "how a published sheet's footer lines begin (分管领导：…)",
    ("风险点描述", "riskcatalog/cli.py"): "the import's help: an example of a unit's own heading (--column)",
    ("风险点描述", "riskcatalog/excel/commands.py"): "the import's help: an example of a unit's own heading (--column)",
    ("岗位名称", "riskcatalog/site/templates/cards.html"): "the card's row for its post's title, as cards print it",
    ("岗位名称", "riskcatalog/documents/word.py"): "the card's row for its post's title, as cards print it",
    ("办理环节", "riskcatalog/documents/flowchart.py"): "the flowchart's legend: a box is a step where the matter is "
                                                       "handled",
    ("最近评估", "riskcatalog/site/catalogue.yml"): "the due-for-review query's short heading for the date last "
                                                   "reviewed",
    ("责任人", "riskcatalog/site/catalogue.yml"): "the full register's description names its columns in a sentence",
    ("流程环节", "riskcatalog/documents/word.py"): "a sentence of the handbook's notes counts the steps",
    ("所在环节", "riskcatalog/documents/flowchart.py"): "on a flowchart, where a risk arises (第 n 环节): the branch's "
                                                       "field of that name is another thing",
    ("所在环节", "riskcatalog/site/templates/power.html"): "beside a risk on a power's page, the steps it arises at",
}


def _files() -> dict[str, str]:
    """The package's code, templates, scripts and site wording, and metadata.yml: path -> text."""
    paths = [*PACKAGE.rglob("*.py"), *PACKAGE.rglob("*.html"), *PACKAGE.rglob("*.js"), *PACKAGE.rglob("*.json"),
             PACKAGE / "site" / "catalogue.yml", PROJECT_ROOT / "metadata.yml"]
    return {path.relative_to(PROJECT_ROOT).as_posix(): path.read_text(encoding="utf-8") for path in paths}


def _records() -> list[fields.Record]:
    """Every record the registry declares, nested ones (a step's branches, the register's unit) too."""
    found: list[fields.Record] = []
    todo = [*fields.RECORDS_IN_ORDER, fields.REGISTER, *(record for record, _ in fields.FILES.values())]
    while todo:
        record = todo.pop()
        if record not in found:
            found.append(record)
            todo += [f.record for f in record.fields if f.record is not None]
    return found


def _labels() -> dict[str, list[str]]:
    """Each label the registry gives a field -> the fields it labels: their Chinese names, how the field sheets
    and the history name them where that differs, and the headings units print for them (those of three
    characters or more: 措施, 风险 and 等级 are words of every sentence)."""
    found: dict[str, list[str]] = {}
    declared = [(record.name, f) for record in _records() for f in record.fields]
    declared += [("units", f) for _, _, table_fields, _ in fields.UNITS_TABLE for f in table_fields]  # the folder
    for owner, f in declared:
        for label in (f.zh, f.sheet_zh, f.history_zh, *(h for h in f.headings if len(h) >= 3)):
            if label and f"{owner}.{f.name}" not in found.get(label, []):
                found.setdefault(label, []).append(f"{owner}.{f.name}")
    return found


def _stands(label: str, text: str) -> bool:
    return re.search(rf"(?<![\u3400-\u9fff]){re.escape(label)}(?![\u3400-\u9fff])", text) is not None


def test_a_label_stands_as_a_word_of_its_own():
    assert _stands("监督主体", '<th scope="row">监督主体</th>') and _stands("监督主体", 'as "监督主体 Supervising body"')
    assert _stands("监督主体", "(\"supervisor_zh\", \"监督主体\")") and _stands("风险等级", "风险等级：一级")
    assert not _stands("风险点", "廉政风险点与防控措施目录") and not _stands("职权事项", "本岗位的职权事项、廉政")


def test_each_label_stands_only_in_the_registry_and_the_schema():
    files = _files()
    labels = _labels()
    assert len(labels) > 150 and set(NAMED) <= labels.keys()
    astray = {}
    for label, owners in sorted(labels.items()):
        if label in EXEMPT:
            continue
        found = {path for path, text in files.items() if _stands(label, text)} - DECLARED
        found -= {path for (exempt, path) in EXEMPT_IN if exempt == label}
        if found:
            astray[f"{label} ({', '.join(owners)})"] = sorted(found)
    assert astray == {}, "labels written outside riskcatalog/fields.py — read them from the registry " \
                         "(fields.RISK['supervisor'].zh; F.risk.supervisor.zh in a template; {risk.supervisor} in " \
                         "catalogue.yml): " + json.dumps(astray, ensure_ascii=False, indent=1)


def test_the_named_labels_are_not_exempt_and_every_exemption_is_needed():
    files = _files()
    assert not set(NAMED) & (EXEMPT.keys() | {label for label, _ in EXEMPT_IN})
    labels = _labels()
    assert set(EXEMPT) <= labels.keys()
    for label in EXEMPT:  # a word only the registry still holds needs no exemption
        assert {path for path, text in files.items() if _stands(label, text)} - DECLARED, label
    for label, path in EXEMPT_IN:
        assert label in labels and _stands(label, files[path]), (label, path)
