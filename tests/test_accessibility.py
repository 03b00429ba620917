"""Pages everyone can read (GB/T 37668-2019, aligned with WCAG 2.1 AA), in headless Chromium against
a real `datasette` process: axe-core on every page a reader reaches, at a desktop's and a phone's width
and in large-text mode (长者模式); the keyboard's path through the pages; the English passages spoken
in an English voice; large text that is large, fits a phone, is remembered and prints at the usual size.

axe-core comes inside the axe-playwright-python package: nothing is fetched when these tests run.
One browser, one page per width and mode, reused from page to page: axe reads every element's colours,
so the run time grows with the pages' size (tables are audited at ten rows, which is the same markup).
"""

from __future__ import annotations

import io
import sqlite3
from urllib.parse import quote, urlsplit

import pytest
from axe_playwright_python.sync_playwright import Axe
from playwright.sync_api import Page, expect
from pypdf import PdfReader

from riskcatalog import build as builder
from riskcatalog.site import wording
from riskcatalog.site.serve import HOST, serving
from riskcatalog.site.textsize import COOKIE

from .conftest import PROJECT_ROOT
from .test_browser import READER_PAGES, WIDTHS, _screenshot, browser, server  # noqa: F401  (fixtures)
from .test_history import make_history

pytestmark = pytest.mark.browser

#: Every page a reader reaches: test_browser's (home, search and lists, entries, the ready-made queries,
#: changes, the powers, a power's flowchart, the risk cards, a post's card), and the data pages (tables at
#: ten rows), a table's row, the SQL page, the changes page of one revision, a page that is not there.
PAGES = {
    **READER_PAGES,
    "data": "/catalog", "risks table": "/catalog/risks?_size=10",
    "measures table": "/catalog/measures?_size=10", "areas table": "/catalog/areas",
    "sources table": "/catalog/sources?_size=10", "changes table": "/catalog/changes?_size=10",
    "revision row": "/catalog/commits/yijia-baseline", "baseline revision": "/changes?revision=yijia-baseline",
    "sql": "/catalog?sql=" + quote("select id, title_zh, level from risks limit 5"), "no such page": "/nope",
}
#: Pages audited at the desktop's width only: every post's card on one page is a card's markup once
#: for each post (32 here: 3,000 elements, twice the next longest audit); a post's card is audited in every mode.
ONCE = {"cards"}
#: Pages that answer 404, as they should.
MISSING = {"not found", "no such page"}
#: The widths and modes every page is audited in: (width, large text).
MODES = {"desktop": (WIDTHS["desktop"], False), "phone": (WIDTHS["phone"], False),
         "phone, large text": (WIDTHS["phone"], True), "desktop, large text": (WIDTHS["desktop"], True)}
#: What fails the audit: every serious or critical violation, and the moderate ones the pages' structure
#: must not have (one main landmark, content inside landmarks, an h1, headings in order).
MODERATE_FAILURES = {"landmark-one-main", "region", "page-has-heading-one", "heading-order",
                     "landmark-no-duplicate-main", "landmark-unique"}


def _failures(violations: list[dict]) -> list[dict]:
    return [v for v in violations if v["impact"] in ("serious", "critical") or v["id"] in MODERATE_FAILURES]


def _describe(name: str, violation: dict) -> str:
    """One line per violation: rule, page, impact, how many elements and the first few of them."""
    targets = [" ".join(map(str, node["target"])) for node in violation["nodes"]]
    return (f"{violation['id']} ({violation['impact']}) on {name}: {len(targets)} element(s), "
            f"e.g. {targets[:3]} — {violation['help']}")


@pytest.fixture(scope="module")
def axe() -> Axe:
    return Axe()


def _sized_page(browser, base: str, width: int, large: bool) -> Page:  # noqa: F811
    """A page at that width; in large-text mode, the reader has chosen it before (the cookie is set)."""
    context = browser.new_context(viewport={"width": width, "height": 844 if width < 600 else 900}, locale="zh-CN")
    if large:
        context.add_cookies([{"name": COOKIE, "value": "large", "url": base}])
    page = context.new_page()
    page.set_default_timeout(20_000)
    page.requests, page.errors = [], []
    page.on("request", lambda request: page.requests.append(request.url))
    page.on("console", lambda message: page.errors.append(message.text) if message.type == "error" else None)
    page.on("pageerror", lambda error: page.errors.append(str(error)))
    return page


#: Pages kept as screenshots (screenshots/a11y-<mode>-<page>.png, not committed), to look at.
SHOWN = {"home", "risk", "search"}


