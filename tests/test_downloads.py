"""Downloads for readers: every link a page offers gives every row; .xlsx and CSV for Excel; the 登记表 workbook."""

from __future__ import annotations

import csv
import io
import re
import sqlite3
import subprocess
import sys
from html import unescape
from pathlib import Path

import pytest
from openpyxl import load_workbook

from riskcatalog import build as builder
from riskcatalog.site import downloads

from .conftest import CATALOG, copy_catalog, make_datasette


@pytest.fixture(scope="module")
def district_db(tmp_path_factory) -> Path:
    """Three registers (153 risks, 234 measures): more rows than a page, or than max_returned_rows below."""
    folder = tmp_path_factory.mktemp("district")
    folders = [CATALOG]
    for unit, name in (("hanzheng", "汉正街道"), ("gutian", "古田街道")):
        copy = copy_catalog(folder / unit)
        text = (copy / "register.yml").read_text(encoding="utf-8")
        (copy / "register.yml").write_text(text.replace("id: yijia", f"id: {unit}").replace("易家街道", name),
                                           encoding="utf-8")
        folders.append(copy)
    path = folder / "catalog.db"
    builder.build(folders, path)
    return path


@pytest.fixture(scope="module")
def district(district_db):
    """The district served with pages of 20 rows and at most 100 rows per query, so any cut would show."""
    return make_datasette(district_db, default_page_size=20, max_returned_rows=100)


def _count(db: Path, sql: str) -> int:
    with sqlite3.connect(db) as conn:
        return conn.execute(sql).fetchone()[0]


def offered_links(html: str) -> list[str]:
    """The download links a page offers a reader: Datasette's "This data as …" line and the register's."""
    links = []
    for block in re.findall(r'<p class="(?:export-links|downloads)">(.*?)</p>', html, re.S):
        links += [unescape(href) for href in re.findall(r'href="([^"#][^"]*)"', block)]
    return links


async def rows_in(ds, link: str) -> int | None:
    """Rows a download holds (None for JSON, which says itself when there are more)."""
    response = await ds.client.get(link)
    assert response.status_code == 200, (link, response.text[:300])
    path = link.split("?")[0]
    if path.endswith(".json"):
        return None
    if path.endswith(".xlsx"):
        sheet = load_workbook(io.BytesIO(response.content)).worksheets[0]
        if sheet.title == "登记表":  # one row per risk below the title rows and heading, numbered in 序号
            seq = [c.value for c in sheet[3]].index("序号")
            return sum(1 for row in sheet.iter_rows(min_row=4, values_only=True) if row[seq] is not None)
        return sheet.max_row - (sheet.freeze_panes and int(sheet.freeze_panes[1:]) - 1)
    text = response.content.decode("utf-8-sig")
    return len(list(csv.reader(io.StringIO(text)))) - 1


PAGES = {
    "/catalog/risks": "select count(*) from risks",
    "/catalog/measures": "select count(*) from measures",
    "/catalog/risk_measures": "select count(*) from risk_measures",
    "/catalog/register": "select count(*) from risks where status = 'active'",
    "/catalog/full_register": "select count(*) from risks where status = 'active'",
    "/catalog/high_risks_with_measures": "select count(*) from risks where level = 'high' and status = 'active'",
    "/search?q=报销&kind=risks": None,
    "/": "select count(*) from risks where status = 'active'",
}


@pytest.mark.parametrize("page", list(PAGES))
async def test_every_download_a_page_offers_has_every_row(district, district_db, page):
    """xlsx, CSV for Excel, Datasette's own CSV link and the 登记表 workbook: all rows, past the page and
    past max_returned_rows (100 here)."""
    html = (await district.client.get(page)).text
    links = offered_links(html)
    expected = _count(district_db, PAGES[page]) if PAGES[page] else None
    if expected is None:  # the search page: as many rows as its section counts
        expected = (await district.client.get(page.replace("search", "search.json"))).json()["risks"]["count"]
    assert expected > 20 and len(links) >= 2, (page, links)
    for link in links:
        found = await rows_in(district, link)
        if found is not None:
            assert found == expected, (page, link)


async def test_raw_csv_is_one_page_as_documented(district):
    """A .csv asked for without _size=max is Datasette's raw CSV: one page (README, "Excel")."""
    response = await district.client.get("/catalog/risks.csv")
    assert len(list(csv.reader(io.StringIO(response.text)))) == 1 + 20


async def test_excel_csv_has_a_byte_order_mark_chinese_headings_and_lists_one_item_a_line(ds):
    """CSV for Excel: UTF-8 with BOM, "风险点 title_zh" headings, a JSON list as lines, named as a .csv file."""
    response = await ds.client.get("/catalog/risks.excelcsv?id=LAND-01")
    assert response.headers["content-type"] == "text/csv; charset=utf-8"
    assert response.headers["content-disposition"] == "attachment; filename=\"risks.csv\"; filename*=UTF-8''risks.csv"
    assert response.content.startswith(b"\xef\xbb\xbf")
    header, row = list(csv.reader(io.StringIO(response.content.decode("utf-8-sig"))))
    assert header[:6] == ["键 key", "单位 unit", "编号 id", "序号 seq", "领域 area", "风险点 title_zh"]
    record = dict(zip(header, row))
    assert record["防控措施 measure_ids"] == "LAND-M01\nLAND-M10"
    assert record["表现形式 manifestations_zh"].startswith("向亲友透露拟征收地块")


