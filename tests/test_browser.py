"""Headless Chromium against a real `datasette` process serving the built catalogue.

Every page records the URL of every request and every console error; after each test
no request may have left 127.0.0.1 and no console error may have occurred.
"""

from __future__ import annotations

import json
import os
import re
import sqlite3
from urllib.parse import quote, urlsplit

import pytest
from playwright.sync_api import Page, expect, sync_playwright

from riskcatalog import build as builder
from riskcatalog.site.serve import HOST, serving

from .conftest import PROJECT_ROOT, copy_catalog

pytestmark = pytest.mark.browser

CHROMIUM = os.environ.get("CHROMIUM") or "/usr/bin/chromium"  # as scripts/ensure-chromium
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync", "--no-first-run", "--disable-quic"]
SCREENSHOTS = PROJECT_ROOT / "screenshots"
PAYLOAD = '<script>window.__xss=1</script><img src=x onerror="window.__xss=2">'


@pytest.fixture(scope="module")
def server(catalog_db, tmp_path_factory) -> str:
    """Base URL of a real datasette process (serve.command) serving the shipped catalogue."""
    with serving(catalog_db, tmp_path_factory.mktemp("datasette") / "datasette.log", PROJECT_ROOT, timeout=30) as base:
        yield base


# Module scope: Playwright's sync API runs an event loop of its own, which must be gone before
# the async tests of other modules start theirs.
@pytest.fixture(scope="module")
def browser():
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS, headless=True)
        try:
            yield browser
        finally:
            browser.close()


@pytest.fixture
def page(browser):
    """A fresh page; after the test, no request left 127.0.0.1 and no console error occurred."""
    context = browser.new_context(viewport={"width": 1280, "height": 900}, locale="zh-CN")
    page = context.new_page()
    page.set_default_timeout(10_000)
    requests: list[str] = []
    errors: list[str] = []
    dialogs: list[str] = []
    page.on("request", lambda request: requests.append(request.url))
    page.on("console", lambda msg: errors.append(f"console: {msg.text}") if msg.type == "error" else None)
    page.on("pageerror", lambda exc: errors.append(f"page error: {exc}"))

    def on_dialog(dialog):
        dialogs.append(f"{dialog.type}: {dialog.message}")
        dialog.dismiss()

    page.on("dialog", on_dialog)
    page.dialogs = dialogs  # the XSS test checks that none fired
    try:
        yield page
    finally:
        context.close()
    foreign = [url for url in requests
               if urlsplit(url).scheme != "data" and urlsplit(url).hostname != HOST]
    assert requests, "the page made no requests"
    assert not foreign, f"requests left {HOST}: {foreign}"
    assert not errors, f"console errors: {errors}"


def _screenshot(page: Page, name: str) -> None:
    SCREENSHOTS.mkdir(exist_ok=True)
    page.screenshot(path=str(SCREENSHOTS / name), full_page=True)


def _entry_id(page: Page) -> str:
    return page.locator("article.entry h1 .entry-id").inner_text().strip()


def test_browse_area_risk_measure_risk(page, server, catalog_db):
    """Home → area → risk → measure → another risk of that measure, by clicking links."""
    with sqlite3.connect(catalog_db) as conn:
        area_risks = conn.execute("select count(*) from risks where area = 'yijia-land'").fetchone()[0]
        land_05_measures = json.loads(conn.execute(
            "select measure_ids from risks where key = 'yijia-LAND-05'").fetchone()[0])
    assert "STYLE-M01" in land_05_measures
    page.goto(server + "/")
    expect(page.locator("html")).to_have_attribute("lang", "zh-CN")
    expect(page.locator("section.hero h1")).to_contain_text("廉政风险点与防控措施目录")
    _screenshot(page, "home.png")

    page.locator("table.area-table a", has_text="国有土地征收").click()
    expect(page).to_have_url(re.compile(r"/catalog/areas/yijia-land$"))
    expect(page.locator("article.entry.area h1")).to_have_text("国有土地征收")
    expect(page.locator("li.risk-link")).to_have_count(area_risks)

    page.locator("li.risk-link a", has_text="LAND-05").click()
    expect(page).to_have_url(re.compile(r"/catalog/risks/yijia-LAND-05$"))
    assert _entry_id(page) == "LAND-05"
    measure_ids = page.locator("tr.measure-link td:first-child a").all_inner_texts()
    assert measure_ids == land_05_measures
    expect(page.locator("article.entry.risk h2", has_text="防控措施")).to_contain_text(f"({len(measure_ids)})")
    _screenshot(page, "risk.png")

    page.locator("tr.measure-link a", has_text="STYLE-M01").click()
    expect(page).to_have_url(re.compile(r"/catalog/measures/yijia-STYLE-M01$"))
    assert _entry_id(page) == "STYLE-M01"
    risk_ids = page.locator("tr.risk-link td:first-child a").all_inner_texts()
    assert "LAND-05" in risk_ids and len(risk_ids) > 1, risk_ids
    areas = set(page.locator("tr.risk-link td:nth-child(3)").all_inner_texts())
    assert len(areas) > 1, f"STYLE-M01 should be linked from several areas: {areas}"

    other = next(risk_id for risk_id in risk_ids if risk_id != "LAND-05")
    page.locator("tr.risk-link td:first-child a", has_text=other).click()
    expect(page).to_have_url(re.compile(rf"/catalog/risks/yijia-{other}$"))
    assert _entry_id(page) == other
    expect(page.locator("tr.measure-link td:first-child a", has_text="STYLE-M01")).to_be_visible()


