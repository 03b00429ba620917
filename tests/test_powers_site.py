"""The powers' pages in-process (issue 25): the 职权目录, each power's flowchart and its text, the risk cards, the
Word downloads, and the steps on risk and measure pages; a register without powers still serves."""

from __future__ import annotations

import io
import re
import sqlite3
from html import unescape

import pytest
from docx import Document

from riskcatalog import build as build_db
from riskcatalog.documents import data

from .conftest import make_datasette


def keys(catalog_db, sql: str) -> list[str]:
    with sqlite3.connect(catalog_db) as conn:
        return [row[0] for row in conn.execute(sql)]


async def test_home_offers_the_catalogue_of_powers_the_cards_and_the_handbook(ds):
    html = (await ds.client.get("/")).text
    assert '<a href="/powers"><strong>职权目录</strong></a>：23 项职权' in html
    assert '<a href="/cards"><strong>岗位廉政风险防控卡</strong></a>：32 个岗位' in html
    assert 'href="/-/handbook.docx"' in html and 'href="/-/cards.docx"' in html


async def test_the_catalogue_lists_every_power_by_area_and_by_post_with_its_basis(ds, catalog_db):
    response = await ds.client.get("/powers")
    assert response.status_code == 200
    html = response.text
    for key in keys(catalog_db, "select key from powers"):
        assert html.count(f'href="/powers/{key}"') >= 2, key  # in its area, and under each post exercising it
    for key in keys(catalog_db, "select distinct source from power_sources"):
        assert f'href="/catalog/sources/{key}"' in html
    for key in keys(catalog_db, "select key from posts"):
        assert f'href="/cards/{key}"' in html
    assert "<strong>23</strong> 项职权" in html and "<strong>155</strong> 个流程环节" in html
    headings = re.findall(r"<h3><a [^>]+>([^<]+)</a>", html)
    assert headings == keys(catalog_db, "select name_zh from areas order by position")


async def test_a_power_page_draws_its_flowchart_and_says_it_as_text(ds, catalog_db):
    """WELF-P01: the wide and narrow SVG, each with every risk on the power linked; the ordered list of its nine
    steps with their branches and risks, every risk and measure linked."""
    response = await ds.client.get("/powers/WELF-P01")
    assert response.status_code == 302 and response.headers["location"] == "/powers/yijia-WELF-P01"
    html = (await ds.client.get("/powers/yijia-WELF-P01")).text
    svgs = re.findall(r'<svg [^>]*class="flowchart (flow-\w+)".*?</svg>', html, re.S)
    assert svgs == ["flow-wide", "flow-narrow"]  # a short power prints its wide chart
    risks = keys(catalog_db, "select key from risks where power = 'yijia-WELF-P01'")
    assert len(risks) == 4
    for chart in re.findall(r"<svg .*?</svg>", html, re.S):
        assert 'aria-hidden="true"' in chart and "http" not in chart.replace('xmlns="http://www.w3.org/2000/svg"', "")
        for key in risks:
            assert f'<a href="/catalog/risks/{key}" tabindex="-1">' in chart
    text = html.split('<ol class="flow-steps">')[1].split("</ol>\n</article>")[0]
    steps = re.findall(r'<li id="step-([a-z-]+)"><strong>([^<]+)</strong>', text)
    assert [step for step, _ in steps] == ["apply", "accept", "survey", "appraisal", "review", "posting", "approval",
                                           "payment", "periodic-review"]
    for key in risks:
        assert f'href="/catalog/risks/{key}"' in text
    assert "若公示有异议：转至第 3 环节「" in unescape(text) and '<a href="#step-survey">' in text
    assert 'href="/catalog/measures/yijia-WELF-M02"' in text


async def test_a_long_power_also_carries_the_chart_it_prints(ds):
    html = (await ds.client.get("/powers/yijia-LAND-P01")).text
    assert re.findall(r'class="flowchart (flow-\w+)"', html) == ["flow-wide", "flow-narrow", "flow-print"]
    assert 'class="power-page has-print-chart"' in html


async def test_every_power_page_holds_each_of_its_risks(ds, catalog_db):
    with sqlite3.connect(catalog_db) as conn:
        placed = conn.execute("select power, key from risks where status = 'active'").fetchall()
    for power in keys(catalog_db, "select key from powers"):
        html = (await ds.client.get(f"/powers/{power}")).text
        wide = re.search(r'<svg [^>]*class="flowchart flow-wide".*?</svg>', html, re.S).group(0)
        linked = set(re.findall(r'<a href="/catalog/risks/([^"]+)" tabindex="-1">', wide))
        assert linked == {key for on, key in placed if on == power}, power


