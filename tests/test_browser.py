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
    if getattr(page, "expects_404", False):  # the page itself answers 404, as it should; the browser logs it
        errors = [e for e in errors if "status of 404" not in e]
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
        land_07_measures = json.loads(conn.execute(
            "select measure_ids from risks where key = 'yijia-LAND-07'").fetchone()[0])
    assert "CASE-M01" in land_07_measures
    page.goto(server + "/")
    expect(page.locator("html")).to_have_attribute("lang", "zh-CN")
    expect(page.locator("section.hero h1")).to_contain_text("廉政风险点与防控措施目录")
    _screenshot(page, "home.png")

    page.locator("table.area-table a", has_text="国有土地征收").click()
    expect(page).to_have_url(re.compile(r"/catalog/areas/yijia-land$"))
    expect(page.locator("article.entry.area h1")).to_have_text("国有土地征收")
    expect(page.locator("li.risk-link")).to_have_count(area_risks)

    page.locator("li.risk-link a", has_text="LAND-07").click()
    expect(page).to_have_url(re.compile(r"/catalog/risks/yijia-LAND-07$"))
    assert _entry_id(page) == "LAND-07"
    measure_ids = page.locator("li.measure-link a .entry-id").all_inner_texts()
    assert measure_ids == land_07_measures
    expect(page.locator("article.entry.risk h2", has_text="防控措施")).to_contain_text(f"({len(measure_ids)})")
    _screenshot(page, "risk.png")

    page.locator("li.measure-link a", has_text="CASE-M01").click()
    expect(page).to_have_url(re.compile(r"/catalog/measures/yijia-CASE-M01$"))
    assert _entry_id(page) == "CASE-M01"
    risk_ids = page.locator("li.risk-link a .entry-id").all_inner_texts()
    assert "LAND-07" in risk_ids and len(risk_ids) > 1, risk_ids
    areas = set(page.locator("li.risk-link .meta a").all_inner_texts())
    assert len(areas) > 1, f"CASE-M01 should be linked from several areas: {areas}"

    other = next(risk_id for risk_id in risk_ids if risk_id != "LAND-07")
    page.locator("li.risk-link a", has_text=other).click()
    expect(page).to_have_url(re.compile(rf"/catalog/risks/yijia-{other}$"))
    assert _entry_id(page) == other
    expect(page.locator("li.measure-link a", has_text="CASE-M01")).to_be_visible()


def _search_from_home(page: Page, server: str, query: str) -> list[tuple[str, str]]:
    page.goto(server + "/")
    page.locator("#catalog-search").fill(query)
    page.locator("form.search button[type=submit]").click()
    expect(page).to_have_url(re.compile(r"/search\?"))
    assert page.url.endswith("q=" + quote(query))
    results = page.locator("section.results li.result")
    expect(results.first).to_be_visible()
    return [(result.locator("xpath=ancestor::section[1]").get_attribute("id"),
             result.locator(".entry-id").inner_text().strip()) for result in results.all()]


def test_search_simplified_and_traditional(page, server, catalog_db):
    """The home search box finds the REIM risks for 报销 and, identically, for 報銷."""
    simplified = _search_from_home(page, server, "报销")
    traditional = _search_from_home(page, server, "報銷")
    assert simplified == traditional
    risks = {risk_id for kind, risk_id in simplified if kind == "risks"}
    with sqlite3.connect(catalog_db) as conn:
        titled = {row[0] for row in conn.execute(
            "select id from risks where title_zh like '%报销%' and status = 'active'")}
    assert titled and titled <= risks, (titled, risks)
    reim = {risk_id for risk_id in risks if risk_id.startswith("REIM-")}
    assert len(reim) > len(risks) / 2, risks


def test_heatmap_cell_lists_its_risks(page, server):
    """A nonzero heat-map cell leads to a list of exactly that many risks, all in that cell; empty cells
    are no links."""
    page.goto(server + "/")
    cells = page.locator("table.heat td.cell")
    expect(cells).to_have_count(25)
    counts = [(int(cell.get_attribute("data-count")), cell.get_attribute("data-likelihood"),
               cell.get_attribute("data-impact")) for cell in cells.all()]
    assert all(cell.locator("a .n").inner_text() == str(n) for cell, (n, _, _) in zip(cells.all(), counts) if n)
    assert page.locator("table.heat td.cell a").count() == sum(1 for n, _, _ in counts if n)
    count, likelihood, impact = max(counts)
    assert count > 1
    assert sum(n for n, _, _ in counts) == int(page.locator(".totals strong").first.inner_text())

    cells.nth(counts.index((count, likelihood, impact))).locator("a").click()
    expect(page).to_have_url(re.compile(r"/search\?likelihood="))
    expect(page.locator("section.results li.result")).to_have_count(count)
    expect(page.locator("h1")).to_contain_text(f"可能性 {likelihood} × 影响 {impact}")
    assert all(meta.endswith(f"可能性 {likelihood} × 影响 {impact}")
               for meta in page.locator(".result-meta").all_inner_texts())
    page.locator(".table-link a").first.click()
    expect(page.locator("table.rows-and-columns tbody tr")).to_have_count(count)


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
            "list": (f"{base}/search?area=land", "li.result .result-title"),
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


# --- every page a reader reaches, at a desktop's and a phone's width; print ----------------------

