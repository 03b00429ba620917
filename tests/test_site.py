"""The Datasette site in-process: every page, every canned query, search, escaping, offline."""

from __future__ import annotations

import io
import re
import sqlite3
import subprocess
import sys
from html.parser import HTMLParser
from csv import DictReader
from pathlib import Path
from urllib.parse import urlsplit

import pytest
import yaml

from datasette.app import Datasette

from riskcatalog import build as build_db
from riskcatalog.site import catalogue
from riskcatalog.site.serve import SETTINGS

from .conftest import PROJECT_ROOT, copy_catalog, make_datasette

QUERIES = catalogue.metadata()["queries"]
QUERY_PARAMS = {"due_for_review": {"as_of": ""}}
#: Queries of the history: the shipped catalogue's own history need not hold such changes, so
#: test_history.py runs them against a history made to hold them.
HISTORY_QUERIES = {"changes_since", "level_changes", "changes_feed"}

PAGES = ["/", "/catalog", "/catalog/risks", "/catalog/measures", "/catalog/areas", "/catalog/sources",
         "/catalog/register", "/catalog/risks/yijia-LAND-01", "/catalog/measures/yijia-STYLE-M01",
         "/catalog/areas/yijia-land", "/catalog/units/yijia", "/catalog/sources/yijia-expropriation-regulation",
         "/catalog/risk_measures", "/catalog/levels", "/catalog/build_info", "/changes", "/catalog/changes"]


@pytest.mark.parametrize("path", PAGES)
async def test_every_page_renders_as_chinese_html(ds, path):
    """Each page answers 200, declares lang=zh-CN and loads nothing from another host."""
    response = await ds.client.get(path)
    assert response.status_code == 200
    assert '<html lang="zh-CN">' in response.text
    # Offline: scripts, styles, images and fonts come from this site only.
    assert [url for url in fetched_urls(response.text) if urlsplit(url).netloc not in ("", "localhost")] == []
    assert "url(http" not in response.text and "@import" not in response.text


def fetched_urls(html: str) -> list[str]:
    """URLs a browser would fetch while loading the page: src attributes and stylesheet/icon links."""
    urls = []

    class Collector(HTMLParser):
        def handle_starttag(self, tag, attrs):
            attrs = dict(attrs)
            if attrs.get("src"):
                urls.append(attrs["src"])
            if tag == "link" and {"stylesheet", "icon", "preload", "modulepreload"} & set(
                    (attrs.get("rel") or "").split()):
                urls.append(attrs["href"])

    Collector().feed(html)
    return urls


async def test_trace_parameter_cannot_cut_a_large_page(ds):
    """?_trace=1 on a page over 256 KB answers the whole page: tracing is off as the site is served
    (Datasette 0.65's tracer, with trace_debug on, never finishes such a response)."""
    assert "trace_debug" not in SETTINGS
    big = "/catalog/risks?_size=200&_facet=title_en&_facet=description_en&_facet=description_zh"
    plain = await ds.client.get(big)
    traced = await ds.client.get(big + "&_trace=1")
    assert len(plain.content) > 256 * 1024
    assert traced.status_code == 200 and traced.text.rstrip().endswith("</html>")


async def test_other_databases_keep_datasettes_own_home_page(tmp_path):
    """With the plugin installed but no catalogue served, / is Datasette's index of the databases."""
    other = tmp_path / "other.db"
    with sqlite3.connect(other) as conn:
        conn.execute("create table notes (body text)")
    ds = Datasette([str(other)], settings=SETTINGS)
    response = await ds.client.get("/")
    assert response.status_code == 200 and 'href="/other"' in response.text
    assert "廉政风险点" not in response.text


def test_static_css_loads_nothing_from_elsewhere():
    """The stylesheet names only local fonts and no remote url()."""
    css = (PROJECT_ROOT / "riskcatalog" / "site" / "static" / "catalog.css").read_text(encoding="utf-8")
    assert "url(" not in css and "@import" not in css and "@font-face" not in css


@pytest.mark.parametrize("table", ["risks", "measures", "areas", "sources", "units", "risk_measures", "register"])
@pytest.mark.parametrize("fmt", ["json", "csv"])
async def test_every_table_exports_json_and_csv(ds, table, fmt):
    """JSON and CSV keep working for every table and view."""
    response = await ds.client.get(f"/catalog/{table}.{fmt}")
    assert response.status_code == 200
    body = response.json()["rows"] if fmt == "json" else response.text.splitlines()[1:]
    assert len(body) > 0


