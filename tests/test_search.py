"""The search page and the list pages (/search), and short addresses: what readers find, in what order."""

from __future__ import annotations

import json
import re

import pytest

from riskcatalog import build as builder
from riskcatalog.catalog import load_register
from riskcatalog.search import to_simplified

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


async def every_id(ds, kind: str, **params) -> list[str]:
    """The ids of a section's results on every page, in order."""
    listed, page = [], 1
    while True:
        section = (await found(ds, kind=kind, page=str(page), **params))[kind]
        listed += ids(section)
        if len(listed) >= section["count"] + (section["partial"] or 0) or not section["rows"]:
            return listed
        page += 1


def full(section: dict) -> list[str]:
    """The ids of the entries holding every word of the search (not the partial matches after them)."""
    return [row["id"] for row in section["rows"] if row["match"] == "all"]


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
    assert "WELF-02" in await every_id(ds, "risks", q=words), words


async def test_a_measures_owner_and_evidence_find_it(ds, register):
    """A measure is found by who runs it and by the record that proves it ran."""
    measure = next(m for m in register.measures() if m["id"] == "REIM-M01")
    for field in ("owner_zh", "evidence_zh"):
        words = re.split(r"[；、（）()，]", measure[field])[0]
        assert "REIM-M01" in await every_id(ds, "measures", q=words), words


async def test_a_regulations_title_finds_it_and_what_cites_it(ds, register):
    """Searching a regulation's title lists the regulation and the risks that cite it."""
    results = await found(ds, q="国有土地上房屋征收与补偿条例")
    assert full(results["sources"]) == ["expropriation-regulation"] and results["sources"]["count"] == 1
    citing = {r["id"] for r in register.risks() if "expropriation-regulation" in r["sources"]}
    assert citing <= set(full(results["risks"]))


async def test_entries_whose_title_holds_the_words_come_first(ds, register):
    """For 报销, every risk with 报销 in its title is listed before any risk without it."""
    listed = (await found(ds, q="报销"))["risks"]["rows"]
    in_title = ["报销" in row["title_zh"] for row in listed]
    assert any(in_title) and not all(in_title)
    assert in_title == sorted(in_title, reverse=True)


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
    """Words the catalogue never uses: a Chinese message naming them, the areas and levels to browse, the way home."""
    response = await ds.client.get("/search", params={"q": "火星移民"})
    assert response.status_code == 200
    html = response.text
    assert "目录中没有与“火星移民”有关的条目：“火星”、“移民”都没有出现。" in html
    assert 'href="/search?area=land"' in html and 'href="/search?level=high"' in html
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
    """Past a page of results (20) a section offers the next page, which continues the numbering; the last
    page holds the last entries."""
    first = await found(ds, q="")
    assert first["risks"]["count"] == 51 and len(first["risks"]["rows"]) == 20
    html = (await ds.client.get("/search")).text
    assert 'href="?kind=risks&amp;page=2"' in html
    third = await found(ds, kind="risks", page="3")
    assert ids(third["risks"]) == [r["id"] for r in list(register.risks())[40:]]
    assert '<ol class="result-list" start="21">' in (await ds.client.get("/search?kind=risks&page=2")).text


