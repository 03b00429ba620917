"""The search page and the list pages (/search), and short addresses: what readers find, in what order."""

from __future__ import annotations

import re

import pytest

from riskcatalog import build as builder
from riskcatalog.catalog import load_register

from .conftest import CATALOG, copy_catalog, make_datasette


@pytest.fixture(scope="module")
def register():
    return load_register(CATALOG)


async def found(ds, **params) -> dict:
    response = await ds.client.get("/search.json", params=params)
    assert response.status_code == 200, response.text
    return response.json()


def ids(section: dict) -> list[str]:
    return [row["id"] for row in section["rows"]]


@pytest.mark.parametrize("area_id", ["land", "petitions", "welfare", "workstyle"])
async def test_an_areas_name_finds_its_risks_first(ds, register, area_id):
    """Searching an area's Chinese name lists every risk of that area, before any other risk."""
    area = next(a for a in register.areas if a.record["id"] == area_id)
    results = await found(ds, q=area.record["name_zh"])
    own = {r["id"] for r in area.risks}
    listed = ids(results["risks"])
    assert set(listed[:len(own)]) == own, listed


@pytest.mark.parametrize("field", ["post_zh", "responsible_post_zh", "supervisor_zh", "power_zh"])
async def test_a_post_a_power_or_a_supervisor_finds_its_risks(ds, register, field):
    """What a risk names as its post, power, responsible post or supervisor finds that risk."""
    risk = next(r for r in register.risks() if r["id"] == "WELF-02")
    words = re.split(r"[；、（）()，]", risk[field])[0]
    assert "WELF-02" in ids((await found(ds, q=words))["risks"]), words


async def test_a_measures_owner_and_evidence_find_it(ds, register):
    """A measure is found by who runs it and by the record that proves it ran."""
    measure = next(m for m in register.measures() if m["id"] == "REIM-M01")
    for field in ("owner_zh", "evidence_zh"):
        words = re.split(r"[；、（）()，]", measure[field])[0]
        assert "REIM-M01" in ids((await found(ds, q=words))["measures"]), words


async def test_a_regulations_title_finds_it_and_what_cites_it(ds, register):
    """Searching a regulation's title lists the regulation and the risks that cite it."""
    results = await found(ds, q="国有土地上房屋征收与补偿条例")
    assert [row["key"] for row in results["sources"]["rows"]] == ["yijia-expropriation-regulation"]
    citing = {r["id"] for r in register.risks() if "expropriation-regulation" in r["sources"]}
    assert citing <= set(ids(results["risks"]))


async def test_entries_whose_title_holds_the_words_come_first(ds, register):
    """For 报销, every risk with 报销 in its title is listed before any risk without it."""
    listed = (await found(ds, q="报销"))["risks"]["rows"]
    in_title = ["报销" in row["title_zh"] for row in listed]
    assert any(in_title) and not all(in_title)
    assert in_title == sorted(in_title, reverse=True)


@pytest.mark.parametrize("typed, page", [
    ("LAND-02", "/catalog/risks/yijia-LAND-02"),
    ("land-2", "/catalog/risks/yijia-LAND-02"),
    ("REIM-M05", "/catalog/measures/yijia-REIM-M05"),
    (" reim-m5 ", "/catalog/measures/yijia-REIM-M05"),
])
async def test_an_id_typed_as_the_search_goes_to_its_entry(ds, typed, page):
    """An id, in any case and with or without its leading zero, opens the entry."""
    response = await ds.client.get("/search", params={"q": typed})
    assert response.status_code == 302 and response.headers["location"] == page


@pytest.mark.parametrize("query, expected", [("報銷", "报销"), ("Petitions", "petition"), ("虚报冒领", "虚报冒领")])
async def test_traditional_english_and_long_words_match_as_before(ds, query, expected):
    """The same query rules as the table search: Traditional folded, English stemmed, words of any length."""
    results = await found(ds, q=query)
    table = (await ds.client.get("/catalog/risks.json", params={"_search": query, "_shape": "array",
                                                                "_col": "id", "_size": "max"})).json()
    assert set(ids(results["risks"])) == {row["id"] for row in table} and table