def _audit(page: Page, axe: Axe, base: str, pages: dict[str, str], mode: str) -> list[str]:
    """Each page opened and audited: the problems found, one line each."""
    problems, large = [], MODES[mode][1]
    for name, path in pages.items():
        page.errors.clear()
        response = page.goto(base + path)
        expected = 404 if name in MISSING else 200
        if response.status != expected:
            problems.append(f"{name}: {path} answered {response.status}, not {expected}")
            continue
        if large != ("large-text" in (page.locator("html").get_attribute("class") or "")):
            problems.append(f"{name}: large-text mode {'not ' if large else ''}on")
        results = axe.run(page)
        problems += [_describe(name, violation) for violation in _failures(results.response["violations"])]
        sideways = page.evaluate("document.documentElement.scrollWidth - window.innerWidth")
        if sideways > 0:
            problems.append(f"{name}: {sideways} px of sideways scroll")
        errors = [error for error in page.errors if not (name in MISSING and "status of 404" in error)]
        if errors:
            problems.append(f"{name}: console errors {errors}")
        if name in SHOWN:
            _screenshot(page, f"a11y-{mode.replace(', ', '-').replace(' ', '-')}-{name}.png")
    foreign = [url for url in page.requests if urlsplit(url).scheme != "data" and urlsplit(url).hostname != HOST]
    assert not foreign, f"requests left {HOST}: {foreign}"
    return problems


@pytest.mark.parametrize("mode", list(MODES))
def test_no_serious_violation_on_any_reader_page(browser, server, axe, mode):  # noqa: F811
    """axe-core finds no serious or critical violation (nor a missing landmark or a skipped heading) on
    any page a reader reaches, and no page scrolls sideways, at this width and text size."""
    width, large = MODES[mode]
    page = _sized_page(browser, server, width, large)
    try:
        pages = {name: path for name, path in PAGES.items() if mode == "desktop" or name not in ONCE}
        problems = _audit(page, axe, server, pages, mode)
    finally:
        page.context.close()
    assert not problems, f"{mode}, {len(problems)} problem(s):\n" + "\n".join(problems)


# --- a register with revisions: struck and inserted text, a withdrawn risk ------------------------

@pytest.fixture(scope="module")
def history_server(tmp_path_factory, monkeypatch_module):
    """A real datasette serving the small register with its five revisions (tests/test_history.py)."""
    root = tmp_path_factory.mktemp("a11y-history")
    make_history(root)
    db_path = tmp_path_factory.mktemp("a11y-history-built") / "catalog.db"
    builder.build([root / "mini"], db_path)
    with sqlite3.connect(db_path) as conn:
        revision = conn.execute("select key from commits where kind != 'baseline' and changes > 1 "
                                "order by date limit 1").fetchone()[0]
    with serving(db_path, root / "datasette.log", PROJECT_ROOT, timeout=30) as base:
        yield base, revision


@pytest.fixture(scope="module")
def monkeypatch_module(tmp_path_factory):
    """git looks no higher than the temporary folders (as tests/test_history.py's fixture)."""
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("GIT_CEILING_DIRECTORIES", str(tmp_path_factory.getbasetemp()))
        yield patch


@pytest.mark.parametrize("mode", ["desktop", "phone, large text"])
def test_revisions_pass_the_audit(browser, history_server, axe, mode):  # noqa: F811
    """The changes page, one revision, a revised measure and a withdrawn risk (struck and inserted
    text, level changes) pass the same audit."""
    base, revision = history_server
    pages = {"changes": "/changes", "revision": "/changes?" + quote(f"revision={revision}", safe="="),
             "revised measure": "/catalog/measures/mini-AL-M01", "withdrawn risk": "/catalog/risks/mini-AL-02",
             "level changes": "/catalog/level_changes?since="}
    width, large = MODES[mode]
    page = _sized_page(browser, base, width, large)
    try:
        page.goto(base + pages["changes"])
        assert page.locator(".history-changes del, .history-changes ins").count() > 0  # the audit sees them
        problems = _audit(page, axe, base, pages, mode)
    finally:
        page.context.close()
    assert not problems, f"{mode}, {len(problems)} problem(s):\n" + "\n".join(problems)


# --- the keyboard's path -----------------------------------------------------------------------

#: Every link a keyboard can reach, each marked with its place in the page, and the element that has focus.
_LINKS = """() => [...document.querySelectorAll('a[href]')].filter(a => a.checkVisibility({visibilityProperty: true}))
    .map((a, i) => { a.dataset.a11yLink = i; return i; })"""
_FOCUSED = """() => { const e = document.activeElement; if (!e || e === document.body) return null;
    const style = getComputedStyle(e);
    return {link: e.dataset.a11yLink ?? null, tag: e.tagName.toLowerCase(), text: e.textContent.trim().slice(0, 40),
            outline: style.outlineStyle === 'none' ? 0 : parseFloat(style.outlineWidth)}; }"""


