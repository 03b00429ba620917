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