async def test_the_passage_where_the_words_matched_is_highlighted(ds):
    """Each result shows the field and the words around the match, with the words marked."""
    html = (await ds.client.get("/search", params={"q": "公示期"})).text
    passages = re.findall(r'<p class="passage"><span class="passage-label">(.*?)：</span>(.*?)</p>', html, re.S)
    assert passages and all("<mark>公示期</mark>" in text for _, text in passages)
    assert {label for label, _ in passages} <= {"风险描述", "表现形式", "措施内容", "留痕资料", "执行频次",
                                                "岗位", "职权事项", "责任部门", "直接责任人", "责任领导", "监督主体"}


async def test_sections_carry_counts_and_the_first_result_comes_first(ds):
    """Risks, measures and regulations in sections with counts; results before the filters."""
    html = (await ds.client.get("/search", params={"q": "信访"})).text
    risks = await found(ds, q="信访")
    assert f'风险点 <span lang="en">Risks</span> <span class="count">{risks["risks"]["count"]}</span>' in html
    assert html.index('class="result"') < html.index('class="filters"')
    assert "<title>搜索“信访” · " in html


async def test_nothing_found_gets_a_chinese_message_and_ways_on(ds):
    """No results: a Chinese message, advice, the areas to browse and the way home."""
    response = await ds.client.get("/search", params={"q": "量子计算机"})
    assert response.status_code == 200
    html = response.text
    assert "没有找到与“量子计算机”相关的条目。" in html and 'href="/search?area=land"' in html
    assert 'href="/">返回首页' in html


@pytest.mark.parametrize("params, kinds", [
    ({"level": "high"}, ["risks"]),
    ({"category": "ethics"}, ["risks"]),
    ({"type": "disclosure"}, ["measures"]),
    ({"area": "welfare"}, ["risks", "measures"]),
    ({"source": "yijia-expropriation-regulation"}, ["risks", "measures"]),
])
async def test_list_pages_hold_exactly_the_set_their_filters_name(ds, register, params, kinds):
    """A list page of a level, a category, a measure type, an area or a regulation lists exactly those entries."""
    results = await found(ds, **params)
    assert [kind for kind in ("risks", "measures", "sources") if kind in results] == kinds
    (name, value), = params.items()
    areas = {a.record["id"]: a for a in register.areas}

    def picked(kind: str, entry: dict) -> bool:
        if name == "area":
            return entry in areas[value].risks if kind == "risks" else any(
                entry["id"] in r["measures"] for r in areas[value].risks)
        if name == "source":
            return value.removeprefix("yijia-") in entry.get("sources", [])
        return entry.get(name) == value

    for kind in kinds:
        entries = register.risks() if kind == "risks" else register.measures()
        expected = {e["id"] for e in entries if picked(kind, e)}
        assert set(ids(results[kind])) == expected and results[kind]["count"] == len(expected)


async def test_a_list_page_names_its_set_and_links_its_data_table(ds):
    """The heading says what the list is, in Chinese and English; the data table link keeps the filters."""
    html = (await ds.client.get("/search", params={"area": "land", "level": "high"})).text
    assert "领域：国有土地征收 · 风险等级：一级" in html and "area: " in html
    assert 'href="/catalog/risks?status=active&amp;_where=area+in+' in html and "level=high" in html


@pytest.mark.parametrize("params, message", [
    ({"level": "urgent"}, "没有这个风险等级：“urgent”。No such level: urgent."),
    ({"likelihood": "9", "impact": "1"}, "可能性应为 1 到 5 的整数，而不是“9”。Likelihood is a whole number 1–5."),
    ({"area": "nowhere"}, "没有这个领域：“nowhere”。No such area: nowhere."),
])
async def test_a_filter_naming_nothing_is_a_clear_client_error(ds, params, message):
    """A bad filter value answers 400 with a Chinese and English message, not an empty list."""
    response = await ds.client.get("/search", params=params)
    assert response.status_code == 400 and message in response.text
    data = await ds.client.get("/search.json", params=params)
    assert data.status_code == 400 and data.json()["error"] == message


async def test_pages_of_a_long_list(ds, register):
    """Past 50 results a section offers the next page, which continues the numbering."""
    first = await found(ds, q="")
    assert first["risks"]["count"] == 51 and len(first["risks"]["rows"]) == 50
    html = (await ds.client.get("/search")).text
    assert 'href="?kind=risks&amp;page=2"' in html
    second = await found(ds, kind="risks", page="2")
    assert ids(second["risks"]) == [list(register.risks())[-1]["id"]]
    assert '<ol class="result-list" start="51">' in (await ds.client.get("/search?kind=risks&page=2")).text