@pytest.mark.parametrize("name", [name for name in QUERIES if name not in HISTORY_QUERIES])
async def test_every_canned_query_returns_rows(ds, name):
    """Each canned query runs, has a title and description, and returns rows as HTML, JSON and CSV."""
    assert QUERIES[name]["title"] and QUERIES[name]["description"]
    params = QUERY_PARAMS.get(name, {})
    html = await ds.client.get(f"/catalog/{name}", params=params)
    assert html.status_code == 200 and QUERIES[name]["title"] in html.text
    data = await ds.client.get(f"/catalog/{name}.json", params={**params, "_shape": "array"})
    assert data.status_code == 200 and len(data.json()) > 0
    csv = await ds.client.get(f"/catalog/{name}.csv", params=params)
    assert csv.status_code == 200 and len(list(DictReader(io.StringIO(csv.text)))) == len(data.json())


async def test_pivot_counts_every_active_risk_once(ds):
    """risks_by_area_and_level: eight areas whose totals add up to 51 and equal their level counts;
    its level headers are the levels table's labels."""
    rows = (await ds.client.get("/catalog/risks_by_area_and_level.json?_shape=array")).json()
    assert [r["_area_id"] for r in rows][:2] == ["land", "village"] and len(rows) == 8
    assert sum(r["合计 Total"] for r in rows) == 51
    levels = (await ds.client.get("/catalog/levels.json?_shape=array&_sort=rank")).json()
    headers = [f"{level['label_zh']} {level['label_en'].capitalize()}" for level in levels]
    assert all(sum(r[header] for header in headers) == r["合计 Total"] for r in rows)


async def test_pivot_counts_link_to_the_lists_of_those_risks(ds):
    """Each non-zero count opens the list of exactly that many risks; the area opens its list."""
    html = (await ds.client.get("/catalog/risks_by_area_and_level")).text
    links = re.findall(r'<a href="(/search\?area=\w+&amp;level=\w+)">(\d+)</a>', html)
    assert len(links) >= 8
    for href, count in links[:6]:
        listed = (await ds.client.get(href.replace("&amp;", "&").replace("/search?", "/search.json?"))).json()
        assert listed["risks"]["count"] == int(count)
    assert '<a href="/search?area=land">国有土地征收</a>' in html
    assert "area_id" not in html.split("<tbody>")[0]  # the key columns are not shown


async def test_due_for_review_respects_as_of(ds):
    """Nothing is due on the day before the first review date; everything is due years later."""
    early = await ds.client.get("/catalog/due_for_review.json", params={"as_of": "2018-01-01", "_shape": "array"})
    late = await ds.client.get("/catalog/due_for_review.json", params={"as_of": "2030-01-01", "_shape": "array"})
    assert early.json() == [] and len(late.json()) == 51


async def test_single_measure_and_cross_area_queries_agree_with_the_link_table(ds, catalog_db):
    """The analytical queries match what the link table says."""
    import sqlite_utils

    database = sqlite_utils.Database(catalog_db)
    single = {r[0] for r in database.execute(
        "select risk from risk_measures group by risk having count(*) = 1").fetchall()}
    rows = (await ds.client.get("/catalog/single_measure_risks.json?_shape=array")).json()
    assert {r["_risk"] for r in rows} == single
    cross = (await ds.client.get("/catalog/cross_area_measures.json?_shape=array")).json()
    assert {"STYLE-M01", "CASE-M01"} <= {r["编号 Id"] for r in cross}


async def test_due_for_review_explains_and_refuses_a_bad_date(ds):
    """A date not written YYYY-MM-DD gets a Chinese and English message and no rows, not a silent answer."""
    html = (await ds.client.get("/catalog/due_for_review", params={"as_of": "2019/05/01"})).text
    assert "评估基准日“2019/05/01”不是有效日期，请按 YYYY-MM-DD 填写" in html and "<tbody>" not in html
    data = await ds.client.get("/catalog/due_for_review.json", params={"as_of": "2019/05/01", "_shape": "array"})
    assert data.json() == []
    good = (await ds.client.get("/catalog/due_for_review", params={"as_of": "2019-05-01"})).text
    assert "评估基准日" in good and "90 天" in good and "<tbody>" in good


