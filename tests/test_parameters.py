"""Reader mistakes are 4xx: every parameter of every page, sent in hostile forms, never gets a 5xx.

The catalogue's own pages read their parameters with one strict parser (riskcatalog.site.params);
Datasette's pages get theirs read by the door first wherever Datasette 0.65 would fail on them.
Before, `/search?likelihood=²`, `/search.json?impact=¹`, `/changes?page=²`, a 5,000-digit page or
id, `/search?q=x%00` and `/catalog.xlsx?sql=select char(1)` answered 500 with a traceback.
"""

from __future__ import annotations

import html
from urllib.parse import quote

import pytest

from riskcatalog.site import limits, params

from .conftest import make_datasette

#: Values a hostile (or careless) reader sends: digits Python's isdigit accepts and int refuses,
#: numbers past int()'s 4,300-digit limit and SQLite's integers, NUL and other controls, text
#: longer than any bound, JSON where none is expected, and plain odd values.
HOSTILE = ["²", "¹", "５", "9" * 5000, "99999999999999999999999", "-1", "0", "1.5e400", "NaN", "x\x00", "\x00",
           "\x01", "\x1b[31m", "a\x7fb", "\u0085", "x" * 3000, "{bad", "[1]", '{"column": 1}', "", " ", "%", "~",
           "a,b", "'", '"', "*", "报销" * 60]

#: The project's own pages and the parameters each reads (riskcatalog.site.params), as the door
#: declares them: a page added there is swept here too.
OWN_PAGES = limits.OWN_PARAMETERS

#: Parameters of Datasette's pages, and pages of each kind: a table (as HTML, JSON and each
#: download), a view, a canned query, a database's SQL, a row.
DATASETTE_PARAMETERS = ["_size", "_next", "_sort", "_sort_desc", "_search", "_search_title", "_searchmode", "_where",
                        "_col", "_nocol", "_facet", "_facet_array", "_facet_date", "_facet_size", "_labels", "_nl",
                        "_json", "_shape", "_timelimit", "_ttl", "_nocount", "_nofacet", "_through", "_fts_table",
                        "_fts_pk", "_stream", "id__gt", "seq__lte", "seq", "seq__in", "title_zh__contains",
                        "id__date", "measure_ids__arraycontains", "level__not"]
DATASETTE_PAGES = ["/catalog/risks.json", "/catalog/risks.xlsx", "/catalog/register.json", "/catalog/full_register.json",
                   "/catalog.json?sql=select+1", "/catalog/risks/yijia-LAND-01.json"]
#: The hostile values for Datasette's pages: one of each kind (hundreds of requests a page as it is).
DATASETTE_HOSTILE = ["²", "9" * 5000, "99999999999999999999999", "-1", "x\x00", "\x1b[31m", "x" * 3000, "{bad", "[1]",
                     '{"column": 1}', "", "%", "a,b", "报销"]


@pytest.fixture(scope="module")
def site(catalog_db):
    """The site as served, but refusing at once (no wait before a refusal: hundreds are sent here)."""
    return make_datasette(catalog_db, plugin_config={"refused_seconds": 0})


def with_parameter(path: str, name: str, value: str) -> str:
    return f"{path}{'&' if '?' in path else '?'}{quote(name)}={quote(value)}"


async def assert_no_server_error(site, paths) -> None:
    faults = []
    for path in paths:
        response = await site.client.get(path)
        if response.status_code >= 500:
            faults.append(f"{path[:120]}: {response.status_code}")
    assert not faults, "\n".join(faults)


@pytest.mark.parametrize("page", OWN_PAGES)
async def test_own_pages_answer_every_hostile_parameter_with_a_client_error_or_a_page(site, page):
    paths = [with_parameter(page, parameter.name, value) for parameter in OWN_PAGES[page] for value in HOSTILE]
    # Each parameter given twice, and once with a valid value and a hostile one.
    paths += [f"{page}?{quote(parameter.name)}=1&{quote(parameter.name)}=2" for parameter in OWN_PAGES[page]]
    await assert_no_server_error(site, paths)


@pytest.mark.parametrize("page", DATASETTE_PAGES)
async def test_datasette_pages_answer_every_hostile_parameter_with_a_client_error_or_a_page(site, page):
    await assert_no_server_error(site, [with_parameter(page, name, value) for name in DATASETTE_PARAMETERS
                                        for value in DATASETTE_HOSTILE])


async def test_short_addresses_answer_hostile_ids_with_a_client_error(site):
    await assert_no_server_error(site, [f"/catalog/{kind}/{quote(typed)}" for kind in ("risks", "measures")
                                        for typed in ("LAND-²", "LAND-" + "9" * 5000, "LAND-" + "9" * 30, "L-0",
                                                      "LAND-M" + "0" * 39)])


#: The issue's 500s, each now a 400 that says what to fix, Chinese first.
ISSUE_CASES = [
    ("/search?likelihood=²", "参数 likelihood（可能性）应为用数字 0–9 书写、最多 3 位的整数，而不是“²”",
     "likelihood must be a whole number of at most 3 digits 0–9, not '²'"),
    ("/search.json?impact=¹", "参数 impact（影响）应为用数字 0–9 书写、最多 3 位的整数，而不是“¹”",
     "impact must be a whole number of at most 3 digits 0–9, not '¹'"),
    ("/changes?page=²", "参数 page（页码）应为 1 到 1,000,000 的整数（用数字 0–9 书写），而不是“²”",
     "page must be a whole number 1–1,000,000 written with the digits 0–9, not '²'"),
    ("/changes?page=" + "9" * 5000, "参数 page（页码）最多 64 个字符，本次有 5,000 个",
     "page may have at most 64 characters; this one has 5,000"),
    ("/search?q=x%00", "参数 q（搜索词）含有控制字符（如 NUL），请删去", "q holds a control character (such as NUL); remove it"),
    ("/search.json?q=a&q=b", "参数 q（搜索词）最多给 1 个，本次给了 2 个", "q may be given at most 1 time(s); it was given 2 times"),
    ("/catalog/risks/LAND-" + "9" * 5000, "参数 id（编号）最多 40 个字符，本次有 5,005 个",
     "id may have at most 40 characters; this one has 5,005"),
]


@pytest.mark.parametrize("path, zh, en", ISSUE_CASES, ids=[p[:40] for p, _, _ in ISSUE_CASES])
async def test_the_issues_500s_are_400s_that_say_what_to_fix(site, path, zh, en):
    response = await site.client.get(path)
    assert response.status_code == 400
    text = response.json()["error"] if ".json" in path else html.unescape(response.text)
    assert zh in text and en in text, text[:500]
    assert text.index(zh) < text.index(en)


def test_every_search_filter_is_declared_to_the_parser():
    """The search page reads each of its filters (riskcatalog.site.search.FILTERS) through the parser:
    a filter added there must be declared in params.SEARCH too, with its bounds."""
    from riskcatalog.site import search
    assert set(search.FILTERS) | {"q", "kind", "page"} == {parameter.name for parameter in params.SEARCH}


def test_every_changes_filter_is_declared_to_the_parser():
    """The changes page reads its filters (riskcatalog.site.history.FILTERS) and page through the parser."""
    from riskcatalog.site import history
    assert set(history.FILTERS) | {"page"} == {parameter.name for parameter in params.CHANGES}