@pytest.mark.parametrize("path, page", [
    ("/catalog/risks/LAND-02", "/catalog/risks/yijia-LAND-02"),
    ("/catalog/measures/REIM-M05", "/catalog/measures/yijia-REIM-M05"),
    ("/catalog/measures/reim-m5", "/catalog/measures/yijia-REIM-M05"),
])
async def test_short_addresses_reach_the_entry(ds, path, page):
    """An entry's id, as readers write it, opens the entry when one register has it."""
    response = await ds.client.get(path)
    assert response.status_code == 302 and response.headers["location"] == page


async def test_a_short_address_no_register_has_is_a_chinese_404(ds):
    """An id nobody has: 404 in Chinese and English, with the search box and the way home."""
    response = await ds.client.get("/catalog/risks/LAND-99")
    assert response.status_code == 404
    assert "没有编号为 LAND-99 的风险点。No risk has the id LAND-99." in response.text
    assert 'action="/search"' in response.text and 'href="/">返回首页' in response.text


@pytest.fixture(scope="module")
def two_registers(tmp_path_factory):
    """The shipped register and a copy under another unit, served together."""
    tmp = tmp_path_factory.mktemp("two")
    second = copy_catalog(tmp / "second")
    text = (second / "register.yml").read_text(encoding="utf-8")
    (second / "register.yml").write_text(text.replace("id: yijia", "id: hanzheng").replace("易家街道", "汉正街道"),
                                         encoding="utf-8")
    output = tmp / "catalog.db"
    builder.build([CATALOG, second], output)
    return make_datasette(output)


async def test_a_short_address_several_registers_have_lists_them(two_registers):
    """LAND-02 in two registers: the address lists both, each under its unit."""
    response = await two_registers.client.get("/catalog/risks/LAND-02")
    assert response.status_code == 302 and response.headers["location"] == "/search?id=LAND-02"
    html = (await two_registers.client.get("/search?id=LAND-02")).text
    assert 'href="/catalog/risks/yijia-LAND-02"' in html and 'href="/catalog/risks/hanzheng-LAND-02"' in html
    assert "易家街道 · " in html and "汉正街道 · " in html


async def test_with_several_registers_the_unit_is_a_filter(two_registers):
    """The unit filter appears with several registers and narrows the list to one register."""
    html = (await two_registers.client.get("/search", params={"q": "报销"})).text
    assert 'name="unit"' in html
    both = (await two_registers.client.get("/search.json", params={"q": "报销"})).json()
    one = (await two_registers.client.get("/search.json", params={"q": "报销", "unit": "hanzheng"})).json()
    assert one["risks"]["count"] * 2 == both["risks"]["count"] > 0
    assert all(row["unit"] == "hanzheng" for row in one["risks"]["rows"])


async def test_withdrawn_entries_are_left_out_of_searches_and_lists(tmp_path, register):
    """A withdrawn risk is found neither by its words nor in its area's list; the counts leave it out."""
    links = {}
    for risk in register.risks():
        for measure_id in risk["measures"]:
            links.setdefault(measure_id, set()).add(risk["id"])
    # A risk whose measures all control other risks too, so withdrawing it orphans no measure.
    risk = next(r for r in register.risks() if all(len(links[m]) > 1 for m in r["measures"]))
    folder = copy_catalog(tmp_path / "catalog")
    area_file = next(folder / f"{a.record['id']}.yml" for a in register.areas if risk in a.risks)
    text = area_file.read_text(encoding="utf-8")
    text = text.replace(f"  - id: {risk['id']}\n", f"  - id: {risk['id']}\n    status: withdrawn\n", 1)
    area_file.write_text(text, encoding="utf-8")
    registered = (folder / "register.yml").read_text(encoding="utf-8")
    (folder / "register.yml").write_text(registered.replace("risks: 51", "risks: 50"), encoding="utf-8")
    builder.build([folder], tmp_path / "catalog.db")
    ds = make_datasette(tmp_path / "catalog.db")
    by_title = (await ds.client.get("/search.json", params={"q": risk["title_zh"]})).json()
    assert risk["id"] not in ids(by_title["risks"])
    everything = (await ds.client.get("/search.json")).json()
    assert everything["risks"]["count"] == 50 and risk["id"] not in ids(everything["risks"]) + ids(
        (await ds.client.get("/search.json", params={"kind": "risks", "page": "2"})).json()["risks"])
    page = (await ds.client.get(f"/catalog/risks/yijia-{risk['id']}")).text
    assert "已撤销" in page  # its own page stays, marked
