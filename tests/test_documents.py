"""The powers' documents (issue 25): flowcharts laid out and drawn (SVG and PNG), the risk cards and the handbook
in Word, read back with python-docx; `build.py handbook` and `build.py cards`."""

from __future__ import annotations

import io
import re
import sqlite3
import zipfile
from pathlib import Path

import pytest
from docx import Document
from PIL import Image

from riskcatalog.cli import main
from riskcatalog.documents import data, flowchart, picture, word

from .conftest import CATALOG


@pytest.fixture(scope="module")
def conn(catalog_db) -> sqlite3.Connection:
    return sqlite3.connect(catalog_db)


@pytest.fixture(scope="module")
def levels(conn) -> dict:
    return data.levels(conn)


def powers(conn) -> list[data.Power]:
    return [data.power(conn, power.key) for power in data.catalogue(conn, "yijia")]


# --- the flowchart ---------------------------------------------------------------------------------------------------

def test_every_power_s_flowchart_draws_each_risk_on_it_once_with_a_link(conn, levels):
    """In each layout, every active risk standing on the power is drawn once, its card a link to its page, and
    each of its measures a link to theirs; the 51 risks are each on one power's chart."""
    drawn = []
    for power in powers(conn):
        expected = [risk.id for risk in power.risks]
        for mode in flowchart.LAYOUTS:
            drawing = flowchart.layout(power, levels, mode, href=lambda table, key: f"/catalog/{table}/{key}")
            assert sorted(drawing.risks) == sorted(expected), (power.id, mode)
            svg = flowchart.svg(drawing, f"{power.id}-{mode}")
            for risk in power.risks:
                assert svg.count(f'<a href="/catalog/risks/{risk.key}" tabindex="-1">') >= len(risk.steps)
                for measure in risk.measures:
                    assert f'<a href="/catalog/measures/{measure.key}" tabindex="-1">' in svg
        drawn += expected
    assert sorted(drawn) == sorted(row[0] for row in conn.execute("select id from risks where status = 'active'"))


def test_steps_are_boxes_branches_diamonds_and_the_widths_fit(conn, levels):
    """WELF-P01: nine step boxes in order, a diamond per branch (five), nothing drawn past the chart's width, and
    the narrow layout no wider than a 390 px phone leaves the page's content (336)."""
    power = data.power(conn, "yijia-WELF-P01")
    for mode in ("wide", "narrow"):
        drawing = flowchart.layout(power, levels, mode)
        titles = [shape.lines[0] for shape in drawing.shapes if isinstance(shape, flowchart.Label) and shape.bold
                  and re.match(r"\d+\. ", shape.lines[0])]
        assert [title.split(".")[0] for title in titles] == [str(n) for n in range(1, 10)]
        assert sum(isinstance(shape, flowchart.Diamond) for shape in drawing.shapes) == 5 + 1  # and the legend's
        right = max(shape.x + shape.w for shape in drawing.shapes if isinstance(shape, flowchart.Box))
        assert right <= drawing.width - flowchart.MARGIN
        for label in (shape for shape in drawing.shapes if isinstance(shape, flowchart.Label)):
            widest = max(sum(map(flowchart.em, line)) * label.size for line in label.lines)
            assert label.x + widest <= drawing.width, label.lines
    assert flowchart.layout(power, levels, "narrow").width == 336


def test_a_branch_to_another_step_is_an_arrow_into_that_step(conn, levels):
    """公示有异议 → back to the household survey (step 3): a line from the diamond, along the margin, into step 3."""
    drawing = flowchart.layout(data.power(conn, "yijia-WELF-P01"), levels)
    boxes = [shape for shape in drawing.shapes if isinstance(shape, flowchart.Box) and shape.fill == flowchart.STEP_FILL
             and shape.w > 100]
    survey = boxes[2]
    arrows = [shape for shape in drawing.shapes if isinstance(shape, flowchart.Line) and len(shape.points) == 4]
    assert len(arrows) == 1
    end = arrows[0].points[-1]
    assert end[0] == survey.x and survey.y < end[1] < survey.y + survey.h and arrows[0].arrow
    labels = [" ".join(shape.lines) for shape in drawing.shapes if isinstance(shape, flowchart.Label)]
    assert "若公示有异议：转至第 3 环节" in labels


def test_text_wraps_within_its_width_and_keeps_chinese_punctuation_with_its_line():
    lines = flowchart.wrap("入户调查、邻里访问和家庭经济状况信息核对，不少于2人", 7 * 12, 12)
    assert lines == ["入户调查、邻里", "访问和家庭经济", "状况信息核对，", "不少于2人"]
    assert flowchart.wrap("Checked by the finance office", 100, 12) == ["Checked by the", "finance office"]