@pytest.mark.parametrize("name", ["home", "search", "risk"])
def test_keyboard_reaches_every_link_with_a_visible_focus(browser, server, name):  # noqa: F811
    """Tab from the top of the page to its end: every link is reached, each with an outline of 2 px
    or more; the first stop is the link past the header, which takes the next Tab into the content."""
    page = _sized_page(browser, server, WIDTHS["desktop"], False)
    try:
        page.goto(server + READER_PAGES[name])
        links = set(page.evaluate(_LINKS))
        reached, unseen = set(), []
        page.keyboard.press("Tab")
        first = page.evaluate(_FOCUSED)
        assert first and first["text"].startswith("跳到正文"), first
        for _ in range(len(links) + 60):  # the links, and the buttons and fields between them
            focused = page.evaluate(_FOCUSED)
            if focused is None:  # past the last element: the focus has left the page
                break
            if focused["outline"] < 2:
                unseen.append(focused)
            if focused["link"] is not None:
                reached.add(int(focused["link"]))
            page.keyboard.press("Tab")
        assert links and reached == links, f"links never reached: {sorted(links - reached)}"
        assert not unseen, f"focus without a visible outline: {unseen}"
        # The skip link: Enter moves the reader to the content, and the next Tab is inside it.
        page.goto(server + READER_PAGES[name])
        page.keyboard.press("Tab")
        page.keyboard.press("Enter")
        expect(page.locator("main#content")).to_be_focused()
        page.keyboard.press("Tab")
        assert page.evaluate("document.activeElement.closest('main') !== null")
    finally:
        page.context.close()


# --- large-text mode (长者模式) ------------------------------------------------------------------

#: What large text must enlarge: text (a paragraph, the title, a result's English line, a field's label),
#: by its font size, and controls (the search field and its button, the filters' choices, the switch
#: itself), by their font size and their height inside the border.
_SIZES = """() => {
  const sizes = {};
  for (const [name, selector] of Object.entries({
      "paragraph": "main p", "title": "main h1", "result": "li.result p.en", "label": "form.search label",
      "search field": "form.search input[type=search]", "search button": "form.search button[type=submit]",
      "filter choice": "details.filters select", "switch": "form.text-size button"})) {
    const element = document.querySelector(selector);
    if (!element) { sizes[name] = null; continue; }
    const control = element.matches("input, select, button");
    const style = getComputedStyle(element);
    const inside = element.getBoundingClientRect().height - parseFloat(style.borderTopWidth) - parseFloat(style.borderBottomWidth);
    sizes[name] = [parseFloat(style.fontSize), ...(control ? [inside] : [])];
  }
  return sizes;
}"""


def _sizes(browser, base: str, large: bool, path: str) -> dict:  # noqa: F811
    page = _sized_page(browser, base, WIDTHS["phone"], large)
    try:
        page.goto(base + path)
        page.locator("details.filters").evaluate("details => { details.open = true; }")
        return page.evaluate(_SIZES)
    finally:
        page.context.close()


def test_large_text_enlarges_text_and_controls_half_as_much_again(browser, server):  # noqa: F811
    """On a phone, large-text mode makes text and controls at least 1.5 times their usual size."""
    path = "/search?q=" + quote("报销")
    usual, large = _sizes(browser, server, False, path), _sizes(browser, server, True, path)
    assert None not in usual.values(), usual
    ratios = {name: [round(big / small, 2) for big, small in zip(large[name], usual[name])] for name in usual}
    assert all(min(each) >= 1.5 for each in ratios.values()), f"font size and height, large / usual: {ratios}"


def _large(page: Page) -> bool:
    return "large-text" in (page.locator("html").get_attribute("class") or "")


def test_large_text_is_remembered_on_the_device_with_or_without_javascript(browser, server):  # noqa: F811
    """The switch turns large text on and off; the next page, and a page opened later on the same
    device, keep the choice. Without JavaScript the switch works the same way, through the server."""
    for javascript in (True, False):
        context = browser.new_context(viewport={"width": WIDTHS["phone"], "height": 844}, locale="zh-CN",
                                      java_script_enabled=javascript)
        try:
            page = context.new_page()
            page.goto(server + "/")
            switch = page.locator("form.text-size button")
            expect(switch).to_have_attribute("aria-pressed", "false")
            assert not _large(page)
            switch.click()
            expect(page.locator("html")).to_have_class("large-text")
            expect(switch).to_have_attribute("aria-pressed", "true")
            assert urlsplit(page.url).path == "/", page.url  # without JavaScript: back to the same page
            page.goto(server + READER_PAGES["risk"])
            assert _large(page), javascript
            later = context.new_page()
            later.goto(server + READER_PAGES["search"])
            assert _large(later), javascript
            later.locator("form.text-size button").click()
            expect(later.locator("html")).not_to_have_class("large-text")
            page.goto(server + "/")
            assert not _large(page), javascript
        finally:
            context.close()