async def test_table_search_box_and_html_results(ds):
    """The risks table page has a search box and lists reimbursement risks for ?_search=报销."""
    response = await ds.client.get("/catalog/risks", params={"_search": "报销"})
    assert 'name="_search"' in response.text
    assert "/catalog/risks/yijia-REIM-01" in response.text


async def test_home_page_shows_register_totals_areas_heatmap_and_queries(ds):
    """Home: the unit, provenance, totals, eight areas with level counts, a 5×5 heat map, queries."""
    html = (await ds.client.get("/")).text
    assert "易家街道廉政风险点与防控措施目录" in html and "硚口区" in html
    assert "<strong>51</strong> 个风险点" in html and "<strong>78</strong> 条防控措施" in html
    assert "不是易家街道的官方文本" in html
    assert html.count('class="area-row"') == 8
    cells = re.findall(r'data-likelihood="(\d)" data-impact="(\d)" data-count="(\d+)">(.*?)</td>', html, re.S)
    assert len(cells) == 25 and sum(int(n) for _, _, n, _ in cells) == 51
    # a cell with risks links to them, showing their number and its level in words; an empty one says 0
    assert all(re.search(rf'<a href="[^"]+">.*<span class="n">{n}</span>.*<span class="cell-level">[一二三]级</span></a>', inside)
               if n != "0" else "<a " not in inside and ">0</span>" in inside for _, _, n, inside in cells)
    for name, query in QUERIES.items():
        if query.get("listed", True):  # the feed is subscribed to, not listed
            title_zh, _, title_en = query["title"].partition(" ")  # the English spoken in English
            assert f'href="/catalog/{name}"' in html and f'{title_zh} <span lang="en">{title_en}</span>' in html
    assert 'action="/search"' in html


async def test_home_page_of_several_registers_is_named_by_their_number(tmp_path):
    """A district's database is not titled after its first unit; totals and areas cover every register."""
    second = copy_catalog(tmp_path / "second")
    text = (second / "register.yml").read_text(encoding="utf-8")
    (second / "register.yml").write_text(text.replace("id: yijia", "id: hanzheng").replace("易家街道", "汉正街道"),
                                         encoding="utf-8")
    output = tmp_path / "catalog.db"
    build_db.build([PROJECT_ROOT / "catalog", second], output)
    html = (await make_datasette(output).client.get("/")).text
    assert "<h1>2 个单位廉政风险点与防控措施目录</h1>" in html and "Integrity-risk registers of 2 units" in html
    assert "<strong>102</strong> 个风险点" in html and "<strong>156</strong> 条防控措施" in html
    assert 'href="/catalog/units"' in html and "易家街道廉政风险点" not in html
    assert html.count('class="area-row"') == 8 and 'href="/search?area=land"' in html


async def test_heatmap_cells_link_to_the_lists_of_their_risks(ds):
    """Each non-empty cell links to the list of exactly its risks; an empty cell is no link."""
    html = (await ds.client.get("/")).text
    cells = re.findall(r'data-likelihood="(\d)" data-impact="(\d)">(?:<a href="([^"]+)">)?(\d*)<', html)
    for likelihood, impact, href, count in cells:
        if not count:
            assert not href
            continue
        assert href == f"/search?likelihood={likelihood}&amp;impact={impact}"
        listed = (await ds.client.get(f"/search.json?likelihood={likelihood}&impact={impact}")).json()
        assert listed["risks"]["count"] == int(count) and "measures" not in listed
        page = (await ds.client.get(href.replace("&amp;", "&"))).text
        assert f"可能性 {likelihood} × 影响 {impact}" in page and page.count('class="result"') == int(count)


