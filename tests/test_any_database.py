"""Any database, any name: the site knows a catalogue by what it holds, and carries its own pages.

Datasette here is started as a plain `datasette serve any.db` starts it: the plugin installed,
no metadata, no template or static folder. The site must find everything it needs itself.
"""

from __future__ import annotations

import io
import logging
import re
import shutil
import sqlite3
import xml.etree.ElementTree as ElementTree
from pathlib import Path

import pytest
from datasette.app import Datasette
from openpyxl import load_workbook

from riskcatalog import build as builder
from riskcatalog.site import catalogue, downloads, serve
from riskcatalog.site.serve import SETTINGS

from .conftest import MINI, PROJECT_ROOT, write_register

TEMPLATES = PROJECT_ROOT / "riskcatalog" / "site" / "templates"
LOG = "riskcatalog.site"
ATOM = "{http://www.w3.org/2005/Atom}"


@pytest.fixture(scope="module")
def hanzheng(tmp_path_factory) -> Path:
    """The mini register, built by the real build into hanzheng.db."""
    where = tmp_path_factory.mktemp("hanzheng")
    path = where / "hanzheng.db"
    builder.build([write_register(where / "hanzheng", MINI)], path)
    return path


def plain_datasette(*paths: Path) -> Datasette:
    """Datasette as `datasette serve --immutable <paths>` starts it, with the site's settings."""
    return Datasette(immutables=[str(path) for path in paths], settings=SETTINGS)


def catalogue_links(html: str) -> list[str]:
    """Every link of a page into a database called catalog: none, where the catalogue has another name."""
    return re.findall(r'(?:href|action)="/catalog[/"?]', html)


@pytest.mark.parametrize("path, shows", [
    ("/", "小街道廉政风险点与防控措施目录"),
    ("/search?q=差旅", '<a href="/hanzheng/risks/mini-AL-01">'),
    ("/search?level=high", '<a href="/hanzheng/risks/mini-AL-01">'),
    ("/hanzheng/risks/mini-AL-01", '<article class="entry risk">'),
    ("/hanzheng/measures/mini-AL-M01", '<article class="entry measure">'),
    ("/hanzheng/areas/mini-alpha", '<article class="entry area">'),
    ("/hanzheng/sources/mini-law", '<article class="entry source">'),
    ("/hanzheng/units/mini", "单位：mini"),
    ("/hanzheng", "数据表与查询"),
    ("/hanzheng/risks", '<th class="col-title_zh"'),
    ("/hanzheng/full_register", '<article class="reader-query">'),
    ("/hanzheng/risks_by_area_and_level", '<a href="/search?area=alpha&amp;level=high">1</a>'),
    ("/changes", "最近修订"),
    ("/hanzheng/no_such_table", "返回首页"),
])
async def test_a_catalogue_by_another_name_gets_the_whole_site(hanzheng, path, shows):
    """hanzheng.db, served with no metadata, templates or static folder: every kind of page is the
    catalogue's, in Chinese, styled by the plugin, and none links to a database called catalog."""
    response = await plain_datasette(hanzheng).client.get(path)
    assert response.status_code == (404 if "no_such" in path else 200), path
    assert '<html lang="zh-CN">' in response.text and shows in response.text
    assert '<link rel="stylesheet" href="/-/static-plugins/riskcatalog/catalog.css">' in response.text
    assert catalogue_links(response.text) == []


async def test_a_catalogue_by_another_name_keeps_its_addresses_feed_styles_and_workbook(hanzheng):
    """Short addresses, the Atom feed's links, the levels' colours, the plugin's CSS, the SQL editor and
    the 登记表 workbook all follow the database's own name."""
    client = plain_datasette(hanzheng).client
    short = await client.get("/hanzheng/risks/al-1")
    assert (short.status_code, short.headers["location"]) == (302, "/hanzheng/risks/mini-AL-01")
    assert (await client.get("/search?q=AL-01")).headers["location"] == "/hanzheng/risks/mini-AL-01"
    css = await client.get("/-/static-plugins/riskcatalog/catalog.css")
    assert css.status_code == 200 and ".level {" in css.text
    levels = await client.get("/-/levels.css")
    assert levels.headers["content-type"] == "text/css; charset=utf-8"
    assert ".level-high { background: " in levels.text
    workbook = await client.get("/-/register.xlsx")
    assert workbook.status_code == 200 and workbook.headers["content-type"] == downloads.XLSX
    assert load_workbook(io.BytesIO(workbook.content))["登记表"]["A1"].value == "小街道廉政风险点登记表"
    assert '<form class="sql" action="/hanzheng" method="get">' in (await client.get("/hanzheng")).text
    feed = await client.get("/hanzheng/changes_feed.atom")
    assert feed.status_code == 200 and "<feed" in feed.text and "/catalog/" not in feed.text