def _search_from_home(page: Page, server: str, query: str) -> list[tuple[str, str]]:
    page.goto(server + "/")
    page.locator("#catalog-search").fill(query)
    page.locator("form.search button[type=submit]").click()
    expect(page).to_have_url(re.compile(r"/catalog/search\?"))
    assert page.url.endswith("q=" + quote(query))
    rows = page.locator("table.rows-and-columns tbody tr")
    expect(rows.first).to_be_visible()
    return [(row.locator("td.col-kind").inner_text().strip(), row.locator("td.col-id").inner_text().strip())
            for row in rows.all()]


def test_search_simplified_and_traditional(page, server, catalog_db):
    """The home search box finds the REIM risks for 报销 and, identically, for 報銷."""
    simplified = _search_from_home(page, server, "报销")
    traditional = _search_from_home(page, server, "報銷")
    assert simplified == traditional
    risks = {risk_id for kind, risk_id in simplified if kind == "risk"}
    with sqlite3.connect(catalog_db) as conn:
        titled = {row[0] for row in conn.execute(
            "select id from risks where title_zh like '%报销%' and status = 'active'")}
    assert titled and titled <= risks, (titled, risks)
    reim = {risk_id for risk_id in risks if risk_id.startswith("REIM-")}
    assert len(reim) > len(risks) / 2, risks


def test_heatmap_cell_filters_risks(page, server):
    """A nonzero heat-map cell leads to a risks table of exactly that many rows, all in that cell."""
    page.goto(server + "/")
    cells = page.locator("table.heat td.cell a")
    expect(cells).to_have_count(25)
    counts = [(int(a.inner_text() or 0), a.get_attribute("data-likelihood"), a.get_attribute("data-impact"))
              for a in cells.all()]
    count, likelihood, impact = max(counts)
    assert count > 1
    assert sum(n for n, _, _ in counts) == int(page.locator(".totals strong").first.inner_text())

    cells.nth(counts.index((count, likelihood, impact))).click()
    expect(page).to_have_url(re.compile(r"/catalog/risks\?"))
    rows = page.locator("table.rows-and-columns tbody tr")
    expect(rows).to_have_count(count)
    assert page.locator("td.col-likelihood").all_inner_texts() == [likelihood] * count
    assert page.locator("td.col-impact").all_inner_texts() == [impact] * count
    assert page.locator("td.col-status").all_inner_texts() == ["active"] * count
    expect(page.locator("h3").first).to_contain_text(f"{count} row")


def _yaml_quoted(text: str) -> str:
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"') + '"'


def test_markup_in_catalogue_is_shown_as_text(page, tmp_path):
    """Markup in a risk's text is escaped on the risk page, the risks table and search results."""
    folder = copy_catalog(tmp_path / "catalog")
    land = folder / "land.yml"
    text = land.read_text(encoding="utf-8")
    title = "征收范围和补偿政策提前泄露，诱发抢建抢装"
    old_title = f"    title_zh: {title}\n"
    old_description = re.search(r"^    description_en: The expropriation area and the compensation plan .*\n",
                                text, re.M).group(0)
    assert text.count(old_title) == 1
    text = text.replace(old_title, f"    title_zh: {_yaml_quoted(PAYLOAD + title)}\n")
    text = text.replace(old_description, f"    description_en: {_yaml_quoted(PAYLOAD + ' leak')}\n", 1)
    land.write_text(text, encoding="utf-8")
    output = tmp_path / "x" / "catalog.db"
    output.parent.mkdir()
    builder.build([folder], output)
    with sqlite3.connect(output) as conn:
        assert conn.execute("select title_zh, description_en from risks where id = 'LAND-01'").fetchone() == (
            PAYLOAD + title, PAYLOAD + " leak")

    with serving(output, tmp_path / "datasette.log", PROJECT_ROOT, timeout=30) as base:
        pages = {
            "risk page": (f"{base}/catalog/risks/yijia-LAND-01", "article.entry.risk"),
            "risks table": (f"{base}/catalog/risks?area=yijia-land", "td.col-title_zh"),
            "search": (f"{base}/catalog/search?q=" + quote("抢建抢装"), "td.col-title_zh"),
        }
        for name, (url, where) in pages.items():
            page.goto(url)
            expect(page.locator(where).first).to_contain_text("<script>window.__xss=1</script>")
            expect(page.get_by_text("<script>window.__xss=1</script>").first).to_be_visible()
            assert page.evaluate("typeof window.__xss") == "undefined", name
            assert page.locator("img[src=x]").count() == 0, name
        page.goto(f"{base}/catalog/risks/yijia-LAND-01")
        expect(page.locator("p.en", has_text="leak")).to_contain_text(PAYLOAD)
        page.wait_for_timeout(200)
        assert page.evaluate("typeof window.__xss") == "undefined"
    assert page.dialogs == []