async def test_risk_page_shows_every_field_measures_sources_and_edit_link(ds):
    """The risk page carries its fields, linked measures with type and owner, regulations and edit link."""
    html = (await ds.client.get("/catalog/risks/yijia-LAND-01")).text
    risk = next(r for r in yaml.safe_load((PROJECT_ROOT / "catalog/land.yml").read_text())["risks"]
                if r["id"] == "LAND-01")
    for field in ("title_zh", "title_en", "post_zh", "power_zh", "responsible_post_zh", "responsible_leader_zh",
                  "supervisor_zh", "reviewed"):
        assert escape(risk[field]) in html, field
    assert all(escape(m["zh"]) in html for m in risk["manifestations"])
    for measure_id in risk["measures"]:
        assert f'href="/catalog/measures/yijia-{measure_id}"><span class="entry-id">{measure_id}</span>' in html
    # each measure with its type, as a link to the list of measures of that type
    assert html.count('class="tag">') >= len(risk["measures"]) and 'href="/search?type=' in html
    assert ('<a href="/catalog/sources/yijia-expropriation-regulation">《国有土地上房屋征收与补偿条例》</a>'
            in html and "国务院令第590号" in html)
    line = next(n for n, text in enumerate((PROJECT_ROOT / "catalog/land.yml").read_text().splitlines(), 1)
                if text.strip() == "- id: LAND-01")
    assert f'href="https://github.com/integrity-register/riskcatalog/blob/main/catalog/land.yml#L{line}"' in html


async def test_measure_page_lists_every_risk_it_controls_across_areas(ds):
    """CASE-M01's page links every risk that names it, in several areas."""
    html = (await ds.client.get("/catalog/measures/yijia-CASE-M01")).text
    rows = (await ds.client.get("/catalog/risk_measures.json?measure=yijia-CASE-M01&_shape=array")).json()
    assert len(rows) >= 4
    for row in rows:
        assert f'href="/catalog/risks/{row["risk"]}"' in html
    assert "留痕资料" in html and "执行频次" in html


async def test_notes_show_apart_from_the_official_text(ds):
    """A measure's notes (备注) show under their own heading, and its description no longer carries them."""
    measure = next(m for m in yaml.safe_load((PROJECT_ROOT / "catalog/land.yml").read_text())["measures"]
                   if m["id"] == "LAND-M07")
    html = (await ds.client.get("/catalog/measures/yijia-LAND-M07")).text
    assert "<dt>备注 <span lang=\"en\">Notes</span></dt>" in html
    assert escape(measure["notes_zh"]) in html and escape(measure["notes_en"]) in html
    assert "自定" not in measure["description_zh"] and "区里" not in measure["description_zh"]


async def test_area_page_groups_its_risks_by_level(ds):
    """The area page lists its risks under 一级, 二级, 三级 headings in that order."""
    html = (await ds.client.get("/catalog/areas/yijia-village")).text
    headings = re.findall(r'class="level-heading"><a href="/search\?area=village&amp;level=\w+"><span class="level level-(\w+)"', html)
    assert headings == sorted(headings, key=["high", "medium", "low"].index) and len(headings) >= 2
    assert html.count('class="risk-link"') == 7


async def test_query_results_link_entries_by_their_titles(ds):
    """In canned queries a risk's and a measure's title links to its page; the keys are not shown."""
    html = (await ds.client.get("/catalog/single_measure_risks")).text
    rows = (await ds.client.get("/catalog/single_measure_risks.json?_shape=array")).json()
    for row in rows:
        assert f'<a href="/catalog/risks/{row["_risk"]}">{escape(row["风险点 Risk"])}</a>' in html
        assert f'<a href="/catalog/measures/{row["_measure"]}">{escape(row["防控措施 Measure"])}</a>' in html
        assert f">{row['_risk']}<" not in html
    assert 'class="level level-' in html  # the level as its badge


async def test_facets_include_the_array_facet_across_the_link(ds):
    """The risks table facets by level and category; by area and, through JSON arrays, by measure on request."""
    assert set((await ds.client.get("/catalog/risks.json")).json()["facet_results"]) == {"level", "category"}
    data = (await ds.client.get("/catalog/risks.json?_facet=area&_facet_array=measure_ids")).json()
    assert {"area", "level", "category", "measure_ids"} <= set(data["facet_results"])
    register = [v for v in data["facet_results"]["measure_ids"]["results"] if v["value"] == "CASE-M01"]
    assert register and register[0]["count"] >= 4


async def test_fts_internals_are_hidden(ds):
    """The search tables do not clutter the database page."""
    html = (await ds.client.get("/catalog")).text
    assert "risks_search_fts" not in html.split("hidden tables")[0]
    assert 'href="/catalog/risks"' in html


