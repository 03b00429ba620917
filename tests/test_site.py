"""The Datasette site in-process: every page, every canned query, search, escaping, offline."""

from __future__ import annotations

import re
import sqlite3
import subprocess
import sys
from html.parser import HTMLParser
from urllib.parse import urlsplit

import pytest
import yaml

from datasette.app import Datasette

from riskcatalog import build as build_db
from riskcatalog.site.serve import SETTINGS

from .conftest import PROJECT_ROOT, copy_catalog, make_datasette

METADATA = yaml.safe_load((PROJECT_ROOT / "metadata.yml").read_text(encoding="utf-8"))
QUERIES = METADATA["databases"]["catalog"]["queries"]
QUERY_PARAMS = {"search": {"q": "报销"}, "due_for_review": {"as_of": ""}}
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
    plain = await ds.client.get("/catalog/risks?_size=100")
    traced = await ds.client.get("/catalog/risks?_size=100&_trace=1")
    assert len(plain.content) > 256 * 1024
    assert traced.status_code == 200 and traced.text.rstrip().endswith("</html>")


async def test_other_databases_keep_datasettes_own_home_page(tmp_path):
    """With the plugin installed but no catalogue served, / is Datasette's index of the databases."""
    other = tmp_path / "other.db"
    with sqlite3.connect(other) as conn:
        conn.execute("create table notes (body text)")
    ds = Datasette([str(other)], template_dir=str(PROJECT_ROOT / "templates"), settings=SETTINGS)
    response = await ds.client.get("/")
    assert response.status_code == 200 and 'href="/other"' in response.text
    assert "廉政风险点" not in response.text


def test_static_css_loads_nothing_from_elsewhere():
    """The stylesheet names only local fonts and no remote url()."""
    css = (PROJECT_ROOT / "static" / "catalog.css").read_text(encoding="utf-8")
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
    assert csv.status_code == 200 and len(csv.text.splitlines()) == len(data.json()) + 1


async def test_pivot_counts_every_active_risk_once(ds):
    """risks_by_area_and_level: eight areas whose totals add up to 51 and equal their level counts."""
    rows = (await ds.client.get("/catalog/risks_by_area_and_level.json?_shape=array")).json()
    assert [r["area_id"] for r in rows][:2] == ["land", "village"] and len(rows) == 8
    assert sum(r["合计_total"] for r in rows) == 51
    assert all(r["一级_high"] + r["二级_medium"] + r["三级_low"] == r["合计_total"] for r in rows)


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
    assert {r["risk_key"] for r in rows} == single
    cross = (await ds.client.get("/catalog/cross_area_measures.json?_shape=array")).json()
    assert {"STYLE-M01", "CASE-M01"} <= {r["id"] for r in cross}


@pytest.mark.parametrize("query", ["报销", "報銷", "账", "公示期", "虚报冒领", "Petitions"])
async def test_search_query_covers_risks_and_measures(ds, query):
    """The canned search finds the same risks as the table search, plus measures, in HTML and JSON."""
    table = await ds.client.get("/catalog/risks.json", params={"_search": query, "_shape": "array", "_col": "id"})
    rows = (await ds.client.get("/catalog/search.json", params={"q": query, "_shape": "array"})).json()
    measures = await ds.client.get("/catalog/measures.json",
                                   params={"_search": query, "_shape": "array", "_col": "id"})
    assert {r["id"] for r in rows if r["kind"] == "risk"} == {r["id"] for r in table.json()}
    assert {r["id"] for r in rows if r["kind"] == "measure"} == {r["id"] for r in measures.json()}
    assert len(rows) > 0
    html = await ds.client.get("/catalog/search", params={"q": query})
    for row in rows:  # every result links to its own page
        kind, key = ("risks", row["risk_key"]) if row["kind"] == "risk" else ("measures", row["measure_key"])
        assert f'href="/catalog/{kind}/{key}"' in html.text


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
    cells = re.findall(r'data-likelihood="(\d)" data-impact="(\d)">(\d*)<', html)
    assert len(cells) == 25 and sum(int(n or 0) for _, _, n in cells) == 51
    assert 'href="/catalog/risks?likelihood=5&amp;impact=5&amp;status=active"' in html
    for name, query in QUERIES.items():
        assert f'href="/catalog/{name}"' in html and query["title"] in html
    assert 'action="/catalog/search"' in html


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
    assert html.count('class="area-row"') == 8 and 'href="/catalog/areas?id=land"' in html