def test_the_svg_loads_nothing_and_escapes_text(conn, levels):
    power = data.power(conn, "yijia-REIM-P02")
    power.steps[0].title_zh = '<script>alert(1)</script>"&'
    svg = flowchart.svg(flowchart.layout(power, levels), "x")
    assert "<script>" not in svg and "&lt;script&gt;alert(1)&lt;/script&gt;&quot;&amp;" in svg
    assert not re.search(r'(src|href)="(https?:)?//', svg)


def test_the_png_is_the_same_drawing_larger_and_long_charts_are_cut_between_steps(conn, levels):
    drawing = flowchart.layout(data.power(conn, "yijia-LAND-P01"), levels)
    whole = Image.open(io.BytesIO(picture.png(drawing)))
    assert whole.size == (round(drawing.width * picture.SCALE), round(drawing.height * picture.SCALE))
    pages = [Image.open(io.BytesIO(part)) for part in picture.png_pages(drawing, 900, 700)]
    heights = [page.height / picture.SCALE for page in pages]
    assert len(pages) == 3 and heights[0] <= 700 and all(height <= 900 for height in heights[1:])
    assert abs(sum(heights) - drawing.height) < 1
    cuts = [sum(heights[:n]) for n in range(1, len(heights))]
    assert all(min(abs(cut - b) for b in drawing.breaks) < 1 for cut in cuts)  # between one step and the next
    colours = whole.convert("RGB").getcolors(1 << 16)
    assert len(colours) > 20  # drawn, not blank: boxes, level colours and anti-aliased text


def test_a_long_power_prints_on_one_page_in_the_broad_layout(conn, levels):
    """LAND-P01 (16 steps) is largest on A4 in the broad layout, a short power in the wide one."""
    assert flowchart.for_print(data.power(conn, "yijia-LAND-P01"), levels).width == \
        flowchart.layout(data.power(conn, "yijia-LAND-P01"), levels, "broad").width
    assert flowchart.for_print(data.power(conn, "yijia-REIM-P02"), levels).width == \
        flowchart.layout(data.power(conn, "yijia-REIM-P02"), levels, "wide").width


def test_without_a_chinese_font_the_handbook_says_what_to_install(tmp_path, monkeypatch, capsys):
    monkeypatch.setattr(picture, "FONTS", ("/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf",))
    monkeypatch.setattr(picture, "_fontconfig", lambda: [])
    monkeypatch.delenv("RISKCATALOG_FONT", raising=False)
    picture.font_file.cache_clear()
    picture._font.cache_clear()
    try:
        assert main(["handbook", str(CATALOG), "-o", str(tmp_path / "h.docx")]) == 1
    finally:
        picture.font_file.cache_clear()
        picture._font.cache_clear()
    assert capsys.readouterr().err.splitlines() == [
        "error: no font with Chinese characters for drawing the flowcharts — install one (Debian: apt-get install "
        "fonts-wqy-microhei) or set RISKCATALOG_FONT to a .ttf/.ttc file; nothing written"]
    assert list(tmp_path.iterdir()) == []


# --- the cards -------------------------------------------------------------------------------------------------------

def _texts(doc) -> str:
    """Every paragraph's and every table cell's text of a Word document."""
    cells = [cell.text for table in doc.tables for row in table.rows for cell in row.cells]
    return "\n".join([p.text for p in doc.paragraphs] + cells)


def test_each_word_card_holds_the_post_s_risks_measures_leader_and_signature_lines(conn, tmp_path, capsys):
    assert main(["cards", str(CATALOG), "-o", str(tmp_path / "cards.docx")]) == 0
    assert capsys.readouterr().out == f"{tmp_path / 'cards.docx'}: 32 cards\n"
    doc = Document(tmp_path / "cards.docx")
    cards = data.cards(conn, "yijia")
    text = _texts(doc)
    assert text.count("岗位廉政风险防控卡") == 32 and text.count("岗位责任人（签字）") == 32
    # A card a page: a page break between each two.
    breaks = sum(1 for p in doc.paragraphs for run in p.runs if 'w:type="page"' in run._r.xml)
    assert breaks == 31
    for card, table in zip(cards, doc.tables[1::2]):  # each card: its facts, then its risks
        cells = "\n".join(cell.text for row in table.rows for cell in row.cells)
        for risk in card.risks:
            assert f"{risk.id} {risk.title_zh}" in cells
            for measure in risk.measures:
                assert f"{measure.id} {measure.title_zh}" in cells
        assert len(table.rows) == 1 + max(len(card.risks), 1)
    civil = next(card for card in cards if card.post.id == "civil-affairs-officer")
    assert [risk.id for risk in civil.risks] == ["WELF-01", "WELF-02", "WELF-04", "WELF-05", "WELF-06", "WELF-07",
                                                 "PET-06"]
    assert civil.post.leader_zh in text and data.COMMITMENT_ZH in text