async def test_the_feed_links_each_entry_under_the_catalogues_own_name(catalog_db, tmp_path):
    """The Atom feed's links are the entries' pages in this database, by its name (row_path in its SQL)."""
    renamed = tmp_path / "易家街道.db"
    shutil.copy(catalog_db, renamed)
    client = plain_datasette(renamed).client
    database = "~E6~98~93~E5~AE~B6~E8~A1~97~E9~81~93"  # 易家街道, tilde-encoded as Datasette addresses it
    home = await client.get("/")
    assert f'href="/{database}/full_register"' in home.text and catalogue_links(home.text) == []
    risk = await client.get(f"/{database}/risks/yijia-LAND-01")
    assert risk.status_code == 200 and '<article class="entry risk">' in risk.text
    feed = ElementTree.fromstring((await client.get(f"/{database}/changes_feed.atom")).content)
    links = [entry.find(f"{ATOM}link").get("href") for entry in feed.iter(f"{ATOM}entry")]
    assert links and all(link.startswith(f"/{database}/") or link == "/changes" for link in links), links[:3]


@pytest.mark.parametrize("name", sorted(catalogue.metadata()["queries"]))
async def test_every_ready_made_query_runs_under_another_name(hanzheng, name):
    """The ready-made queries come with the package and run on any catalogue database."""
    query = catalogue.metadata()["queries"][name]
    params = {param: "" for param in query.get("params", [])}
    response = await plain_datasette(hanzheng).client.get(f"/hanzheng/{name}.json", params=params)
    assert response.status_code == 200, response.text
    assert response.json()["ok"] is True


async def test_a_database_that_is_not_a_catalogue_is_plain_datasette_and_the_log_says_why(tmp_path, caplog):
    """notes.db: Datasette's own pages, nothing of the catalogue's, and one log line saying why."""
    notes = tmp_path / "notes.db"
    with sqlite3.connect(notes) as conn:
        conn.execute("create table notes (body text)")
    ds = plain_datasette(notes)
    with caplog.at_level(logging.WARNING, logger=LOG):
        home = await ds.client.get("/")
    assert home.status_code == 200 and 'href="/notes"' in home.text
    assert 'lang="zh-CN"' not in home.text and "Powered by" in home.text and "static-plugins/riskcatalog" not in home.text
    assert "廉政风险点" not in home.text
    for path in ("/search", "/changes", "/-/register.xlsx", "/-/levels.css"):
        assert (await ds.client.get(path)).status_code == 404, path
    assert [record.getMessage() for record in caplog.records if record.name == LOG] == [
        "riskcatalog: notes 按普通 Datasette 提供，没有目录页面。notes is served as plain Datasette, without the "
        "catalogue's pages. 它不含廉政风险目录的任何表。It has none of the catalogue's tables (risks, measures, areas, …)."]


def test_why_a_database_is_not_a_catalogue(catalog_db, tmp_path):
    """A database with some of the catalogue's tables, or with them all but build facts the build did not
    write, is not recognised, and the reason names what is missing."""
    partial = tmp_path / "partial.db"
    with sqlite3.connect(partial) as conn:
        conn.executescript("create table risks (key text); create table measures (key text);")
    assert catalogue.not_a_catalogue(_schema(partial)) == (
        "缺少目录的表 units, areas, sources, risk_measures, risk_sources, measure_sources, …，可能由旧版本构建，请重新构建。"
        "It lacks the catalogue's tables units, areas, sources, risk_measures, risk_sources, measure_sources, …: "
        "built by an older riskcatalog? Build it again.")
    unfinished = tmp_path / "unfinished.db"
    shutil.copy(catalog_db, unfinished)
    with sqlite3.connect(unfinished) as conn:
        conn.execute("delete from build_info where key = 'catalog_commit'")
    assert catalogue.not_a_catalogue(_schema(unfinished)) == (
        "build_info 缺少 catalog_commit，不是 riskcatalog 构建的数据库。"
        "Its build_info lacks catalog_commit: riskcatalog's build did not write it.")
    assert catalogue.not_a_catalogue(_schema(catalog_db)) is None


def _schema(path: Path):
    ds = Datasette([str(path)])
    return catalogue.datasette_adapter.schema_of(ds.get_database(path.stem))


async def test_two_catalogues_one_site_and_a_clear_message(hanzheng, catalog_db, tmp_path, caplog):
    """The first catalogue given gets the site; the second is served as plain Datasette, and the home
    page, its own page and the log say so."""
    yijia = tmp_path / "yijia.db"
    shutil.copy(catalog_db, yijia)
    ds = plain_datasette(hanzheng, yijia)
    with caplog.at_level(logging.WARNING, logger=LOG):
        home = await ds.client.get("/")
    assert "小街道廉政风险点与防控措施目录" in home.text
    notice = ('<p class="message-info catalog-unshown">本站展示的目录是 <a href="/hanzheng">hanzheng</a>；'
              '<a href="/yijia">yijia</a>也是目录数据库，在本站只以数据表提供。')
    assert notice in home.text
    database = await ds.client.get("/yijia")
    assert database.status_code == 200 and notice in database.text and "数据表与查询" not in database.text
    row = await ds.client.get("/yijia/risks/yijia-LAND-01")
    assert row.status_code == 200 and '<article class="entry' not in row.text
    assert [record.getMessage() for record in caplog.records if record.name == LOG] == [
        "riskcatalog: 本站展示目录数据库 hanzheng；yijia 也是目录数据库，按普通 Datasette 提供（一个站点展示一个目录）。"
        "The site shows the catalogue hanzheng; yijia is served as plain Datasette, one catalogue per site: build "
        "registers into one database (build.py reg1 reg2 -o district.db), or serve each database on its own."]