async def test_xlsx_of_a_table_has_chinese_headings_over_column_names(ds):
    """.xlsx of a table: one sheet, Chinese headings in row 1, column names in row 2, then the rows."""
    response = await ds.client.get("/catalog/measures.xlsx?_sort=id&id__startswith=LAND-")
    assert response.headers["content-type"] == downloads.XLSX
    sheet = load_workbook(io.BytesIO(response.content)).active
    rows = list(sheet.iter_rows(values_only=True))
    assert rows[0][:3] == ("键", "单位", "编号") and rows[1][:3] == ("key", "unit", "id")
    assert [row[2] for row in rows[2:]] == sorted(row[2] for row in rows[2:]) and len(rows) - 2 == 11
    assert sheet.freeze_panes == "A3"


async def test_register_workbook_of_the_register_and_of_one_area(ds):
    """/-/register.xlsx is the 登记表 workbook `build.py export` writes, named after the register."""
    response = await ds.client.get("/-/register.xlsx")
    assert response.status_code == 200 and response.headers["content-type"] == downloads.XLSX
    assert response.headers["content-disposition"] == (
        "attachment; filename=\"register.xlsx\"; filename*=UTF-8''"
        "%E6%98%93%E5%AE%B6%E8%A1%97%E9%81%93%E5%BB%89%E6%94%BF%E9%A3%8E%E9%99%A9%E7%82%B9%E7%99%BB%E8%AE%B0%E8%A1%A8.xlsx")
    workbook = load_workbook(io.BytesIO(response.content))
    assert workbook["登记表"]["A1"].value == "易家街道廉政风险点登记表（模拟文本，非官方）" and workbook["风险点"].max_row == 53
    area = load_workbook(io.BytesIO((await ds.client.get("/-/register.xlsx?unit=yijia&area=land&paper=A3")).content))
    assert area["登记表"]["A1"].value == "易家街道国有土地征收廉政风险点登记表（模拟文本，非官方）"
    assert area["登记表"].max_row == 3 + 7 and area["登记表"].page_setup.paperSize == 8


@pytest.mark.parametrize("path, status, message", [
    ("/-/register.xlsx?unit=nowhere", 404, "no register or area by that id — 没有该单位或领域"),
    ("/-/register.xlsx?area=nowhere", 404, "no register or area by that id — 没有该单位或领域"),
])
async def test_register_workbook_refuses_what_names_nothing(ds, path, status, message):
    response = await ds.client.get(path)
    assert response.status_code == status and response.text.splitlines()[0] == message


async def test_register_workbook_refuses_a_paper_it_does_not_print(ds):
    """The paper is read by the site's one parameter parser (riskcatalog.site.params): a 400 page, Chinese first."""
    response = await ds.client.get("/-/register.xlsx?paper=B5")
    assert response.status_code == 400 and "<title>请求有误 Bad request</title>" in response.text
    assert "<p>参数 paper（纸张）只能是 A4 或 A3，而不是“B5”。</p>" in response.text
    assert "<p lang=\"en\">paper must be A4 or A3, not &#x27;B5&#x27;.</p>" in response.text
    assert (await ds.client.get("/-/register.xlsx?paper=a3")).status_code == 200


async def test_downloads_over_the_row_limit_are_refused_with_what_to_do(district, monkeypatch):
    """Past MAX_ROWS a download says so and how to get the rows instead; it is never cut short."""
    monkeypatch.setattr(downloads, "MAX_ROWS", 60)
    for path in ("/catalog/risks.xlsx", "/catalog/full_register.excelcsv", "/catalog/full_register.csv?_size=max"):
        response = await district.client.get(path)
        assert response.status_code == 400, path
        assert response.text.splitlines()[0] == (
            "this download would hold more than 60 rows — narrow it with filters (e.g. ?unit=…), or use the "
            ".csv?_stream=on download, which has no row limit"), path
    response = await district.client.get("/-/register.xlsx")
    assert response.status_code == 400 and response.text.startswith(
        "this workbook would hold 153 risks, over the 60 a download may hold — choose units with ?unit=ID")
    assert (await district.client.get("/-/register.xlsx?unit=gutian&area=land")).status_code == 200


async def test_a_hostile_query_download_stays_within_the_time_limit(ds):
    """A slow query asked for as .xlsx is stopped by the SQL time limit and answered, not run on."""
    sql = "with recursive n(i) as (select 1 union all select i + 1 from n) select count(*) from n"
    response = await ds.client.get("/catalog.xlsx", params={"sql": sql})
    assert response.status_code == 400