def test_one_post_s_card_and_an_unknown_post(tmp_path, capsys):
    assert main(["cards", str(CATALOG), "--post", "cashier", "-o", str(tmp_path / "c.docx")]) == 0
    assert capsys.readouterr().out == f"{tmp_path / 'c.docx'}: 1 card\n"
    text = _texts(Document(tmp_path / "c.docx"))
    assert "财政所出纳" in text and "REIM-05 库存现金管理失控，公款私存或坐支" in text
    assert main(["cards", str(CATALOG), "--post", "treasurer", "-o", str(tmp_path / "d.docx")]) == 1
    assert capsys.readouterr().err.startswith("unknown post 'treasurer' — the posts of yijia are: "
                                              "expropriation-station-head, expropriation-officer,")


def test_a_register_without_posts_has_no_cards_and_says_so(mini, capsys):
    assert main(["cards", str(mini), "-o", "c.docx"]) == 1
    assert capsys.readouterr().err == "mini declares no posts — add posts.yml to the register (docs/catalog-format.md)\n"
    assert not Path("c.docx").exists()


# --- the handbook -----------------------------------------------------------------------------------------------------

@pytest.fixture(scope="module")
def handbook(tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("handbook") / "手册.docx"
    assert main(["handbook", str(CATALOG), "-o", str(out)]) == 0
    return out


def test_the_handbook_opens_and_holds_every_area_power_flowchart_register_and_card(handbook, conn):
    doc = Document(handbook)
    headings = [p.text for p in doc.paragraphs if p.style.name.startswith("Heading")]
    areas = [row[0] for row in conn.execute("select name_zh from areas order by position")]
    assert headings[:4] == ["目　录", "一、编制说明", "二、职权目录", "三、权力运行流程图和廉政风险点登记表"]
    for n, area in enumerate(areas, 1):
        assert f"（{word._chinese_number(n)}）{area}" in headings
        assert f"{area}廉政风险点登记表" in headings
    for power in data.catalogue(conn, "yijia"):
        assert f"{power.id} {power.title_zh}" in headings
    assert headings[-1] == "四、岗位廉政风险防控卡"
    text = _texts(doc)
    assert text.count("岗位责任人（签字）") == 32
    # Pictures inline (none floating), at least one per power; the 职权目录 lists all 23.
    pictures = doc.inline_shapes
    assert len(pictures) >= 23 and all(shape.width <= word.Cm(word.TEXT_WIDTH_CM) + 1 for shape in pictures)
    assert "wp:anchor" not in zipfile.ZipFile(handbook).read("word/document.xml").decode()
    catalogue = doc.tables[0]
    assert [cell.text for cell in catalogue.rows[0].cells] == ["序号", "领域", "职权编号", "职权名称", "行使岗位", "职权依据"]
    assert len(catalogue.rows) == 24
    register_rows = sum(len(table.rows) - 1 for table in doc.tables
                        if table.rows[0].cells[0].text == "序号" and table.rows[0].cells[1].text == "编号")
    assert register_rows == 51


def test_the_handbook_s_tables_repeat_their_heading_and_shade_levels(handbook):
    xml = zipfile.ZipFile(handbook).read("word/document.xml").decode()
    assert xml.count('<w:tblHeader w:val="true"/>') >= 1 + 8 + 32
    for shade in word.LEVEL_SHADES.values():
        assert f'w:fill="{shade}"' in xml


def test_several_registers_need_a_unit(tmp_path, capsys):
    from .test_bad_catalogs import edit
    from .conftest import copy_catalog
    other = copy_catalog(tmp_path / "other")
    edit(other, "register.yml", "  id: yijia\n", "  id: gutian\n")
    assert main(["handbook", str(CATALOG), str(other), "-o", str(tmp_path / "h.docx")]) == 1
    assert capsys.readouterr().err == "2 registers — choose one with --unit: yijia, gutian\n"
    assert main(["handbook", str(CATALOG), str(other), "--unit", "hanzheng"]) == 1
    assert capsys.readouterr().err == "unknown unit 'hanzheng' — the registers are: yijia, gutian\n"