async def test_catalogue_text_is_escaped(tmp_path):
    """HTML in catalogue text is shown as text on every page, never as markup."""
    folder = copy_catalog(tmp_path / "catalog")
    payload = '<script>alert(1)</script><img src=x onerror=alert(2)>'
    text = (folder / "land.yml").read_text(encoding="utf-8")
    head, risks = text.split("\nrisks:\n")  # the first risk's title, LAND-01's (a power's comes before)
    text = head + "\nrisks:\n" + risks.replace("title_zh: ", f'title_zh: "{payload}" #', 1)
    (folder / "land.yml").write_text(text, encoding="utf-8")
    output = tmp_path / "site" / "catalog.db"
    output.parent.mkdir()
    build_db.build([folder], output)
    ds = make_datasette(output)
    for path in ("/catalog/risks/yijia-LAND-01", "/catalog/risks", "/catalog/measures/yijia-LAND-M01",
                 "/catalog/areas/yijia-land", "/catalog/register", "/search?area=land", "/catalog/full_register",
                 "/catalog/sources/yijia-expropriation-regulation"):
        html = (await ds.client.get(path)).text
        assert payload not in html, path
        assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html, path


def escape(text: str) -> str:
    from markupsafe import escape as markup_escape

    return str(markup_escape(text))


def test_site_loads_no_part_of_the_build_but_the_search_text():
    """A Datasette process with the plugin imports riskcatalog.site, the search text, the search index's
    columns (tables, from the field registry), the thesaurus (read with the strict YAML loader, so a bad
    one is reported at its line), the vocabulary, the formula rule and the 登记表's layout (its title) only:
    not the validator, the catalogue's loader, the workbook writer, ruamel or jsonschema."""
    probe = ("import sys; from datasette.app import Datasette; import riskcatalog.site; "
             "print(sorted(m for m in sys.modules if m.startswith(('riskcatalog', 'jsonschema', 'ruamel'))))")
    loaded = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, check=True).stdout
    assert {name for name in eval(loaded) if not name.startswith("riskcatalog.site")} == {
        "riskcatalog", "riskcatalog.search", "riskcatalog.tables", "riskcatalog.fields", "riskcatalog.thesaurus",
        "riskcatalog.yamlload", "riskcatalog.errors", "riskcatalog.files", "riskcatalog.vocab", "riskcatalog.formulas",
        "riskcatalog.excel", "riskcatalog.excel.layout"}


#: Datasette's stock wording that no page of the catalogue shows a reader.
STOCK_WORDS = ["Custom SQL query", "Run SQL", "rows sorted by", "Advanced export", "This data as",
               "- remove filter -", "0 records", "Links from other tables", "Data license"]


@pytest.mark.parametrize("path", ["/catalog/risks", "/catalog/measures?_search=报销", "/catalog/sources",
                                  "/catalog/units/yijia", "/catalog/levels/high", "/catalog/full_register",
                                  "/catalog/high_risks_with_measures", "/catalog/due_for_review", "/catalog",
                                  "/search?q=报销", "/no-such-page"])
async def test_pages_speak_chinese_first_not_datasettes_stock_english(ds, path):
    """Titles, counts, filters, pagination, downloads and footers in Chinese with English beside them."""
    html = (await ds.client.get(path)).text
    body = re.sub(r'<span lang="en">[^<]*</span>', "", html.split("<body", 1)[1])  # English beside Chinese is fine
    assert [words for words in STOCK_WORDS if words in body] == []
    assert re.search(r"<title>[^<]*[\u4e00-\u9fff]", html)


async def test_table_page_puts_the_rows_before_the_column_notes(ds):
    """A table page: title and count, then the rows; the column descriptions folded away below."""
    html = (await ds.client.get("/catalog/risks")).text
    assert "<title>风险点 Risks · 51 行</title>" in html and "<h1>风险点" in html
    assert html.index('<table class="rows-and-columns">') < html.index('<details class="column-notes">')
    assert '<a href="/catalog/risks?_next=50">下一页' in html or "下一页" in html
    assert '直接责任人<span class="column-name">responsible_post_zh</span>' in html
    # Phone cards are labelled by the column's Chinese label, not its name: the site's rule for a cell
    # follows Datasette's own (which names the column), and in CSS the later rule is the one that applies.
    effective = dict(re.findall(r'td:nth-of-type\((\d+)\):before \{ content: "([^"]*)"; \}', html))
    assert "直接责任人（英文）" in effective.values() and "responsible_post_en" not in effective.values()
    assert "Excel (.xlsx)" in html and "CSV（Excel 可直接打开）" in html  # downloads of every row