async def test_pages_of_a_search_continue_from_full_to_partial_matches(ds):
    """Paging a search walks its full matches, then its partial ones, each entry once, in the first page's order."""
    first = await found(ds, q="低保审核")
    total = first["risks"]["count"] + first["risks"]["partial"]
    listed = []
    for page in range(1, total // 20 + 2):
        listed += ids((await found(ds, q="低保审核", kind="risks", page=str(page)))["risks"])
    assert len(listed) == len(set(listed)) == total and listed[:20] == ids(first["risks"])


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
    assert '没有编号为 LAND-99 的风险点。<span lang="en">No risk has the id LAND-99.</span>' in response.text
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


# --- phrases as typed, the field's words, ids in any form (issue 21) ---------------------------------------

def holds(entry: dict, word: str, register=None) -> bool:
    """Whether an entry's own text (or, given the register, the titles of the regulations it cites)
    holds word (Simplified)."""
    cited = [s["title_zh"] for s in register.sources if s["id"] in entry.get("sources", [])] if register else []
    return word in to_simplified(json.dumps([entry, cited], ensure_ascii=False))


@pytest.mark.parametrize("phrase, words", [
    ("低保审核", [("低保", "最低生活保障"), ("审核",)]),  # the thesaurus: 低保 = 最低生活保障
    ("补偿款截留", [("补偿款", "补偿资金", "拆迁款"), ("截留",)]),
    ("公务接待超标准", [("公务接待",), ("超标准",)]),
])
async def test_a_phrase_typed_without_spaces_finds_the_entries_holding_its_words(ds, register, phrase, words):
    """Each phrase of the issue (0 results before) finds entries holding every one of its words (or the
    thesaurus's word for it; in their text or their regulations' titles), in any order and wherever they
    stand; the words the other way round find the same entries."""
    results = await found(ds, q=phrase)
    entries = {e["id"]: e for e in [*register.risks(), *register.measures()]}
    matched = full(results["risks"]) + full(results["measures"])
    assert matched and all(all(any(holds(entries[i], form, register) for form in word) for word in words)
                           for i in matched), matched
    backwards = await found(ds, q="".join(word[0] for word in reversed(words)))
    assert {k: full(backwards[k]) for k in ("risks", "measures")} == {k: full(results[k]) for k in ("risks", "measures")}


@pytest.mark.parametrize("query, first", [
    ("低保审核", {"WELF-03", "WELF-02"}),  # 审核 in WELF-03's title, 低保 in its text
    ("补偿款截留", {"LAND-06", "VILL-05"}),
    ("公务接待超标准", {"REIM-01"}),
    ("征收补偿款", {"LAND-06", "VILL-05", "VILL-01"}),
    ("虚报冒领低保", {"WELF-04", "WELF-05"}),
    ("公车", {"STYLE-01"}),  # the thesaurus: 公车 = 公务用车
    ("拆迁补偿", {"LAND-01", "LAND-02", "LAND-03", "LAND-04", "LAND-05", "LAND-06", "LAND-07"}),  # 拆迁 = 征收
    ("一把手", {"STYLE-03", "REIM-04", "ENT-01"}),  # 一把手 -> 主要负责人
    ("公款吃喝", {"REIM-01", "STYLE-02"}),  # 吃喝 -> 公务接待, 宴请
    ("村干部", {"VILL-01", "VILL-02", "VILL-06"}),  # 村干部 -> 股份合作公司, 两委
    ("三资", {"VILL-01", "VILL-03", "VILL-05", "ENT-02"}),  # 三资 -> 集体资金、资产、资源
])
async def test_the_issues_searches_find_the_expected_risk_first(ds, query, first):
    """Every example of the issue that found nothing (or too little) finds a risk a reader expects first."""
    risks = (await found(ds, q=query))["risks"]
    assert risks["rows"] and risks["rows"][0]["id"] in first, ids(risks)[:5]


async def test_the_thesaurus_finds_the_other_words_and_the_page_says_so(ds):
    """公车 finds what 公务用车 finds (it found 1 risk and no measure); the page says which words it added,
    and the passage shows the word that matched."""
    short, long = await found(ds, q="公车"), await found(ds, q="公务用车")
    assert set(full(long["measures"])) <= set(full(short["measures"])) and len(full(short["measures"])) >= 3
    assert set(full(long["sources"])) <= set(full(short["sources"]))
    assert short["reading"]["words"][0]["also"][:2] == ["公务用车", "公务车辆"]
    html = (await ds.client.get("/search", params={"q": "公车"})).text
    assert "按词语查找" in html and "同义 公务用车、公务车辆" in html
    assert "<mark>公务用车</mark>" in html


async def test_entries_holding_some_of_the_words_come_after_labelled(ds):
    """A query whose words no entry holds together lists those holding some, labelled 部分匹配 with the word
    they lack, after saying that none holds all."""
    results = await found(ds, q="低保火箭")
    assert results["risks"]["count"] == 0 and results["risks"]["partial"] > 0
    assert all(row["match"] == "partial" and row["missing"] == ["火箭"] for row in results["risks"]["rows"])
    html = (await ds.client.get("/search", params={"q": "低保火箭"})).text
    assert "没有同时含有全部词语的条目，以下是含有部分词语的条目（部分匹配）。" in html
    assert '部分匹配 <span lang="en">partial</span></span> 含“低保”，缺“火箭”' in html


async def test_full_matches_come_before_partial_ones(ds):
    """With entries holding every word, those holding some follow them, those holding more first."""
    rows = (await found(ds, q="低保审核"))["risks"]["rows"]
    kinds = [row["match"] for row in rows]
    assert "all" in kinds and "partial" in kinds and kinds == sorted(kinds)  # "all" < "partial"
    held = [len(row.get("held", [])) for row in rows if row["match"] == "partial"]
    assert held == sorted(held, reverse=True)


async def test_a_search_near_the_thesaurus_offers_its_terms(ds):
    """A word the catalogue does not hold but that shares a pair of characters with thesaurus terms: those
    terms that find something are offered."""
    html = (await ds.client.get("/search", params={"q": "吃喝玩乐"})).text
    offered = re.findall(r'<a href="/search\?q=([^"]+)">', html)
    assert "相近的词" in html and offered and "%E5%90%83%E5%96%9D" in offered  # 吃喝


async def test_title_matches_come_before_body_matches_and_high_levels_first(ds, register):
    """For 信访: every risk whose title holds it comes before any whose title does not; among those, a high
    level before a medium one."""
    rows = (await found(ds, q="信访"))["risks"]["rows"]
    in_title = ["信访" in row["title_zh"] for row in rows]
    assert any(in_title) and not all(in_title) and in_title == sorted(in_title, reverse=True)
    ranks = {"high": 0, "medium": 1, "low": 2}
    titled = [ranks[row["level"]] for row in rows if "信访" in row["title_zh"]]
    assert len(set(titled)) > 1 and titled == sorted(titled)


async def test_the_exact_phrase_comes_before_scattered_words(ds, register):
    """For 工作人员: of the measures whose titles hold neither 工作 nor 人员, those whose text holds the phrase
    come before those holding the two words apart."""
    rows = (await found(ds, q="工作人员"))["measures"]["rows"]
    entries = {m["id"]: m for m in register.measures()}
    untitled = [holds(entries[row["id"]], "工作人员") for row in rows
                if row["match"] == "all" and not {"工作", "人员"} & set(re.findall("工作|人员", row["title_zh"]))]
    assert True in untitled and False in untitled and untitled == sorted(untitled, reverse=True)


@pytest.mark.parametrize("typed, page", [
    ("LAND-02", "/catalog/risks/yijia-LAND-02"),
    ("LAND02", "/catalog/risks/yijia-LAND-02"),
    ("land 2", "/catalog/risks/yijia-LAND-02"),
    ("land-2", "/catalog/risks/yijia-LAND-02"),
    ("REIM-M05", "/catalog/measures/yijia-REIM-M05"),
    (" reim-m5 ", "/catalog/measures/yijia-REIM-M05"),
    ("style m1", "/catalog/measures/yijia-STYLE-M01"),
])
async def test_an_id_in_any_form_opens_the_entry_on_the_page_and_in_json(ds, typed, page):
    """An id, in any case, with or without its hyphen and leading zero: the page redirects to the entry;
    search.json names the same entry (it gave 0 results for land-2)."""
    response = await ds.client.get("/search", params={"q": typed})
    assert response.status_code == 302 and response.headers["location"] == page
    data = await found(ds, q=typed)
    assert data["entry"]["url"] == page and data["id"] == page.rsplit("yijia-", 1)[1]
    kind = data["entry"]["kind"]
    assert ids(data[kind]) == [data["id"]] and data[kind]["count"] == 1


@pytest.mark.parametrize("query", ["低保审核", "公车", "报销", "低保火箭", "petitions"])
async def test_search_json_and_the_page_agree(ds, query):
    """The page lists the same entries, in the same order, as search.json."""
    data = await found(ds, q=query)
    html = (await ds.client.get("/search", params={"q": query})).text
    for kind in ("risks", "measures"):
        section = re.search(rf'<section class="results {kind}".*?</section>', html, re.S)
        listed = re.findall(rf'href="/catalog/{kind}/yijia-([^"]+)"', section.group(0)) if section else []
        assert listed == ids(data[kind])


async def test_the_data_tables_search_finds_the_entries_holding_every_word(ds):
    """Datasette's table search (?_search=) and the search page's full matches are the same entries."""
    for query in ("低保审核", "公车", "拆迁补偿"):
        table = (await ds.client.get("/catalog/risks.json", params={"_search": query, "_shape": "array",
                                                                     "_col": "id", "_size": "max"})).json()
        page = await found(ds, q=query)
        assert {row["id"] for row in table} == set(full(page["risks"])) and table
