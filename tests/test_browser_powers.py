"""The powers' pages in the real browser (issue 25): each power's flowchart holds every risk of the power with a
working link, reads at 390 px without sideways scrolling, and prints on one A4 page; the cards print one to a page.

Screenshots of a flowchart and a card, at both widths and as printed, are kept in screenshots/ for a look.
"""

from __future__ import annotations

import re
import sqlite3

import pytest
from pypdf import PdfReader

from .test_browser import SCREENSHOTS, WIDTHS, _screenshot, _sideways, browser, page, server, sized_page  # noqa: F401

pytestmark = pytest.mark.browser

#: A4 in points, portrait.
A4 = (595, 842)


def powers(catalog_db) -> list[tuple[str, list[str]]]:
    """Each power's key and the keys of the active risks standing on it."""
    with sqlite3.connect(catalog_db) as conn:
        found = {key: [] for (key,) in conn.execute("select key from powers order by rowid")}
        for power, risk in conn.execute("select power, key from risks where status = 'active' and power is not null"):
            found[power].append(risk)
    return list(found.items())


def _visible_chart(page) -> str:
    """The class of the flowchart the page shows (wide on a desk, narrow on a phone)."""
    return page.evaluate("""() => [...document.querySelectorAll('svg.flowchart')]
        .filter(svg => getComputedStyle(svg).display !== 'none').map(svg => svg.classList[1]).join(' ')""")


def test_every_flowchart_shows_each_of_its_risks_linked_and_fits_the_screen(sized_page, server, catalog_db):
    """At 1,366 and 390 px, for every power: one chart shown (wide, or narrow on the phone), no wider than the
    window, holding a link to each risk of the power; nothing scrolls sideways."""
    expected = {"desktop": "flow-wide", "phone": "flow-narrow"}[sized_page.width_name]
    for power, risks in powers(catalog_db):
        sized_page.goto(f"{server}/powers/{power}")
        assert _visible_chart(sized_page) == expected, power
        chart = sized_page.locator(f"svg.{expected}")
        box = chart.bounding_box()
        assert box["x"] >= 0 and box["x"] + box["width"] <= WIDTHS[sized_page.width_name], (power, box)
        linked = set(chart.evaluate("""svg => [...svg.querySelectorAll('a')].map(a => a.getAttribute('href'))
            .filter(href => href.includes('/risks/')).map(href => href.split('/').pop())"""))
        assert linked == set(risks), power
        assert _sideways(sized_page) <= 0, (power, _sideways(sized_page))
    if sized_page.width_name == "phone":
        sized_page.goto(f"{server}/powers/yijia-WELF-P01")
        _screenshot(sized_page, "phone-flowchart.png")
        chart = sized_page.locator("svg.flow-narrow")
        scale = chart.bounding_box()["width"] / float(chart.get_attribute("width"))
        assert scale > 0.95, scale  # drawn at its size: its text as legible as the page's small print
    else:
        sized_page.goto(f"{server}/powers/yijia-WELF-P01")
        _screenshot(sized_page, "flowchart.png")


def test_a_risk_in_the_flowchart_is_a_working_link(page, server):
    page.goto(f"{server}/powers/yijia-REIM-P02")
    page.locator("svg.flow-wide a").filter(has_text="REIM-06").first.click()
    page.wait_for_url(re.compile(r"/catalog/risks/yijia-REIM-06$"))
    assert page.locator("h1").first.inner_text().startswith("REIM-06")


def test_every_power_prints_on_one_a4_page(page, server, catalog_db, tmp_path):
    """Print to PDF: one A4 portrait page per power, its title and its chart (with its risks' ids) on it."""
    for power, risks in powers(catalog_db):
        page.goto(f"{server}/powers/{power}")
        pdf = tmp_path / "power.pdf"
        page.pdf(path=str(pdf), prefer_css_page_size=True, print_background=True)
        reader = PdfReader(str(pdf))
        assert len(reader.pages) == 1, (power, len(reader.pages))
        sheet = reader.pages[0]
        assert (round(float(sheet.mediabox.width)), round(float(sheet.mediabox.height))) == A4, power
        text = re.sub(r"\s", "", sheet.extract_text())
        assert power.removeprefix("yijia-") in text
        for risk in risks:
            assert risk.removeprefix("yijia-") in text, (power, risk)
    page.goto(f"{server}/powers/yijia-LAND-P01")
    page.emulate_media(media="print")
    _screenshot(page, "flowchart-print.png")


def test_the_cards_print_one_to_an_a4_page_each_with_its_signature_lines(page, server, catalog_db, tmp_path):
    with sqlite3.connect(catalog_db) as conn:
        posts = [title for (title,) in conn.execute("select title_zh from posts order by rowid")]
    page.goto(f"{server}/cards")
    pdf = tmp_path / "cards.pdf"
    page.pdf(path=str(pdf), prefer_css_page_size=True, print_background=True)
    reader = PdfReader(str(pdf))
    assert len(reader.pages) == len(posts) == 32
    for sheet, title in zip(reader.pages, posts):
        assert (round(float(sheet.mediabox.width)), round(float(sheet.mediabox.height))) == A4
        text = re.sub(r"\s", "", sheet.extract_text())
        assert "岗位廉政风险防控卡" in text and re.sub(r"\s", "", title) in text
        assert "岗位责任人（签字）" in text and "责任领导（签字）" in text
    page.goto(f"{server}/cards/yijia-collective-assets-officer")
    page.emulate_media(media="print")
    _screenshot(page, "card-print.png")