async def test_heatmap_cell_links_to_its_risks(ds, catalog_db):
    """A heat-map cell's count equals the rows its link returns."""
    html = (await ds.client.get("/")).text
    likelihood, impact, count = next((lk, im, n) for lk, im, n in re.findall(
        r'data-likelihood="(\d)" data-impact="(\d)">(\d+)<', html))
    rows = (await ds.client.get("/catalog/risks.json", params={
        "likelihood": likelihood, "impact": impact, "status": "active", "_shape": "array"})).json()
    assert len(rows) == int(count) > 0


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
        assert f'href="/catalog/measures/yijia-{measure_id}">{measure_id}</a>' in html
    assert "国有土地上房屋征收与补偿条例" in html and "国务院令第590号" in html
    line = next(n for n, text in enumerate((PROJECT_ROOT / "catalog/land.yml").read_text().splitlines(), 1)
                if text.strip() == "- id: LAND-01")
    assert f'href="https://github.com/integrity-register/riskcatalog/blob/main/catalog/land.yml#L{line}"' in html


async def test_measure_page_lists_every_risk_it_controls_across_areas(ds):
    """STYLE-M01's page links every risk that names it, in several areas."""
    html = (await ds.client.get("/catalog/measures/yijia-STYLE-M01")).text
    rows = (await ds.client.get("/catalog/risk_measures.json?measure=yijia-STYLE-M01&_shape=array")).json()
    assert len(rows) >= 4
    for row in rows:
        assert f'href="/catalog/risks/{row["risk"]}"' in html
    assert "留痕资料" in html and "执行频次" in html


async def test_area_page_groups_its_risks_by_level(ds):
    """The area page lists its risks under 一级, 二级, 三级 headings in that order."""
    html = (await ds.client.get("/catalog/areas/yijia-village")).text
    headings = re.findall(r'class="level-heading"><span class="level level-(\w+)"', html)
    assert headings == sorted(headings, key=["high", "medium", "low"].index) and len(headings) >= 2
    assert html.count('class="risk-link"') == 7


async def test_query_results_link_keys_to_row_pages(ds):
    """risk_key and measure_key cells in canned queries link to the row pages."""
    html = (await ds.client.get("/catalog/single_measure_risks")).text
    assert re.search(r'<a href="/catalog/risks/yijia-[A-Z]+-\d+">yijia-[A-Z]+-\d+</a>', html)
    assert re.search(r'<a href="/catalog/measures/yijia-[A-Z]+-M\d+">', html)


async def test_facets_include_the_array_facet_across_the_link(ds):
    """The risks table facets by area, level, category and, through JSON arrays, by measure."""
    data = (await ds.client.get("/catalog/risks.json?_facet_array=measure_ids")).json()
    assert {"area", "level", "category", "measure_ids"} <= set(data["facet_results"])
    style = [v for v in data["facet_results"]["measure_ids"]["results"] if v["value"] == "STYLE-M01"]
    assert style and style[0]["count"] >= 4


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
    text = text.replace("title_zh: ", f'title_zh: "{payload}" #', 1)
    (folder / "land.yml").write_text(text, encoding="utf-8")
    output = tmp_path / "site" / "catalog.db"
    output.parent.mkdir()
    build_db.build([folder], output)
    ds = make_datasette(output)
    for path in ("/catalog/risks/yijia-LAND-01", "/catalog/risks", "/catalog/measures/yijia-LAND-M01",
                 "/catalog/areas/yijia-land", "/catalog/register", "/catalog/search?q=alert"):
        html = (await ds.client.get(path)).text
        assert payload not in html, path
        assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html, path


def escape(text: str) -> str:
    from markupsafe import escape as markup_escape

    return str(markup_escape(text))


def test_site_loads_no_part_of_the_build_but_the_search_text():
    """A Datasette process with the plugin imports riskcatalog.site and riskcatalog.search only:
    not the validator, the YAML loaders or jsonschema."""
    probe = ("import sys; from datasette.app import Datasette; import riskcatalog.site; "
             "print(sorted(m for m in sys.modules if m.startswith(('riskcatalog', 'jsonschema', 'ruamel'))))")
    loaded = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, check=True).stdout
    assert loaded.strip() == str(["riskcatalog", "riskcatalog.search", "riskcatalog.site",
                                  "riskcatalog.site.hardening", "riskcatalog.site.history",
                                  "riskcatalog.site.pages"])