#: Lines of a Datasette template shorter than this are too plain to count as copied ({% endif %}, </ul>).
COPIED_LINE = 30


def _lines(text: str) -> set[str]:
    return {line.strip() for line in text.splitlines() if len(line.strip()) >= COPIED_LINE}


def test_templates_extend_datasettes_own_rather_than_copy_them():
    """The package's templates fill in the blocks of Datasette's templates (default:…); none repeats one.

    Each shares at most three long lines with any of Datasette's (the phone-card rule that relabels
    Datasette's, a form's opening tag); the copy of base.html the site once had shared thirty."""
    import datasette

    theirs = {path.name: _lines(path.read_text(encoding="utf-8"))
              for path in (Path(datasette.__file__).parent / "templates").glob("*.html")}
    shared = {(ours.name, name): len(_lines(ours.read_text(encoding="utf-8")) & lines)
              for ours in TEMPLATES.glob("*.html") for name, lines in theirs.items()}
    assert {pair: count for pair, count in shared.items() if count > 3} == {}
    assert (TEMPLATES / "base.html").read_text(encoding="utf-8").count('{% extends "default:base.html" %}') == 1
    assert not (TEMPLATES / "_crumbs.html").exists() and not (TEMPLATES / "_footer.html").exists()
    assert not (TEMPLATES / "_table.html").exists()


def test_the_serve_command_builds_a_register_folder_then_serves_it(mini_catalog, monkeypatch, capsys):
    """`python -m riskcatalog.site.serve mini` builds mini.db with the real build, then serves it with the
    site's settings; metadata.yml only where there is one (here, none)."""
    monkeypatch.chdir(mini_catalog.parent)
    started = []
    monkeypatch.setattr(serve.os, "execv", lambda program, args: started.append((program, args)))
    serve.main(["mini"])
    command = serve.command("mini.db", metadata=None)
    assert capsys.readouterr().out.splitlines() == ["building mini.db from mini", " ".join(command)]
    assert started == [(serve._datasette(), command)]
    assert "--metadata" not in started[0][1]
    assert catalogue.not_a_catalogue(_schema(mini_catalog.parent / "mini.db")) is None


def test_the_serve_command_serves_nothing_when_the_build_fails(mini_catalog, monkeypatch, capfd):
    """A register with an error: the build's own message (file:line), exit 1, no database and no server."""
    monkeypatch.chdir(mini_catalog.parent)
    alpha = mini_catalog / "alpha.yml"
    alpha.write_text(alpha.read_text(encoding="utf-8").replace("measures: [AL-M03]", "measures: [AL-M09]"),
                     encoding="utf-8")
    monkeypatch.setattr(serve.os, "execv", lambda program, args: pytest.fail("served a register that failed"))
    with pytest.raises(SystemExit) as stop:
        serve.main(["mini", "-o", "gutian.db"])
    assert stop.value.code == 1
    assert ("mini/alpha.yml:56:16: risks[1].measures[0]: unknown measure 'AL-M09' — define it or fix the id"
            in capfd.readouterr().err)
    assert not (mini_catalog.parent / "gutian.db").exists()


async def test_a_deployments_metadata_overrides_the_packaged_wording_and_only_there(hanzheng):
    """metadata.yml may rename a table or a column of the catalogue (databases: <name>: …); the rest
    stays the package's, and another site in the same process keeps the package's own."""
    metadata = {"databases": {"hanzheng": {"tables": {"risks": {
        "title": "风险清单 Risk list", "columns": {"title_zh": "风险名称 Risk name"}}}}}}
    overridden = Datasette(immutables=[str(hanzheng)], metadata=metadata, settings=SETTINGS)
    for _ in range(2):  # the same each time: the deployment's wording is merged, never accumulated
        html = (await overridden.client.get("/hanzheng/risks")).text
        assert "<title>风险清单 Risk list · 2 行</title>" in html
        assert '风险名称<span class="column-name">title_zh</span>' in html
        assert '表现形式<span class="column-name">manifestations_zh</span>' in html
    plain = (await plain_datasette(hanzheng).client.get("/hanzheng/risks")).text
    assert "<title>风险点 Risks · 2 行</title>" in plain and '风险点<span class="column-name">title_zh</span>' in plain