def test_downloads_load_the_workbook_writer_but_no_yaml_or_validator():
    """Serving a workbook imports riskcatalog.excel.export, never the build's loaders or validator (the
    site loads excel.layout at start: the printed 登记表's title)."""
    probe = ("import asyncio, sys; sys.path.insert(0, '.'); from tests.conftest import make_datasette, CATALOG;"
             "from riskcatalog import build; import tempfile, pathlib;"
             "d = pathlib.Path(tempfile.mkdtemp()) / 'catalog.db'; build.build([CATALOG], d);"
             "before = set(sys.modules); ds = make_datasette(d);"
             "r = asyncio.run(ds.client.get('/-/register.xlsx')); assert r.status_code == 200;"
             "print(sorted(m for m in set(sys.modules) - before if m.startswith('riskcatalog')))")
    loaded = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, check=True,
                            cwd=Path(__file__).resolve().parent.parent).stdout
    assert loaded.strip() == str(["riskcatalog.excel.export"])


#: A query whose column names and values all begin like formulas, written every way a spreadsheet reads one.
FORMULAS_SQL = ("""select '=HYPERLINK("http://example.org","点击")' as "=HYPERLINK(""http://example.org"")", """
                "'+1' as y, char(9) || '=1+1' as tab, char(13) || '=1+1' as cr, ' @SUM(A1)' as z, -1 as n, "
                "'a -1 = b' as inside")


async def test_text_that_looks_like_a_formula_stays_text(ds):
    """Header and values that begin like formulas are text in the .xlsx (marked so, editing keeps them
    text) and behind an apostrophe in both CSVs; numbers, and signs inside text, are left as they are."""
    params = {"sql": FORMULAS_SQL}
    sheet = load_workbook(io.BytesIO((await ds.client.get("/catalog.xlsx", params=params)).content)).active
    header, row = list(sheet.iter_rows(max_row=2))
    assert [(c.value, c.data_type, c.quotePrefix) for c in header[:2]] == [
        ('=HYPERLINK("http://example.org")', "s", True), ("y", "s", False)]
    assert [(c.value, c.data_type, c.quotePrefix) for c in row] == [
        ('=HYPERLINK("http://example.org","点击")', "s", True), ("+1", "s", True), ("\t=1+1", "s", True),
        ("\r=1+1", "s", True), (" @SUM(A1)", "s", True), (-1, "n", False), ("a -1 = b", "s", False)]
    for path, bom in (("/catalog.excelcsv", True), ("/catalog.csv", False)):  # .csv: Datasette's link, every row
        response = await ds.client.get(path, params={**params, "_size": "max"})
        assert response.content.startswith(b"\xef\xbb\xbf") == bom
        header, row = list(csv.reader(io.StringIO(response.content.decode("utf-8-sig"), newline="")))
        assert header == ["'=HYPERLINK(\"http://example.org\")", "y", "tab", "cr", "z", "n", "inside"], path
        assert row == ["'=HYPERLINK(\"http://example.org\",\"点击\")", "'+1", "'\t=1+1", "'\r=1+1", "' @SUM(A1)", "-1",
                       "a -1 = b"], path


async def test_a_character_a_workbook_cannot_hold_is_written_as_its_escape(ds):
    """XML 1.0 cannot hold char(1): openpyxl refused the whole file (a 500). Now the cell shows \\x01."""
    response = await ds.client.get("/catalog.xlsx", params={"sql": "select char(1) as a, 'x' || char(27) || 'y' as b"})
    assert response.status_code == 200
    assert [c.value for c in load_workbook(io.BytesIO(response.content)).active[2]] == ["\\x01", "x\\x1by"]


async def test_the_register_workbook_of_an_older_database_makes_formula_text_inert(catalog_db, tmp_path):
    """A database the build wrote before it refused formulas may hold one: /-/register.xlsx marks it text."""
    older = tmp_path / "catalog.db"
    older.write_bytes(catalog_db.read_bytes())
    with sqlite3.connect(older) as conn:
        conn.execute("""update risks set title_zh = '=HYPERLINK("http://example.org","点击")' where id = 'LAND-01'""")
    workbook = load_workbook(io.BytesIO((await make_datasette(older).client.get("/-/register.xlsx")).content))
    cells = [cell for row in workbook["登记表"].iter_rows() for cell in row if cell.value == (
        '=HYPERLINK("http://example.org","点击")')]
    assert [(cell.data_type, cell.quotePrefix) for cell in cells] == [("s", True)]
    assert not any(cell.quotePrefix for row in workbook["登记表"].iter_rows() for cell in row if cell not in cells)


async def test_downloads_over_max_csv_mb_are_refused(catalog_db):
    """The site's max_csv_mb bounds the text a download gathers, as it bounds Datasette's own CSV."""
    ds = make_datasette(catalog_db, max_csv_mb=1)
    sql = "select printf('%.*c', 600000, 'x') as a union all select printf('%.*c', 600000, 'y')"
    response = await ds.client.get("/catalog.xlsx", params={"sql": sql})
    assert response.status_code == 400
    assert response.text.splitlines()[0] == "this download would be over 1 MB — narrow it with filters"
    assert (await ds.client.get("/catalog/risks.xlsx")).status_code == 200