WIDTHS = {"desktop": 1366, "phone": 390}
READER_PAGES = {
    "home": "/", "area": "/catalog/areas/yijia-land", "risk": "/catalog/risks/yijia-LAND-01",
    "measure": "/catalog/measures/yijia-STYLE-M01", "regulation": "/catalog/sources/yijia-expropriation-regulation",
    "search": "/search?q=" + quote("报销"), "list": "/search?area=land&level=high",
    "heat-map list": "/search?likelihood=4&impact=4", "no results": "/search?q=" + quote("火星移民"),
    "phrase": "/search?q=" + quote("低保审核"), "partial": "/search?q=" + quote("低保火箭"),
    "area and level": "/catalog/risks_by_area_and_level", "high risks": "/catalog/high_risks_with_measures",
    "cross-area": "/catalog/cross_area_measures", "single measure": "/catalog/single_measure_risks",
    "responsibility": "/catalog/responsibility_list", "due": "/catalog/due_for_review?as_of=2019-05-01",
    "register": "/catalog/full_register", "not found": "/catalog/risks/LAND-99", "changes": "/changes",
    "changes since": "/catalog/changes_since?since=&until=", "level changes": "/catalog/level_changes?since=",
    "powers": "/powers", "power": "/powers/yijia-LAND-P01", "cards": "/cards",
    "card": "/cards/yijia-collective-assets-officer",
}


@pytest.fixture(params=list(WIDTHS))
def sized_page(request, page):
    page.set_viewport_size({"width": WIDTHS[request.param], "height": 844 if request.param == "phone" else 900})
    page.width_name = request.param
    return page


def _sideways(page: Page) -> int:
    """How far the page scrolls sideways: 0 when nothing is wider than the window."""
    return page.evaluate("document.documentElement.scrollWidth - document.documentElement.clientWidth")


@pytest.mark.parametrize("name", list(READER_PAGES))
def test_no_reader_page_scrolls_sideways(sized_page, server, name):
    """At 1,366 and 390 px wide, no page a reader reaches is wider than the window."""
    sized_page.expects_404 = name == "not found"
    sized_page.goto(server + READER_PAGES[name])
    assert _sideways(sized_page) <= 0, f"{name} at {sized_page.width_name}: {_sideways(sized_page)} px"


def test_first_search_result_is_visible_without_scrolling(sized_page, server):
    """The first result of a search is on the first screen, at both widths, below how the search was read;
    phone screenshots are kept."""
    for query in ("报销", "低保审核"):
        sized_page.goto(server + "/search?q=" + quote(query))
        box = sized_page.locator("li.result").first.bounding_box()
        assert box and box["y"] + box["height"] <= sized_page.viewport_size["height"], (query, box)
    assert sized_page.locator("p.reading").is_visible()
    if sized_page.width_name == "phone":
        _screenshot(sized_page, "phone-search-phrase.png")
        sized_page.goto(server + "/search?q=" + quote("报销"))
        _screenshot(sized_page, "phone-search.png")
        sized_page.goto(server + READER_PAGES["list"])
        _screenshot(sized_page, "phone-list.png")
        sized_page.goto(server + READER_PAGES["risk"])
        _screenshot(sized_page, "phone-risk.png")
        sized_page.goto(server + READER_PAGES["register"])
        _screenshot(sized_page, "phone-register.png")


@pytest.mark.parametrize("name", ["home", "area", "risk", "measure", "regulation", "search", "list", "changes",
                                  "powers", "power", "card"])
def test_print_shows_the_content_not_the_site_around_it(page, server, name):
    """In print, no navigation, footer, search form, edit link or button is shown; the content is."""
    page.goto(server + READER_PAGES[name])
    page.emulate_media(media="print")
    shown = page.evaluate("""() => [...document.querySelectorAll(
        'header, footer, form, button, p.edit, details.raw, details.filters, .export-links')]
        .filter(e => getComputedStyle(e).display !== 'none').map(e => e.tagName + '.' + e.className)""")
    assert shown == []
    assert page.locator("h1").first.is_visible()


def test_printed_register_repeats_its_header_row_on_every_page(page, server, tmp_path):
    """Print-to-PDF of the register: A4 landscape, several pages, each starting with the header row."""
    from pypdf import PdfReader

    page.goto(server + READER_PAGES["register"])
    pdf = tmp_path / "register.pdf"
    page.pdf(path=str(pdf), prefer_css_page_size=True, print_background=True)
    reader = PdfReader(str(pdf))
    assert len(reader.pages) >= 3
    for number, sheet in enumerate(reader.pages, 1):
        width, height = float(sheet.mediabox.width), float(sheet.mediabox.height)
        assert width > height and abs(width - 842) < 2, (number, width, height)  # A4 landscape, in points
        text = re.sub(r"\s", "", sheet.extract_text())  # a narrow header cell breaks its words over lines
        assert all(header in text for header in ("序号", "领域", "职权事项", "表现形式", "防控措施", "监督主体")), number
    _screenshot(page, "register.png")


def test_phone_cards_of_a_data_table_are_labelled_in_chinese(page, server):
    """At 390 px a table's rows are cards; each value is labelled by its column's Chinese label."""
    page.set_viewport_size({"width": 390, "height": 844})
    page.goto(server + "/catalog/risks?area=yijia-land")
    label = page.evaluate("""() => getComputedStyle(document.querySelector('td.col-responsible_post_en'),
                                                     '::before').content""")
    assert label == '"直接责任人（英文）"'
