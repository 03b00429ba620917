"""A reader clicks the register's download links in headless Chromium; the files open as Excel would open them."""

from __future__ import annotations

import csv
import io
import re

import pytest
from openpyxl import load_workbook
from playwright.sync_api import expect

from .test_browser import browser, page, server  # noqa: F401  (fixtures: a real datasette and Chromium)

pytestmark = pytest.mark.browser


def test_home_page_link_downloads_the_register_workbook(page, server, tmp_path):  # noqa: F811
    """Home → "Excel 工作簿": the 登记表 workbook, named after the register, every risk in it."""
    page.goto(server + "/")
    with page.expect_download() as info:
        page.locator("p.downloads a.download-xlsx").click()
    download = info.value
    assert download.suggested_filename == "易家街道廉政风险点登记表.xlsx"
    path = tmp_path / download.suggested_filename
    download.save_as(path)
    sheet = load_workbook(path)["登记表"]
    assert sheet["A1"].value == "易家街道廉政风险点登记表（模拟文本，非官方）" and sheet.max_row == 3 + 51
    assert sheet.freeze_panes == "A4" and sheet.print_title_rows == "$3:$3"


def test_area_page_links_download_the_areas_workbook_and_csv(page, server, tmp_path):  # noqa: F811
    """Area page → its workbook (7 risks) and its CSV for Excel (a byte-order mark, 7 rows)."""
    page.goto(server + "/catalog/areas/yijia-land")
    expect(page.locator("p.downloads")).to_contain_text("下载本领域登记表")
    with page.expect_download() as info:
        page.locator("p.downloads a.download-xlsx").click()
    workbook = tmp_path / "area.xlsx"
    info.value.save_as(workbook)
    assert info.value.suggested_filename == "易家街道国有土地征收廉政风险点登记表.xlsx"
    assert load_workbook(workbook)["登记表"].max_row == 3 + 7
    with page.expect_download() as info:
        page.locator("p.downloads a.download-csv").click()
    assert info.value.suggested_filename == "register.csv"
    data = (tmp_path / "area.csv")
    info.value.save_as(data)
    raw = data.read_bytes()
    assert raw.startswith(b"\xef\xbb\xbf")
    rows = list(csv.reader(io.StringIO(raw.decode("utf-8-sig"))))
    assert len(rows) == 1 + 7 and {row[2] for row in rows[1:]} == {"国有土地征收"}
    assert re.match(r"单位", rows[0][0])