@pytest.mark.parametrize("name", ["home", "risk", "register"])
def test_large_text_prints_at_the_usual_size(browser, server, name):  # noqa: F811
    """Large text is for the screen: a printed page has the same text size, and as many sheets, as
    without it."""
    printed = {}
    for large in (False, True):
        page = _sized_page(browser, server, WIDTHS["desktop"], large)
        try:
            page.goto(server + READER_PAGES[name])
            assert _large(page) == large
            page.emulate_media(media="print")
            sizes = page.evaluate("""() => [document.documentElement, document.body, document.querySelector('main h1'),
                document.querySelector('main p, main td')].map(e => getComputedStyle(e).fontSize)""")
            printed[large] = (sizes, len(PdfReader(io.BytesIO(page.pdf(format="A4"))).pages))
        finally:
            page.context.close()
    assert printed[False][1] >= 1 and printed[True] == printed[False], printed


# --- each language in its own voice ------------------------------------------------------------

#: Text of three English words or more whose element (or the nearest with a lang attribute) does not
#: say it is English: a screen reader would read it in the page's Chinese voice. Code, identifiers, lists
#: of ids and SQL are not prose; an <option> holds text only, so a choice "城中村改造 Urban-village renovation"
#: cannot mark its English; Datasette's column menu (.dropdown-menu) is its own English interface.
_UNMARKED_ENGLISH = r"""() => {
  const english = /[A-Za-z]{2,}[,.;:'")]*\s+[("']*[A-Za-z]{2,}[,.;:'")]*\s+[("']*[A-Za-z]{2,}/, found = [];
  const walker = document.createTreeWalker(document.body, NodeFilter.SHOW_TEXT);
  while (walker.nextNode()) {
    const text = walker.currentNode.textContent, element = walker.currentNode.parentElement;
    if (!english.test(text) || /^\[.*\]$/.test(text.trim()) || element.closest('code, pre, script, style, textarea, option, .CodeMirror, .dropdown-menu')) continue;
    if (!(element.closest('[lang]') || document.documentElement).lang.startsWith('en'))
      found.push(element.tagName.toLowerCase() + ': ' + text.trim().slice(0, 60));
  }
  return found;
}"""


#: The data pages show what the database holds, as Datasette lays it out: a lookup's label in a cell
#: ("岗位职责风险 duties of the post", linked by Datasette), free text such as a revision's note, the
#: SQL page's own English interface.
_DATASETTES_OWN = {"risks table", "measures table", "areas table", "sources table", "changes table",
                   "revision row", "sql"}


def test_english_passages_are_marked_english(browser, server):  # noqa: F811
    """On every page a reader reaches, English beside the Chinese is marked lang="en"."""
    page = _sized_page(browser, server, WIDTHS["desktop"], False)
    try:
        unmarked = {}
        for name, path in PAGES.items():
            if name in _DATASETTES_OWN:
                continue
            page.goto(server + path)
            assert page.locator("html").get_attribute("lang") == "zh-CN", name
            found = page.evaluate(_UNMARKED_ENGLISH)
            if found:
                unmarked[name] = found[:5]
    finally:
        page.context.close()
    assert not unmarked, "\n".join(f"{name}: {found}" for name, found in unmarked.items())


@pytest.mark.parametrize("text, parts", [
    ("各领域风险等级分布 Risks by area and level", ("各领域风险等级分布", " ", "Risks by area and level")),
    ("没有编号为 LAND-99 的风险点。No risk has the id LAND-99.", ("没有编号为 LAND-99 的风险点。", "", "No risk has the id LAND-99.")),
    # a Chinese sentence naming a file is not English yet; English quoting a level is still English
    ("每个领域一个 YAML 文件。Areas of work; one YAML file each.", ("每个领域一个 YAML 文件。", "", "Areas of work; one YAML file each.")),
    ("原值（显示）Old value as the site shows it (a level as 二级)", ("原值（显示）", "", "Old value as the site shows it (a level as 二级)")),
    ("Database not found", ("", "", "Database not found")), ("风险点", ("风险点", "", "")), ("2019-01-29", ("2019-01-29", "", "")),
])
def test_titles_and_messages_are_split_into_their_languages(text, parts):
    assert wording.split_languages(text) == parts
    zh, space, en = parts
    assert str(wording.bilingual(text)) == zh + space + (f'<span lang="en">{en}</span>' if en else "")


def test_bilingual_escapes_what_it_is_given():
    assert str(wording.bilingual('中文<b> Say "hi" <i>')) == '中文&lt;b&gt; Say &#34;hi&#34; &lt;i&gt;'