async def test_breadcrumbs_name_the_pages(ds):
    """Breadcrumbs read 首页 / 数据 / 风险点 Risks, not home / catalog / risks."""
    html = (await ds.client.get("/catalog/units/yijia")).text
    crumbs = re.search(r'<p class="crumbs">(.*?)</p>', html, re.S).group(1)
    assert "首页" in crumbs and "数据" in crumbs and ">catalog<" not in crumbs
    assert '单位 <span lang="en">Units</span>' in crumbs  # a table's title, its English spoken in English


async def test_canned_queries_hide_their_sql_and_title_the_tab(ds):
    """Reader queries show no SQL (one link to it) and a Chinese tab title, never the statement."""
    for name, query in QUERIES.items():
        html = (await ds.client.get(f"/catalog/{name}", params=QUERY_PARAMS.get(name, {}))).text
        assert 'id="sql-query"' not in html and "select " not in html.split("<body", 1)[1].split("sql-link")[0]
        assert re.search(rf"<title>{re.escape(query['title'])}", html)
        assert "查看和修改 SQL" in html


async def test_full_register_numbers_its_items_and_prints_landscape(ds):
    """The register page numbers 表现形式 and 防控措施 ①②, one per line, and prints on A4 landscape."""
    html = (await ds.client.get("/catalog/full_register")).text
    assert "@page { size: A4 landscape" in html and "打印登记表" in html
    assert '<p class="register-title">易家街道廉政风险点登记表</p>' in html  # printed as the workbook is titled
    assert "① " in html and "② " in html and "。；" not in html


def test_the_printed_register_s_column_widths_fall_on_the_columns_they_name(catalog_db):
    """catalog.css sizes the printed 登记表's columns by position: each rule's comment names the register
    view's column at that position, so a column added to the registry cannot shift the widths unseen."""
    css = (Path(__file__).parent.parent / "riskcatalog" / "site" / "static" / "catalog.css").read_text(encoding="utf-8")
    rules = re.findall(r"\.query-full_register td:nth-child\((\d+)\) \{[^}]*\} /\* (\S+) \*/", css)
    with sqlite3.connect(catalog_db) as conn:
        columns = [row[1] for row in conn.execute("pragma table_info(register)")]
    assert len(rules) >= 8
    assert [(int(n), name) for n, name in rules] == [(int(n), columns[int(n) - 1]) for n, _ in rules]


async def test_not_found_is_chinese_with_a_way_home(ds):
    """A missing page answers 404 in Chinese and English, with the search box and a link home."""
    response = await ds.client.get("/catalog/no_such_table")
    assert response.status_code == 404
    assert "页面不存在" in response.text and "Page not found" in response.text
    assert 'href="/">返回首页' in response.text
    assert "/-/static-plugins/riskcatalog/catalog.css" in response.text  # styled like every other page


async def test_regulation_page_lists_every_risk_and_measure_citing_it(ds, catalog_db):
    """A regulation's page names it with issuer, number and date, and links everything that cites it."""
    html = (await ds.client.get("/catalog/sources/yijia-expropriation-regulation")).text
    with sqlite3.connect(catalog_db) as conn:
        risks = [r for (r,) in conn.execute("select risk from risk_sources where source = 'yijia-expropriation-regulation'")]
        measures = [m for (m,) in conn.execute(
            "select measure from measure_sources where source = 'yijia-expropriation-regulation'")]
    assert risks and measures
    for key in risks:
        assert f'href="/catalog/risks/{key}"' in html
    for key in measures:
        assert f'href="/catalog/measures/{key}"' in html
    assert "《国有土地上房屋征收与补偿条例》" in html and "国务院令第590号" in html and "2011-01-21" in html
    assert f"引用的风险点 <span lang=\"en\">Risks citing it</span> ({len(risks)})" in html