async def test_unknown_powers_and_posts_are_404_in_both_languages(ds):
    response = await ds.client.get("/powers/WELF-P99")
    assert response.status_code == 404 and "没有编号为 WELF-P99 的职权" in response.text
    assert "No power has the id WELF-P99" in response.text
    response = await ds.client.get("/cards/treasurer")
    assert response.status_code == 404 and "没有编号为 treasurer 的岗位" in response.text
    response = await ds.client.get("/powers?unit=nowhere")
    assert response.status_code == 404 and "没有单位 nowhere" in response.text


async def test_a_card_holds_the_post_s_risks_measures_leader_commitment_and_signature_lines(ds, catalog_db):
    response = await ds.client.get("/cards/civil-affairs-officer")
    assert response.headers["location"] == "/cards/yijia-civil-affairs-officer"
    html = (await ds.client.get("/cards/yijia-civil-affairs-officer")).text
    with sqlite3.connect(catalog_db) as conn:
        card = data.cards(conn, "yijia", "yijia-civil-affairs-officer")[0]
    assert [risk.id for risk in card.risks] == ["WELF-01", "WELF-02", "WELF-04", "WELF-05", "WELF-06", "WELF-07", "PET-06"]
    for risk in card.risks:
        assert f'href="/catalog/risks/{risk.key}"' in html
        for measure in risk.measures:
            assert f'href="/catalog/measures/{measure.key}"' in html
    assert "分管民政工作的副主任" in html and data.COMMITMENT_ZH in html
    assert html.count('<span class="sign-line"></span>') == 2
    assert "岗位责任人（签字）" in html and "责任领导（签字）" in html
    assert '<h1 class="card-title"' in html


async def test_the_cards_page_has_every_post_s_card(ds, catalog_db):
    html = (await ds.client.get("/cards")).text
    assert html.count('<section class="risk-card"') == 32
    assert html.count("岗位责任人（签字）") == 32
    assert 'id="card-labour-security-officer"' in html and "本岗位所涉职权暂未查找出廉政风险点" in html


async def test_risk_and_measure_pages_show_the_steps_they_stand_on(ds):
    html = (await ds.client.get("/catalog/risks/yijia-WELF-01")).text
    assert "<dt>流程环节 <span" in html  # the field's label in the registry
    for step in ("apply", "accept", "appraisal"):
        assert f'href="/powers/yijia-WELF-P01#step-{step}"' in html
    assert "第 1 环节 申请（书面申请，授权核对家庭经济状况）" in html
    html = (await ds.client.get("/catalog/measures/yijia-WELF-M02")).text
    assert "作用环节" in html and 'href="/powers/yijia-WELF-P01#step-survey"' in html


async def test_the_word_downloads_are_documents_with_the_cards_and_the_handbook(ds):
    response = await ds.client.get("/-/cards.docx?post=cashier")
    assert response.status_code == 200
    assert response.headers["content-type"] == "application/vnd.openxmlformats-officedocument.wordprocessingml.document"
    assert "filename*=UTF-8''" in response.headers["content-disposition"]
    text = "\n".join(cell.text for table in Document(io.BytesIO(response.content)).tables
                     for row in table.rows for cell in row.cells)
    assert "REIM-05 库存现金管理失控，公款私存或坐支" in text
    response = await ds.client.get("/-/handbook.docx")
    assert response.status_code == 200
    doc = Document(io.BytesIO(response.content))
    headings = [p.text for p in doc.paragraphs if p.style.name.startswith("Heading")]
    assert "二、职权目录" in headings and "（八）工作作风" in headings and len(doc.inline_shapes) >= 23


@pytest.fixture(scope="module")
def without_powers(tmp_path_factory):
    """The mini register (no posts.yml, no powers) built and served."""
    from .conftest import MINI, write_register
    folder = write_register(tmp_path_factory.mktemp("mini") / "mini", MINI)
    output = folder.parent / "mini.db"
    build_db.build([folder], output)
    return make_datasette(output)


async def test_a_register_without_powers_serves_and_says_how_to_add_them(without_powers):
    home = (await without_powers.client.get("/")).text
    assert "职权目录与流程图" not in home
    html = (await without_powers.client.get("/powers")).text
    assert "此登记没有列出职权" in html and "This register declares no powers" in html
    html = (await without_powers.client.get("/cards")).text
    assert "此登记没有列出岗位（posts.yml），没有防控卡" in html
    risk = await without_powers.client.get("/mini/risks/mini-AL-01")
    assert risk.status_code == 200 and "所在流程环节" not in risk.text
    response = await without_powers.client.get("/-/cards.docx")
    assert response.status_code == 404
